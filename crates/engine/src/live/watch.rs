//! Following the library folders live.
//!
//! Each root gets a `notify` watcher (inotify, FSEvents, ReadDirectoryChanges).
//! Raw events only mark paths as "touched"; the [`Settler`] hands a path on
//! once it has been quiet for `debounce` and, for a file, once its size and
//! mtime stayed the same over `settle` (a photo still being copied is not
//! read half-written). Settled paths go into the catalog's `job_paths` in
//! one transaction per tick, so a burst of a thousand files becomes a few
//! batched `ingest` steps, and nothing is lost if the process dies: what was
//! not yet queued is found by the start-up reconcile.
//!
//! A root that cannot be watched falls back to polling (a periodic `scan`
//! job, which skips unchanged files by size and mtime), with the reason
//! recorded for `shoebox status`:
//! - the configured watch limit (`max_watches`, a knob to force it) or the
//!   OS limit (`fs.inotify.max_user_watches`) would be exceeded, or the OS
//!   refused more watches, then or later;
//! - the root is on a network filesystem, where events from other machines
//!   are never delivered;
//! - the watcher could not be created at all.
//!
//! A root whose folder disappears (unmounted, renamed, deleted, a symlink
//! swapped) turns offline: its files stay catalogued, marked offline, and
//! come back when it returns (then it is reconciled).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{unbounded, Receiver, Sender};
use notify::{EventKind, RecursiveMode, Watcher as _};

use crate::catalog::{Catalog, Root};
use crate::error::Result;
use crate::jobs::{priority, EventSink, LiveEvent, KIND_INGEST, KIND_SCAN};
use crate::paths;

use crate::ingest::live::hidden_below;

#[derive(Debug, Clone)]
pub struct WatchConfig {
    /// Quiet time after the last event on a path before it is looked at.
    pub debounce: Duration,
    /// A file's size and mtime must stay the same this long.
    pub settle: Duration,
    /// Most folders watched through OS events, over all roots; roots that
    /// would go beyond it are polled. `None`: only the OS limit applies.
    pub max_watches: Option<usize>,
    /// How often polled roots are reconciled.
    pub poll_interval: Duration,
    /// How often roots are checked for having disappeared or come back.
    pub root_check: Duration,
}

impl Default for WatchConfig {
    fn default() -> Self {
        WatchConfig {
            debounce: Duration::from_millis(500),
            settle: crate::ingest::live::SETTLE,
            max_watches: None,
            poll_interval: Duration::from_secs(60),
            root_check: Duration::from_secs(2),
        }
    }
}

/// Stat signature used for settle detection: (is_file, size, mtime ns).
pub type Signature = Option<(u64, i64)>;

/// What the settler knows about one touched path.
#[derive(Debug, Clone)]
struct Touched {
    last_event: Instant,
    /// The last stat and when it was first seen with that value.
    stat: Option<(Signature, Instant)>,
}

/// Debounce + settle, separate from the clock and the filesystem so it can
/// be tested exactly.
#[derive(Debug, Default)]
pub struct Settler {
    touched: HashMap<PathBuf, Touched>,
}

/// What `stat` tells the settler about a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathState {
    /// Gone (deleted or renamed away): ready at once after the debounce.
    Missing,
    /// A folder: ready after the debounce (its files are walked then).
    Folder,
    /// A file with this (size, mtime ns).
    File(u64, i64),
}

impl Settler {
    pub fn touch(&mut self, path: PathBuf, now: Instant) {
        let t = self.touched.entry(path).or_insert(Touched {
            last_event: now,
            stat: None,
        });
        t.last_event = now;
    }

    pub fn len(&self) -> usize {
        self.touched.len()
    }

    pub fn is_empty(&self) -> bool {
        self.touched.is_empty()
    }

    /// Drops touched paths below `dir` (a root that went offline).
    pub fn forget_below(&mut self, dir: &Path) {
        let dir = paths::to_bytes(dir);
        self.touched
            .retain(|p, _| !paths::is_within(&paths::to_bytes(p), &dir));
    }

