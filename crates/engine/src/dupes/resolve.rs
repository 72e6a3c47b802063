//! Resolving a group: the plan (what stays, what goes to the trash), its
//! execution through the OS trash, and undo.
//!
//! Nothing is ever deleted: files are moved to the platform's trash with the
//! `trash` crate (the freedesktop trash on Linux, the Recycle Bin on
//! Windows, the Finder trash on macOS). Before anything moves, the file to
//! keep must still be on disk as scanned, and each file to trash must still
//! have the size and modification time the catalog knows; a file that
//! changed since the last scan is skipped, never trashed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{Group, GroupKind, Tier};
use crate::catalog::{Catalog, DupeFile, DupePhoto, ResolutionStart};
use crate::error::{EngineError, Result};

/// A file that was planned for the trash but left in place, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

/// The plan for one group and, after a real run, what happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resolution {
    pub group: String,
    pub tier: Tier,
    pub kind: GroupKind,
    /// The member kept (file id for copies, photo id otherwise).
    pub keep: i64,
    pub keep_path: String,
    pub reason: String,
    /// Files planned for the trash.
    pub trash: Vec<String>,
    pub dry_run: bool,
    /// Files moved to the trash (empty in a dry run).
    pub trashed: Vec<String>,
    pub skipped: Vec<Skipped>,
    /// The recorded action (for `dupes history` and `dupes undo`).
    pub action: Option<i64>,
}

/// What `undo` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UndoReport {
    pub action: i64,
    pub restored: Vec<String>,
    /// Files no longer in the trash (emptied, or restored by hand).
    pub not_in_trash: Vec<String>,
}

struct PlannedFile {
    file: DupeFile,
    photo_hash: [u8; 32],
}

pub(crate) struct Plan {
    pub resolution: Resolution,
    kept_file: DupeFile,
    kept_photo: i64,
    files: Vec<PlannedFile>,
}

/// Plans the resolution of `group`, keeping member `keep` (or the
/// suggestion).
pub(crate) fn plan(group: &Group, photos: &[DupePhoto], keep: Option<i64>) -> Result<Plan> {
    let keep = keep.unwrap_or(group.keep);
    let Some(kept_member) = group.members.iter().find(|m| m.id == keep) else {
        let ids: Vec<String> = group.members.iter().map(|m| m.id.to_string()).collect();
        return Err(EngineError::Invalid(format!(
            "{keep} is not a member of group {}; its members are {}",
            group.id,
            ids.join(", ")
        )));
    };
    let by_id: HashMap<i64, &DupePhoto> = photos.iter().map(|p| (p.id, p)).collect();
    let photo = |id: i64| {
        by_id
            .get(&id)
            .copied()
            .ok_or_else(|| EngineError::Invalid(format!("photo {id} is no longer in the library")))
    };
    let kept_photo = photo(kept_member.photo_id)?;
    let (kept_file, files) = match group.kind {
        GroupKind::Copies => {
            let kept_file = kept_photo
                .files
                .iter()
                .find(|f| f.id == keep)
                .cloned()
                .ok_or_else(|| {
                    EngineError::Invalid(format!("file {keep} is no longer in the library"))
                })?;
            let files = kept_photo
                .files
                .iter()
                .filter(|f| f.id != keep)
                .map(|f| PlannedFile {
                    file: f.clone(),
                    photo_hash: kept_photo.hash,
                })
                .collect();
            (kept_file, files)
        }
        GroupKind::Photos => {
            let kept_file = kept_photo.files.first().cloned().ok_or_else(|| {
                EngineError::Invalid(format!("photo {keep} has no readable file"))
            })?;
            let mut files = Vec::new();
            for m in group.members.iter().filter(|m| m.id != keep) {
                let p = photo(m.photo_id)?;
                files.extend(p.files.iter().map(|f| PlannedFile {
                    file: f.clone(),
                    photo_hash: p.hash,
                }));
            }
            (kept_file, files)
        }
    };
    let reason = if keep == group.keep {
        group.reason.clone()
    } else {
        "chosen by the user".to_string()
    };
    Ok(Plan {
        resolution: Resolution {
            group: group.id.clone(),
            tier: group.tier,
            kind: group.kind,
            keep,
            keep_path: kept_file.display.clone(),
            reason,
            trash: files.iter().map(|f| f.file.display.clone()).collect(),
            dry_run: true,
            trashed: Vec::new(),
            skipped: Vec::new(),
            action: None,
        },
        kept_file,
        kept_photo: kept_photo.id,
        files,
    })
}

