//! The job queue, live ingest of watched paths, and the watcher, on real
//! files, a real SQLite catalog and the real OS watcher.

#[path = "../../../tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shoebox_engine::catalog::Catalog;
use shoebox_engine::dupes::Tier;
use shoebox_engine::jobs::{
    self, no_events, EventSink, JobContext, JobHandler, LiveEvent, Runner, Step,
};
use shoebox_engine::live::watch::WatchConfig;
use shoebox_engine::live::LiveOptions;
use shoebox_engine::model::DeviceChoice;
use shoebox_engine::Result;
use support::*;

use support::library::LibraryFixture as Fixture;

fn jpeg(seed: u32) -> Vec<u8> {
    encode_jpeg(&synthetic(96, 64, seed), 85)
}

fn stop_flag() -> Arc<AtomicBool> {
    Arc::new(AtomicBool::new(false))
}

fn catalog(f: &Fixture) -> Catalog {
    Catalog::open(f.lib.catalog().path()).unwrap()
}

/// A handler that records the order of its steps and may fail.
struct Recorder {
    kind: &'static str,
    log: Arc<Mutex<Vec<String>>>,
    steps_left: usize,
    fail: bool,
}

impl JobHandler for Recorder {
    fn kind(&self) -> &'static str {
        self.kind
    }
    fn remaining(&mut self, _: &Catalog) -> Result<u64> {
        Ok(self.steps_left as u64)
    }
    fn step(&mut self, cx: &JobContext) -> Result<Step> {
        self.log
            .lock()
            .unwrap()
            .push(format!("{}:{}", self.kind, cx.job.key));
        if self.fail {
            return Err(shoebox_engine::EngineError::Invalid("boom".into()));
        }
        self.steps_left = self.steps_left.saturating_sub(1);
        Ok(if self.steps_left > 0 {
            Step::More { items: 1 }
        } else {
            Step::Done { items: 1 }
        })
    }
}

fn recorder(kind: &'static str, log: &Arc<Mutex<Vec<String>>>, steps: usize) -> Box<Recorder> {
    Box::new(Recorder {
        kind,
        log: Arc::clone(log),
        steps_left: steps,
        fail: false,
    })
}

fn collecting() -> (EventSink, Arc<Mutex<Vec<LiveEvent>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = Arc::clone(&seen);
    (
        Arc::new(move |e: &LiveEvent| s.lock().unwrap().push(e.clone())),
        seen,
    )
}

#[test]
fn queue_runs_by_priority_coalesces_and_reports_progress() {
    let f = Fixture::new();
    let c = catalog(&f);
    c.enqueue_job("low", "", 10).unwrap();
    c.enqueue_job("high", "a", 500).unwrap();
    c.enqueue_job("high", "a", 100).unwrap(); // coalesces, keeps 500
    c.enqueue_job("mid", "", 200).unwrap();
    assert_eq!(c.jobs().unwrap().len(), 3);

    let log = Arc::new(Mutex::new(Vec::new()));
    let (events, seen) = collecting();
    let mut runner = Runner::new(c.path(), f.lib.dir(), events).unwrap();
    runner.register(recorder("high", &log, 2));
    runner.register(recorder("mid", &log, 1));
    runner.register(recorder("low", &log, 1));
    let steps = runner.run_until_idle(&stop_flag()).unwrap();
    assert_eq!(steps, 4);
    assert_eq!(
        *log.lock().unwrap(),
        ["high:a", "high:a", "mid:", "low:"],
        "most urgent first; a job with more to do keeps its place"
    );
    assert!(c.jobs().unwrap().is_empty(), "the queue drains");
    let seen = seen.lock().unwrap();
    let high: Vec<_> = seen
        .iter()
        .filter_map(|e| match e {
            LiveEvent::Progress { kind, progress } if kind == "high" => {
                Some((progress.done, progress.total))
            }
            _ => None,
        })
        .collect();
    assert_eq!(high, [(1, 2), (2, 2)]);
    assert!(matches!(seen.last(), Some(LiveEvent::Idle { .. })));
}

