//! Auto-tagging on real catalogs with real image files. The math is checked
//! with a deterministic test encoder whose text and image vectors are
//! constructed so that the right answers are known; the random-weight tiny
//! CLIP model then checks the plumbing (it tags meaningless things).

#[path = "../../../tests/support/mod.rs"]
mod support;

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use shoebox_engine::catalog::EmbedOutcome;
use shoebox_engine::embed::EmbedOptions;
use shoebox_engine::ingest::ScanOptions;
use shoebox_engine::search::SearchOptions;
use shoebox_engine::tags::scoring::{
    blend, dot, fit_stats, normalize, BlendParams, ConceptRule, ConceptStats, Prior, Rule,
    ScoredConcept, Scorer,
};
use shoebox_engine::tags::{self, Calibration, RetagOptions, RetagReport, TextEncoder, Vocabulary};
use shoebox_engine::Library;
use support::*;

const DIM: usize = 24;

/// The test vocabulary: a group, a parent with children, and siblings.
const VOCAB: &str = "
*Things | | things
Animal < *Things | | an animal
Dog < Animal | puppy | a dog with fur
Cat < Animal | | a cat with whiskers
Beach < *Things | seaside | sand and sea
Sunset < *Things | | an orange sky
Receipt < *Things | | a paper slip
";
const TEMPLATES: &str =
    "1 | a photo of {}.\n1 | a blurry photo of {}.\n0.5 | a close-up photo of {}.";

/// Basis direction of each concept; dims 16.. carry prompt and photo noise.
fn axis(name: &str) -> usize {
    match name {
        "animal" => 0,
        "dog" | "puppy" => 1,
        "cat" => 2,
        "beach" | "seaside" => 3,
        "sunset" => 4,
        "receipt" => 5,
        "our red van" => 6,
        _ => 7,
    }
}

fn e(i: usize) -> Vec<f32> {
    let mut v = vec![0.0; DIM];
    v[i] = 1.0;
    v
}

fn mix(parts: &[(usize, f32)]) -> Vec<f32> {
    let mut v = vec![0.0; DIM];
    for &(i, w) in parts {
        v[i] += w;
    }
    normalize(v)
}

/// Small deterministic noise in dims 16..24 from a string.
fn noise(s: &str, scale: f32) -> Vec<f32> {
    let h = blake3::hash(s.as_bytes());
    let mut v = vec![0.0; DIM];
    for (k, b) in h.as_bytes()[..8].iter().enumerate() {
        v[16 + k] = (*b as f32 / 255.0 - 0.5) * scale;
    }
    v
}

/// Text vectors: the axis of the concept named in the prompt plus a
/// little prompt-specific noise, so ensembling has something to average.
/// Counts calls, so tests can see the prototype cache at work.
struct TestEncoder {
    calls: Cell<usize>,
    prompts: Cell<usize>,
}

impl TestEncoder {
    fn new() -> Self {
        TestEncoder {
            calls: Cell::new(0),
            prompts: Cell::new(0),
        }
    }
}

impl TextEncoder for TestEncoder {
    fn embed_texts(&self, texts: &[&str]) -> shoebox_engine::Result<Vec<Vec<f32>>> {
        self.calls.set(self.calls.get() + 1);
        self.prompts.set(self.prompts.get() + texts.len());
        Ok(texts
            .iter()
            .map(|t| {
                // "a photo of NAME." / "a photo of NAME: description."
                let name = t
                    .split(" of ")
                    .nth(1)
                    .unwrap_or(t)
                    .split([':', '.'])
                    .next()
                    .unwrap()
                    .trim();
                let mut v = e(axis(name));
                for (x, n) in v.iter_mut().zip(noise(t, 0.2)) {
                    *x += n;
                }
                normalize(v)
            })
            .collect())
    }
}

fn vocab() -> Vocabulary {
    tags::vocab::parse(VOCAB, TEMPLATES).unwrap()
}

fn calibration() -> Calibration {
    Calibration {
        format: 1,
        model: Some("test:deterministic".into()),
        fitted: false,
        note: String::new(),
        rule: Rule {
            floor: 0.3,
            z: 3.0,
            margin: 0.1,
            max_tags: 4,
        },
        // No prior: the test library's own statistics decide.
        prior: Prior {
            median: 0.0,
            spread: 0.1,
            weight: 0.0,
            auto: false,
        },
        blend: BlendParams::default(),
        concepts: Default::default(),
    }
}

