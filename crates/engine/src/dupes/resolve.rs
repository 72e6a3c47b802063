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
use std::path::PathBuf;

use serde::Serialize;

use super::{Group, GroupKind, Tier};
use crate::catalog::{Catalog, DupeFile, DupePhoto, ResolutionRecord};
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
    photo_id: i64,
    photo_hash: [u8; 32],
}

pub(crate) struct Plan {
    pub resolution: Resolution,
    kept_file: DupeFile,
    kept_photo: i64,
    files: Vec<PlannedFile>,
    /// Photos that leave the library (their metadata moves to the kept one).
    removed_photos: Vec<i64>,
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
    let (kept_file, files, removed_photos) = match group.kind {
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
                    photo_id: kept_photo.id,
                    photo_hash: kept_photo.hash,
                })
                .collect();
            (kept_file, files, Vec::new())
        }
        GroupKind::Photos => {
            let kept_file = kept_photo.files.first().cloned().ok_or_else(|| {
                EngineError::Invalid(format!("photo {keep} has no readable file"))
            })?;
            let mut files = Vec::new();
            let mut removed = Vec::new();
            for m in group.members.iter().filter(|m| m.id != keep) {
                let p = photo(m.photo_id)?;
                removed.push(p.id);
                files.extend(p.files.iter().map(|f| PlannedFile {
                    file: f.clone(),
                    photo_id: p.id,
                    photo_hash: p.hash,
                }));
            }
            (kept_file, files, removed)
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
        removed_photos,
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

fn mtime_ns(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

fn unchanged(file: &DupeFile) -> std::result::Result<(), String> {
    match std::fs::symlink_metadata(&file.path) {
        Ok(m) if !m.is_file() => Err("it is no longer a regular file".into()),
        Ok(m) if m.len() != file.size || mtime_ns(&m) != file.mtime_ns => {
            Err("it changed since the last scan; run `shoebox scan` first".into())
        }
        Ok(_) => Ok(()),
        Err(e) => Err(format!("it cannot be read: {e}")),
    }
}

/// Moves the planned files to the OS trash and records the action.
pub(crate) fn execute(catalog: &Catalog, plan: Plan) -> Result<Resolution> {
    let Plan {
        mut resolution,
        kept_file,
        kept_photo,
        files,
        removed_photos,
    } = plan;
    resolution.dry_run = false;
    if let Err(why) = unchanged(&kept_file) {
        return Err(EngineError::Invalid(format!(
            "the file to keep, {}, cannot be relied on ({why}); nothing was moved",
            kept_file.display
        )));
    }
    let mut trashed: Vec<(PathBuf, String, [u8; 32], u64)> = Vec::new();
    // Photos with a file that stays (skipped) keep their own metadata.
    let mut left_behind: std::collections::HashSet<i64> = Default::default();
    for f in &files {
        if let Err(reason) = unchanged(&f.file) {
            left_behind.insert(f.photo_id);
            resolution.skipped.push(Skipped {
                path: f.file.display.clone(),
                reason,
            });
            continue;
        }
        match trash::delete(&f.file.path) {
            Ok(()) => {
                tracing::info!(path = %f.file.display, "moved to the trash");
                resolution.trashed.push(f.file.display.clone());
                trashed.push((
                    f.file.path.clone(),
                    f.file.display.clone(),
                    f.photo_hash,
                    f.file.size,
                ));
            }
            Err(e) => {
                left_behind.insert(f.photo_id);
                resolution.skipped.push(Skipped {
                    path: f.file.display.clone(),
                    reason: format!("could not move it to the trash: {e}"),
                });
            }
        }
    }
    if trashed.is_empty() {
        return Ok(resolution);
    }
    let merged: Vec<i64> = removed_photos
        .iter()
        .copied()
        .filter(|id| !left_behind.contains(id))
        .collect();
    let action = catalog.record_dupe_resolution(&ResolutionRecord {
        group_id: &resolution.group,
        tier: resolution.tier.as_str(),
        kept_photo,
        kept_path: &resolution.keep_path,
        reason: &resolution.reason,
        trashed: &trashed,
        merged_photos: &merged,
    })?;
    resolution.action = Some(action);
    Ok(resolution)
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
