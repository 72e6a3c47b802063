//! `shoebox dupes` end to end through the real binary, with the real OS
//! trash: each process gets its own XDG_DATA_HOME (and HOME), so the
//! freedesktop trash lives in the test's temp dir, and we check that the
//! files are really there, that the originals are gone, that the catalog
//! follows, and that undo puts them back.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::harness::Shell;
use crate::support::variants::{self, EDITS, SOURCES};

type Env = Shell;

impl Shell {
    fn trashed_names(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.trash_files())
            .map(|d| {
                d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    fn setup_duplicates(&self) {
        for s in &SOURCES[..2] {
            variants::write_variants(&self.photos, s, true);
        }
        variants::write_distractors(&self.photos);
        self.ok(&["add", self.photos.to_str().unwrap()]);
        self.ok(&["scan"]);
    }
}

fn groups(v: &Value) -> &Vec<Value> {
    v["groups"].as_array().unwrap()
}

fn strip_run(plan: &Value) -> Value {
    let mut p = plan.clone();
    for key in ["dry_run", "trashed", "skipped", "action"] {
        p.as_object_mut().unwrap().remove(key);
    }
    p
}

#[test]
fn list_resolve_all_history_and_undo() {
    let env = Env::new();
    env.setup_duplicates();

    let all = env.json(&["dupes"]);
    for g in groups(&all) {
        for key in ["id", "tier", "members", "keep", "reason"] {
            assert!(!g[key].is_null(), "{key} missing in {g}");
        }
        let ids: Vec<i64> = g["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_i64().unwrap())
            .collect();
        assert!(ids.contains(&g["keep"].as_i64().unwrap()));
        for m in g["members"].as_array().unwrap() {
            assert!(m["path"]
                .as_str()
                .unwrap()
                .starts_with(env.photos.to_str().unwrap()));
        }
    }
    let near = env.json(&["dupes", "--tier", "near"]);
    assert_eq!(groups(&near).len(), 2, "{near:#}");
    assert!(groups(&near).iter().all(|g| g["tier"] == "near"));

    // The dry run prints the plan and moves nothing.
    let dry = env.json(&["dupes", "resolve-all", "--tier", "near", "--dry-run"]);
    assert_eq!(dry["dry_run"], true);
    assert!(env.trashed_names().is_empty());
    let planned: Vec<String> = groups(&dry)
        .iter()
        .flat_map(|g| {
            g["trash"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap().to_string())
        })
        .collect();
    assert!(planned.len() >= 2 * EDITS.len());
    for p in &planned {
        assert!(Path::new(p).is_file(), "{p} should still be there");
    }

    // The real run does exactly what the dry run said.
    let real = env.json(&["dupes", "resolve-all", "--tier", "near"]);
    assert_eq!(real["dry_run"], false);
    let dry_plans: Vec<Value> = groups(&dry).iter().map(strip_run).collect();
    let real_plans: Vec<Value> = groups(&real).iter().map(strip_run).collect();
    assert_eq!(dry_plans, real_plans);
    for g in groups(&real) {
        assert_eq!(g["trashed"], g["trash"], "{g:#}");
        assert!(g["skipped"].as_array().unwrap().is_empty());
        assert!(Path::new(g["keep_path"].as_str().unwrap()).is_file());
    }
    for p in &planned {
        assert!(!Path::new(p).exists(), "{p} should be in the trash");
    }
    // In the freedesktop trash, with .trashinfo records naming the originals.
    let names = env.trashed_names();
    assert_eq!(names.len(), planned.len(), "{names:?}");
    let info_dir = env.data_home.join("Trash").join("info");
    let mut originals = HashSet::new();
    for e in std::fs::read_dir(&info_dir).unwrap() {
        let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
        let line = text.lines().find(|l| l.starts_with("Path=")).unwrap();
        originals.insert(line.trim_start_matches("Path=").to_string());
    }
    for p in &planned {
        assert!(
            originals
                .iter()
                .any(|o| o.ends_with(Path::new(p).file_name().unwrap().to_str().unwrap())),
            "{p} not recorded in {originals:?}"
        );
    }

    // The catalog follows: no near group is left, status counts fewer files.
    assert!(groups(&env.json(&["dupes", "--tier", "near"])).is_empty());
    let status = env.json(&["status"]);
    let files_now = status["files"].as_i64().unwrap();

    // History lists the actions; undo puts the files back.
    let history = env.json(&["dupes", "history"]);
    let actions = history["actions"].as_array().unwrap();
    assert_eq!(actions.len(), 2);
    let first = actions[0]["id"].as_i64().unwrap();
    let undone = env.json(&["dupes", "undo", &first.to_string()]);
    let restored = undone["restored"].as_array().unwrap();
    assert!(!restored.is_empty());
    for p in restored {
        assert!(Path::new(p.as_str().unwrap()).is_file());
    }
    assert!(
        env.run(&["dupes", "undo", &first.to_string()])
            .status
            .code()
            == Some(1)
    );
    env.ok(&["scan"]);
    let status = env.json(&["status"]);
    assert_eq!(
        status["files"].as_i64().unwrap(),
        files_now + restored.len() as i64
    );
    assert_eq!(groups(&env.json(&["dupes", "--tier", "near"])).len(), 1);
    let history = env.json(&["dupes", "history"]);
    assert!(!history["actions"][0]["undone_at"].is_null());
}

#[test]
fn resolve_one_group_with_keep_and_copies() {
    let env = Env::new();
    env.setup_duplicates();
    let exact = env.json(&["dupes", "--tier", "exact"]);
    let copies = groups(&exact)
        .iter()
        .find(|g| g["kind"] == "copies")
        .unwrap()
        .clone();
    let members = copies["members"].as_array().unwrap();
    assert_eq!(members.len(), 2);
    // Keep the copy that is not suggested.
    let other = members.iter().find(|m| m["id"] != copies["keep"]).unwrap();
    let keep_id = other["id"].as_i64().unwrap().to_string();
    let gid = copies["id"].as_str().unwrap();
    let r = env.json(&["dupes", "resolve", gid, "--keep", &keep_id]);
    assert_eq!(r["reason"], "chosen by the user");
    let trashed = r["trashed"].as_array().unwrap();
    assert_eq!(trashed.len(), 1);
    assert!(Path::new(other["path"].as_str().unwrap()).is_file());
    assert!(!Path::new(trashed[0].as_str().unwrap()).exists());
    assert_eq!(env.trashed_names().len(), 1);
    // The photo is still in the library, through the file kept.
    let info = env.json(&["info", other["path"].as_str().unwrap()]);
    assert_eq!(info["paths"].as_array().unwrap().len(), 1);

    // Resolving again is a clear error, not a crash.
    let again = env.run(&["dupes", "resolve", gid]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("no duplicate group"));
    // A bad tier is refused by the parser.
    assert!(!env.run(&["dupes", "--tier", "fuzzy"]).status.success());
}

#[test]
fn tags_move_to_the_kept_photo_and_ignore_is_remembered() {
    let env = Env::new();
    env.setup_duplicates();
    let near = env.json(&["dupes", "--tier", "near"]);
    let g = groups(&near)[0].clone();
    let keep = g["keep"].as_i64().unwrap();
    let removed: Vec<i64> = g["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .filter(|&id| id != keep)
        .collect();
    {
        let catalog =
            shoebox_engine::catalog::Catalog::open(&env.library.join("catalog.sqlite")).unwrap();
        for (k, id) in removed.iter().enumerate() {
            let c = catalog.connection();
            c.execute(
                "INSERT INTO photo_tags (photo_id, tag, source) VALUES (?1, ?2, 'user')",
                (*id, format!("tag{k}")),
            )
            .unwrap();
            // Automatic tags are the tagger's business, not copied.
            c.execute(
                "INSERT INTO photo_tags (photo_id, tag, source, score) VALUES (?1, 'auto-only', 'auto', 0.3)",
                [*id],
            )
            .unwrap();
            // A rejection (negative example) travels with the picture.
            c.execute(
                "INSERT OR IGNORE INTO tag_rejections (photo_id, tag, at) VALUES (?1, 'not-this', '2024-01-01T00:00:00Z')",
                [*id],
            )
            .unwrap();
        }
    }
    let r = env.json(&["dupes", "resolve", g["id"].as_str().unwrap()]);
    assert_eq!(
        r["trashed"].as_array().unwrap().len(),
        r["trash"].as_array().unwrap().len()
    );
    let catalog =
        shoebox_engine::catalog::Catalog::open(&env.library.join("catalog.sqlite")).unwrap();
    let count = |sql: &str| -> i64 {
        catalog
            .connection()
            .query_row(sql, [keep], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(
        count("SELECT COUNT(*) FROM photo_tags WHERE photo_id = ?1 AND source = 'user'") as usize,
        removed.len()
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM photo_tags WHERE photo_id = ?1 AND tag = 'auto-only'"),
        0
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM tag_rejections WHERE photo_id = ?1 AND tag = 'not-this'"),
        1
    );

    // Ignore the other near group; it stays ignored in later processes and
    // after a rescan.
    let near = env.json(&["dupes", "--tier", "near"]);
    assert_eq!(groups(&near).len(), 1);
    let gid = groups(&near)[0]["id"].as_str().unwrap().to_string();
    env.ok(&["dupes", "ignore", &gid]);
    env.ok(&["scan"]);
    assert!(groups(&env.json(&["dupes", "--tier", "near"])).is_empty());
    assert_eq!(env.run(&["dupes", "resolve", &gid]).status.code(), Some(1));
}

/// The freedesktop trash's record of where each item came from
/// (`Path=` of every `.trashinfo`), with the size of the trashed file.
fn trash_entries(env: &Env) -> Vec<(PathBuf, u64)> {
    let info = env.data_home.join("Trash/info");
    let Ok(dir) = std::fs::read_dir(&info) else {
        return Vec::new();
    };
    dir.filter_map(|e| {
        let e = e.ok()?;
        let text = std::fs::read_to_string(e.path()).ok()?;
        let path = text.lines().find_map(|l| l.strip_prefix("Path="))?;
        let name = e
            .file_name()
            .to_string_lossy()
            .trim_end_matches(".trashinfo")
            .to_string();
        let size = std::fs::metadata(env.trash_files().join(name)).map_or(0, |m| m.len());
        Some((PathBuf::from(path), size))
    })
    .collect()
}

/// Issue 22, defect 6: a kill -9 inside the move phase of a resolution left
/// files in the trash that no action recorded (so `undo` could not bring
/// them back), and empty placeholders in the trash beside originals still in
/// place. Now the intent is written first and reconciled at the next start.
/// Fifty kills landing inside the move phase: every file is either in place
/// (with no placeholder left) or in the trash and recorded, and undo brings
/// every one back intact.
#[test]
fn resolving_survives_kill_9_inside_the_move_phase() {
    let env = Env::new();
    const COPIES: usize = 120;
    let jpeg = crate::support::encode_jpeg(&crate::support::synthetic(64, 48, 21), 90);
    let copies: Vec<PathBuf> = (0..COPIES)
        .map(|i| env.photos.join(format!("copy-{i:03}.jpg")))
        .collect();
    for c in &copies {
        std::fs::write(c, &jpeg).unwrap();
    }
    env.ok(&["add", env.photos.to_str().unwrap()]);
    env.ok(&["scan"]);

    let restore_all = |env: &Env| {
        let history = env.json(&["dupes", "history"]);
        for action in history["actions"].as_array().unwrap() {
            if action["undone_at"].is_null() {
                env.ok(&["dupes", "undo", &action["id"].to_string()]);
            }
        }
        for c in &copies {
            assert_eq!(
                std::fs::read(c).unwrap(),
                jpeg,
                "{} not restored intact",
                c.display()
            );
        }
        assert!(trash_entries(env).is_empty(), "{:?}", trash_entries(env));
        // Nor are blank records left by a move killed half way.
        let info = env.data_home.join("Trash/info");
        let blank = std::fs::read_dir(&info)
            .map(|d| {
                d.flatten()
                    .filter(|e| e.metadata().unwrap().len() == 0)
                    .count()
            })
            .unwrap_or(0);
        assert_eq!(blank, 0, "blank .trashinfo records left");
        env.ok(&["scan"]);
    };

    // How long an uninterrupted resolution takes here: the kills are spread
    // over that span (a choice of when to kill, not an assertion).
    let started = std::time::Instant::now();
    env.ok(&["dupes", "resolve-all", "--tier", "exact"]);
    let span = started.elapsed();
    restore_all(&env);

    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let (mut inside, mut cycles) = (0, 0);
    while inside < 50 {
        cycles += 1;
        assert!(
            cycles <= 400,
            "only {inside} of {cycles} kills landed inside the move phase"
        );
        let delay = span.mul_f64(0.1 + 0.9 * (next() % 1000) as f64 / 1000.0);
        let mut child = env
            .command(&["dupes", "resolve-all", "--tier", "exact"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill();
        let _ = child.wait();

        // The next start reconciles (history is a duplicate verb).
        let history = env.json(&["dupes", "history"]);
        let recorded: HashSet<String> = history["actions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["undone_at"].is_null())
            .flat_map(|a| a["files"].as_array().unwrap().clone())
            .map(|f| f["path"].as_str().unwrap().to_string())
            .collect();
        let entries = trash_entries(&env);
        let mut moved = 0;
        for c in &copies {
            let in_trash: Vec<&(PathBuf, u64)> = entries.iter().filter(|(p, _)| p == c).collect();
            if c.exists() {
                assert!(
                    in_trash.is_empty(),
                    "{} is in place and has a trash entry {in_trash:?}",
                    c.display()
                );
            } else {
                moved += 1;
                assert_eq!(
                    in_trash.len(),
                    1,
                    "{} is gone but not in the trash",
                    c.display()
                );
                assert_eq!(in_trash[0].1, jpeg.len() as u64, "{}", c.display());
                assert!(
                    recorded.contains(c.to_str().unwrap()),
                    "{} is in the trash but no action records it",
                    c.display()
                );
            }
        }
        assert!(moved < COPIES, "the kept copy was moved");
        if moved > 0 && moved < COPIES - 1 {
            inside += 1;
        }
        restore_all(&env);
    }
    eprintln!("{inside} kills inside the move phase in {cycles} cycles (span {span:?})");
}

/// Found by the kill test above (this session): a kill while the trash
/// wrote a file's `.trashinfo` left a record cut short after `Path=`;
/// reconcile kept it (it matched neither "empty" nor "names this path"),
/// and the trash held a record without a file forever. The state such a
/// kill leaves is built here exactly: the resolution's intent in the
/// catalog (its process gone), the file still in place, the record cut
/// short. The next command reconciles it away.
#[test]
fn a_trash_record_cut_short_by_a_kill_is_removed() {
    let env = Env::new();
    let jpeg = crate::support::encode_jpeg(&crate::support::synthetic(64, 48, 22), 90);
    let copy = env.photos.join("copy-1.jpg");
    std::fs::write(env.photos.join("copy-0.jpg"), &jpeg).unwrap();
    std::fs::write(&copy, &jpeg).unwrap();
    env.ok(&["add", env.photos_arg()]);
    env.ok(&["scan"]);
    let id = env.json(&["info", copy.to_str().unwrap()])["id"]
        .as_i64()
        .unwrap();
    {
        let catalog =
            shoebox_engine::catalog::Catalog::open(&env.library.join("catalog.sqlite")).unwrap();
        let hash: Vec<u8> = catalog
            .connection()
            .query_row("SELECT hash FROM photos WHERE id = ?1", [id], |r| r.get(0))
            .unwrap();
        let files = [(
            copy.clone(),
            copy.display().to_string(),
            <[u8; 32]>::try_from(hash).unwrap(),
            jpeg.len() as u64,
        )];
        let action = catalog
            .begin_dupe_resolution(&shoebox_engine::catalog::ResolutionStart {
                group_id: "c-test",
                tier: "exact",
                kept_photo: id,
                kept_path: "copy-0.jpg",
                reason: "test",
                files: &files,
            })
            .unwrap();
        // The resolving process is gone (no pid is this large).
        catalog
            .connection()
            .execute(
                "UPDATE dupe_actions SET owner_pid = 2147483646 WHERE id = ?1",
                [action],
            )
            .unwrap();
    }
    let info = env.data_home.join("Trash/info");
    std::fs::create_dir_all(&info).unwrap();
    std::fs::create_dir_all(env.trash_files()).unwrap();
    let record = info.join("copy-1.jpg.trashinfo");
    std::fs::write(&record, "[Trash Info]\nPath=").unwrap();

    env.json(&["dupes", "history"]);
    assert!(
        !record.exists(),
        "the cut-short record is still in the trash"
    );
    assert_eq!(
        std::fs::read(&copy).unwrap(),
        jpeg,
        "the file stays in place"
    );
    assert!(trash_entries(&env).is_empty(), "{:?}", trash_entries(&env));
}

/// A Live Photo's movie goes to the trash with its still, in the same
/// action, and undo brings both back.
#[test]
fn a_live_photo_goes_to_the_trash_with_its_movie_and_comes_back() {
    use crate::support::{live_movie, live_still, write, LIVE_STILL_ID};
    let env = Env::new();
    write(&env.photos.join("IMG_5195.HEIC"), &live_still());
    write(&env.photos.join("IMG_5195.MOV"), &live_movie(LIVE_STILL_ID));
    write(&env.photos.join("kept/IMG_5195.HEIC"), &live_still());
    env.ok(&["add", env.photos_arg()]);
    env.ok(&["scan"]);
    let info = env.json(&["info", &env.photo("IMG_5195.HEIC")]);
    assert!(
        info["live_video"]
            .as_str()
            .unwrap()
            .ends_with("IMG_5195.MOV"),
        "{info}"
    );

    let exact = env.json(&["dupes", "--tier", "exact"]);
    let copies = groups(&exact)
        .iter()
        .find(|g| g["kind"] == "copies")
        .unwrap();
    let kept = copies["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["path"].as_str().unwrap().contains("kept"))
        .unwrap();
    let r = env.json(&[
        "dupes",
        "resolve",
        copies["id"].as_str().unwrap(),
        "--keep",
        &kept["id"].as_i64().unwrap().to_string(),
    ]);
    let trashed: Vec<&str> = r["trashed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(trashed.len(), 2, "{r}");
    assert!(trashed.iter().any(|p| p.ends_with("IMG_5195.MOV")), "{r}");
    assert!(!env.photos.join("IMG_5195.HEIC").exists());
    assert!(!env.photos.join("IMG_5195.MOV").exists());
    assert_eq!(env.trashed_names(), vec!["IMG_5195.HEIC", "IMG_5195.MOV"]);

    let action = r["action"].as_i64().unwrap().to_string();
    let undone = env.json(&["dupes", "undo", &action]);
    assert_eq!(undone["restored"].as_array().unwrap().len(), 2, "{undone}");
    assert!(env.photos.join("IMG_5195.HEIC").is_file());
    assert!(env.photos.join("IMG_5195.MOV").is_file());
}