struct Fixture {
    _tmp: tempfile::TempDir,
    photos: PathBuf,
    lib: Library,
    model_id: i64,
    /// Photo ids by name.
    ids: HashMap<String, i64>,
}

impl Fixture {
    /// Real JPEGs, scanned, with constructed vectors stored as if the
    /// embedding job had run. `background` unrelated photos give each
    /// concept its "unrelated" score distribution.
    fn new(named: &[(&str, Vec<f32>)], background: usize) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let photos = tmp.path().join("photos");
        std::fs::create_dir_all(&photos).unwrap();
        let lib = Library::open(&tmp.path().join("library")).unwrap();
        lib.add_folder(&photos).unwrap();
        let jpeg = encode_jpeg(&synthetic(32, 32, 1), 80);
        let mut all: Vec<(String, Vec<f32>)> = named
            .iter()
            .map(|(n, v)| (n.to_string(), v.clone()))
            .collect();
        for i in 0..background {
            // Unrelated: mostly noise dims, a little of axis 7 ("other").
            let mut v = noise(&format!("bg{i}"), 1.0);
            v[7] = 0.3;
            all.push((format!("bg{i:03}"), normalize(v)));
        }
        for (name, _) in &all {
            write(
                &photos.join(format!("{name}.jpg")),
                &with_comment(&jpeg, name),
            );
        }
        lib.scan(&ScanOptions::default(), &|_| {}).unwrap();
        let photos = photos.canonicalize().unwrap();
        let model = lib
            .catalog()
            .upsert_model("test:deterministic", "test", DIM)
            .unwrap();
        let mut ids = HashMap::new();
        let mut rows = Vec::new();
        for (name, v) in &all {
            let id = lib
                .resolve_photo(photos.join(format!("{name}.jpg")).to_str().unwrap())
                .unwrap();
            ids.insert(name.clone(), id);
            rows.push((id, EmbedOutcome::Vector(v.clone())));
        }
        lib.catalog().store_embeddings(model.id, &rows).unwrap();
        Fixture {
            _tmp: tmp,
            photos,
            lib,
            model_id: model.id,
            ids,
        }
    }

    fn retag(&self, encoder: &TestEncoder, vocab: &Vocabulary, full: bool) -> RetagReport {
        self.lib
            .retag_with(
                encoder,
                self.model_id,
                vocab,
                &calibration(),
                &RetagOptions {
                    full,
                    ..Default::default()
                },
                &|_| {},
            )
            .unwrap()
    }

    fn tags(&self, name: &str) -> Vec<(String, String)> {
        support::library::tag_pairs(&self.lib, self.ids[name])
    }

    fn tag_names(&self, name: &str) -> Vec<String> {
        self.tags(name).into_iter().map(|t| t.0).collect()
    }

    fn score(&self, name: &str, tag: &str) -> Option<f64> {
        self.lib
            .photo_tags(self.ids[name])
            .unwrap()
            .into_iter()
            .find(|t| t.tag == tag)
            .and_then(|t| t.score)
    }
}

fn standard_photos() -> Vec<(&'static str, Vec<f32>)> {
    vec![
        ("dog", mix(&[(1, 1.0), (8, 0.2)])),
        ("dog_on_beach", mix(&[(1, 0.7), (3, 0.7)])),
        ("cat", mix(&[(2, 1.0), (9, 0.2)])),
        ("some_animal", mix(&[(0, 1.0), (10, 0.2)])),
        ("sunset_beach", mix(&[(3, 0.6), (4, 0.8)])),
        ("receipt", mix(&[(5, 1.0)])),
        // Looks a bit like everything: the margin makes it abstain.
        (
            "everything",
            mix(&[(0, 1.0), (1, 1.0), (2, 1.0), (3, 1.0), (4, 1.0), (5, 1.0)]),
        ),
    ]
}

// ------------------------------------------------------------ pure math