    /// Paths ready to ingest now; the rest keep waiting.
    pub fn ready(
        &mut self,
        now: Instant,
        debounce: Duration,
        settle: Duration,
        stat: &mut dyn FnMut(&Path) -> PathState,
    ) -> Vec<PathBuf> {
        let mut out = Vec::new();
        self.touched.retain(|path, t| {
            if now.duration_since(t.last_event) < debounce {
                return true;
            }
            match stat(path) {
                PathState::Missing | PathState::Folder => {
                    out.push(path.clone());
                    false
                }
                PathState::File(size, mtime) => {
                    let sig = Some((size, mtime));
                    match t.stat {
                        Some((seen, since)) if seen == sig => {
                            if now.duration_since(since) >= settle {
                                out.push(path.clone());
                                false
                            } else {
                                true
                            }
                        }
                        _ => {
                            t.stat = Some((sig, now));
                            true
                        }
                    }
                }
            }
        });
        out.sort();
        out
    }
}

pub fn stat_path(path: &Path) -> PathState {
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => PathState::Folder,
        Ok(m) => PathState::File(
            m.len(),
            m.modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos() as i64),
        ),
        Err(_) => PathState::Missing,
    }
}

/// How one root is followed right now.
enum Mode {
    /// The watcher lives as long as the mode (dropping it unwatches).
    Native {
        _watcher: notify::RecommendedWatcher,
    },
    Polling {
        reason: String,
        next: Instant,
    },
    Offline,
}

struct Followed {
    root: Root,
    mode: Mode,
    /// (device, inode) of the folder when it was last seen: a different
    /// one means the folder was swapped (symlink or bind mount).
    identity: Option<(u64, u64)>,
    /// Folder watches this root holds (counted against the limit).
    watches: usize,
}

#[cfg(unix)]
fn identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn identity(path: &Path) -> Option<(u64, u64)> {
    path.is_dir().then_some((0, 0))
}

/// Folders below (and including) `root`, as the OS watcher would count them.
fn count_folders(root: &Path) -> usize {
    walkdir::WalkDir::new(root)
        .follow_links(true)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_dir())
        .count()
}

/// The OS limit on watched folders, where there is one to read.
fn os_watch_limit() -> Option<usize> {
    std::fs::read_to_string("/proc/sys/fs/inotify/max_user_watches")
        .ok()
        .and_then(|s| s.trim().parse().ok())
}

/// Filesystem types whose changes made elsewhere produce no events here.
const NETWORK_FS: &[&str] = &[
    "nfs",
    "nfs4",
    "cifs",
    "smb3",
    "smbfs",
    "9p",
    "afs",
    "ceph",
    "glusterfs",
    "fuse.sshfs",
    "fuse.rclone",
    "davfs",
    "fuse.davfs2",
    "fuse.s3fs",
    "virtiofs",
    "vboxsf",
    "fuse.gvfsd-fuse",
];

/// The filesystem type `path` lives on (Linux: from /proc/self/mountinfo).
fn filesystem_type(path: &Path) -> Option<String> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let target = paths::to_bytes(path);
    let mut best: Option<(usize, String)> = None;
    for line in info.lines() {
        let mut parts = line.split(" - ");
        let (Some(left), Some(right)) = (parts.next(), parts.next()) else {
            continue;
        };
        let Some(mount) = left.split(' ').nth(4) else {
            continue;
        };
        let Some(fstype) = right.split(' ').next() else {
            continue;
        };
        let mount = mount.replace("\\040", " ");
        if paths::is_within(&target, mount.as_bytes()) || target == mount.as_bytes() || mount == "/"
        {
            let len = mount.len();
            if best.as_ref().is_none_or(|(l, _)| len >= *l) {
                best = Some((len, fstype.to_string()));
            }
        }
    }
    best.map(|(_, t)| t)
}

