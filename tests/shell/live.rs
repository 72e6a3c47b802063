//! The live library with real processes: `shoebox watch` killed with
//! SIGKILL at random moments while files come, move and go; a burst of
//! 2,000 files while searches run; a folder that disappears and returns;
//! the watch-limit fallback. Deadlines only guard against hangs; nothing
//! is timed.

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;
use std::path::Path;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{tiny_model, wait_until, Shell};
use crate::support::*;

type Env = Shell;

impl Shell {
    fn status(&self) -> Value {
        self.json(&["status"])
    }

    /// `shoebox watch --json` with quick debounce, its event lines on a channel.
    fn watch(&self, extra: &[&str]) -> Watch {
        let mut args = vec![
            "watch",
            "--json",
            "--debounce-ms",
            "100",
            "--settle-ms",
            "200",
            "--root-check-seconds",
            "1",
        ];
        args.extend_from_slice(extra);
        let log = self.tmp.path().join("watch-stderr.log");
        let mut child = self
            .command(&args)
            .env("SHOEBOX_LOG", "shoebox_engine=warn")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = crossbeam_like::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    if tx.send(v).is_err() {
                        break;
                    }
                }
            }
        });
        Watch {
            child,
            events: rx,
            log,
        }
    }

    /// Every file below the photos folder (what the catalog must hold).
    fn files_on_disk(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut stack = vec![self.photos.clone()];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.insert(p.display().to_string());
                }
            }
        }
        out
    }

    fn catalog(&self) -> shoebox_engine::catalog::Catalog {
        shoebox_engine::catalog::Catalog::open(&self.library.join("catalog.sqlite")).unwrap()
    }

    fn catalogued_files(&self) -> Vec<String> {
        crate::support::library::catalogued_files(&self.catalog())
    }
}

/// A std mpsc channel with a receive-with-deadline helper.
mod crossbeam_like {
    pub fn channel<T>() -> (std::sync::mpsc::Sender<T>, std::sync::mpsc::Receiver<T>) {
        std::sync::mpsc::channel()
    }
}

struct Watch {
    child: Child,
    events: std::sync::mpsc::Receiver<Value>,
    log: PathBuf,
}

impl Watch {
    /// Panics with its log when `shoebox watch` is no longer running.
    fn assert_alive(&mut self) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!(
                "shoebox watch exited ({status}): {}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
    }