fn scorer(prototypes: Vec<Vec<f32>>, stats: ConceptStats, rule: Rule) -> Scorer {
    let n = prototypes.len();
    Scorer::new(
        prototypes
            .into_iter()
            .enumerate()
            .map(|(i, p)| ScoredConcept {
                prototype: p,
                stats,
                rule: ConceptRule::default(),
                group: false,
                // Concept 0 is the parent of concept 1.
                ancestors: if i == 1 { vec![0] } else { vec![] },
            })
            .collect::<Vec<_>>()
            .into_iter()
            .take(n)
            .collect(),
        rule,
    )
}

#[test]
fn thresholds_margin_and_abstention() {
    let protos: Vec<Vec<f32>> = (0..8).map(e).collect();
    let stats = ConceptStats {
        median: 0.0,
        spread: 0.1,
    };
    let rule = Rule {
        floor: 0.3,
        z: 3.0,
        margin: 0.1,
        max_tags: 2,
    };
    let s = scorer(protos, stats, rule);
    let none = HashSet::new();
    // Clear evidence for concept 2 only.
    let photo = mix(&[(2, 1.0), (9, 0.3)]);
    let got: Vec<usize> = s
        .decide(&s.scores(&photo), &none)
        .iter()
        .map(|a| a.concept)
        .collect();
    assert_eq!(got, [2]);
    // Weak evidence everywhere: below the floor, nothing is a valid answer.
    let weak = mix(&[(2, 0.2), (9, 1.0)]);
    assert!(s.decide(&s.scores(&weak), &none).is_empty());
    // Equal evidence for all: no concept stands out from the photo's own
    // median, so the margin abstains.
    let flat = mix(&(0..8).map(|i| (i, 1.0)).collect::<Vec<_>>());
    assert!(s.decide(&s.scores(&flat), &none).is_empty());
    // Above the floor but not z spreads above the concept's median.
    let high_median = scorer(
        (0..8).map(e).collect(),
        ConceptStats {
            median: 0.8,
            spread: 0.1,
        },
        rule,
    );
    assert!(high_median
        .decide(&high_median.scores(&photo), &none)
        .is_empty());
    // A fitted per-concept threshold overrides the z rule.
    let mut concepts = s.concepts().to_vec();
    concepts[2].rule.threshold = Some(0.99);
    let strict = Scorer::new(concepts, rule);
    assert!(strict.decide(&strict.scores(&photo), &none).is_empty());
    // The cap keeps the best max_tags by standard score.
    let three = mix(&[(0, 1.0), (2, 0.9), (3, 0.8)]);
    let got: Vec<usize> = s
        .decide(&s.scores(&three), &none)
        .iter()
        .filter(|a| !a.implied)
        .map(|a| a.concept)
        .collect();
    assert_eq!(got, [0, 2]);
}

#[test]
fn a_child_implies_its_parent_and_rejections_block_both() {
    let protos: Vec<Vec<f32>> = (0..3).map(e).collect();
    let stats = ConceptStats {
        median: 0.0,
        spread: 0.1,
    };
    let rule = Rule {
        floor: 0.3,
        z: 3.0,
        margin: 0.1,
        max_tags: 4,
    };
    let s = scorer(protos, stats, rule);
    let child = mix(&[(1, 1.0), (9, 0.2)]);
    let got = s.decide(&s.scores(&child), &HashSet::new());
    assert_eq!(got.len(), 2);
    let parent = got.iter().find(|a| a.concept == 0).unwrap();
    assert!(parent.implied);
    // The implied parent carries the child's evidence.
    assert!((parent.score - got.iter().find(|a| a.concept == 1).unwrap().score).abs() < 1e-6);
    // A parent on its own evidence is not implied, and no child comes with it.
    let own = s.decide(&s.scores(&mix(&[(0, 1.0)])), &HashSet::new());
    assert_eq!(own.len(), 1);
    assert!(!own[0].implied && own[0].concept == 0);
    // Rejecting the parent keeps it off even when the child is on.
    let got = s.decide(&s.scores(&child), &HashSet::from([0]));
    assert_eq!(got.iter().map(|a| a.concept).collect::<Vec<_>>(), [1]);
}