/// Why `root` should be polled rather than watched, when it should.
pub fn network_reason(root: &Path) -> Option<String> {
    let fstype = filesystem_type(root)?;
    NETWORK_FS.contains(&fstype.as_str()).then(|| {
        format!(
            "it is on a network filesystem ({fstype}): changes made by other computers \
             produce no events here"
        )
    })
}

type RawEvent = notify::Result<notify::Event>;

/// The watcher: owns the OS watchers, the settler, and a catalog
/// connection through which settled paths become queued work.
pub struct Watcher {
    catalog: Catalog,
    library_dir: PathBuf,
    config: WatchConfig,
    events: EventSink,
    wake: Sender<()>,
    raw_tx: Sender<(i64, RawEvent)>,
    raw_rx: Receiver<(i64, RawEvent)>,
    followed: Vec<Followed>,
    settler: Settler,
    watches_used: usize,
}

impl Watcher {
    /// Starts following every root of the catalog.
    pub fn start(
        catalog_path: &Path,
        library_dir: &Path,
        config: WatchConfig,
        events: EventSink,
        wake: Sender<()>,
    ) -> Result<Self> {
        let catalog = Catalog::open(catalog_path)?;
        let (raw_tx, raw_rx) = unbounded();
        let mut w = Watcher {
            catalog,
            library_dir: library_dir.to_path_buf(),
            config,
            events,
            wake,
            raw_tx,
            raw_rx,
            followed: Vec::new(),
            settler: Settler::default(),
            watches_used: 0,
        };
        for root in w.catalog.roots()? {
            let identity = identity(&root.path);
            w.followed.push(Followed {
                root,
                mode: Mode::Offline,
                identity,
                watches: 0,
            });
        }
        for i in 0..w.followed.len() {
            if w.followed[i].root.path.is_dir() {
                w.follow(i)?;
            } else {
                w.went_offline(i)?;
            }
        }
        Ok(w)
    }

    /// (root path, mode, reason) of every root, for tests and status lines.
    pub fn modes(&self) -> Vec<(PathBuf, &'static str, Option<String>)> {
        self.followed
            .iter()
            .map(|f| {
                let (m, r) = match &f.mode {
                    Mode::Native { .. } => ("native", None),
                    Mode::Polling { reason, .. } => ("polling", Some(reason.clone())),
                    Mode::Offline => ("offline", None),
                };
                (f.root.path.clone(), m, r)
            })
            .collect()
    }

    /// Starts following root `i`: natively when possible, else polling.
    fn follow(&mut self, i: usize) -> Result<()> {
        let path = self.followed[i].root.path.clone();
        let id = self.followed[i].root.id;
        self.followed[i].identity = identity(&path);
        let mode = match self.native_or_reason(id, &path) {
            Ok((watcher, folders)) => {
                self.followed[i].watches = folders;
                Mode::Native { _watcher: watcher }
            }
            Err(reason) => {
                tracing::warn!(root = %path.display(), "polling instead of watching: {reason}");
                Mode::Polling {
                    reason,
                    next: Instant::now() + self.config.poll_interval,
                }
            }
        };
        self.followed[i].mode = mode;
        self.record(i)
    }

