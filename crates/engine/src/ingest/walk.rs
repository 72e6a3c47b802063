//! Walking a root folder. Symlinks are followed (photo folders often link to
//! other drives) with loop detection; hidden entries and the library's own
//! folder are skipped.

use std::path::{Path, PathBuf};

use crossbeam_channel::Sender;

use crate::paths;

pub enum WalkItem {
    File(PathBuf),
    Problem { path: PathBuf, reason: String },
}

/// What a finished walk tells the pruning step.
#[derive(Debug, Default)]
pub struct WalkSummary {
    /// Folders whose contents we could not list; their catalogued files are
    /// kept rather than treated as deleted.
    pub unreadable_dirs: Vec<Vec<u8>>,
    /// False when cancelled or when the receiver went away.
    pub complete: bool,
}

fn is_hidden(entry: &walkdir::DirEntry) -> bool {
    entry.depth() > 0 && entry.file_name().as_encoded_bytes().first() == Some(&b'.')
}

pub fn walk(
    root: &Path,
    skip: &Path,
    out: &Sender<WalkItem>,
    cancelled: &dyn Fn() -> bool,
) -> WalkSummary {
    let mut summary = WalkSummary::default();
    let walker = walkdir::WalkDir::new(root)
        .follow_links(true)
        .into_iter()
        .filter_entry(|e| !is_hidden(e) && e.path() != skip);
    for entry in walker {
        if cancelled() {
            return summary;
        }
        let item = match entry {
            Ok(e) if e.file_type().is_file() => WalkItem::File(e.into_path()),
            // FIFOs, sockets and devices named like photos are reported per
            // file by the analyser (never opened), not skipped in silence.
            Ok(e) if !e.file_type().is_dir() && super::format::looks_like_image(e.path()) => {
                WalkItem::File(e.into_path())
            }
            Ok(_) => continue,
            Err(err) => {
                let path = err
                    .path()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| root.to_path_buf());
                let reason = if let Some(ancestor) = err.loop_ancestor() {
                    format!(
                        "symbolic link loop: it leads back to {}",
                        ancestor.display()
                    )
                } else if let Some(io) = err.io_error() {
                    match io.kind() {
                        std::io::ErrorKind::PermissionDenied => {
                            "folder cannot be read: permission denied".to_string()
                        }
                        std::io::ErrorKind::NotFound => {
                            "it disappeared while it was being scanned (or is a broken link)"
                                .to_string()
                        }
                        _ => format!("cannot be read: {io}"),
                    }
                } else {
                    err.to_string()
                };
                if err.loop_ancestor().is_none() && path.is_dir() {
                    summary.unreadable_dirs.push(paths::to_bytes(&path));
                }
                WalkItem::Problem { path, reason }
            }
        };
        if out.send(item).is_err() {
            return summary;
        }
    }
    summary.complete = true;
    summary
}