    /// Waits for an event matching `pred` (a generous deadline guards
    /// against hangs only).
    fn wait_for(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(v) if pred(&v) => return v,
                Ok(_) => {}
                Err(_) => panic!("no `{what}` event from shoebox watch"),
            }
        }
    }

    fn kill(mut self) {
        let _ = self.child.kill(); // SIGKILL on unix
        let _ = self.child.wait();
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn small_jpeg(base: &[u8], n: u32) -> Vec<u8> {
    with_comment(base, &format!("photo {n}"))
}

#[test]
fn kill_9_during_live_ingest_loses_nothing() {
    let env = Env::new();
    let bases: Vec<Vec<u8>> = (0..3)
        .map(|s| encode_jpeg(&synthetic(320, 240, s), 85))
        .collect();
    let mut next = 0u32;
    let mut new_file = |dir: &Path| {
        next += 1;
        let p = dir.join(format!("img-{next:05}.jpg"));
        write(&p, &small_jpeg(&bases[next as usize % 3], next));
        p
    };
    for i in 0..150 {
        let dir = env.photos.join(format!("roll-{}", i % 5));
        new_file(&dir);
    }
    env.ok(&["add", env.photos.to_str().unwrap()]);
    env.ok(&["jobs", "run", "--no-embed"]); // nothing queued yet: a no-op
    env.ok(&["scan"]);
    // The indexer runs too: embeddings and auto tags with the tiny model.
    let model = tiny_model().to_string_lossy().into_owned();
    env.ok(&["model", "use", &model]);

    // User decisions before the crashes: tags on and off a few photos.
    let mut decisions: BTreeMap<String, PathBuf> = BTreeMap::new();
    for (i, dir) in ["roll-0", "roll-1", "roll-2"].iter().enumerate() {
        let path = env
            .photos
            .join(dir)
            .join(format!("img-{:05}.jpg", i + 1 + 5 * i));
        let p = path.to_str().unwrap();
        env.ok(&["tag", "add", p, "grandma"]);
        env.ok(&["tag", "remove", p, "beach"]);
        let hash = env.json(&["info", p])["hash"].as_str().unwrap().to_string();
        decisions.insert(hash, path);
    }
    let protected: BTreeSet<PathBuf> = decisions.values().cloned().collect();

    let mut rng = Rng(0x5eed_cafe);
    let mut killed_busy = 0;
    for round in 0..20 {
        let watch = env.watch(&["--model", &model, "--threads", "2"]);
        // Changes while it runs: new files, renamed files and folders,
        // deleted files.
        let mut on_disk: Vec<PathBuf> =
            env.files_on_disk().into_iter().map(PathBuf::from).collect();
        for _ in 0..rng.below(25) + 5 {
            let dir = env.photos.join(format!("roll-{}", rng.below(7)));
            new_file(&dir);
        }
        for _ in 0..rng.below(6) {
            let i = rng.below(on_disk.len());
            let from = on_disk.swap_remove(i);
            if from.exists() {
                let to = from.with_file_name(format!(
                    "r{round}-{}",
                    from.file_name().unwrap().to_string_lossy()
                ));
                std::fs::rename(&from, &to).unwrap();
                if let Some(hash) = decisions
                    .iter()
                    .find(|(_, p)| **p == from)
                    .map(|(h, _)| h.clone())
                {
                    decisions.insert(hash, to);
                }
            }
        }
        for _ in 0..rng.below(4) {
            let i = rng.below(on_disk.len());
            let victim = on_disk.swap_remove(i);
            if victim.exists()
                && !protected.contains(&victim)
                && !decisions.values().any(|p| *p == victim)
            {
                std::fs::remove_file(&victim).unwrap();
            }
        }
        if round % 5 == 4 {
            // A whole folder renamed.
            let from = env.photos.join(format!("roll-{}", rng.below(7)));
            if from.is_dir() {
                let to = env.photos.join(format!("moved-{round}"));
                std::fs::rename(&from, &to).unwrap();
                for p in decisions.values_mut() {
                    if let Ok(rest) = p.strip_prefix(&from) {
                        *p = to.join(rest);
                    }
                }
            }
        }
        std::thread::sleep(Duration::from_millis(50 + rng.below(500) as u64));
        // Busy if the queue still held work at the moment of the kill.
        let busy = env.catalog().count_active_jobs().unwrap() > 0
            || env.catalog().count_queued_paths().unwrap() > 0;
        if busy {
            killed_busy += 1;
        }
        watch.kill();
    }
    assert!(
        killed_busy > 0,
        "never killed while work was queued; make the test busier"
    );

    // Restart once more and let it finish.
    let watch = env.watch(&["--model", &model]);
    watch.wait_for("idle", |v| v["event"] == "idle");
    wait_until("the queue drains", || {
        let live = &env.status()["live"];
        live["jobs"].as_array().unwrap().is_empty() && live["queued_paths"] == 0
    });
    watch.kill();

    assert_eq!(env.catalog().integrity_check().unwrap(), "ok");
    let on_disk = env.files_on_disk();
    let catalogued = env.catalogued_files();
    let unique: BTreeSet<String> = catalogued.iter().cloned().collect();
    assert_eq!(unique.len(), catalogued.len(), "every file exactly once");
    assert_eq!(
        unique, on_disk,
        "the catalog holds exactly the files on disk"
    );
    let status = env.status();
    assert_eq!(status["files"], on_disk.len());
    assert_eq!(status["errors"], 0);
    assert_eq!(status["embedded"], status["photos"]);
    assert_eq!(status["pending"], 0);
    for (hash, path) in &decisions {
        let info = env.json(&["info", path.to_str().unwrap()]);
        assert_eq!(info["hash"].as_str().unwrap(), hash);
        let tags = env.json(&["tags", path.to_str().unwrap()]);
        let tags: Vec<(String, String)> = tags
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["tag"].as_str().unwrap().into(),
                    t["source"].as_str().unwrap().into(),
                )
            })
            .collect();
        assert!(
            tags.contains(&("grandma".into(), "user".into())),
            "{tags:?}"
        );
        assert!(!tags.iter().any(|(t, _)| t == "beach"), "{tags:?}");
        assert_eq!(
            env.catalog()
                .rejected_tags(info["id"].as_i64().unwrap())
                .unwrap(),
            ["beach"]
        );
    }
}