    fn native_or_reason(
        &mut self,
        id: i64,
        path: &Path,
    ) -> std::result::Result<(notify::RecommendedWatcher, usize), String> {
        if let Some(reason) = network_reason(path) {
            return Err(reason);
        }
        let folders = count_folders(path);
        if let Some(limit) = self.config.max_watches {
            if self.watches_used + folders > limit {
                return Err(format!(
                    "watching it needs {folders} folder watches, but the configured watch limit \
                     is {limit} ({} in use by other folders); set by --max-watches or \
                     SHOEBOX_WATCH_LIMIT",
                    self.watches_used
                ));
            }
        }
        if let Some(limit) = os_watch_limit() {
            if self.watches_used + folders > limit {
                return Err(format!(
                    "watching it needs {folders} folder watches, more than the system allows \
                     (fs.inotify.max_user_watches = {limit}); raise it with \
                     `sysctl fs.inotify.max_user_watches=...`"
                ));
            }
        }
        let tx = self.raw_tx.clone();
        let mut watcher = notify::recommended_watcher(move |res: RawEvent| {
            let _ = tx.send((id, res));
        })
        .map_err(|e| format!("the file watcher could not start: {e}"))?;
        match watcher.watch(path, RecursiveMode::Recursive) {
            Ok(()) => {
                self.watches_used += folders;
                Ok((watcher, folders))
            }
            Err(e) => Err(match e.kind {
                notify::ErrorKind::MaxFilesWatch => format!(
                    "the system's limit on watched folders was reached{}",
                    os_watch_limit()
                        .map(|l| format!(" (fs.inotify.max_user_watches = {l})"))
                        .unwrap_or_default()
                ),
                _ => format!("the folder cannot be watched: {e}"),
            }),
        }
    }

    fn record(&mut self, i: usize) -> Result<()> {
        let f = &self.followed[i];
        let (mode, reason) = match &f.mode {
            Mode::Native { .. } => ("native", None),
            Mode::Polling { reason, .. } => ("polling", Some(reason.clone())),
            Mode::Offline => (
                "offline",
                Some("the folder is missing (unmounted drive, or renamed or deleted folder); its photos are kept, offline".to_string()),
            ),
        };
        self.catalog
            .set_watch_state(f.root.id, mode, reason.as_deref())?;
        (self.events)(&LiveEvent::Watch {
            root: f.root.path.display().to_string(),
            mode: mode.to_string(),
            reason,
        });
        Ok(())
    }

    fn went_offline(&mut self, i: usize) -> Result<()> {
        self.watches_used = self.watches_used.saturating_sub(self.followed[i].watches);
        self.followed[i].watches = 0;
        self.followed[i].mode = Mode::Offline;
        let root = self.followed[i].root.clone();
        tracing::warn!(root = %root.path.display(), "library folder is missing; its photos are offline");
        self.catalog.set_root_online(root.id, false)?;
        self.settler.forget_below(&root.path);
        self.record(i)
    }

    fn reconcile_root(&self, id: i64) -> Result<()> {
        self.catalog
            .enqueue_job(KIND_SCAN, &id.to_string(), priority::SCAN)?;
        let _ = self.wake.send(());
        Ok(())
    }

    /// Follows the roots until `stop` is set. Errors (the catalog busy
    /// beyond its timeout, a disk hiccup) are logged and the loop goes on:
    /// what could not be queued is still in the settler or will be found by
    /// the next reconcile.
    pub fn run(&mut self, stop: &AtomicBool) -> Result<()> {
        while !stop.load(Ordering::Relaxed) {
            match self.run_inner(stop) {
                Ok(()) => return Ok(()),
                Err(e) => {
                    tracing::warn!("watcher error, going on: {e}");
                    std::thread::sleep(Duration::from_millis(500));
                }
            }
        }
        Ok(())
    }

