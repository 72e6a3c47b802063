//! Duplicates on a real catalog: real JPEG variants of the cc0 photos
//! (resize, recompress, crop, colour change, grayscale, metadata-only
//! change, byte-identical copies) and distractors; remembered decisions
//! across rescans and moves; dry-run plans. Trash resolution runs through
//! the real binary in tests/dupes_cli.rs (it needs its own XDG_DATA_HOME).

#[path = "../../../tests/support/mod.rs"]
mod support;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use shoebox_engine::dupes::{Group, GroupKind, Tier};
use shoebox_engine::Library;
use support::variants::{self, DISTRACTORS, EDITS, SOURCES};

use support::library::LibraryFixture as Fixture;

impl Fixture {
    fn rel(&self, path: &str) -> String {
        Path::new(path)
            .strip_prefix(&self.photos)
            .unwrap()
            .to_string_lossy()
            .into_owned()
    }

    fn groups(&self, tier: Option<Tier>) -> Vec<Group> {
        self.lib.duplicates(tier).unwrap()
    }

    /// Each group as the set of its members' relative paths.
    fn member_sets(&self, tier: Tier) -> Vec<HashSet<String>> {
        self.groups(Some(tier))
            .iter()
            .map(|g| g.members.iter().map(|m| self.rel(&m.path)).collect())
            .collect()
    }
}

fn full_set() -> Fixture {
    let f = Fixture::new();
    for s in SOURCES {
        variants::write_variants(&f.photos, s, true);
    }
    variants::write_distractors(&f.photos);
    f.scan();
    f
}