#[test]
fn blending_moves_the_prototype_towards_examples_and_away_from_negatives() {
    let text = e(0);
    let img = mix(&[(0, 0.2), (1, 1.0)]);
    let params = BlendParams::default();
    let one = blend(&text, &[&img], &[], &params);
    let five = blend(&text, &[&img, &img, &img, &img, &img], &[], &params);
    // More confirmed examples pull further towards them, text never lost.
    assert!(dot(&one, &img) > dot(&text, &img));
    assert!(dot(&five, &img) > dot(&one, &img));
    assert!(dot(&five, &text) > 0.1);
    assert!((dot(&five, &five) - 1.0).abs() < 1e-5);
    // Many examples are capped at max_weight.
    let many: Vec<&[f32]> = std::iter::repeat_n(img.as_slice(), 1000).collect();
    let capped = blend(&text, &many, &[], &params);
    let expected = normalize(
        text.iter()
            .zip(&img)
            .map(|(t, i)| 0.2 * t + 0.8 * i)
            .collect(),
    );
    assert!(dot(&capped, &expected) > 0.9999);
    // A rejected example lowers the score of look-alikes.
    let neg = mix(&[(0, 0.6), (2, 1.0)]);
    let pushed = blend(&text, &[], &[&neg], &params);
    assert!(dot(&pushed, &neg) < dot(&text, &neg));
    assert!(dot(&pushed, &text) > 0.9);
}

#[test]
fn library_statistics_are_robust() {
    let prior = Prior {
        median: 0.0,
        spread: 0.1,
        weight: 0.0,
        auto: false,
    };
    let mut scores: Vec<f32> = (0..99).map(|i| 0.1 + (i % 10) as f32 * 0.002).collect();
    scores.push(0.9); // one true match does not move "unrelated"
    let st = fit_stats(&scores, &prior);
    assert!((st.median - 0.109).abs() < 0.002, "{st:?}");
    assert!(st.spread < 0.01, "{st:?}");
}

// ------------------------------------------------------------ on a catalog

#[test]
fn retag_assigns_the_known_answers() {
    let f = Fixture::new(&standard_photos(), 40);
    let v = vocab();
    let enc = TestEncoder::new();
    let r = f.retag(&enc, &v, false);
    assert_eq!(r.concepts, 6); // the group is not scored
    assert_eq!(r.prototypes_built, 6);
    assert_eq!(r.photos_scored, 47);
    assert_eq!(f.tag_names("dog"), ["animal", "dog"]);
    assert_eq!(f.tag_names("dog_on_beach"), ["animal", "beach", "dog"]);
    assert_eq!(f.tag_names("cat"), ["animal", "cat"]);
    assert_eq!(f.tag_names("some_animal"), ["animal"]);
    assert_eq!(f.tag_names("sunset_beach"), ["beach", "sunset"]);
    assert_eq!(f.tag_names("receipt"), ["receipt"]);
    assert!(f.tag_names("everything").is_empty(), "margin abstains");
    for i in 0..40 {
        assert!(f.tag_names(&format!("bg{i:03}")).is_empty(), "bg{i}");
    }
    for t in f.lib.photo_tags(f.ids["dog"]).unwrap() {
        assert_eq!(t.source, "auto");
        assert!(t.score.unwrap() > 0.3);
    }
    // `tag:` search reads these rows.
    let rows = f.lib.catalog().index_rows(f.model_id, None).unwrap();
    let dog_rows: Vec<i64> = rows
        .iter()
        .filter(|r| r.tags.iter().any(|t| t == "dog"))
        .map(|r| r.photo_id)
        .collect();
    let mut want = vec![f.ids["dog"], f.ids["dog_on_beach"]];
    want.sort();
    assert_eq!(dog_rows, want);
}