    fn run_inner(&mut self, stop: &AtomicBool) -> Result<()> {
        let tick =
            (self.config.debounce / 4).clamp(Duration::from_millis(20), Duration::from_millis(250));
        let mut next_root_check = Instant::now() + self.config.root_check;
        while !stop.load(Ordering::Relaxed) {
            match self.raw_rx.recv_timeout(tick) {
                Ok((id, raw)) => {
                    self.on_raw(id, raw)?;
                    while let Ok((id, raw)) = self.raw_rx.try_recv() {
                        self.on_raw(id, raw)?;
                    }
                }
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {}
            }
            self.flush()?;
            let now = Instant::now();
            if now >= next_root_check {
                self.check_roots()?;
                next_root_check = now + self.config.root_check;
            }
            for i in 0..self.followed.len() {
                if let Mode::Polling { next, .. } = &mut self.followed[i].mode {
                    if now >= *next {
                        *next = now + self.config.poll_interval;
                        let id = self.followed[i].root.id;
                        self.reconcile_root(id)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn on_raw(&mut self, id: i64, raw: RawEvent) -> Result<()> {
        let Some(i) = self.followed.iter().position(|f| f.root.id == id) else {
            return Ok(());
        };
        if !matches!(self.followed[i].mode, Mode::Native { .. }) {
            return Ok(());
        }
        match raw {
            Ok(event) => {
                if event.need_rescan() {
                    // The OS dropped events (queue overflow): only a full
                    // reconcile of the root is safe.
                    tracing::warn!(root = %self.followed[i].root.path.display(), "events were lost; reconciling the folder");
                    return self.reconcile_root(id);
                }
                if matches!(event.kind, EventKind::Access(_))
                    && !matches!(
                        event.kind,
                        EventKind::Access(notify::event::AccessKind::Close(
                            notify::event::AccessMode::Write
                        ))
                    )
                {
                    return Ok(());
                }
                let now = Instant::now();
                let root = self.followed[i].root.path.clone();
                for path in event.paths {
                    if path == root
                        || !path.starts_with(&root)
                        || hidden_below(&root, &path)
                        || path.starts_with(&self.library_dir)
                    {
                        continue;
                    }
                    self.settler.touch(path, now);
                }
            }
            Err(e) => {
                let reason = match e.kind {
                    notify::ErrorKind::MaxFilesWatch => format!(
                        "the system's limit on watched folders was reached while new folders \
                         appeared{}",
                        os_watch_limit()
                            .map(|l| format!(" (fs.inotify.max_user_watches = {l})"))
                            .unwrap_or_default()
                    ),
                    _ => format!("the watcher reported an error: {e}"),
                };
                tracing::warn!(root = %self.followed[i].root.path.display(), "switching to polling: {reason}");
                self.watches_used = self.watches_used.saturating_sub(self.followed[i].watches);
                self.followed[i].watches = 0;
                self.followed[i].mode = Mode::Polling {
                    reason,
                    next: Instant::now(),
                };
                self.record(i)?;
            }
        }
        Ok(())
    }

    /// Hands settled paths to the queue, in one transaction.
    fn flush(&mut self) -> Result<()> {
        if self.settler.is_empty() {
            return Ok(());
        }
        let ready = self.settler.ready(
            Instant::now(),
            self.config.debounce,
            self.config.settle,
            &mut |p| stat_path(p),
        );
        if ready.is_empty() {
            return Ok(());
        }
        let mut items = Vec::with_capacity(ready.len());
        for path in ready {
            let bytes = paths::to_bytes(&path);
            if let Some(f) = self
                .followed
                .iter()
                .find(|f| paths::is_within(&bytes, &paths::to_bytes(&f.root.path)))
            {
                items.push((f.root.id, path));
            }
        }
        self.catalog.queue_paths(&items, priority::INGEST)?;
        self.catalog
            .enqueue_job(KIND_INGEST, "", priority::INGEST)?;
        (self.events)(&LiveEvent::Changed {
            what: crate::jobs::Change::Photos,
            ids: None,
        });
        let _ = self.wake.send(());
        Ok(())
    }

    /// Roots that disappeared go offline; roots that came back (or whose
    /// folder was swapped for another) are followed again and reconciled.
    fn check_roots(&mut self) -> Result<()> {
        // Folders added or removed by another process (`shoebox add`).
        let roots = self.catalog.roots()?;
        self.followed
            .retain(|f| roots.iter().any(|r| r.id == f.root.id));
        for root in roots {
            if !self.followed.iter().any(|f| f.root.id == root.id) {
                let id = root.id;
                self.followed.push(Followed {
                    identity: identity(&root.path),
                    root,
                    mode: Mode::Offline,
                    watches: 0,
                });
                let i = self.followed.len() - 1;
                if self.followed[i].root.path.is_dir() {
                    self.follow(i)?;
                    self.reconcile_root(id)?;
                }
            }
        }
        for i in 0..self.followed.len() {
            let path = self.followed[i].root.path.clone();
            let now_id = if path.is_dir() { identity(&path) } else { None };
            let offline = matches!(self.followed[i].mode, Mode::Offline);
            match (offline, now_id) {
                (false, None) => self.went_offline(i)?,
                (true, Some(_)) => {
                    tracing::info!(root = %path.display(), "library folder is back");
                    self.catalog
                        .set_root_online(self.followed[i].root.id, true)?;
                    self.follow(i)?;
                    self.reconcile_root(self.followed[i].root.id)?;
                }
                (false, Some(id)) if Some(id) != self.followed[i].identity => {
                    tracing::info!(root = %path.display(), "library folder was replaced; following the new one");
                    self.went_offline(i)?;
                    self.catalog
                        .set_root_online(self.followed[i].root.id, true)?;
                    self.follow(i)?;
                    self.reconcile_root(self.followed[i].root.id)?;
                }
                _ => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_growing_file_waits_until_it_settles() {
        let mut s = Settler::default();
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        s.touch("/r/a.jpg".into(), t0);
        let mut size = 100u64;
        let mut stat = |_: &Path| PathState::File(size, 1);
        // Within the debounce: nothing.
        assert!(s
            .ready(t0 + ms(100), ms(500), ms(1000), &mut stat)
            .is_empty());
        // First look: remembered, not ready.
        assert!(s
            .ready(t0 + ms(600), ms(500), ms(1000), &mut stat)
            .is_empty());
        // The file grows: the settle clock starts again.
        size = 200;
        let mut stat = |_: &Path| PathState::File(size, 2);
        assert!(s
            .ready(t0 + ms(1200), ms(500), ms(1000), &mut stat)
            .is_empty());
        assert!(s
            .ready(t0 + ms(2100), ms(500), ms(1000), &mut stat)
            .is_empty());
        assert_eq!(
            s.ready(t0 + ms(2200), ms(500), ms(1000), &mut stat),
            vec![PathBuf::from("/r/a.jpg")]
        );
        assert!(s.is_empty());
    }

    #[test]
    fn new_events_restart_the_debounce() {
        let mut s = Settler::default();
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        s.touch("/r/gone.jpg".into(), t0);
        s.touch("/r/gone.jpg".into(), t0 + ms(400));
        let mut stat = |_: &Path| PathState::Missing;
        assert!(s
            .ready(t0 + ms(600), ms(500), ms(1000), &mut stat)
            .is_empty());
        assert_eq!(s.ready(t0 + ms(900), ms(500), ms(1000), &mut stat).len(), 1);
    }

    #[test]
    fn folders_and_deletions_need_no_settling() {
        let mut s = Settler::default();
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        s.touch("/r/new-folder".into(), t0);
        s.touch("/r/deleted.jpg".into(), t0);
        s.touch("/r/other/x.jpg".into(), t0);
        s.forget_below(Path::new("/r/other"));
        let mut stat = |p: &Path| {
            if p.ends_with("new-folder") {
                PathState::Folder
            } else {
                PathState::Missing
            }
        };
        let ready = s.ready(t0 + ms(500), ms(500), ms(1000), &mut stat);
        assert_eq!(
            ready,
            vec![
                PathBuf::from("/r/deleted.jpg"),
                PathBuf::from("/r/new-folder")
            ]
        );
    }

    #[test]
    fn the_filesystem_type_is_found() {
        // Every Linux machine has a root filesystem; elsewhere, no answer.
        if Path::new("/proc/self/mountinfo").exists() {
            assert!(filesystem_type(Path::new("/")).is_some());
        }
    }
}