#[test]
fn paused_kinds_wait_and_unknown_kinds_are_kept() {
    let f = Fixture::new();
    let c = catalog(&f);
    c.enqueue_job("embed", "", 200).unwrap();
    c.enqueue_job("ingest", "", 400).unwrap();
    // A kind this process has no handler for (a newer build's kind) waits
    // in the queue.
    c.enqueue_job("future-kind", "", 50).unwrap();
    jobs::pause(&c, &["ingest"]).unwrap();

    let log = Arc::new(Mutex::new(Vec::new()));
    let mut runner = Runner::new(c.path(), f.lib.dir(), no_events()).unwrap();
    runner.register(recorder("embed", &log, 1));
    runner.register(recorder("ingest", &log, 1));
    runner.run_until_idle(&stop_flag()).unwrap();
    assert_eq!(*log.lock().unwrap(), ["embed:"]);
    let kinds: Vec<String> = c.jobs().unwrap().into_iter().map(|j| j.kind).collect();
    assert_eq!(kinds, ["ingest", "future-kind"]);

    // Pause everything, then resume: the paused work runs.
    assert_eq!(jobs::pause(&c, &[]).unwrap(), ["all"]);
    runner.run_until_idle(&stop_flag()).unwrap();
    assert_eq!(log.lock().unwrap().len(), 1);
    assert!(jobs::resume(&c, &[]).unwrap().is_empty());
    runner.run_until_idle(&stop_flag()).unwrap();
    assert_eq!(*log.lock().unwrap(), ["embed:", "ingest:"]);
}

#[test]
fn a_failing_job_is_retried_then_left_failed_and_requeued_on_demand() {
    let f = Fixture::new();
    let c = catalog(&f);
    c.enqueue_job("bad", "", 1).unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let (events, seen) = collecting();
    let mut runner = Runner::new(c.path(), f.lib.dir(), events).unwrap();
    runner.register(Box::new(Recorder {
        kind: "bad",
        log: Arc::clone(&log),
        steps_left: 1,
        fail: true,
    }));
    // Retries wait 5 s, then 10 s: make them due at once for the test.
    let stop = stop_flag();
    for _ in 0..3 {
        runner.run_one(&stop).unwrap();
        c.connection()
            .execute("UPDATE jobs SET not_before = 0", [])
            .unwrap();
    }
    assert!(!runner.run_one(&stop).unwrap(), "left failed after 3 tries");
    let jobs = c.jobs().unwrap();
    assert_eq!(jobs[0].state, "failed");
    assert_eq!(jobs[0].attempts, 3);
    assert_eq!(jobs[0].last_error.as_deref(), Some("boom"));
    let retries: Vec<bool> = seen
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            LiveEvent::JobFailed { retry, .. } => Some(*retry),
            _ => None,
        })
        .collect();
    assert_eq!(retries, [true, true, false]);
    // Asking again resets it.
    c.enqueue_job("bad", "", 1).unwrap();
    let j = &c.jobs().unwrap()[0];
    assert_eq!((j.state.as_str(), j.attempts), ("queued", 0));
}

#[test]
fn a_job_left_running_by_a_crash_runs_again() {
    let f = Fixture::new();
    let c = catalog(&f);
    c.enqueue_job("work", "", 1).unwrap();
    // A process claims it and dies before finishing.
    let claimed = c.claim_next_job(&|_| true).unwrap().unwrap();
    assert_eq!(claimed.state, "running");
    // Asked for again while "running": it must run once more afterwards.
    c.enqueue_job("work", "", 1).unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut runner = Runner::new(c.path(), f.lib.dir(), no_events()).unwrap();
    runner.register(recorder("work", &log, 5));
    runner.run_one(&stop_flag()).unwrap();
    assert_eq!(*log.lock().unwrap(), ["work:"]);
    assert_eq!(c.jobs().unwrap()[0].state, "queued");
}