#[test]
fn user_decisions_survive_retagging() {
    let f = Fixture::new(&standard_photos(), 40);
    let v = vocab();
    let enc = TestEncoder::new();
    f.retag(&enc, &v, false);
    let beach = f.ids["dog_on_beach"];
    // Remove an auto tag, confirm another, add one the model did not see.
    assert!(f.lib.remove_tag(beach, "beach").unwrap().was_on);
    assert_eq!(f.lib.add_tag(beach, "Dog").unwrap().tag, "dog");
    assert_eq!(
        f.lib.add_tag(f.ids["receipt"], "Sunset").unwrap().tag,
        "sunset"
    );
    // A user tag implies its parents too (so `tag:animal` finds it).
    f.lib.add_tag(f.ids["bg000"], "cat").unwrap();
    // ...at once, before any re-tag (the library's built-in vocabulary
    // has cat < pet).
    assert!(f.tags("bg000").contains(&("pet".into(), "auto".into())));
    // A keyword outside the vocabulary, typed by the user.
    assert_eq!(
        f.lib.add_tag(f.ids["cat"], "Grandma's Cat").unwrap().tag,
        "grandma's cat"
    );
    for full in [false, true] {
        f.retag(&enc, &v, full);
        assert_eq!(
            f.tags("dog_on_beach"),
            [
                ("animal".to_string(), "auto".to_string()),
                ("dog".into(), "user".into())
            ],
            "full={full}"
        );
        assert!(f
            .tags("receipt")
            .contains(&("sunset".into(), "user".into())));
        assert!(f
            .tags("cat")
            .contains(&("grandma's cat".into(), "user".into())));
        assert_eq!(
            f.tags("bg000"),
            [
                ("animal".to_string(), "auto".to_string()),
                ("cat".into(), "user".into())
            ]
        );
    }
    // A rejected tag is not what `tag:` matches.
    let rows = f
        .lib
        .catalog()
        .index_rows(f.model_id, Some(&[beach]))
        .unwrap();
    assert!(!rows[0].tags.contains(&"beach".to_string()));
    assert_eq!(f.lib.catalog().rejected_tags(beach).unwrap(), ["beach"]);
    // Adding it back lifts the rejection.
    f.lib.add_tag(beach, "seaside").unwrap();
    assert!(f.lib.catalog().rejected_tags(beach).unwrap().is_empty());
    assert!(f
        .tags("dog_on_beach")
        .contains(&("beach".into(), "user".into())));
}

#[test]
fn retagging_is_incremental() {
    let f = Fixture::new(&standard_photos(), 40);
    let v = vocab();
    let enc = TestEncoder::new();
    let first = f.retag(&enc, &v, false);
    assert_eq!(first.photos_scored, 47);
    let calls = enc.calls.get();
    // Nothing changed: no prototype, no photo.
    let again = f.retag(&enc, &v, false);
    assert_eq!(
        (
            again.prototypes_built,
            again.changed_concepts,
            again.photos_scored
        ),
        (0, 0, 0)
    );
    assert_eq!(enc.calls.get(), calls, "prototypes come from the cache");

    // A new photo (its vector stored by the embedding job): only it is scored.
    let jpeg = encode_jpeg(&synthetic(32, 32, 2), 80);
    write(&f.photos.join("new_cat.jpg"), &jpeg);
    f.lib.scan(&ScanOptions::default(), &|_| {}).unwrap();
    let id = f
        .lib
        .resolve_photo(f.photos.join("new_cat.jpg").to_str().unwrap())
        .unwrap();
    f.lib
        .catalog()
        .store_embeddings(f.model_id, &[(id, EmbedOutcome::Vector(mix(&[(2, 1.0)])))])
        .unwrap();
    let r = f.retag(&enc, &v, false);
    assert_eq!((r.photos_scored, r.changed_concepts), (1, 0));
    assert_eq!(
        f.lib
            .photo_tags(id)
            .unwrap()
            .iter()
            .map(|t| t.tag.as_str())
            .collect::<Vec<_>>()
            .len(),
        2
    );
    // A re-embedded photo is scored again.
    f.lib
        .catalog()
        .store_embeddings(f.model_id, &[(id, EmbedOutcome::Vector(mix(&[(5, 1.0)])))])
        .unwrap();
    let r = f.retag(&enc, &v, false);
    assert_eq!(r.photos_scored, 1);
    let tags: Vec<String> = f
        .lib
        .photo_tags(id)
        .unwrap()
        .into_iter()
        .map(|t| t.tag)
        .collect();
    assert_eq!(tags, ["receipt"]);

    // Editing one concept's line re-embeds that concept only; a removed
    // concept loses its auto tags; unchanged rows are not rewritten.
    let edited = tags::vocab::parse(
        &VOCAB
            .replace("| | a cat with whiskers", "| kitty | a cat with whiskers")
            .replace("Receipt < *Things | | a paper slip\n", ""),
        TEMPLATES,
    )
    .unwrap();
    let before = enc.prompts.get();
    let r = f.retag(&enc, &edited, false);
    assert_eq!(r.prototypes_built, 1);
    assert_eq!(
        enc.prompts.get() - before,
        edited.prompts(edited.index("cat").unwrap()).len()
    );
    assert_eq!(r.removed_concepts, 1);
    assert_eq!(r.changed_concepts, 1);
    assert!(f.tag_names("receipt").is_empty());
    assert_eq!(f.tag_names("cat"), ["animal", "cat"]);
    assert_eq!(r.tags_added, 0);
    assert_eq!(r.tags_removed, 2, "receipt on two photos");

    // Another model (say, after `model use`) scores everything for itself.
    let other = f
        .lib
        .catalog()
        .upsert_model("test:other", "test", DIM)
        .unwrap();
    let rows: Vec<(i64, EmbedOutcome)> = f
        .ids
        .values()
        .map(|&id| {
            (
                id,
                EmbedOutcome::Vector(f.lib.catalog().embedding(id, f.model_id).unwrap().unwrap()),
            )
        })
        .collect();
    f.lib.catalog().store_embeddings(other.id, &rows).unwrap();
    let before = enc.calls.get();
    let r = f
        .lib
        .retag_with(
            &enc,
            other.id,
            &edited,
            &calibration(),
            &RetagOptions::default(),
            &|_| {},
        )
        .unwrap();
    assert_eq!(r.photos_scored, 47);
    assert_eq!(r.prototypes_built, 5, "prototypes are per model");
    assert!(enc.calls.get() > before);
}

