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
use shoebox_engine::ingest::ScanOptions;
use shoebox_engine::Library;
use support::variants::{self, DISTRACTORS, EDITS, SOURCES};

struct Fixture {
    _tmp: tempfile::TempDir,
    photos: PathBuf,
    lib: Library,
}

impl Fixture {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let photos = tmp.path().join("photos");
        std::fs::create_dir_all(&photos).unwrap();
        let lib = Library::open(&tmp.path().join("library")).unwrap();
        lib.add_folder(&photos).unwrap();
        Fixture {
            photos: photos.canonicalize().unwrap(),
            _tmp: tmp,
            lib,
        }
    }

    fn scan(&self) {
        self.lib.scan(&ScanOptions::default(), &|_| {}).unwrap();
    }

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
    let copies: Vec<&Group> = exact.iter().filter(|g| g.kind == GroupKind::Copies).collect();
    let pixels: Vec<&Group> = exact.iter().filter(|g| g.kind == GroupKind::Photos).collect();
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
            .map(|m| Path::new(&m.path).file_name().unwrap().to_string_lossy().into_owned())
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
            assert!(!m.path.contains("/other/"), "distractor {} grouped in {g:#?}", m.path);
        }
    }
    assert_eq!(DISTRACTORS.len(), 6);
}

#[test]
fn keep_suggestion_prefers_the_original_and_says_why() {
    let f = full_set();
    for g in f.groups(Some(Tier::Near)) {
        let keep = g.members.iter().find(|m| m.id == g.keep).unwrap();
        let name = Path::new(&keep.path).file_name().unwrap().to_string_lossy().into_owned();
        // original.jpg and meta.jpg have the same pixels and both carry the
        // EXIF; either is the best copy.
        assert!(
            name == "original.jpg" || name == "meta.jpg",
            "kept {name} of {g:#?}"
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
    let ids = |f: &Fixture| -> Vec<String> { f.groups(None).iter().map(|g| g.id.clone()).collect() };
    let first = ids(&f);
    assert_eq!(first, ids(&f));
    let reopened = Library::open(f.lib.dir()).unwrap();
    let again: Vec<String> = reopened.duplicates(None).unwrap().iter().map(|g| g.id.clone()).collect();
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
    assert_eq!(ignored.id, near[0].id);
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
    assert!(f.groups(Some(Tier::Near)).is_empty(), "{:#?}", f.groups(Some(Tier::Near)));
    // A fresh catalog connection sees the same decision.
    let reopened = Library::open(f.lib.dir()).unwrap();
    assert!(reopened.duplicates(Some(Tier::Near)).unwrap().is_empty());

    // A new variant appears: only the new pairing is proposed again.
    let src = variants::load(SOURCES[0], 640).to_rgb8();
    let resized = image::DynamicImage::ImageRgb8(src)
        .resize_exact(400, 300, image::imageops::FilterType::Triangle)
        .to_rgb8();
    support::write(&f.photos.join("new.jpg"), &support::encode_jpeg(&resized, 80));
    f.scan();
    let near = f.groups(Some(Tier::Near));
    assert_eq!(near.len(), 1, "{near:#?}");
    assert!(near[0].members.iter().any(|m| m.path.ends_with("new.jpg")));
    assert!(near[0].notes.iter().any(|n| n.contains("marked as not duplicates")), "{:?}", near[0].notes);
}

#[test]
fn dry_run_plans_without_touching_files() {
    let f = full_set();
    let before: Vec<PathBuf> = walk(&f.photos);
    let plans = f.lib.resolve_all_duplicates(Tier::Near, true).unwrap();
    assert_eq!(plans.len(), SOURCES.len());
    for p in &plans {
        assert!(p.dry_run);
        assert!(p.trashed.is_empty());
        assert!(p.action.is_none());
        assert!(!p.trash.contains(&p.keep_path));
        assert!(p.trash.len() >= EDITS.len(), "{p:#?}");
    }
    let one = f.lib.resolve_duplicate(&plans[0].group, None, true).unwrap();
    assert_eq!(one, plans[0]);
    assert_eq!(before, walk(&f.photos));
    // Similar shots are never resolved in bulk.
    assert!(f.lib.resolve_all_duplicates(Tier::Similar, true).is_err());
    // Unknown groups and non-members are clear errors.
    assert!(f.lib.resolve_duplicate("n0000", None, true).is_err());
    assert!(f.lib.resolve_duplicate(&plans[0].group, Some(-5), true).is_err());
}

#[test]
fn bad_phash_rows_do_not_panic() {
    let f = Fixture::new();
    variants::write_variants(&f.photos, SOURCES[1], false);
    f.scan();
    f.lib
        .catalog()
        .connection()
        .execute("UPDATE photos SET phash = x'0102' WHERE id = (SELECT MIN(id) FROM photos)", [])
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