#[test]
fn tiers_find_every_variant_and_no_distractor() {
    let f = full_set();

    // Exact: one copies group per source (original + backup copy), and one
    // pixels group per source (original + metadata-only change).
    let exact = f.groups(Some(Tier::Exact));
    let copies: Vec<&Group> = exact
        .iter()
        .filter(|g| g.kind == GroupKind::Copies)
        .collect();
    let pixels: Vec<&Group> = exact
        .iter()
        .filter(|g| g.kind == GroupKind::Photos)
        .collect();
    assert_eq!(copies.len(), SOURCES.len(), "{exact:#?}");
    assert_eq!(pixels.len(), SOURCES.len(), "{exact:#?}");
    for g in &copies {
        assert_eq!(g.members.len(), 2);
        assert_eq!(g.members[0].photo_id, g.members[1].photo_id);
        assert!(g.members.iter().any(|m| m.id == g.keep));
        assert!(g.reason.contains("byte-identical"), "{}", g.reason);
    }
    for g in &pixels {
        let names: HashSet<String> = g
            .members
            .iter()
            .map(|m| {
                Path::new(&m.path)
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert!(names.contains("meta.jpg"), "{names:?}");
        assert_eq!(g.members.len(), 2);
    }

    // Near: per source, every edit with the original (and its copies); no
    // distractor anywhere; no group mixes sources.
    let near = f.member_sets(Tier::Near);
    assert_eq!(near.len(), SOURCES.len(), "{near:#?}");
    for s in SOURCES {
        let stem = variants::stem(s);
        let group = near
            .iter()
            .find(|g| g.contains(&format!("{stem}/original.jpg")))
            .unwrap_or_else(|| panic!("no near group for {stem}: {near:#?}"));
        for edit in EDITS {
            assert!(
                group.contains(&format!("{stem}/{edit}.jpg")),
                "{stem}/{edit} missing from {group:?}"
            );
        }
        for member in group {
            assert!(
                member.starts_with(&format!("{stem}/")),
                "{member} does not belong with {stem}: {group:?}"
            );
        }
    }
    for g in f.groups(None) {
        for m in &g.members {
            assert!(
                !m.path.contains("/other/"),
                "distractor {} grouped in {g:#?}",
                m.path
            );
        }
    }
    assert_eq!(DISTRACTORS.len(), 6);
}

#[test]
fn keep_suggestion_prefers_the_original_and_says_why() {
    let f = full_set();
    for g in f.groups(Some(Tier::Near)) {
        let keep = g.members.iter().find(|m| m.id == g.keep).unwrap();
        // The kept photo is named by any of its files: the original's photo
        // also has the byte-identical backup copy, and which of the two
        // `path` shows is not fixed (files written in the same clock tick
        // share an mtime).
        let names: Vec<String> = keep
            .paths
            .iter()
            .map(|p| {
                Path::new(p)
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        // original.jpg and meta.jpg have the same pixels and both carry the
        // EXIF; either is the best copy.
        assert!(
            names.iter().any(|n| n == "original.jpg" || n == "meta.jpg"),
            "kept {names:?} of {g:#?}"
        );
        assert!(!g.reason.is_empty());
        assert!(
            g.notes.iter().any(|n| n.contains("identical pixels")),
            "the near group contains the exact pair and must say so: {:?}",
            g.notes
        );
    }
}

#[test]
fn group_ids_are_stable_across_runs_and_rescans() {
    let f = full_set();
    let ids =
        |f: &Fixture| -> Vec<String> { f.groups(None).iter().map(|g| g.id.clone()).collect() };
    let first = ids(&f);
    assert_eq!(first, ids(&f));
    let reopened = Library::open(f.lib.dir()).unwrap();
    let again: Vec<String> = reopened
        .duplicates(None)
        .unwrap()
        .iter()
        .map(|g| g.id.clone())
        .collect();
    assert_eq!(first, again);
    f.scan();
    assert_eq!(first, ids(&f));
    let unique: HashSet<&String> = first.iter().collect();
    assert_eq!(unique.len(), first.len());
}

#[test]
fn ignored_groups_stay_ignored_after_rescan_and_move() {
    let f = Fixture::new();
    variants::write_variants(&f.photos, SOURCES[0], false);
    f.scan();
    let near = f.groups(Some(Tier::Near));
    assert_eq!(near.len(), 1);
    let ignored = f.lib.ignore_duplicate(&near[0].id).unwrap();
    assert_eq!(ignored.group, near[0].id);
    // Once ignored, the group is no longer proposed (nor ignorable again).
    f.lib.ignore_duplicate(&near[0].id).unwrap_err();
    assert!(f.groups(Some(Tier::Near)).is_empty());

    // Rescan, then move a member to another folder and rescan.
    f.scan();
    assert!(f.groups(Some(Tier::Near)).is_empty());
    let stem = variants::stem(SOURCES[0]);
    std::fs::create_dir_all(f.photos.join("moved")).unwrap();
    std::fs::rename(
        f.photos.join(stem).join("gray.jpg"),
        f.photos.join("moved").join("renamed.jpg"),
    )
    .unwrap();
    f.scan();
    assert!(
        f.groups(Some(Tier::Near)).is_empty(),
        "{:#?}",
        f.groups(Some(Tier::Near))
    );
    // A fresh catalog connection sees the same decision.
    let reopened = Library::open(f.lib.dir()).unwrap();
    assert!(reopened.duplicates(Some(Tier::Near)).unwrap().is_empty());

    // A new variant appears: only the new pairing is proposed again.
    let src = variants::load(SOURCES[0], 640).to_rgb8();
    let resized = image::DynamicImage::ImageRgb8(src)
        .resize_exact(400, 300, image::imageops::FilterType::Triangle)
        .to_rgb8();
    support::write(
        &f.photos.join("new.jpg"),
        &support::encode_jpeg(&resized, 80),
    );
    f.scan();
    let near = f.groups(Some(Tier::Near));
    assert_eq!(near.len(), 1, "{near:#?}");
    assert!(near[0].members.iter().any(|m| m.path.ends_with("new.jpg")));
    assert!(
        near[0]
            .notes
            .iter()
            .any(|n| n.contains("marked as not duplicates")),
        "{:?}",
        near[0].notes
    );
}

#[test]
fn dry_run_plans_without_touching_files() {
    let f = full_set();
    let before: Vec<PathBuf> = walk(&f.photos);
    let plans = f
        .lib
        .resolve_all_duplicates(Tier::Near, true)
        .unwrap()
        .groups;
    assert_eq!(plans.len(), SOURCES.len());
    for p in &plans {
        assert!(p.dry_run);
        assert!(p.trashed.is_empty());
        assert!(p.action.is_none());
        assert!(!p.trash.contains(&p.keep_path));
        assert!(p.trash.len() >= EDITS.len(), "{p:#?}");
    }
    let one = f
        .lib
        .resolve_duplicate(&plans[0].group, None, true)
        .unwrap();
    assert_eq!(one, plans[0]);
    assert_eq!(before, walk(&f.photos));
    // Similar shots are never resolved in bulk.
    assert!(f.lib.resolve_all_duplicates(Tier::Similar, true).is_err());
    // Unknown groups and non-members are clear errors.
    assert!(f.lib.resolve_duplicate("n0000", None, true).is_err());
    assert!(f
        .lib
        .resolve_duplicate(&plans[0].group, Some(-5), true)
        .is_err());
}

#[test]
fn bad_phash_rows_do_not_panic() {
    let f = Fixture::new();
    variants::write_variants(&f.photos, SOURCES[1], false);
    f.scan();
    f.lib
        .catalog()
        .connection()
        .execute(
            "UPDATE photos SET phash = x'0102' WHERE id = (SELECT MIN(id) FROM photos)",
            [],
        )
        .unwrap();
    f.lib
        .catalog()
        .connection()
        .execute("UPDATE photos SET phash = NULL, pixel_hash = NULL WHERE id = (SELECT MAX(id) FROM photos)", [])
        .unwrap();
    let groups = f.groups(None);
    assert!(!groups.is_empty());
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// Unit vectors with a chosen cosine to `base` (dimension 8).
fn vector_at(base: &[f32], other: &[f32], cos: f32) -> Vec<f32> {
    // other is orthogonal to base; mix them.
    let s = (1.0 - cos * cos).sqrt();
    base.iter()
        .zip(other)
        .map(|(b, o)| cos * b + s * o)
        .collect()
}

fn unit(i: usize) -> Vec<f32> {
    let mut v = vec![0.0; 8];
    v[i] = 1.0;
    v
}

fn store_vectors(f: &Fixture, vectors: &[(i64, Vec<f32>)]) {
    use shoebox_engine::catalog::EmbedOutcome;
    let c = f.lib.catalog();
    let model = c
        .upsert_model("test:controlled", "controlled vectors", 8)
        .unwrap();
    let rows: Vec<(i64, EmbedOutcome)> = vectors
        .iter()
        .map(|(id, v)| (*id, EmbedOutcome::Vector(v.clone())))
        .collect();
    c.store_embeddings(model.id, &rows).unwrap();
    c.set_active_model(model.id).unwrap();
}

/// A JPEG of the `k`-th cc0 picture (ten distinct pictures), with an
/// EXIF date or none.
fn dated_jpeg(k: u32, date: Option<&'static str>) -> Vec<u8> {
    let names = [SOURCES, DISTRACTORS].concat();
    let img = variants::load(names[k as usize % names.len()], 320).to_rgb8();
    match date {
        Some(d) => support::jpeg_with_exif(
            &img,
            &support::ExifSpec {
                date: Some(d),
                offset: Some("+00:00"),
                ..Default::default()
            },
        ),
        None => support::encode_jpeg(&img, 90),
    }
}

#[test]
fn similar_shots_need_close_vectors_and_close_times() {
    let f = Fixture::new();
    let shots = [
        ("burst1.jpg", 0, Some("2022:07:01 10:00:00"), 0.99),
        ("burst2.jpg", 1, Some("2022:07:01 10:00:05"), 0.97),
        ("burst3.jpg", 2, Some("2022:07:01 10:01:00"), 0.95),
        // Same moment, unrelated content.
        ("other.jpg", 3, Some("2022:07:01 10:00:02"), 0.2),
        // Close to the burst (cosine 0.94 with burst1, above the dated
        // threshold), but two days later: a re-visit, not a burst.
        ("later.jpg", 4, Some("2022:07:03 10:00:00"), 0.95),
        // No date: only a very close vector counts.
        ("undated_close.jpg", 5, None, 0.97),
        ("undated_far.jpg", 6, None, 0.93),
    ];
    for (name, seed, date, _) in &shots {
        support::write(&f.photos.join(name), &dated_jpeg(*seed, *date));
    }
    f.scan();
    let base = unit(0);
    let vectors: Vec<(i64, Vec<f32>)> = shots
        .iter()
        .enumerate()
        .map(|(k, (name, _, _, cos))| {
            let id = f
                .lib
                .resolve_photo(f.photos.join(name).to_str().unwrap())
                .unwrap();
            (id, vector_at(&base, &unit(1 + k % 7), *cos))
        })
        .collect();
    store_vectors(&f, &vectors);

    let similar = f.member_sets(Tier::Similar);
    assert_eq!(similar.len(), 1, "{similar:#?}");
    let names: HashSet<String> = [
        "burst1.jpg",
        "burst2.jpg",
        "burst3.jpg",
        "undated_close.jpg",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(similar[0], names);
    let g = &f.groups(Some(Tier::Similar))[0];
    assert!(g.reason.starts_with("suggested favourite"), "{}", g.reason);
    assert!(g.notes.iter().any(|n| n.contains("not duplicates")));
    // Never near-duplicates, never resolved without a choice or in bulk.
    assert!(f.groups(Some(Tier::Near)).is_empty());
    assert!(f.lib.resolve_duplicate(&g.id, None, true).is_err());
    let chosen = g.members[1].id;
    let plan = f.lib.resolve_duplicate(&g.id, Some(chosen), true).unwrap();
    assert_eq!(plan.keep, chosen);
    assert_eq!(plan.trash.len(), 3);

    // "Keep all" is remembered, also after re-embedding with new vectors.
    f.lib.ignore_duplicate(&g.id).unwrap();
    assert!(f.groups(Some(Tier::Similar)).is_empty());
    let nudged: Vec<(i64, Vec<f32>)> = vectors
        .iter()
        .map(|(id, v)| (*id, v.iter().map(|x| x * 0.999 + 0.0001).collect()))
        .collect();
    store_vectors(&f, &nudged);
    assert!(f.groups(Some(Tier::Similar)).is_empty());
}

#[test]
fn embeddings_confirm_hash_pairs_that_neither_hash_explains() {
    let f = Fixture::new();
    support::write(&f.photos.join("a.jpg"), &dated_jpeg(7, None));
    support::write(&f.photos.join("b.jpg"), &dated_jpeg(8, None));
    support::write(&f.photos.join("c.jpg"), &dated_jpeg(9, None));
    assert!(f.groups(None).is_empty());
    f.scan();
    let id = |n: &str| {
        f.lib
            .resolve_photo(f.photos.join(n).to_str().unwrap())
            .unwrap()
    };
    // Controlled hashes: b is 50 bits from a (beyond the near threshold,
    // inside the band where an embedding may confirm), c is 50 bits from a
    // too, but its vector disagrees.
    let mut h = [0u8; 32];
    for (i, b) in h.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(37) ^ 0x5a;
    }
    // 50 bits flipped: the first 50 for b, the last 50 for c (100 apart).
    let (mut b, mut c) = (h, h);
    for bit in 0..50 {
        b[bit / 8] ^= 1 << (bit % 8);
        c[31 - bit / 8] ^= 1 << (bit % 8);
    }
    let conn = f.lib.catalog().connection();
    for (name, hash) in [("a.jpg", h), ("b.jpg", b), ("c.jpg", c)] {
        conn.execute(
            "UPDATE photos SET phash = ?1, crop_hashes = NULL WHERE id = ?2",
            (&hash[..], id(name)),
        )
        .unwrap();
    }
    let base = unit(0);
    store_vectors(
        &f,
        &[
            (id("a.jpg"), base.clone()),
            (id("b.jpg"), vector_at(&base, &unit(1), 0.96)),
            (id("c.jpg"), vector_at(&base, &unit(2), 0.5)),
        ],
    );
    let near = f.groups(Some(Tier::Near));
    assert_eq!(near.len(), 1, "{near:#?}");
    let members: HashSet<i64> = near[0].members.iter().map(|m| m.photo_id).collect();
    assert_eq!(members, HashSet::from([id("a.jpg"), id("b.jpg")]));
    assert!(near[0]
        .notes
        .iter()
        .any(|n| n.contains("confirmed by the image embedding")));

    // Issue 22, defect 7: a high cosine between different pixels is no
    // proof. Such a group is not certain, and resolving the whole tier
    // moves nothing from it; resolving it on its own still works.
    assert!(!near[0].certain);
    let all = f
        .lib
        .resolve_all_duplicates(Tier::Near, false)
        .unwrap()
        .groups;
    assert_eq!(all.len(), 1);
    assert!(all[0].trashed.is_empty(), "{all:#?}");
    assert!(all[0].skipped[0].reason.contains("review"), "{all:#?}");
    for name in ["a.jpg", "b.jpg", "c.jpg"] {
        assert!(f.photos.join(name).exists(), "{name} was moved");
    }
    let one = f.lib.resolve_duplicate(&near[0].id, None, true).unwrap();
    assert_eq!(one.trash.len(), 1);
}

#[test]
fn large_library_crop_search_still_finds_plain_crops() {
    let f = Fixture::new();
    variants::write_variants(&f.photos, SOURCES[2], false);
    variants::write_distractors(&f.photos);
    f.scan();
    // As if the library were above the limit: crops within 15 bits only.
    let params = shoebox_engine::dupes::Params {
        crop_full_radius_limit: 0,
        ..Default::default()
    };
    let near = f.lib.duplicates_with(&params, Some(Tier::Near)).unwrap();
    assert_eq!(near.len(), 1, "{near:#?}");
    let stem = variants::stem(SOURCES[2]);
    assert!(near[0]
        .members
        .iter()
        .any(|m| m.path.ends_with(&format!("{stem}/crop90.jpg"))));
}

/// A resolution still being carried out by another process (the app, while
/// a CLI command starts) is left alone; once that process is gone, the next
/// start finishes it from the disk.
#[test]
fn a_resolution_in_progress_elsewhere_is_not_reconciled_until_its_process_is_gone() {
    let f = Fixture::new();
    let a = f.photos.join("a.jpg");
    let b = f.photos.join("b.jpg");
    support::write(&a, &dated_jpeg(3, None));
    support::write(&b, &dated_jpeg(3, None));
    f.scan();
    let catalog = f.lib.catalog();
    let photo = f.lib.resolve_photo(a.to_str().unwrap()).unwrap();
    let action = catalog
        .begin_dupe_resolution(&shoebox_engine::catalog::ResolutionStart {
            group_id: "c1",
            tier: "exact",
            kept_photo: photo,
            kept_path: a.to_str().unwrap(),
            reason: "test",
            files: &[(b.clone(), b.display().to_string(), [0u8; 32], 1)],
        })
        .unwrap();
    let mut owner = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .unwrap();
    catalog
        .connection()
        .execute(
            "UPDATE dupe_actions SET owner_pid = ?1 WHERE id = ?2",
            (owner.id(), action),
        )
        .unwrap();
    let lib_dir = f.lib.dir().to_path_buf();
    drop(Library::open(&lib_dir).unwrap());
    assert_eq!(catalog.pending_dupe_actions().unwrap().len(), 1);
    owner.kill().unwrap();
    owner.wait().unwrap();
    drop(Library::open(&lib_dir).unwrap());
    // b never moved: the intent is rolled back and the empty action dropped.
    assert!(catalog.pending_dupe_actions().unwrap().is_empty());
    assert!(f.lib.duplicate_history().unwrap().is_empty());
    assert!(b.exists());
}