#[test]
fn confirmed_examples_teach_a_custom_tag_and_rejections_push_back() {
    // The van photos are far from the text "our red van" (axis 6): mostly
    // axis 11. Red cars share axis 11 with them, and axis 12.
    let mut photos = standard_photos();
    for i in 0..4 {
        photos.push((
            ["van0", "van1", "van2", "van3"][i],
            mix(&[(6, 0.15), (11, 1.0), (13 + i % 2, 0.1)]),
        ));
    }
    photos.push(("red_car0", mix(&[(6, 0.1), (11, 0.8), (12, 0.7)])));
    photos.push(("red_car1", mix(&[(6, 0.1), (11, 0.8), (12, 0.75)])));
    let f = Fixture::new(&photos, 40);
    let enc = TestEncoder::new();
    // Created from a name only: the text alone finds no van.
    f.lib
        .add_custom_tag("our red van", None, None, &[])
        .unwrap();
    let v = f.lib.vocabulary().unwrap();
    assert!(v.get("our red van").unwrap().custom);
    // The built-in vocabulary is large; use the test one plus the custom tag.
    let v = vocab().with_custom(&[tags::CustomTag {
        tag: "our red van".into(),
        name: "our red van".into(),
        description: None,
        parent: None,
    }]);
    f.retag(&enc, &v, false);
    for van in ["van0", "van1", "van2", "van3"] {
        assert!(!f.tag_names(van).contains(&"our red van".to_string()));
    }
    // Two confirmed examples: the other vans are found, no training run.
    f.lib.add_tag(f.ids["van0"], "our red van").unwrap();
    f.lib.add_tag(f.ids["van1"], "our red van").unwrap();
    let r = f.retag(&enc, &v, false);
    assert_eq!(r.changed_concepts, 1, "only the blended concept changed");
    assert!(f
        .tags("van2")
        .contains(&("our red van".into(), "auto".into())));
    assert!(f
        .tags("van3")
        .contains(&("our red van".into(), "auto".into())));
    assert!(f
        .tags("van0")
        .contains(&("our red van".into(), "user".into())));
    assert!(f.tag_names("dog").iter().all(|t| t != "our red van"));
    let car1_before = f.score("red_car1", "our red van");
    // The red cars look alike enough to be tagged; the user rejects one.
    assert!(car1_before.is_some(), "{:?}", f.tags("red_car1"));
    f.lib.remove_tag(f.ids["red_car0"], "our red van").unwrap();
    f.retag(&enc, &v, false);
    assert!(!f.tag_names("red_car0").contains(&"our red van".to_string()));
    // The negative pulls the prototype away from its look-alike.
    let car1_after = f.score("red_car1", "our red van");
    assert!(
        car1_after.unwrap_or(0.0) < car1_before.unwrap(),
        "{car1_before:?} -> {car1_after:?}"
    );
    // The vans keep their tag.
    assert!(f.tag_names("van2").contains(&"our red van".to_string()));
}