impl Plan {
    /// Moves nothing: every planned file is listed as skipped, with `why`.
    pub(crate) fn leave_for_review(&mut self, why: &str) {
        let r = &mut self.resolution;
        r.skipped = r
            .trash
            .drain(..)
            .map(|path| Skipped {
                path,
                reason: why.to_string(),
            })
            .collect();
        self.files.clear();
    }
}

fn unchanged(file: &DupeFile) -> std::result::Result<(), String> {
    unchanged_since_scan(&file.path, file.size, file.mtime_ns)
}

/// Whether `path` is still the regular file the scan recorded.
fn unchanged_since_scan(path: &Path, size: u64, mtime_ns: i64) -> std::result::Result<(), String> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if !m.is_file() => Err("it is no longer a regular file".into()),
        Ok(m) if m.len() != size || crate::ingest::analyze::mtime_ns(&m) != mtime_ns => {
            Err("it changed since the last scan; run `shoebox scan` first".into())
        }
        Ok(_) => Ok(()),
        Err(e) => Err(format!("it cannot be read: {e}")),
    }
}

/// Moves the planned files to the OS trash, journaled: the intent is
/// written first (an action `pending`, one row per file), each move is
/// recorded right after it happens, and the action is finished (metadata
/// merged) at the end. A crash anywhere in between leaves enough for
/// [`reconcile`] to finish or roll back at the next start, so a file in the
/// trash is never unknown to `history` and `undo`.
pub(crate) fn execute(catalog: &Catalog, plan: Plan) -> Result<Resolution> {
    let Plan {
        mut resolution,
        kept_file,
        kept_photo,
        files,
    } = plan;
    resolution.dry_run = false;
    if let Err(why) = unchanged(&kept_file) {
        return Err(EngineError::Invalid(format!(
            "the file to keep, {}, cannot be relied on ({why}); nothing was moved",
            kept_file.display
        )));
    }
    let mut to_move: Vec<(PathBuf, String, [u8; 32], u64)> = Vec::new();
    for f in &files {
        match unchanged(&f.file) {
            Ok(()) => to_move.push((
                f.file.path.clone(),
                f.file.display.clone(),
                f.photo_hash,
                f.file.size,
            )),
            Err(reason) => resolution.skipped.push(Skipped {
                path: f.file.display.clone(),
                reason,
            }),
        }
    }
    if to_move.is_empty() {
        return Ok(resolution);
    }
    // A Live Photo's movie goes with its still, in the same journaled
    // action, so undo brings both back.
    let mut movies = Vec::new();
    for (path, _, hash, _) in &to_move {
        if let Some(video) = catalog.live_video_of_path(path)? {
            let shown = crate::paths::display(&video.path);
            match unchanged_since_scan(&video.path, video.size, video.mtime_ns) {
                Ok(()) => movies.push((video.path, shown, *hash, video.size)),
                Err(_) => resolution.skipped.push(Skipped {
                    path: shown,
                    reason:
                        "the Live Photo's movie changed since the last scan; it was left in place"
                            .into(),
                }),
            }
        }
    }
    to_move.extend(movies);
    let action = catalog.begin_dupe_resolution(&ResolutionStart {
        group_id: &resolution.group,
        tier: resolution.tier.as_str(),
        kept_photo,
        kept_path: &resolution.keep_path,
        reason: &resolution.reason,
        files: &to_move,
    })?;
    for (path, shown, _, _) in &to_move {
        match trash::delete(path) {
            Ok(()) => {
                tracing::info!(path = %shown, "moved to the trash");
                catalog.dupe_file_trashed(action, path)?;
                resolution.trashed.push(shown.clone());
            }
            Err(e) => {
                catalog.dupe_file_not_moved(action, path)?;
                resolution.skipped.push(Skipped {
                    path: shown.clone(),
                    reason: format!("could not move it to the trash: {e}"),
                });
            }
        }
    }
    if catalog.finish_dupe_resolution(action)? {
        resolution.action = Some(action);
    }
    Ok(resolution)
}

