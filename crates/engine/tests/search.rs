//! Search end to end on a real catalog: ranking against a brute-force f32
//! reference, every filter, the cut-off, photos that move, vanish or go
//! offline, and searching while the embedding job writes.

#[path = "../../../tests/support/mod.rs"]
mod support;

use std::path::Path;

use shoebox_engine::catalog::EmbedOutcome;
use shoebox_engine::embed::{EmbedOptions, LoadedModel};
use shoebox_engine::search::{
    self, QueryVectors, RelevancePolicy, SearchOptions, SearchResults, Sort, VectorIndex,
};
use shoebox_engine::Library;
use support::*;

use support::library::load_tiny_model as tiny_model;
use support::library::LibraryFixture as Fixture;

impl Fixture {
    fn search(&self, model: &LoadedModel, q: &str) -> SearchResults {
        self.lib
            .search(
                model,
                q,
                &SearchOptions {
                    all: true,
                    limit: 1000,
                    ..Default::default()
                },
            )
            .unwrap()
    }

    fn names(&self, r: &SearchResults) -> Vec<String> {
        let mut v: Vec<String> = r
            .results
            .iter()
            .map(|h| {
                Path::new(&h.path)
                    .strip_prefix(&self.photos)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        v.sort();
        v
    }
}

/// Deterministic pseudo-random unit vectors (xorshift), so tests need no
/// extra crates and fail the same way every time.
fn unit_vectors(n: usize, dim: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            let v: Vec<f32> = (0..dim)
                .map(|_| {
                    s ^= s << 13;
                    s ^= s >> 7;
                    s ^= s << 17;
                    (s >> 11) as f32 / (1u64 << 53) as f32 - 0.5
                })
                .collect();
            let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.into_iter().map(|x| x / n).collect()
        })
        .collect()
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `n` distinct tiny JPEGs, scanned, with the given vectors stored for
/// the model as if the job had run.
fn library_with_vectors(vectors: &[Vec<f32>]) -> (Fixture, LoadedModel, Vec<i64>) {
    let f = Fixture::new();
    let jpeg = encode_jpeg(&synthetic(32, 32, 1), 80);
    for i in 0..vectors.len() {
        write(
            &f.photos.join(format!("v{i:04}.jpg")),
            &with_comment(&jpeg, &i.to_string()),
        );
    }
    f.scan();
    let model = tiny_model(&f.lib);
    let ids: Vec<i64> = (0..vectors.len())
        .map(|i| f.id(format!("v{i:04}.jpg")))
        .collect();
    let rows: Vec<(i64, EmbedOutcome)> = ids
        .iter()
        .zip(vectors)
        .map(|(&id, v)| (id, EmbedOutcome::Vector(v.clone())))
        .collect();
    f.lib
        .catalog()
        .store_embeddings(model.row.id, &rows)
        .unwrap();
    (f, model, ids)
}

#[test]
fn ranking_equals_brute_force_f32() {
    let dim = 48; // the tiny model's width
    let vectors = unit_vectors(400, dim, 1);
    let (f, model, ids) = library_with_vectors(&vectors);
    let index = VectorIndex::load(f.lib.catalog(), model.row.id, dim).unwrap();
    assert_eq!((index.len(), index.vectors()), (400, 400));
    for (qi, q) in unit_vectors(12, dim, 99).into_iter().enumerate() {
        let mut reference: Vec<(i64, f32)> = ids
            .iter()
            .zip(&vectors)
            .map(|(&id, v)| (id, dot(v, &q)))
            .collect();
        reference.sort_by(|a, b| b.1.total_cmp(&a.1));
        for offset in [0, 20] {
            let opts = SearchOptions {
                limit: 20,
                offset,
                all: true,
                ..Default::default()
            };
            let got = search::execute(
                &index,
                f.lib.catalog(),
                search::Query::default(),
                &QueryVectors {
                    text: Some(q.clone()),
                    ..Default::default()
                },
                &opts,
                None,
            )
            .unwrap();
            let want = &reference[offset..offset + 20];
            let got_ids: Vec<i64> = got.results.iter().map(|h| h.id).collect();
            let want_ids: Vec<i64> = want.iter().map(|r| r.0).collect();
            assert_eq!(got_ids, want_ids, "query {qi} offset {offset}");
            for (h, w) in got.results.iter().zip(want) {
                assert!((h.score.unwrap() - w.1).abs() < 1e-5);
            }
            assert_eq!(got.total, 400);
        }
    }
}

#[test]
fn cutoff_keeps_clear_matches_and_drops_an_unrelated_library() {
    let dim = 48;
    let query = unit_vectors(1, dim, 7).pop().unwrap();
    let mut vectors = unit_vectors(500, dim, 3);
    // Ten photos that really show the query: close to it, with noise.
    for (i, noise) in unit_vectors(10, dim, 11).into_iter().enumerate() {
        vectors[i * 37] = query
            .iter()
            .zip(&noise)
            .map(|(q, n)| 0.8 * q + 0.6 * n)
            .collect();
    }
    let (f, model, ids) = library_with_vectors(&vectors);
    let index = VectorIndex::load(f.lib.catalog(), model.row.id, dim).unwrap();
    let run_with = |q: &[f32], all: bool, relevance: RelevancePolicy| {
        search::execute(
            &index,
            f.lib.catalog(),
            search::Query::default(),
            &QueryVectors {
                text: Some(q.to_vec()),
                ..Default::default()
            },
            &SearchOptions {
                limit: 100,
                all,
                relevance,
                ..Default::default()
            },
            None,
        )
        .unwrap()
    };
    let run = |q: &[f32], all: bool| run_with(q, all, RelevancePolicy::default());
    let relevant: Vec<i64> = (0..10).map(|i| ids[i * 37]).collect();
    let cut = run(&query, false);
    let got: Vec<i64> = cut.results.iter().map(|h| h.id).collect();
    for id in &relevant {
        assert!(got.contains(id), "relevant photo {id} cut off: {cut:?}");
    }
    assert!(
        cut.total <= 15,
        "{} results for 10 relevant photos",
        cut.total
    );
    assert!(cut.cutoff.as_ref().unwrap().min_score.is_some());
    // Asking for everything returns everything.
    assert_eq!(run(&query, true).total, 500);
    // A query unrelated to every photo returns few results.
    let unrelated = unit_vectors(1, dim, 12345).pop().unwrap();
    assert!(run(&unrelated, false).total <= 10);
    // The model's policy moves the cut-off: a stricter z keeps fewer, and
    // a calibrated text floor drops matches below it.
    let strict = RelevancePolicy {
        z: 8.0,
        text_floor: None,
    };
    assert!(run_with(&query, false, strict).total < cut.total);
    // Halfway between the 5th and 6th match: the cut-off compares the
    // index's int8 scores, which sit within ~1e-3 of the exact ones.
    let floor = (cut.results[4].score.unwrap() + cut.results[5].score.unwrap()) / 2.0;
    let floored = run_with(
        &query,
        false,
        RelevancePolicy {
            z: 3.0,
            text_floor: Some(floor),
        },
    );
    assert_eq!(floored.total, 5);
    assert!(floored.results.iter().all(|h| h.score.unwrap() >= floor));
}

#[test]
fn negatives_push_a_concept_down() {
    let dim = 48;
    let base = unit_vectors(3, dim, 21);
    let (beach, dog) = (&base[0], &base[1]);
    let mix = |a: f32, b: f32| -> Vec<f32> {
        let v: Vec<f32> = beach.iter().zip(dog).map(|(x, y)| a * x + b * y).collect();
        let n = dot(&v, &v).sqrt();
        v.into_iter().map(|x| x / n).collect()
    };
    let vectors = vec![mix(1.0, 0.9), mix(1.0, 0.0), mix(0.0, 1.0), base[2].clone()];
    let (f, model, ids) = library_with_vectors(&vectors);
    let index = VectorIndex::load(f.lib.catalog(), model.row.id, dim).unwrap();
    let run = |negative: Vec<Vec<f32>>| {
        search::execute(
            &index,
            f.lib.catalog(),
            search::Query::default(),
            &QueryVectors {
                text: Some(beach.clone()),
                negative,
                ..Default::default()
            },
            &SearchOptions {
                all: true,
                ..Default::default()
            },
            None,
        )
        .unwrap()
        .results
        .iter()
        .map(|h| h.id)
        .collect::<Vec<_>>()
    };
    // "beach": the dog on the beach is a fine match...
    assert_eq!(&run(vec![])[..2], &[ids[1], ids[0]][..]);
    // ..."beach -dog": the beach without the dog wins, the dog alone drops.
    let without = run(vec![dog.clone()]);
    assert_eq!(without[0], ids[1]);
    assert_eq!(*without.last().unwrap(), ids[2]);
}

#[test]
fn similar_photos_exclude_the_source_and_rank_by_likeness() {
    let dim = 48;
    let mut vectors = unit_vectors(50, dim, 5);
    vectors[7] = vectors[3].iter().map(|x| x * 0.99 + 0.001).collect();
    let (f, model, ids) = library_with_vectors(&vectors);
    let r = f
        .lib
        .similar(
            &model,
            ids[3],
            &SearchOptions {
                all: true,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(r.results[0].id, ids[7]);
    assert!(r.results.iter().all(|h| h.id != ids[3]));
}

#[test]
fn mixed_text_and_photo_query() {
    let dim = 48;
    let mut vectors = unit_vectors(40, dim, 6);
    let fixture = Fixture::new();
    let model = tiny_model(&fixture.lib);
    let night = fixture
        .lib
        .embed_texts(&model, &["at night"])
        .unwrap()
        .pop()
        .unwrap();
    drop(fixture);
    // Photo 1 is photo 0 at night, photo 2 is photo 0 by day: equally like
    // photo 0, but only one of them is "at night".
    let source = vectors[0].clone();
    let mix = |sign: f32| {
        let v: Vec<f32> = source
            .iter()
            .zip(&night)
            .map(|(a, t)| a + sign * 0.5 * t)
            .collect();
        let n = dot(&v, &v).sqrt();
        v.into_iter().map(|x| x / n).collect::<Vec<f32>>()
    };
    vectors[1] = mix(1.0);
    vectors[2] = mix(-1.0);
    let (f, model, ids) = library_with_vectors(&vectors);
    let r = f.search(&model, &format!("like:{} at night", ids[0]));
    assert_eq!(r.query.text, "at night");
    assert_eq!(r.results[0].id, ids[1], "{r:?}");
    assert!(
        r.results.iter().all(|h| h.id != ids[0]),
        "the source photo is not an answer"
    );
    let pos = |id: i64| r.results.iter().position(|h| h.id == id).unwrap();
    assert!(pos(ids[1]) < pos(ids[2]));
    // Unknown photo ids are a clear error, not an empty answer.
    let err = f
        .lib
        .search(&model, "like:999999", &SearchOptions::default())
        .unwrap_err();
    assert!(err.to_string().contains("999999"), "{err}");
}

fn dated(date: &str, make: Option<&'static str>, gps: bool, seed: u32) -> Vec<u8> {
    let spec = ExifSpec {
        date: Some(Box::leak(date.to_string().into_boxed_str())),
        make,
        model: make.map(|_| "Model X"),
        gps: gps.then_some((48.85, 2.35)),
        ..Default::default()
    };
    jpeg_with_exif(&synthetic(24, 24, seed), &spec)
}

#[test]
fn every_filter_and_date_phrase() {
    use chrono::Datelike;
    let f = Fixture::new();
    let last_year = chrono::Local::now().year() - 1;
    let files: Vec<(&str, Vec<u8>)> = vec![
        (
            "2018/summer.jpg",
            dated("2018:07:14 12:00:00", Some("Google Pixel"), true, 1),
        ),
        (
            "2018/winter.jpg",
            dated("2018:12:24 18:00:00", Some("Canon"), false, 2),
        ),
        (
            "2019/may.jpg",
            dated("2019:05:17 09:30:00", Some("Google Pixel"), false, 3),
        ),
        (
            "2019/december.jpg",
            dated("2019:12:31 23:59:00", Some("Sony"), true, 4),
        ),
        (
            "Trips/Rome/2020.jpg",
            dated("2020:03:01 10:00:00", None, false, 5),
        ),
        (
            "recent/last-year.jpg",
            dated(&format!("{last_year}:06:01 10:00:00"), None, false, 6),
        ),
    ];
    for (name, bytes) in &files {
        write(&f.photos.join(name), bytes);
    }
    write(
        &f.photos.join("shots/screen.png"),
        &encode(
            &image::DynamicImage::ImageRgb8(synthetic(20, 20, 7)),
            image::ImageFormat::Png,
        ),
    );
    // No EXIF date: its date is the file's modification time, set well
    // before every other photo so the date filters below can exclude it.
    let old = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_420_070_400); // 2015-01-01
    std::fs::File::options()
        .write(true)
        .open(f.photos.join("shots/screen.png"))
        .unwrap()
        .set_modified(old)
        .unwrap();
    f.scan();
    let model = tiny_model(&f.lib);
    // A user tag (the tagging feature writes the same table).
    f.lib
        .catalog()
        .connection()
        .execute(
            "INSERT INTO photo_tags (photo_id, tag) VALUES (?1, 'beach')",
            [f.id("2018/summer.jpg")],
        )
        .unwrap();

    let check = |q: &str, want: &[&str]| {
        let r = f.search(&model, q);
        assert_eq!(f.names(&r), want, "query {q:?} parsed as {:?}", r.query);
        // The same query sent structured, as the UI and HTTP API do.
        let json = serde_json::to_string(&r.query).unwrap();
        let structured = f
            .lib
            .search_query(
                &model,
                serde_json::from_str(&json).unwrap(),
                &SearchOptions {
                    all: true,
                    limit: 1000,
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(f.names(&structured), want, "structured {json}");
    };
    check(
        "after:2019",
        &[
            "2019/december.jpg",
            "2019/may.jpg",
            "Trips/Rome/2020.jpg",
            "recent/last-year.jpg",
        ],
    );
    check("after:2019-06 before:2020", &["2019/december.jpg"]);
    check("before:2019-05-18 after:2019-05-17", &["2019/may.jpg"]);
    check("year:2018", &["2018/summer.jpg", "2018/winter.jpg"]);
    check("in 2018", &["2018/summer.jpg", "2018/winter.jpg"]);
    check("summer 2018", &["2018/summer.jpg"]);
    check("December", &["2018/winter.jpg", "2019/december.jpg"]);
    check("last year", &["recent/last-year.jpg"]);
    check("in:rome", &["Trips/Rome/2020.jpg"]);
    check("in:trips", &["Trips/Rome/2020.jpg"]);
    check("camera:pixel", &["2018/summer.jpg", "2019/may.jpg"]);
    check("camera:pixel has:gps", &["2018/summer.jpg"]);
    check("-has:gps year:2019", &["2019/may.jpg"]);
    check("tag:beach", &["2018/summer.jpg"]);
    check("type:png", &["shots/screen.png"]);
    check("type:jpg camera:sony", &["2019/december.jpg"]);
    // Filters only: newest first, no scores.
    let r = f.search(&model, "camera:pixel");
    assert_eq!(r.sort, Sort::Date);
    assert!(r.results[0].path.ends_with("may.jpg"));
    assert!(r.results.iter().all(|h| h.score.is_none()));
    // The parsed query is part of the answer, for the UI and scripts.
    let r = f.search(&model, "dog on the beach in 2019 -cat");
    assert_eq!(r.query.text, "dog on the beach");
    assert_eq!(r.query.negative, vec!["cat".to_string()]);
    assert!(r.query.filters.after.is_some());
    // Unknown filter keys are a clear error.
    let err = f
        .lib
        .search(&model, "colour:red", &SearchOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("colour"), "{err}");
    let _ = &f.tmp;
}

#[test]
fn deleted_offline_and_moved_photos() {
    let dim = 48;
    let vectors = unit_vectors(6, dim, 8);
    let (f, model, ids) = library_with_vectors(&vectors);
    let all = |f: &Fixture| -> Vec<(i64, String)> {
        let r = f
            .lib
            .similar(
                &model,
                ids[0],
                &SearchOptions {
                    all: true,
                    ..Default::default()
                },
            )
            .unwrap();
        r.results.iter().map(|h| (h.id, h.path.clone())).collect()
    };
    assert_eq!(all(&f).len(), 5);
    // Deleted: gone after the rescan, without reloading the index.
    std::fs::remove_file(f.photos.join("v0001.jpg")).unwrap();
    f.scan();
    let now = all(&f);
    assert_eq!(now.len(), 4);
    assert!(now.iter().all(|(id, _)| *id != ids[1]));
    // Moved: same photo, new path.
    std::fs::create_dir_all(f.photos.join("sub")).unwrap();
    std::fs::rename(f.photos.join("v0002.jpg"), f.photos.join("sub/moved.jpg")).unwrap();
    f.scan();
    let now = all(&f);
    let moved = now
        .iter()
        .find(|(id, _)| *id == ids[2])
        .expect("moved photo found");
    assert!(moved.1.ends_with("sub/moved.jpg"), "{moved:?}");
    // Deleted between the last sync and the query: never shown.
    std::fs::remove_file(f.photos.join("v0003.jpg")).unwrap();
    f.lib
        .catalog()
        .connection()
        .execute(
            "UPDATE files SET status = 'error' WHERE display_path LIKE '%v0003.jpg'",
            [],
        )
        .unwrap();
    assert!(all(&f).iter().all(|(id, _)| *id != ids[3]));
    // The whole folder offline: nothing.
    let away = f.photos.with_file_name("away");
    std::fs::rename(&f.photos, &away).unwrap();
    f.scan();
    assert!(f
        .lib
        .search(&model, "type:jpeg", &SearchOptions::default())
        .unwrap()
        .results
        .is_empty());
    std::fs::rename(&away, &f.photos).unwrap();
    f.scan();
    assert_eq!(all(&f).len(), 3);
}

#[test]
fn empty_library_and_filter_only_queries() {
    let f = Fixture::new();
    let model = tiny_model(&f.lib);
    let r = f.search(&model, "a dog");
    assert!(r.results.is_empty());
    assert_eq!(r.total, 0);
    let r = f.search(&model, "has:gps");
    assert!(r.results.is_empty());
}

#[test]
fn search_while_the_embedding_job_writes() {
    let f = Fixture::new();
    let bases: Vec<Vec<u8>> = (0..3)
        .map(|s| encode_jpeg(&synthetic_large(800, 600, s), 85))
        .collect();
    for i in 0..60 {
        write(
            &f.photos.join(format!("j{i:03}.jpg")),
            &with_comment(&bases[i % 3], &format!("{i}")),
        );
    }
    f.scan();
    let library_dir = f.tmp.path().join("library");
    let done = std::sync::atomic::AtomicBool::new(false);
    let (searches, max_seen) = std::thread::scope(|scope| {
        scope.spawn(|| {
            let writer = Library::open(&library_dir).unwrap();
            let model = tiny_model(&writer);
            let opts = EmbedOptions {
                batch_size: 4,
                workers: 1,
                ..Default::default()
            };
            writer.embed(&model, &opts, &|_| {}).unwrap();
            done.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        let reader = Library::open(&library_dir).unwrap();
        let model = tiny_model(&reader);
        let mut searches = 0;
        let mut last = 0;
        loop {
            let finished = done.load(std::sync::atomic::Ordering::SeqCst);
            let r = reader
                .search(
                    &model,
                    "a photo",
                    &SearchOptions {
                        all: true,
                        limit: 100,
                        ..Default::default()
                    },
                )
                .unwrap();
            // Consistent: every hit has a stored vector, counts only grow.
            for h in &r.results {
                assert!(reader
                    .catalog()
                    .embedding(h.id, model.row.id)
                    .unwrap()
                    .is_some());
            }
            assert!(r.total >= last, "results went from {last} to {}", r.total);
            last = r.total;
            searches += 1;
            if finished {
                break (searches, last);
            }
        }
    });
    assert!(searches > 1, "searches did not run during the job");
    assert_eq!(max_seen, 60);
}