/// Queues paths as the watcher would and runs the queue.
fn ingest(f: &Fixture, paths: &[&Path]) {
    let root = f.lib.folders().unwrap()[0].id;
    let items: Vec<(i64, PathBuf)> = paths.iter().map(|p| (root, p.to_path_buf())).collect();
    f.lib.prioritize_paths(&items).unwrap();
    f.lib
        .run_jobs(None, 2, Duration::ZERO, no_events(), &stop_flag())
        .unwrap();
}

fn files(f: &Fixture) -> Vec<String> {
    support::library::catalogued_files(&catalog(f))
}

fn rel(f: &Fixture, p: &str) -> String {
    f.photos.join(p).display().to_string()
}

#[test]
fn watched_paths_follow_creates_renames_folder_moves_and_deletes() {
    let f = Fixture::new();
    let a = f.photos.join("a.jpg");
    let trip = f.photos.join("trip");
    write(&a, &jpeg(1));
    write(&trip.join("b.jpg"), &jpeg(2));
    write(&trip.join("deep/c.jpg"), &jpeg(3));
    ingest(&f, &[&a, &trip]);
    assert_eq!(
        files(&f),
        [
            rel(&f, "a.jpg"),
            rel(&f, "trip/b.jpg"),
            rel(&f, "trip/deep/c.jpg")
        ]
    );
    let a_id = f.lib.resolve_photo(a.to_str().unwrap()).unwrap();
    f.lib.add_tag(a_id, "beach").unwrap();

    // A rename is a vanished path and a new one: the photo (and its tag)
    // moves with the content.
    let moved = f.photos.join("renamed.jpg");
    std::fs::rename(&a, &moved).unwrap();
    // A folder renamed: the old path is gone, the new one is walked.
    let holiday = f.photos.join("holiday");
    std::fs::rename(&trip, &holiday).unwrap();
    ingest(&f, &[&a, &moved, &trip, &holiday]);
    assert_eq!(
        files(&f),
        [
            rel(&f, "holiday/b.jpg"),
            rel(&f, "holiday/deep/c.jpg"),
            rel(&f, "renamed.jpg")
        ]
    );
    assert_eq!(
        f.lib.resolve_photo(moved.to_str().unwrap()).unwrap(),
        a_id,
        "same content, same photo"
    );
    assert!(f
        .lib
        .photo_tags(a_id)
        .unwrap()
        .iter()
        .any(|t| t.tag == "beach"));
    assert_eq!(f.lib.status().unwrap().photos, 3);

    // A folder deleted: everything below it is forgotten.
    std::fs::remove_dir_all(&holiday).unwrap();
    ingest(&f, &[&holiday.join("deep")]);
    ingest(&f, &[&holiday]);
    assert_eq!(files(&f), [rel(&f, "renamed.jpg")]);

    // The same paths again change nothing (idempotent).
    ingest(&f, &[&holiday, &moved]);
    assert_eq!(files(&f), [rel(&f, "renamed.jpg")]);
    assert_eq!(catalog(&f).count_queued_paths().unwrap(), 0);
    assert!(catalog(&f).jobs().unwrap().is_empty());
}

#[test]
fn a_missing_root_keeps_its_files_offline() {
    let f = Fixture::new();
    let a = f.photos.join("a.jpg");
    write(&a, &jpeg(1));
    ingest(&f, &[&a]);
    let away = f.tmp.path().join("unmounted");
    std::fs::rename(&f.photos, &away).unwrap();
    // Events for a path of the missing root must not delete anything.
    ingest(&f, &[&a]);
    assert_eq!(files(&f), [rel(&f, "a.jpg")]);
    std::fs::rename(&away, &f.photos).unwrap();
    ingest(&f, &[&a]);
    assert_eq!(files(&f), [rel(&f, "a.jpg")]);
    assert_eq!(f.lib.status().unwrap().photos, 1);
}

