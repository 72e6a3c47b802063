//! Live Photos: an iPhone saves the still (HEIC or JPEG) and a short
//! QuickTime movie side by side, `IMG_1234.HEIC` and `IMG_1234.MOV`, both
//! carrying the same content identifier (the still in Apple's maker note,
//! tag 0x11; the movie as `com.apple.quicktime.content.identifier`). Such a
//! movie belongs to its still: it is not a separate item, and it goes
//! wherever the still goes (the trash included).
//!
//! Only the identifiers are read: the movie's `moov` box is found by
//! seeking over the others, so a large `mdat` is never read.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::bmff::{find as find_box, Boxes};

/// The movie names an iPhone gives a Live Photo's video, in the order tried.
const VIDEO_EXTENSIONS: [&str; 2] = ["MOV", "mov"];

/// The most of a movie's `moov` box we read: metadata and sample tables of
/// a few seconds of video are far below this.
const MAX_MOOV_BYTES: u64 = 16 << 20;

const CONTENT_ID_KEY: &[u8] = b"com.apple.quicktime.content.identifier";

/// The movie next to `still` with the same name, if there is one.
pub fn sibling_video(still: &Path) -> Option<PathBuf> {
    VIDEO_EXTENSIONS
        .iter()
        .map(|ext| still.with_extension(ext))
        .find(|p| p.is_file())
}

/// The still names a Live Photo's movie may belong to.
const STILL_EXTENSIONS: [&str; 6] = ["HEIC", "heic", "JPG", "jpg", "JPEG", "jpeg"];

/// The still beside `movie` with the same name, if there is one.
pub fn sibling_still(movie: &Path) -> Option<PathBuf> {
    STILL_EXTENSIONS
        .iter()
        .map(|e| movie.with_extension(e))
        .find(|p| p.is_file())
}

/// For a movie the watcher saw appear, change or go: the catalogued still
/// it may belong to, whose pairing should be looked at again.
pub fn catalogued_still(catalog: &crate::catalog::Catalog, movie: &Path) -> Option<PathBuf> {
    let ext = movie.extension()?.to_str()?;
    if !VIDEO_EXTENSIONS.contains(&ext) {
        return None;
    }
    STILL_EXTENSIONS
        .iter()
        .map(|e| movie.with_extension(e))
        .find(|still| matches!(catalog.known_file(still), Ok(Some(_))))
}

/// The Live Photo content identifier of a still's EXIF, from Apple's maker
/// note: "Apple iOS\0", a version, "MM", then a big-endian IFD whose
/// offsets count from the start of the note.
pub fn still_content_id(exif: &exif::Exif) -> Option<String> {
    let field = exif.get_field(exif::Tag::MakerNote, exif::In::PRIMARY)?;
    let exif::Value::Undefined(note, _) = &field.value else {
        return None;
    };
    if !note.starts_with(b"Apple iOS\0") || note.get(12..14) != Some(b"MM") {
        return None;
    }
    let u16_at = |at: usize| Some(u16::from_be_bytes(note.get(at..at + 2)?.try_into().ok()?));
    let u32_at = |at: usize| Some(u32::from_be_bytes(note.get(at..at + 4)?.try_into().ok()?));
    let entries = u16_at(14)? as usize;
    for i in 0..entries.min(256) {
        let entry = 16 + 12 * i;
        if u16_at(entry)? != 0x0011 || u16_at(entry + 2)? != 2 {
            continue;
        }
        let count = u32_at(entry + 4)? as usize;
        let text = if count <= 4 {
            note.get(entry + 8..entry + 8 + count)?
        } else {
            let at = u32_at(entry + 8)? as usize;
            note.get(at..at.checked_add(count)?)?
        };
        return clean(text);
    }
    None
}

/// The content identifier of a QuickTime movie: in `moov/meta`, the
/// `keys` box lists metadata keys and the `ilst` box holds one item per
/// key index, whose `data` box carries the value after 8 bytes of type and
/// locale.
pub fn video_content_id(path: &Path) -> Option<String> {
    let moov = read_moov(path)?;
    let meta = find_box(&moov, b"meta")?;
    // QuickTime's `meta` is a plain box; MP4's is a full box (4 more bytes).
    let children = if find_box(meta, b"hdlr").is_some() {
        meta
    } else {
        meta.get(4..)?
    };
    let keys = find_box(children, b"keys")?;
    let ilst = find_box(children, b"ilst")?;
    // keys: version/flags, count, then (size, namespace, name) entries.
    let count = u32::from_be_bytes(keys.get(4..8)?.try_into().ok()?);
    let mut at = 8;
    let mut index = None;
    for i in 1..=count.min(1024) {
        let size = u32::from_be_bytes(keys.get(at..at + 4)?.try_into().ok()?) as usize;
        if size < 8 {
            return None;
        }
        if keys.get(at + 8..at + size)? == CONTENT_ID_KEY {
            index = Some(i);
            break;
        }
        at += size;
    }
    let index = index?;
    for item in Boxes::new(ilst).take_while(|b| b.complete) {
        if u32::from_be_bytes(item.kind) == index {
            let data = find_box(item.payload, b"data")?;
            return clean(data.get(8..)?);
        }
    }
    None
}

fn clean(text: &[u8]) -> Option<String> {
    let s = String::from_utf8_lossy(text);
    let s = s.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    (!s.is_empty() && s.len() <= 128).then(|| s.to_string())
}

/// The payload of a movie's top-level `moov` box, found by seeking over
/// the boxes before it.
fn read_moov(path: &Path) -> Option<Vec<u8>> {
    let mut file = crate::regular_file::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let mut at = 0u64;
    let mut head = [0u8; 16];
    while at + 8 <= len {
        file.seek(SeekFrom::Start(at)).ok()?;
        file.read_exact(&mut head[..8]).ok()?;
        let mut size = u32::from_be_bytes(head[..4].try_into().ok()?) as u64;
        let mut header = 8;
        if size == 1 {
            file.read_exact(&mut head[8..16]).ok()?;
            size = u64::from_be_bytes(head[8..16].try_into().ok()?);
            header = 16;
        } else if size == 0 {
            size = len - at;
        }
        if size < header {
            return None;
        }
        if &head[4..8] == b"moov" {
            let payload = (size - header).min(len - at - header);
            if payload > MAX_MOOV_BYTES {
                return None;
            }
            let mut moov = vec![0u8; payload as usize];
            file.read_exact(&mut moov).ok()?;
            return Some(moov);
        }
        at = at.checked_add(size)?;
    }
    None
}