#[test]
fn a_burst_of_2000_files_while_searches_run() {
    let env = Env::new();
    let model = tiny_model().to_string_lossy().into_owned();
    env.ok(&["add", env.photos.to_str().unwrap()]);
    env.ok(&["model", "use", &model]);
    let mut watch = env.watch(&["--model", &model, "--threads", "2"]);
    watch.wait_for("idle", |v| v["event"] == "idle");

    const N: u32 = 2000;
    let base = encode_jpeg(&synthetic(48, 32, 1), 80);
    let writer = {
        let photos = env.photos.clone();
        std::thread::spawn(move || {
            for i in 0..N {
                write(
                    &photos.join(format!("burst-{}/{i:05}.jpg", i % 10)),
                    &with_comment(&base, &format!("burst {i}")),
                );
            }
        })
    };
    // Searches in separate processes, one after another, until the burst
    // is fully indexed: each must answer (no "database is locked").
    let mut searches = 0;
    let mut slowest = Duration::ZERO;
    let burst_started = Instant::now();
    let mut ingested_at = None;
    loop {
        let started = Instant::now();
        let out = env.run(&[
            "--model", &model, "search", "a photo", "--json", "--all", "--limit", "5",
        ]);
        slowest = slowest.max(started.elapsed());
        assert!(
            out.status.success(),
            "search failed during the burst: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(v["results"].is_array());
        searches += 1;
        let s = env.status();
        if ingested_at.is_none() && s["files"] == N {
            ingested_at = Some(burst_started.elapsed());
        }
        if writer.is_finished() && s["files"] == N && s["embedded"] == N {
            break;
        }
        watch.assert_alive();
        assert!(
            searches < 2000,
            "the burst was never fully indexed: {s}; log: {}",
            std::fs::read_to_string(&watch.log).unwrap_or_default()
        );
    }
    writer.join().unwrap();
    let s = env.status();
    assert_eq!(
        (s["photos"].as_u64(), s["errors"].as_u64()),
        (Some(N as u64), Some(0))
    );
    eprintln!(
        "{searches} searches during the burst; slowest {slowest:?}; all files catalogued \
         after {ingested_at:?}, all embedded after {:?}",
        burst_started.elapsed()
    );
    watch.kill();
}

#[test]
fn a_folder_that_disappears_goes_offline_and_comes_back() {
    let env = Env::new();
    // The folder above the library folder ("the disk") is renamed away and
    // back: from the library folder's path this is exactly an unmount and a
    // remount (the path stops existing, then exists again).
    let disk = env.tmp.path().join("disk");
    let pics = disk.join("pics");
    for i in 0..12 {
        write(
            &pics.join(format!("{i}.jpg")),
            &encode_jpeg(&synthetic(64, 48, i), 85),
        );
    }
    env.ok(&["add", pics.to_str().unwrap()]);
    let watch = env.watch(&["--no-embed"]);
    wait_until("ingested", || env.status()["photos"] == 12);

    let unplugged = env.tmp.path().join("unplugged");
    std::fs::rename(&disk, &unplugged).unwrap();
    wait_until("offline", || env.status()["offline"] == 12);
    let s = env.status();
    assert_eq!(s["photos"], 0);
    assert_eq!(s["offline_folders"], 1);
    assert_eq!(env.catalogued_files().len(), 12, "offline, never deleted");
    let text = env.ok(&["status"]);
    assert!(text.contains("offline"), "{text}");

    std::fs::rename(&unplugged, &disk).unwrap();
    wait_until("back", || {
        let s = env.status();
        s["photos"] == 12 && s["offline"] == 0
    });
    // Followed again after the return.
    write(
        &pics.join("new.jpg"),
        &encode_jpeg(&synthetic(64, 48, 99), 85),
    );
    wait_until("a new file after the return", || {
        env.status()["photos"] == 13
    });
    watch.kill();
}

#[test]
fn over_the_watch_limit_folders_are_polled_and_status_says_why() {
    let env = Env::new();
    for d in ["a", "b", "c", "d"] {
        std::fs::create_dir_all(env.photos.join(d)).unwrap();
    }
    env.ok(&["add", env.photos.to_str().unwrap()]);
    let mut cmd_watch = env.watch(&["--no-embed", "--poll-seconds", "1", "--max-watches", "3"]);
    let ev = cmd_watch.wait_for("watch", |v| v["event"] == "watch");
    assert_eq!(ev["mode"], "polling");
    assert!(
        ev["reason"].as_str().unwrap().contains("watch limit is 3"),
        "{ev}"
    );
    // After the start-up reconcile, only polling can find a new file.
    cmd_watch.wait_for("idle", |v| v["event"] == "idle");
    write(
        &env.photos.join("c/x.jpg"),
        &encode_jpeg(&synthetic(64, 48, 3), 85),
    );
    wait_until("the polled file", || env.status()["photos"] == 1);
    wait_until("the heartbeat", || {
        !env.status()["live"]["engine_pid"].is_null()
    });
    let text = env.ok(&["status"]);
    assert!(
        text.contains("polling: watching it needs 5 folder watches"),
        "{text}"
    );
    cmd_watch.child.kill().unwrap();
    cmd_watch.child.wait().unwrap();

    // The same through the environment knob.
    let mut env_watch = {
        let mut c = env.command(&["watch", "--json", "--no-embed"]);
        c.env("SHOEBOX_WATCH_LIMIT", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        c.spawn().unwrap()
    };
    let line = std::io::BufReader::new(env_watch.stdout.take().unwrap())
        .lines()
        .map(|l| l.unwrap())
        .find(|l| l.contains("\"watch\""))
        .unwrap();
    assert!(
        line.contains("polling") && line.contains("watch limit is 1"),
        "{line}"
    );
    env_watch.kill().unwrap();
    env_watch.wait().unwrap();
}