/// What [`reconcile`] found in the trash for the files of unfinished
/// resolutions.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct ReconcileReport {
    /// Actions finished (their moved files recorded, metadata merged).
    pub finished: usize,
    /// Files found in the trash and recorded.
    pub recorded: usize,
    /// Files found still in place (the move never happened).
    pub in_place: usize,
    /// Empty placeholders the interrupted move left in the trash, removed.
    pub placeholders_removed: usize,
}

/// Finishes the resolutions a crash left `pending`. For each file whose move
/// was intended: still in place means the move never happened (an empty
/// placeholder the trash left for it is removed, so a later restore cannot
/// overwrite the photo with nothing); gone and in the trash means it moved
/// and is recorded now; gone and not in the trash means it left by other
/// means and is forgotten. Idempotent; run at the start of every duplicate
/// verb.
pub(crate) fn reconcile(catalog: &Catalog) -> Result<ReconcileReport> {
    let mut report = ReconcileReport::default();
    // A resolution still being carried out (by the app while a CLI command
    // starts, or by another thread of this process) is not interrupted:
    // only those whose process is gone are finished here.
    let pending: Vec<_> = catalog
        .pending_dupe_actions()?
        .into_iter()
        .filter(|a| {
            a.owner_pid.is_none_or(|pid| {
                pid != std::process::id() && !crate::ingest::journal::pid_alive(pid)
            })
        })
        .collect();
    if pending.is_empty() {
        return Ok(report);
    }
    let trashed = trash_items();
    for action in pending {
        for path in &action.intents {
            let in_trash: Vec<&TrashEntry> =
                trashed.iter().filter(|t| &t.original == path).collect();
            if path.symlink_metadata().is_ok() {
                // An empty placeholder, or a record whose placeholder was
                // never made: what a move killed half way leaves behind.
                let placeholders: Vec<&TrashEntry> = in_trash
                    .into_iter()
                    .filter(|t| {
                        t.size.unwrap_or(0) == 0 && t.deleted_at_or_after(&action.created_at)
                    })
                    .collect();
                report.placeholders_removed += purge(&placeholders);
                report.placeholders_removed += remove_blank_records(path);
                catalog.dupe_file_not_moved(action.id, path)?;
                report.in_place += 1;
            } else if !in_trash.is_empty() {
                catalog.dupe_file_trashed(action.id, path)?;
                report.recorded += 1;
            } else {
                catalog.dupe_file_not_moved(action.id, path)?;
            }
        }
        catalog.finish_dupe_resolution(action.id)?;
        report.finished += 1;
    }
    if report != ReconcileReport::default() {
        tracing::info!(
            ?report,
            "finished duplicate resolutions interrupted by a crash"
        );
    }
    Ok(report)
}

/// One item of the OS trash, as [`reconcile`] needs it.
struct TrashEntry {
    original: PathBuf,
    /// Seconds since the epoch (local time on Linux, as the trash records).
    deleted: i64,
    size: Option<u64>,
    item: Option<trash::TrashItem>,
}

impl TrashEntry {
    /// Whether it was put in the trash no earlier than `created_at` (an
    /// RFC 3339 time), with a day's slack for the trash's local-time dates.
    fn deleted_at_or_after(&self, created_at: &str) -> bool {
        chrono::DateTime::parse_from_rfc3339(created_at)
            .map(|t| self.deleted >= t.timestamp() - 86_400)
            .unwrap_or(true)
    }
}