#[test]
fn sidecar_changes_reimport_keywords_and_keep_user_decisions() {
    let f = Fixture::new();
    let a = f.photos.join("a.jpg");
    write(&a, &jpeg(1));
    ingest(&f, &[&a]);
    let id = f.lib.resolve_photo(a.to_str().unwrap()).unwrap();
    f.lib.add_tag(id, "dog").unwrap();
    f.lib.remove_tag(id, "cat").unwrap(); // a rejection

    let sidecar = f.photos.join("a.jpg.xmp");
    let xmp = |words: &[&str]| {
        let items: String = words
            .iter()
            .map(|w| format!("<rdf:li>{w}</rdf:li>"))
            .collect();
        format!(
            r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:subject><rdf:Bag>{items}</rdf:Bag></dc:subject></rdf:Description></rdf:RDF></x:xmpmeta>"#
        )
    };
    let tags = |f: &Fixture| support::library::tag_pairs(&f.lib, id);
    write(&sidecar, xmp(&["Grandma", "cat", "beach"]).as_bytes());
    ingest(&f, &[&sidecar]);
    let t = tags(&f);
    assert!(t.contains(&("grandma".into(), "imported".into())), "{t:?}");
    assert!(t.contains(&("beach".into(), "imported".into())), "{t:?}");
    assert!(t.contains(&("dog".into(), "user".into())), "{t:?}");
    assert!(
        !t.iter().any(|(k, _)| k == "cat"),
        "a rejected tag stays rejected: {t:?}"
    );

    // A keyword removed in another app goes; the user's tag stays.
    write(&sidecar, xmp(&["beach", "dog"]).as_bytes());
    ingest(&f, &[&sidecar]);
    let t = tags(&f);
    assert!(!t.iter().any(|(k, _)| k == "grandma"), "{t:?}");
    assert!(t.contains(&("beach".into(), "imported".into())));
    assert!(t.contains(&("dog".into(), "user".into())));

    // The sidecar deleted: its keywords go, user decisions stay.
    std::fs::remove_file(&sidecar).unwrap();
    ingest(&f, &[&sidecar]);
    let t = tags(&f);
    assert!(t.contains(&("dog".into(), "user".into())), "{t:?}");
    // What is left besides the user's tag is what it implies (auto), no
    // imported keyword.
    assert!(
        t.iter().all(|(k, s)| k == "dog" || s == "auto"),
        "only the user's tag and its implied parents remain: {t:?}"
    );
    assert_eq!(f.lib.catalog().rejected_tags(id).unwrap(), ["cat"]);
}

