//! Live ingest: make the catalog match the disk for paths the watcher saw
//! change. A path may be a file (new, modified, or renamed into place), a
//! folder (moved or copied in: everything below it is ingested), a path
//! that no longer exists (deleted, or renamed away: its file, or every file
//! catalogued below it, is forgotten) or an `.xmp` sidecar (the keywords of
//! its photo are imported again).
//!
//! The same path handled twice gives the same catalog, so the queue can
//! redo a batch after a crash. Nothing is forgotten while the path's root
//! is missing: an unmounted drive makes photos offline, never deleted.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use crate::catalog::{Catalog, Root, ScanWrite};
use crate::error::Result;
use crate::paths;

use super::analyze::{Analyzer, StageTimes};
use super::thumbs::ThumbCache;
use super::walk::{self, WalkItem};

/// How long a file's size and modification time must stay the same
/// before it is read (a copy in progress is left for later).
pub const SETTLE: std::time::Duration = std::time::Duration::from_millis(1000);

/// What one batch of paths did.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct PathsReport {
    /// Paths taken from the batch (handled or skipped).
    pub paths: u64,
    /// Files analysed (including those found below new folders).
    pub files: u64,
    pub new_photos: u64,
    pub linked_files: u64,
    pub unchanged: u64,
    pub failed: u64,
    /// File locations forgotten (deleted or moved away).
    pub removed: u64,
    /// Sidecars whose keywords were imported again.
    pub sidecars: u64,
    /// Paths left alone because their folder is missing (offline).
    pub offline: u64,
    /// Files modified less than `settle` ago (probably still being
    /// written): not read now; the caller looks at them again later.
    #[serde(skip)]
    pub fresh: Vec<(i64, PathBuf)>,
}

/// What a batch found to do, before doing it.
#[derive(Default)]
struct Found {
    files: Vec<(i64, PathBuf)>,
    seen: HashSet<PathBuf>,
    gone: Vec<(i64, PathBuf)>,
    problems: Vec<ScanWrite>,
    fresh: Vec<(i64, PathBuf)>,
}

pub struct LiveIngest<'a> {
    pub catalog: &'a Catalog,
    pub library_dir: &'a Path,
    pub thumbs: &'a ThumbCache,
    /// Analysis threads; 0 means one per core.
    pub threads: usize,
    pub cancel: &'a AtomicBool,
    /// A file modified more recently than this is left for later (it may
    /// be half-written: a folder copied in is walked before its last files
    /// are complete).
    pub settle: std::time::Duration,
}

/// True when `meta` was modified less than `settle` ago (a modification
/// time in the future counts as settled, or it would never be read).
fn is_fresh(meta: &std::fs::Metadata, settle: std::time::Duration) -> bool {
    meta.modified()
        .ok()
        .and_then(|m| std::time::SystemTime::now().duration_since(m).ok())
        .is_some_and(|age| age < settle)
}

fn is_sidecar(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xmp"))
}

/// True when a component below the root starts with a dot (the walk
/// skips hidden entries; so does the watcher).
pub fn hidden_below(root: &Path, path: &Path) -> bool {
    path.strip_prefix(root).is_ok_and(|rel| {
        rel.components()
            .any(|c| c.as_os_str().as_encoded_bytes().first() == Some(&b'.'))
    })
}