#[cfg(any(
    target_os = "windows",
    all(
        unix,
        not(target_os = "macos"),
        not(target_os = "ios"),
        not(target_os = "android")
    )
))]
fn trash_items() -> Vec<TrashEntry> {
    let items = match trash::os_limited::list() {
        Ok(items) => items,
        Err(e) => {
            tracing::warn!("cannot read the trash: {e}");
            return Vec::new();
        }
    };
    items
        .into_iter()
        .map(|item| TrashEntry {
            original: item.original_path(),
            deleted: item.time_deleted,
            size: match trash::os_limited::metadata(&item).map(|m| m.size) {
                Ok(trash::TrashItemSize::Bytes(n)) => Some(n),
                _ => None,
            },
            item: Some(item),
        })
        .collect()
}

#[cfg(any(
    target_os = "windows",
    all(
        unix,
        not(target_os = "macos"),
        not(target_os = "ios"),
        not(target_os = "android")
    )
))]
fn purge(entries: &[&TrashEntry]) -> usize {
    let mut removed = 0;
    for item in entries.iter().filter_map(|e| e.item.as_ref()) {
        match trash::os_limited::purge_all([item]) {
            Ok(()) => removed += 1,
            // A record without its placeholder: the record alone goes (on
            // the freedesktop trash, an item's id is its .trashinfo path).
            Err(_) if cfg!(unix) && std::fs::remove_file(&item.id).is_ok() => removed += 1,
            Err(e) => tracing::warn!("cannot remove an empty placeholder from the trash: {e}"),
        }
    }
    removed
}

/// What a move of `path` killed half way leaves in the home trash, removed:
/// a `.trashinfo` left empty or cut short (killed while writing it; the
/// trash ignores it forever), and a record of `path` whose file in the
/// trash is missing or an empty placeholder (the trash's own listing skips
/// a record without its file). Only called while `path` is in place.
#[cfg(all(
    unix,
    not(target_os = "macos"),
    not(target_os = "ios"),
    not(target_os = "android")
))]
fn remove_blank_records(path: &Path) -> usize {
    let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return 0;
    };
    let data_home = std::env::var_os("XDG_DATA_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")));
    let Some(info) = data_home.map(|d| d.join("Trash/info")) else {
        return 0;
    };
    let Ok(dir) = std::fs::read_dir(&info) else {
        return 0;
    };
    let mut removed = 0;
    for entry in dir.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some(stem) = file.strip_suffix(".trashinfo") else {
            continue;
        };
        // `name`, or `name.N` when the trash already held that name.
        let ours = stem == name
            || stem
                .strip_prefix(name.as_str())
                .and_then(|rest| rest.strip_prefix('.'))
                .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()));
        if !ours || !entry.metadata().is_ok_and(|m| m.is_file()) {
            continue;
        }
        let record = std::fs::read_to_string(entry.path()).unwrap_or_default();
        let names_path = record
            .lines()
            .filter_map(|l| l.strip_prefix("Path="))
            .any(|p| percent_decoded(p) == crate::paths::to_bytes(path));
        let placeholder = info.with_file_name("files").join(stem);
        let placeholder_empty = placeholder
            .symlink_metadata()
            .map_or(true, |m| m.is_file() && m.len() == 0);
        // Killed while the record was being written: it ends before its
        // last line (the trash writes `DeletionDate=` after `Path=`).
        let incomplete = !record.lines().any(|l| l.starts_with("DeletionDate="));
        if record.is_empty() || ((names_path || incomplete) && placeholder_empty) {
            let _ = std::fs::remove_file(&placeholder);
            if std::fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
    }
    removed
}

/// The bytes of a `.trashinfo` `Path=` value (percent-encoded, RFC 2396).
#[cfg(all(
    unix,
    not(target_os = "macos"),
    not(target_os = "ios"),
    not(target_os = "android")
))]
fn percent_decoded(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

#[cfg(not(all(
    unix,
    not(target_os = "macos"),
    not(target_os = "ios"),
    not(target_os = "android")
)))]
fn remove_blank_records(_path: &Path) -> usize {
    0
}