#[test]
fn the_dupes_job_analyses_old_photos_again() {
    let f = Fixture::new();
    let (a, copy, b) = (
        f.photos.join("a.jpg"),
        f.photos.join("copy of a.jpg"),
        f.photos.join("b.jpg"),
    );
    write(&a, &jpeg(1));
    write(&copy, &jpeg(1));
    write(&b, &jpeg(2));
    ingest(&f, &[&a, &copy, &b]);

    // Ingest asks for the dupes job, which finds nothing to do.
    assert!(f.lib.live_status().unwrap().jobs.is_empty());

    // Photos catalogued before region hashes existed get them from the job,
    // the same as the scan computes.
    let c = catalog(&f);
    let facts = |c: &Catalog| -> Vec<(i64, Option<f64>, Option<Vec<u8>>)> {
        let mut stmt = c
            .connection()
            .prepare("SELECT id, sharpness, crop_hashes FROM photos ORDER BY id")
            .unwrap();
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap();
        rows.map(|r| r.unwrap()).collect()
    };
    let scanned = facts(&c);
    assert!(scanned
        .iter()
        .all(|(_, _, h)| h.as_ref().is_some_and(|h| !h.is_empty())));
    c.connection()
        .execute("UPDATE photos SET crop_hashes = NULL, sharpness = NULL", [])
        .unwrap();
    assert_eq!(c.count_photos_missing_region_hashes().unwrap(), 2);
    f.lib.enqueue_job("dupes", "").unwrap();
    f.lib
        .run_jobs(None, 2, Duration::ZERO, no_events(), &stop_flag())
        .unwrap();
    assert_eq!(facts(&c), scanned);
    assert_eq!(c.count_photos_missing_region_hashes().unwrap(), 0);

    // A photo whose file no longer decodes is marked (empty list), not
    // retried forever.
    c.connection()
        .execute("UPDATE photos SET crop_hashes = NULL", [])
        .unwrap();
    std::fs::write(&b, b"not a jpeg any more").unwrap();
    f.lib.enqueue_job("dupes", "").unwrap();
    f.lib
        .run_jobs(None, 2, Duration::ZERO, no_events(), &stop_flag())
        .unwrap();
    assert_eq!(c.count_photos_missing_region_hashes().unwrap(), 0);
    // The copies are still found.
    let exact = f.lib.duplicates(Some(Tier::Exact)).unwrap();
    assert_eq!(exact.len(), 1, "{exact:?}");
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    // A deadline only against hanging forever; nothing is timed.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cond() {
        assert!(Instant::now() < deadline, "gave up waiting for: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn quick_watch() -> WatchConfig {
    WatchConfig {
        debounce: Duration::from_millis(150),
        settle: Duration::from_millis(300),
        max_watches: None,
        poll_interval: Duration::from_secs(1),
        root_check: Duration::from_millis(300),
    }
}

#[test]
fn the_live_engine_follows_a_folder_with_the_real_watcher() {
    let f = Fixture::new();
    write(&f.photos.join("before.jpg"), &jpeg(1));
    let (events, seen) = collecting();
    let engine = f
        .lib
        .start_live(
            LiveOptions {
                watch: quick_watch(),
                threads: 2,
                ..Default::default()
            },
            events,
        )
        .unwrap();
    let status = |f: &Fixture| f.lib.status().unwrap();
    wait_until("the start-up reconcile", || status(&f).photos == 1);

    // A burst of files, one written slowly in pieces.
    for i in 0..40 {
        write(&f.photos.join(format!("burst/{i:03}.jpg")), &jpeg(100 + i));
    }
    let slow = f.photos.join("slow.jpg");
    let bytes = jpeg(7);
    {
        use std::io::Write;
        let mut file = std::fs::File::create(&slow).unwrap();
        for chunk in bytes.chunks(bytes.len() / 4 + 1) {
            file.write_all(chunk).unwrap();
            file.flush().unwrap();
            std::thread::sleep(Duration::from_millis(40));
        }
    }
    wait_until("the burst", || status(&f).photos == 42);
    // Whatever the timing, the slow file ends up complete, not an error.
    wait_until("no errors", || status(&f).errors == 0);

    std::fs::rename(f.photos.join("burst"), f.photos.join("moved")).unwrap();
    std::fs::remove_file(f.photos.join("before.jpg")).unwrap();
    wait_until("the move and the delete", || {
        let all = files(&f);
        all.len() == 41 && all.iter().all(|p| !p.contains("/burst/"))
    });

    // The root disappears: photos go offline, nothing is forgotten.
    let away = f.tmp.path().join("away");
    std::fs::rename(&f.photos, &away).unwrap();
    wait_until("offline", || status(&f).offline == 41);
    assert_eq!(files(&f).len(), 41);
    std::fs::rename(&away, &f.photos).unwrap();
    wait_until("back online", || {
        let s = status(&f);
        s.offline == 0 && s.photos == 41
    });
    // Still watched after coming back.
    write(&f.photos.join("after.jpg"), &jpeg(999));
    wait_until("a file after the return", || status(&f).photos == 42);
    wait_until("the queue drains", || {
        catalog(&f).jobs().unwrap().is_empty() && catalog(&f).count_queued_paths().unwrap() == 0
    });
    engine.stop().unwrap();
    let seen = seen.lock().unwrap();
    let modes: Vec<&str> = seen
        .iter()
        .filter_map(|e| match e {
            LiveEvent::Watch { mode, .. } => Some(mode.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(modes, ["native", "offline", "native"]);
    assert_eq!(catalog(&f).integrity_check().unwrap(), "ok");
}

#[test]
fn over_the_watch_limit_a_folder_is_polled_and_still_followed() {
    let f = Fixture::new();
    for d in ["a", "b", "c"] {
        std::fs::create_dir_all(f.photos.join(d)).unwrap();
    }
    let (events, seen) = collecting();
    let engine = f
        .lib
        .start_live(
            LiveOptions {
                watch: WatchConfig {
                    max_watches: Some(2),
                    ..quick_watch()
                },
                threads: 1,
                ..Default::default()
            },
            events,
        )
        .unwrap();
    let live = f.lib.live_status().unwrap();
    // The heartbeat may not have been written yet; the state is.
    let states = catalog(&f).watch_states().unwrap();
    assert_eq!(states.len(), 1, "{live:?}");
    assert_eq!(states[0].mode, "polling");
    let reason = states[0].reason.clone().unwrap();
    assert!(reason.contains("watch limit is 2"), "{reason}");
    write(&f.photos.join("b/new.jpg"), &jpeg(5));
    wait_until("the polled file", || f.lib.status().unwrap().photos == 1);
    engine.stop().unwrap();
    assert!(seen.lock().unwrap().iter().any(|e| matches!(
        e,
        LiveEvent::Watch { mode, reason: Some(_), .. } if mode == "polling"
    )));
}

#[test]
fn embeddings_and_tags_follow_ingest_through_the_queue() {
    let f = Fixture::new();
    for i in 0..6 {
        write(&f.photos.join(format!("{i}.jpg")), &jpeg(i));
    }
    let model_dir = tiny_model_dir();
    let resolve = support::library::offline();
    let model = f
        .lib
        .model_slot(
            Some(model_dir.to_str().unwrap()),
            DeviceChoice::Cpu,
            resolve,
        )
        .unwrap()
        .expect("a model was given");
    f.lib.enqueue_job(jobs::KIND_SCAN, "").unwrap();
    let (events, seen) = collecting();
    let steps = f
        .lib
        .run_jobs(
            Some(Arc::clone(&model)),
            2,
            Duration::ZERO,
            events,
            &stop_flag(),
        )
        .unwrap();
    assert!(steps >= 3, "scan, embed, tags");
    let s = f.lib.status().unwrap();
    assert_eq!((s.photos, s.embedded, s.pending), (6, 6, 0));
    assert!(catalog(&f).jobs().unwrap().is_empty());
    let kinds: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            LiveEvent::Progress { kind, .. } => Some(kind.clone()),
            _ => None,
        })
        .collect();
    let first = |k: &str| kinds.iter().position(|x| x == k).unwrap();
    assert!(first("scan") < first("embed") && first("embed") < first("tags"));

    // The photos on screen come first: a new photo is embedded by a
    // "visible" job before the general one.
    write(&f.photos.join("new.jpg"), &jpeg(77));
    write(&f.photos.join("other.jpg"), &jpeg(78));
    f.lib.enqueue_job(jobs::KIND_SCAN, "").unwrap();
    let c = catalog(&f);
    let mut runner = shoebox_engine::jobs::standard_runner(
        c.path(),
        f.lib.dir(),
        2,
        Duration::ZERO,
        Some(model),
        no_events(),
    )
    .unwrap();
    let stop = stop_flag();
    assert!(runner.run_one(&stop).unwrap(), "the scan");
    let new_id = f
        .lib
        .resolve_photo(f.photos.join("new.jpg").to_str().unwrap())
        .unwrap();
    f.lib.prioritize(&[new_id]).unwrap();
    let queued: Vec<(String, String)> = c
        .jobs()
        .unwrap()
        .into_iter()
        .map(|j| (j.kind, j.key))
        .collect();
    assert_eq!(
        queued,
        [
            ("embed".to_string(), format!("photos:{new_id}")),
            ("embed".to_string(), String::new()),
            ("dupes".to_string(), String::new())
        ]
    );
    assert!(runner.run_one(&stop).unwrap());
    assert!(c
        .embedding(new_id, c.active_model().unwrap().unwrap().id)
        .unwrap()
        .is_some());
    assert_eq!(
        f.lib.status().unwrap().embedded,
        7,
        "only the visible one so far"
    );
    runner.run_until_idle(&stop).unwrap();
    assert_eq!(f.lib.status().unwrap().embedded, 8);
    assert!(c.jobs().unwrap().is_empty());
}

#[test]
fn files_still_being_written_in_a_new_folder_wait_until_they_settle() {
    let f = Fixture::new();
    let dir = f.photos.join("copied-in");
    let done = dir.join("done.jpg");
    let busy = dir.join("busy.jpg");
    write(&done, &jpeg(1));
    write(&busy, &jpeg(2));
    let old = std::time::SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&done)
        .unwrap()
        .set_modified(old)
        .unwrap();
    let root = f.lib.folders().unwrap()[0].id;
    f.lib.prioritize_paths(&[(root, dir.clone())]).unwrap();
    let c = catalog(&f);
    let mut runner = shoebox_engine::jobs::standard_runner(
        c.path(),
        f.lib.dir(),
        1,
        Duration::from_secs(60),
        None,
        no_events(),
    )
    .unwrap();
    let stop = stop_flag();
    assert!(runner.run_one(&stop).unwrap());
    // The settled file is in; the one modified just now waits, queued.
    assert_eq!(files(&f), [done.display().to_string()]);
    assert_eq!(c.next_paths(10).unwrap(), [(root, busy.clone())]);
    // Duplicate grouping of what did arrive runs meanwhile.
    assert!(runner.run_one(&stop).unwrap());
    let jobs = c.jobs().unwrap();
    let job = &jobs[0];
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(
        (job.kind.as_str(), job.state.as_str()),
        ("ingest", "queued")
    );
    assert!(job.not_before > 0, "delayed, not spinning");
    assert!(
        !runner.run_one(&stop).unwrap(),
        "nothing runnable before the delay"
    );
    // Later, once it has settled:
    std::fs::File::options()
        .write(true)
        .open(&busy)
        .unwrap()
        .set_modified(old)
        .unwrap();
    c.connection()
        .execute("UPDATE jobs SET not_before = 0", [])
        .unwrap();
    assert!(runner.run_one(&stop).unwrap());
    assert_eq!(
        files(&f),
        [busy.display().to_string(), done.display().to_string()]
    );
    runner.run_until_idle(&stop).unwrap(); // grouping again
    assert!(c.jobs().unwrap().is_empty());
    assert_eq!(c.count_queued_paths().unwrap(), 0);
}

/// A Live Photo's movie that arrives after its still (a phone sync writes
/// them one by one) is paired as soon as the watcher sees it, and
/// unpaired when it goes.
#[test]
fn a_live_photo_movie_seen_by_the_watcher_is_paired_with_its_still() {
    let f = Fixture::new();
    let still = f.photos.join("IMG_5195.HEIC");
    write(&still, &support::live_still());
    ingest(&f, &[&still]);
    let id = f.id("IMG_5195.HEIC");
    assert_eq!(f.lib.info(id).unwrap().live_video, None);
    let movie = f.photos.join("IMG_5195.MOV");
    write(&movie, &support::live_movie(support::LIVE_STILL_ID));
    ingest(&f, &[&movie]);
    let paired = f.lib.info(id).unwrap().live_video;
    assert!(paired.is_some_and(|p| p.ends_with("IMG_5195.MOV")));
    assert_eq!(f.lib.status().unwrap().photos, 1);
    std::fs::remove_file(&movie).unwrap();
    ingest(&f, &[&movie]);
    assert_eq!(f.lib.info(id).unwrap().live_video, None);
}