impl LiveIngest<'_> {
    /// Handles `items` (root id, path). Returns what was done; paths of
    /// roots that are missing are reported as offline and left alone.
    pub fn run(&self, items: &[(i64, PathBuf)]) -> Result<PathsReport> {
        let mut report = PathsReport {
            paths: items.len() as u64,
            ..Default::default()
        };
        let roots: HashMap<i64, Root> = self
            .catalog
            .roots()?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
        let mut present: HashMap<i64, bool> = HashMap::new();
        let mut found = Found::default();
        let mut sidecars: Vec<PathBuf> = Vec::new();

        for (root_id, path) in items {
            let Some(root) = roots.get(root_id) else {
                continue; // the folder was removed from the library
            };
            let root_here = *present
                .entry(*root_id)
                .or_insert_with(|| root.path.is_dir());
            if !root_here {
                report.offline += 1;
                continue;
            }
            if !paths::is_within(&paths::to_bytes(path), &paths::to_bytes(&root.path))
                || hidden_below(&root.path, path)
                || path.starts_with(self.library_dir)
            {
                continue;
            }
            if is_sidecar(path) {
                sidecars.push(path.clone());
                continue;
            }
            // A Live Photo's movie is no item: its still is looked at again,
            // which pairs or unpairs it.
            if let Some(still) = super::live_photo::catalogued_still(self.catalog, path) {
                if still.is_file() && found.seen.insert(still.clone()) {
                    found.files.push((*root_id, still));
                }
                continue;
            }
            match std::fs::metadata(path) {
                // Special files named like photos go to the analyser too,
                // which records them as "not a regular file".
                Ok(meta)
                    if meta.is_file()
                        || (!meta.is_dir() && super::format::looks_like_image(path)) =>
                {
                    if is_fresh(&meta, self.settle) {
                        found.fresh.push((*root_id, path.clone()));
                    } else if found.seen.insert(path.clone()) {
                        found.files.push((*root_id, path.clone()));
                    }
                }
                Ok(meta) if meta.is_dir() => {
                    self.ingest_folder(*root_id, path, &mut found)?;
                }
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    found.gone.push((*root_id, path.clone()));
                    for below in self.catalog.files_under(*root_id, path)? {
                        found.gone.push((*root_id, below));
                    }
                }
                Err(e) => found.problems.push(ScanWrite::WalkError {
                    root_id: *root_id,
                    path: path.clone(),
                    reason: format!("cannot read file information: {e}"),
                }),
            }
        }

        let Found {
            files,
            mut gone,
            problems,
            fresh,
            ..
        } = found;
        report.fresh = fresh;
        let writes = self.analyze(&files);
        let scan_id = self.catalog.current_scan_id()?;
        let mut all = problems;
        for w in writes.into_iter().flatten() {
            match &w {
                ScanWrite::Unchanged { .. } => report.unchanged += 1,
                ScanWrite::Photo { photo: Some(_), .. } => report.new_photos += 1,
                ScanWrite::Photo { photo: None, .. } => report.linked_files += 1,
                ScanWrite::Failed { .. } | ScanWrite::WalkError { .. } => report.failed += 1,
                ScanWrite::Vanished { root_id, path } => {
                    gone.push((*root_id, path.clone()));
                    continue;
                }
            }
            all.push(w);
        }
        report.files = files.len() as u64;
        for chunk in all.chunks(256) {
            self.catalog.apply_scan_batch(scan_id, chunk)?;
        }

        // Forget what is gone, re-checking each root at the last moment: a
        // drive unmounted since the batch began must not lose its files.
        let mut forget = Vec::new();
        for (root_id, path) in gone {
            let Some(root) = roots.get(&root_id) else {
                continue;
            };
            if root.path.is_dir() && !path.exists() {
                forget.push(path);
            }
        }
        report.removed = self.catalog.forget_files(&forget)? as u64;

        for sidecar in sidecars {
            report.sidecars += self.reimport_sidecar(&sidecar)?;
        }
        Ok(report)
    }

    /// Every file below a folder that appeared (or changed), and every
    /// catalogued file below it that is no longer there.
    fn ingest_folder(&self, root_id: i64, dir: &Path, found: &mut Found) -> Result<()> {
        let (tx, rx) = crossbeam_channel::unbounded();
        let cancel = || self.cancel.load(Ordering::Relaxed);
        let summary = walk::walk(dir, self.library_dir, &tx, &cancel);
        drop(tx);
        let mut here = HashSet::new();
        for item in rx {
            match item {
                WalkItem::File(p) => {
                    here.insert(p.clone());
                    let young = std::fs::metadata(&p).is_ok_and(|m| is_fresh(&m, self.settle));
                    if young {
                        found.fresh.push((root_id, p));
                    } else if found.seen.insert(p.clone()) {
                        found.files.push((root_id, p));
                    }
                }
                WalkItem::Problem { path, reason } => found.problems.push(ScanWrite::WalkError {
                    root_id,
                    path,
                    reason,
                }),
            }
        }
        if summary.complete {
            for known in self.catalog.files_under(root_id, dir)? {
                let bytes = paths::to_bytes(&known);
                if !here.contains(&known)
                    && !summary
                        .unreadable_dirs
                        .iter()
                        .any(|d| paths::is_within(&bytes, d))
                {
                    found.gone.push((root_id, known));
                }
            }
        }
        Ok(())
    }

    fn analyze(&self, files: &[(i64, PathBuf)]) -> Vec<Option<ScanWrite>> {
        let threads = super::worker_threads(self.threads).clamp(1, files.len().max(1));
        let times = StageTimes::default();
        let next = std::sync::atomic::AtomicUsize::new(0);
        let results: Vec<std::sync::Mutex<Option<ScanWrite>>> =
            files.iter().map(|_| std::sync::Mutex::new(None)).collect();
        let (catalog_path, thumbs) = (self.catalog.path(), self.thumbs);
        let journal = super::journal::DecodeJournal::open(self.library_dir);
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| {
                    let catalog = match Catalog::open_unmigrated(catalog_path) {
                        Ok(c) => c,
                        Err(e) => {
                            tracing::warn!("cannot open the catalog for analysis: {e}");
                            return;
                        }
                    };
                    let analyzer = Analyzer {
                        catalog: &catalog,
                        thumbs,
                        times: &times,
                        journal: &journal,
                    };
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((root_id, path)) = files.get(i) else {
                            break;
                        };
                        let w = analyzer.analyze(*root_id, path);
                        *results[i].lock().expect("not poisoned") = w;
                    }
                });
            }
        });
        results
            .into_iter()
            .map(|m| m.into_inner().expect("not poisoned"))
            .collect()
    }

    /// A sidecar changed (or appeared, or went away): the keywords of the
    /// photos it belongs to are read again from all their files.
    fn reimport_sidecar(&self, sidecar: &Path) -> Result<u64> {
        let keep_existing = crate::tags::xmp_settings(self.catalog)?.write_on_change;
        let mut photos: Vec<i64> = self
            .catalog
            .files_for_sidecar(sidecar)?
            .into_iter()
            .filter_map(|(_, photo)| photo)
            .collect();
        photos.sort_unstable();
        photos.dedup();
        for &photo in &photos {
            let mut keywords: Vec<(String, Option<String>)> = Vec::new();
            for file in self.catalog.photo_files(photo)? {
                let head = read_head(&file, super::analyze::XMP_SEARCH_BYTES);
                let (found, warning) = super::analyze::file_keywords(&file, &head);
                if let Some(w) = warning {
                    tracing::warn!(path = %file.display(), "{w}");
                }
                for k in found {
                    if !keywords.iter().any(|(t, _)| *t == k.0) {
                        keywords.push(k);
                    }
                }
            }
            let (added, removed) =
                self.catalog
                    .reimport_keywords(photo, &keywords, keep_existing)?;
            tracing::debug!(photo, added, removed, sidecar = %sidecar.display(), "keywords re-imported");
        }
        Ok(photos.len() as u64)
    }
}

fn read_head(path: &Path, max: usize) -> Vec<u8> {
    crate::regular_file::read_head(path, max as u64).unwrap_or_default()
}