#[cfg(not(any(
    target_os = "windows",
    all(
        unix,
        not(target_os = "macos"),
        not(target_os = "ios"),
        not(target_os = "android")
    )
)))]
fn trash_items() -> Vec<TrashEntry> {
    // The macOS trash cannot be listed: a file not in place is taken as
    // moved (the Finder's Put Back restores it).
    Vec::new()
}

#[cfg(not(any(
    target_os = "windows",
    all(
        unix,
        not(target_os = "macos"),
        not(target_os = "ios"),
        not(target_os = "android")
    )
)))]
fn purge(_entries: &[&TrashEntry]) -> usize {
    0
}

/// Puts the files of a recorded action back where they were, from the
/// platform's trash. Supported where the `trash` crate can list and restore
/// (the freedesktop trash on Linux and BSD, the Recycle Bin on Windows); on
/// macOS the Finder's "Put Back" is the way.
pub(crate) fn undo(catalog: &Catalog, id: i64) -> Result<UndoReport> {
    let action = catalog
        .dupe_actions()?
        .into_iter()
        .find(|a| a.id == id)
        .ok_or_else(|| {
            EngineError::Invalid(format!(
                "no duplicate action {id} (see `shoebox dupes history`)"
            ))
        })?;
    if action.undone_at.is_some() {
        return Err(EngineError::Invalid(format!(
            "action {id} was already undone"
        )));
    }
    restore(catalog, id, &action.files)
}

#[cfg(any(
    target_os = "windows",
    all(
        unix,
        not(target_os = "macos"),
        not(target_os = "ios"),
        not(target_os = "android")
    )
))]
fn restore(
    catalog: &Catalog,
    id: i64,
    files: &[crate::catalog::TrashedFile],
) -> Result<UndoReport> {
    let items = trash::os_limited::list()
        .map_err(|e| EngineError::Invalid(format!("cannot read the trash: {e}")))?;
    let mut latest: HashMap<PathBuf, trash::TrashItem> = HashMap::new();
    for item in items {
        let original = item.original_path();
        if !files.iter().any(|f| f.path == original) {
            continue;
        }
        match latest.get(&original) {
            Some(have) if have.time_deleted >= item.time_deleted => {}
            _ => {
                latest.insert(original, item);
            }
        }
    }
    let mut report = UndoReport {
        action: id,
        restored: Vec::new(),
        not_in_trash: Vec::new(),
    };
    for f in files {
        if latest.contains_key(&f.path) {
            report.restored.push(f.display.clone());
        } else {
            report.not_in_trash.push(f.display.clone());
        }
    }
    if let Some(f) = files
        .iter()
        .find(|f| latest.contains_key(&f.path) && f.path.exists())
    {
        return Err(EngineError::Invalid(format!(
            "{} exists again; move it away before undoing (nothing was restored)",
            f.display
        )));
    }
    trash::os_limited::restore_all(latest.into_values())
        .map_err(|e| EngineError::Invalid(format!("could not restore from the trash: {e}")))?;
    catalog.mark_dupe_action_undone(id)?;
    Ok(report)
}

#[cfg(not(any(
    target_os = "windows",
    all(
        unix,
        not(target_os = "macos"),
        not(target_os = "ios"),
        not(target_os = "android")
    )
)))]
fn restore(
    _catalog: &Catalog,
    _id: i64,
    _files: &[crate::catalog::TrashedFile],
) -> Result<UndoReport> {
    Err(EngineError::Invalid(
        "undo is not available on this platform: restore the files from the Trash (Finder: Put Back)".into(),
    ))
}

/// The group with this id among `groups`, with a helpful error otherwise.
pub(crate) fn find<'a>(groups: &'a [Group], id: &str) -> Result<&'a Group> {
    groups
        .iter()
        .find(|g| g.id == id)
        .ok_or_else(|| EngineError::GroupNotFound(id.to_string()))
}
