//! Ingest: walk, identify, read metadata, decode small, thumbnail, hash.

pub mod analyze;
pub mod bmff;
pub mod decode;
pub mod display;
pub mod format;
pub mod heif;
pub mod journal;
pub mod live;
pub mod live_photo;
pub mod metadata;
pub mod name_date;
pub mod phash;
pub mod quality;
pub mod raw;
pub mod scan;
pub mod thumbs;
pub mod walk;

pub use scan::{run_scan, ScanContext, ScanOptions, ScanProgress, ScanReport};

/// Analysis threads for `requested` (0: one per core).
pub(crate) fn worker_threads(requested: usize) -> usize {
    if requested == 0 {
        std::thread::available_parallelism().map_or(2, |n| n.get())
    } else {
        requested
    }
}
