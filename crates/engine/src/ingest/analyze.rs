//! Everything that happens to one file: stat, read once, identify, read
//! metadata, decode small, thumbnail, perceptual hash. Returns what the
//! catalog should record; never panics on bad input.

use std::io::ErrorKind;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crate::catalog::{Catalog, FileState, LivePairing, LiveVideo, Location, NewPhoto, ScanWrite};

use super::decode::{self, WORKING_EDGE};
use super::format::{self, Format};
use super::{metadata, phash, thumbs};

/// Files above this are refused rather than read into memory.
pub const MAX_FILE_BYTES: u64 = 2 << 30;

/// Cumulative time per stage across workers, in nanoseconds; the scan
/// benchmark reads it to show where the time goes.
#[derive(Debug, Default)]
pub struct StageTimes {
    pub read: AtomicU64,
    pub hash: AtomicU64,
    pub exif: AtomicU64,
    pub decode: AtomicU64,
    pub thumbnail: AtomicU64,
    pub phash: AtomicU64,
    pub database: AtomicU64,
}

impl StageTimes {
    pub fn add(counter: &AtomicU64, since: Instant) {
        counter.fetch_add(since.elapsed().as_nanos() as u64, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> [(&'static str, f64); 7] {
        let s = |c: &AtomicU64| c.load(Ordering::Relaxed) as f64 / 1e9;
        [
            ("read", s(&self.read)),
            ("hash", s(&self.hash)),
            ("exif", s(&self.exif)),
            ("decode", s(&self.decode)),
            ("thumbnail", s(&self.thumbnail)),
            ("phash", s(&self.phash)),
            ("database", s(&self.database)),
        ]
    }
}

pub struct Analyzer<'a> {
    pub catalog: &'a Catalog,
    pub thumbs: &'a thumbs::ThumbCache,
    pub times: &'a StageTimes,
    pub journal: &'a super::journal::DecodeJournal,
}

/// A file's modification time as the catalog stores it. The one
/// definition: "unchanged since the scan" checks (duplicate resolution)
/// compare against what the scan recorded with it.
pub(crate) fn mtime_ns(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

impl Analyzer<'_> {
    /// `None` means "not a photo and not pretending to be one": skip quietly.
    pub fn analyze(&self, root_id: i64, path: &Path) -> Option<ScanWrite> {
        let vanished = || ScanWrite::Vanished {
            root_id,
            path: path.to_path_buf(),
        };
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == ErrorKind::NotFound => return Some(vanished()),
            Err(e) => {
                return Some(ScanWrite::WalkError {
                    root_id,
                    path: path.to_path_buf(),
                    reason: format!("cannot read file information: {e}"),
                })
            }
        };
        let special = crate::regular_file::special_kind(&meta);
        if special.is_some() && !format::looks_like_image(path) {
            return None;
        }
        let at = Location {
            root_id,
            path: path.to_path_buf(),
            size: meta.len(),
            mtime_ns: mtime_ns(&meta),
        };
        let known = match self.catalog.known_file(path) {
            Ok(known) => known,
            Err(e) => {
                tracing::warn!(path = %path.display(), "catalog lookup failed: {e}");
                None
            }
        };
        let video = format::is_video(path);
        if video && self.is_live_movie(&at) {
            // Part of a Live Photo: its still speaks for it.
            return None;
        }
        if let Some(known) = known.filter(|k| k.size == at.size && k.mtime_ns == at.mtime_ns) {
            if video {
                return Some(ScanWrite::Unchanged {
                    file_id: known.id,
                    live: LivePairing::Keep,
                });
            }
            let live = self.live_pairing(path, Some(known.id), || {
                self.still_content_id(path, Some(known.id))
            });
            return Some(ScanWrite::Unchanged {
                file_id: known.id,
                live,
            });
        }
        let known_file_id = known.map(|k| k.id);
        let promises_image = format::looks_like_image(path);
        let failed = |state, reason: String| {
            Some(ScanWrite::Failed {
                at: at.clone(),
                state,
                reason,
            })
        };
        if let Some(kind) = special {
            // A FIFO, socket or device named like a photo: opening it could
            // block forever or read without end.
            return failed(
                FileState::Error,
                format!("not a regular file (a {kind}); it was not opened"),
            );
        }
        if at.size == 0 {
            return promises_image.then(|| ScanWrite::Failed {
                at: at.clone(),
                state: FileState::Error,
                reason: "the file is empty (0 bytes)".into(),
            });
        }
        if video {
            return failed(
                FileState::Unsupported,
                "videos are not indexed yet: the file is listed, and a later version will index it"
                    .into(),
            );
        }
        if at.size > MAX_FILE_BYTES {
            return promises_image.then(|| ScanWrite::Failed {
                at: at.clone(),
                state: FileState::Error,
                reason: format!("the file is too large to read ({} MB)", at.size >> 20),
            });
        }

        if self.journal.strikes(path) >= super::journal::STRIKES_TO_SKIP {
            return failed(
                FileState::Error,
                "Shoebox stopped twice while reading this file (a decoder crash or the memory limit); it is skipped until the file changes".into(),
            );
        }
        // Everything from here to the end may meet a hostile file.
        let _decoding = self.journal.begin(path);

        let started = Instant::now();
        let bytes = match crate::regular_file::read(path, MAX_FILE_BYTES) {
            Ok(b) => b,
            Err(crate::regular_file::Refusal::NotFound) => return Some(vanished()),
            Err(e) => return failed(FileState::Error, format!("the file is {e}")),
        };
        StageTimes::add(&self.times.read, started);

        let head = &bytes[..bytes.len().min(format::SNIFF_LEN)];
        let Some(fmt) = format::sniff(head, path) else {
            return promises_image.then(|| ScanWrite::Failed {
                at: at.clone(),
                state: FileState::Error,
                reason:
                    "not an image: the content is not JPEG, PNG, WebP, GIF, TIFF, BMP, HEIC, AVIF or RAW"
                        .into(),
            });
        };
        let (decodable, decode_format) = match decode::decodable(&bytes, fmt) {
            Ok(pair) => pair,
            Err(reason) => return failed(FileState::Unsupported, reason),
        };

        let started = Instant::now();
        let hash = *blake3::hash(&bytes).as_bytes();
        StageTimes::add(&self.times.hash, started);

        let started = Instant::now();
        let (keywords, keyword_warning) = file_keywords(path, &bytes);
        StageTimes::add(&self.times.exif, started);

        if self.catalog.photo_complete(&hash).unwrap_or(false) {
            // A copy or a moved file of a photo we already know.
            let live = self.live_pairing(path, known_file_id, || {
                self.catalog.content_id_of_photo(&hash).ok().flatten()
            });
            return Some(ScanWrite::Photo {
                at,
                hash,
                photo: None,
                warning: keyword_warning,
                keywords,
                live,
            });
        }

        let started = Instant::now();
        // GIF and BMP carry no EXIF; asking kamadak-exif would only warn.
        let has_exif = !matches!(fmt, Format::Gif | Format::Bmp);
        let (exif, warning) = match if fmt == Format::Jxl {
            metadata::read_jxl(&bytes)
        } else if has_exif {
            metadata::read(&bytes)
        } else {
            Ok(None)
        } {
            Ok(m) => (m.unwrap_or_default(), None),
            Err(w) => (metadata::ExifMeta::default(), Some(w)),
        };
        let orientation = decode::effective_orientation(fmt, exif.orientation);
        let content_id = exif.content_id.clone();
        StageTimes::add(&self.times.exif, started);

        let started = Instant::now();
        let decoded = match decode::decode_reduced(decodable, decode_format, WORKING_EDGE) {
            Ok(d) => d,
            Err(reason) => return failed(FileState::Error, reason),
        };
        let upright = decode::apply_orientation(decoded.image, orientation);
        StageTimes::add(&self.times.decode, started);

        let started = Instant::now();
        // The thumbnail is shown in sRGB; hashes and checks use the pixels as stored.
        let shown =
            (decoded.icc.as_deref()).map(|icc| super::display::to_srgb(upright.clone(), Some(icc)));
        let thumb_ready =
            match self
                .thumbs
                .write(&hash, thumbs::GRID_SIZE, shown.as_ref().unwrap_or(&upright))
            {
                Ok(_) => true,
                Err(e) => {
                    tracing::warn!("{e}");
                    false
                }
            };
        StageTimes::add(&self.times.thumbnail, started);

        let started = Instant::now();
        let phash = phash::perceptual_hash(&upright);
        let crop_hashes = phash::crop_hashes(&upright);
        let sharpness = crate::ingest::quality::sharpness(&upright);
        let content = crate::ingest::quality::content(
            &upright,
            orientation,
            decoded.width,
            decoded.height,
            &fmt.name(),
        );
        StageTimes::add(&self.times.phash, started);

        let (width, height) = decode::upright_size(decoded.width, decoded.height, orientation);
        // Scans, screenshots, messenger copies and edited exports often carry
        // no EXIF date. The date in the file's or folder's name comes next;
        // the file's modification time is the last guess. The source says
        // which, so a later EXIF-aware edit can tell them apart.
        let mut capture = exif.capture;
        (capture.taken_at, capture.taken_at_source) = match capture.taken_at {
            Some(t) => (Some(t), capture.taken_at_source),
            None => match super::name_date::date_from_names(path) {
                Some((t, source)) => (Some(t), Some(source.to_string())),
                None => match metadata::rfc3339_from_unix_ns(at.mtime_ns) {
                    Some(t) => (Some(t), Some("file:modified".to_string())),
                    None => (None, None),
                },
            },
        };
        Some(ScanWrite::Photo {
            at,
            hash,
            photo: Some(Box::new(NewPhoto {
                hash,
                width,
                height,
                format: fmt.name(),
                capture,
                gps: exif.gps,
                orientation,
                phash: Some(phash),
                pixel_hash: Some(decoded.pixel_hash),
                sharpness,
                crop_hashes: Some(crop_hashes),
                content: content.lacking.unwrap_or_default(),
                thumb_ready,
                decoded_from: if matches!(fmt, Format::Raw(_)) {
                    decode::DecodedFrom::EmbeddedPreview
                } else {
                    decoded.from
                }
                .as_str()
                .to_string(),
                content_id: content_id.clone(),
            })),
            warning: [warning, content.truncated, keyword_warning]
                .into_iter()
                .flatten()
                .reduce(|a, b| format!("{a}; {b}")),
            keywords,
            live: self.live_pairing(path, known_file_id, || content_id),
        })
    }

    /// Whether the movie at `path` belongs to a Live Photo: a still with its
    /// name beside it, carrying the same content identifier.
    fn is_live_movie(&self, at: &Location) -> bool {
        let path = at.path.as_path();
        // Paired at an earlier scan and untouched since: no need to read it.
        let recorded = LiveVideo {
            path: at.path.clone(),
            size: at.size,
            mtime_ns: at.mtime_ns,
        };
        if self
            .catalog
            .is_recorded_live_video(&recorded)
            .unwrap_or(false)
        {
            return true;
        }
        let Some(still) = super::live_photo::sibling_still(path) else {
            return false;
        };
        let file_id = match self.catalog.known_file(&still) {
            Ok(known) => known.map(|k| k.id),
            Err(_) => None,
        };
        self.still_content_id(&still, file_id)
            .zip(super::live_photo::video_content_id(path))
            .is_some_and(|(a, b)| a == b)
    }

    /// A still's Live Photo content identifier: as the catalog recorded it
    /// for `file_id`, else read from the file (photos catalogued before
    /// identifiers were recorded, or not catalogued yet).
    fn still_content_id(&self, still: &Path, file_id: Option<i64>) -> Option<String> {
        file_id
            .and_then(|id| self.catalog.content_id_of_file(id).ok().flatten())
            .or_else(|| {
                let bytes = crate::regular_file::read(still, MAX_FILE_BYTES).ok()?;
                metadata::read(&bytes).ok().flatten()?.content_id
            })
    }

    /// Whether the still at `path` (a file already catalogued as
    /// `file_id`, if any) has a Live Photo movie beside it: same name, and
    /// the same content identifier in both (`content_id` gives the still's,
    /// asked only when a movie is there).
    fn live_pairing(
        &self,
        path: &Path,
        file_id: Option<i64>,
        content_id: impl FnOnce() -> Option<String>,
    ) -> LivePairing {
        let recorded = file_id.and_then(|id| self.catalog.live_video_of_file(id).ok().flatten());
        let Some(video) = super::live_photo::sibling_video(path) else {
            return match recorded {
                Some(_) => LivePairing::Clear,
                None => LivePairing::Keep,
            };
        };
        let Ok(meta) = std::fs::metadata(&video) else {
            return LivePairing::Keep;
        };
        let found = LiveVideo {
            path: video,
            size: meta.len(),
            mtime_ns: mtime_ns(&meta),
        };
        if recorded.as_ref() == Some(&found) {
            return LivePairing::Keep;
        }
        let same = content_id()
            .zip(super::live_photo::video_content_id(&found.path))
            .is_some_and(|(still, movie)| still == movie);
        match (same, recorded) {
            (true, _) => LivePairing::Set(found),
            (false, Some(_)) => LivePairing::Clear,
            (false, None) => LivePairing::Keep,
        }
    }
}

/// Bytes searched for an embedded XMP packet: JPEG keeps it in APP1 near the
/// start, PNG and WebP in a chunk before the pixels. Deeper packets (some
/// TIFFs) are not worth a pass over the whole file.
pub(crate) const XMP_SEARCH_BYTES: usize = 512 * 1024;

/// Keywords to import from the file's embedded XMP and IPTC and from its
/// sidecars, mapped onto the vocabulary; unreadable metadata becomes a
/// warning, never a failure.
pub(crate) fn file_keywords(
    path: &Path,
    bytes: &[u8],
) -> (Vec<(String, Option<String>)>, Option<String>) {
    let head = &bytes[..bytes.len().min(XMP_SEARCH_BYTES)];
    let (found, warnings) = crate::tags::xmp::file_keywords(path, Some(head));
    let vocab = crate::tags::vocab::builtin();
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    for k in found {
        if let Ok(pair) = crate::tags::resolve_name(vocab, &k) {
            if !out.iter().any(|(t, _)| *t == pair.0) {
                out.push(pair);
            }
        }
    }
    let warning = (!warnings.is_empty()).then(|| warnings.join("; "));
    (out, warning)
}