// ------------------------------------------------------------ real model plumbing

#[test]
fn tiny_model_plumbing_with_the_builtin_vocabulary() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    for i in 0..6u32 {
        write(
            &photos.join(format!("p{i}.jpg")),
            &encode_jpeg(&synthetic(64, 48, i + 10), 85),
        );
    }
    let lib = Library::open(&tmp.path().join("library")).unwrap();
    lib.add_folder(&photos).unwrap();
    lib.scan(&ScanOptions::default(), &|_| {}).unwrap();
    let model = support::library::load_tiny_model(&lib);
    lib.embed(&model, &EmbedOptions::default(), &|_| {})
        .unwrap();
    let r = lib
        .retag(&model, &RetagOptions::default(), &|_| {})
        .unwrap();
    let taggable = tags::vocab::builtin().taggable().count();
    assert!(taggable >= 500);
    assert_eq!(r.concepts, taggable);
    assert_eq!(r.prototypes_built, taggable);
    assert_eq!(r.photos_scored, 6);
    let cached = lib.catalog().tag_prototypes(model.row.id).unwrap();
    assert_eq!(cached.len(), taggable);
    assert!(cached.values().all(|(_, v)| v.len() == 48));
    // Second run: everything from the cache, nothing to score.
    let r = lib
        .retag(&model, &RetagOptions::default(), &|_| {})
        .unwrap();
    assert_eq!((r.prototypes_built, r.photos_scored), (0, 0));
    // User decisions on a real catalog survive a full re-tag.
    let id = lib
        .resolve_photo(photos.join("p0.jpg").to_str().unwrap())
        .unwrap();
    lib.add_tag(id, "Holiday 1999").unwrap();
    let auto: Vec<String> = lib
        .photo_tags(id)
        .unwrap()
        .into_iter()
        .filter(|t| t.source == "auto")
        .map(|t| t.tag)
        .collect();
    for t in &auto {
        lib.remove_tag(id, t).unwrap();
    }
    let r = lib
        .retag(
            &model,
            &RetagOptions {
                full: true,
                ..Default::default()
            },
            &|_| {},
        )
        .unwrap();
    assert_eq!(r.photos_scored, 6);
    let now = lib.photo_tags(id).unwrap();
    assert!(now
        .iter()
        .any(|t| t.tag == "holiday 1999" && t.source == "user"));
    assert!(now.iter().all(|t| !auto.contains(&t.tag)));
    // `tag:` search finds the user tag through the search index.
    let hits = lib
        .search(
            &model,
            "tag:\"holiday 1999\"",
            &SearchOptions {
                all: true,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(hits.results.iter().map(|h| h.id).collect::<Vec<_>>(), [id]);
    assert!(lib
        .search(
            &model,
            &format!("tag:\"{}\"", auto.first().map_or("no such tag", |s| s)),
            &SearchOptions {
                all: true,
                ..Default::default()
            },
        )
        .unwrap()
        .results
        .iter()
        .all(|h| h.id != id));
}

#[test]
fn eval_harness_reports_known_accuracy_and_fits_thresholds() {
    let f = Fixture::new(&[], 0);
    let v = vocab();
    let enc = TestEncoder::new();
    let dir = f.photos.join("eval");
    std::fs::create_dir_all(&dir).unwrap();
    // Six labelled images: the vectors stand in for the model's image tower.
    let images: Vec<(&str, Vec<f32>, &str)> = vec![
        ("d1.jpg", mix(&[(1, 1.0), (9, 0.3)]), "dog"),
        ("d2.jpg", mix(&[(1, 1.0), (10, 0.3)]), "dog"),
        ("d3.jpg", mix(&[(1, 0.8), (11, 0.5)]), "puppy"),
        ("c1.jpg", mix(&[(2, 1.0), (9, 0.3)]), "cat"),
        ("b1.jpg", mix(&[(3, 1.0), (12, 0.3)]), "beach;sunset"),
        // Labelled a cat, looks like a receipt: a known miss.
        ("x1.jpg", mix(&[(5, 1.0)]), "cat;unicorn"),
    ];
    let mut csv = String::from("file,tags\n");
    for (name, _, labels) in &images {
        csv.push_str(&format!("{name},{labels}\n"));
    }
    csv.push_str("missing.jpg,dog\n");
    let labels = dir.join("labels.csv");
    std::fs::write(&labels, csv).unwrap();
    let vectors: HashMap<String, Vec<f32>> = images
        .iter()
        .map(|(n, v, _)| (n.to_string(), v.clone()))
        .collect();
    let embed = |p: &std::path::Path| -> shoebox_engine::Result<Vec<f32>> {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        vectors
            .get(&name)
            .cloned()
            .ok_or_else(|| shoebox_engine::EngineError::Invalid(format!("cannot read {name}")))
    };
    let (report, fitted) = tags::eval::run_eval(
        f.lib.catalog(),
        f.model_id,
        "test:deterministic",
        &enc,
        &embed,
        &v,
        &calibration(),
        &labels,
        &dir,
        &|_| {},
    )
    .unwrap();
    assert_eq!(report.images, 6);
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(report.unknown_labels, ["unicorn"]);
    // Top-1 is right for all but the receipt-looking "cat": 5 of 6.
    assert!((report.top1 - 5.0 / 6.0).abs() < 1e-9, "{}", report.top1);
    assert!(report.top5 >= report.top1);
    // Every true label (with ancestors) is either found or missed: dog and
    // animal three times, cat and animal twice, beach and sunset once.
    assert_eq!(report.assigned.tp + report.assigned.fn_, 12);
    // Dog has three positives ("puppy" is its synonym), so it gets a fitted
    // threshold; cat has two and keeps the z rule.
    let fitted = fitted.unwrap();
    assert!(fitted.fitted);
    assert!(fitted.concepts.get("dog").unwrap().threshold.is_some());
    assert!(!fitted.concepts.contains_key("cat"));
    // The fitted file round-trips through the library's calibration lookup.
    let path = fitted.save(f.lib.dir(), "test:deterministic").unwrap();
    assert!(path.starts_with(f.lib.dir()));
    assert_eq!(f.lib.tag_calibration("test:deterministic").unwrap(), fitted);
}

/// Regression (issue 15): `was_on` comes from the engine, synonyms
/// included, and a keyword keeps the user's spelling in the answer, the
/// tag list and the sidecar while its key compares case-insensitively.
#[test]
fn tag_edits_report_was_on_and_keep_the_users_spelling() {
    let f = Fixture::new(&standard_photos(), 40);
    let id = f.ids["receipt"];
    let first = f.lib.add_tag(id, "beach").unwrap();
    assert!(!first.was_on);
    assert_eq!(
        (first.tag.as_str(), first.name.as_str()),
        ("beach", "Beach")
    );
    // "seaside" is a synonym of beach: the same tag, already on.
    let again = f.lib.add_tag(id, "seaside").unwrap();
    assert_eq!(again.tag, "beach");
    assert!(
        again.was_on,
        "adding a synonym of a tag already on reports was_on"
    );

    let cat = f.lib.add_tag(id, "our cat Chelsea").unwrap();
    assert_eq!(cat.tag, "our cat chelsea");
    assert_eq!(cat.name, "our cat Chelsea");
    assert!(!cat.was_on);
    assert!(cat
        .tags
        .iter()
        .any(|t| t.tag == "our cat chelsea" && t.name == "our cat Chelsea"));
    let json = serde_json::to_value(&cat).unwrap();
    assert_eq!(json["name"], "our cat Chelsea");
    assert_eq!(json["action"], "add");
    // Typed again in other case: the same tag, now spelled the new way.
    let recased = f.lib.add_tag(id, "Our Cat Chelsea").unwrap();
    assert!(recased.was_on);
    assert_eq!(recased.name, "Our Cat Chelsea");

    let xmp = f.lib.export_xmp(false).unwrap();
    assert!(xmp.failed.is_empty(), "{xmp:?}");
    let sidecar = f.photos.join("receipt.jpg.xmp");
    let text =
        std::fs::read_to_string(&sidecar).unwrap_or_else(|e| panic!("{}: {e}", sidecar.display()));
    assert!(text.contains("<rdf:li>Our Cat Chelsea</rdf:li>"), "{text}");
    assert!(!text.contains("our cat chelsea"), "{text}");

    let removed = f.lib.remove_tag(id, "OUR CAT CHELSEA").unwrap();
    assert!(removed.was_on);
    assert_eq!(removed.name, "Our Cat Chelsea");
}
