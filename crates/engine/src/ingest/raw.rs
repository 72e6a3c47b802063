//! Cheap extraction of the previews cameras embed in RAW files. We only
//! follow offsets already in the file's structure (no RAW decoding), and take
//! the largest preview we find: a JPEG, or a JPEG XL (DNG 1.7, e.g. Apple
//! ProRAW).

use super::format::Format;

/// The largest embedded preview and its format, or `None` when the RAW
/// carries none we can reach.
pub fn embedded_preview<'a>(bytes: &'a [u8], kind: &str) -> Option<(&'a [u8], Format)> {
    let candidates = match kind {
        "raf" => raf_preview(bytes).into_iter().collect(),
        "cr3" => cr3_preview(bytes).into_iter().collect(),
        _ => tiff_previews(bytes),
    };
    candidates
        .into_iter()
        .filter(|(off, len)| {
            *len > 2 && off.checked_add(*len).is_some_and(|end| end <= bytes.len())
        })
        .map(|(off, len)| &bytes[off..off + len])
        .filter_map(|data| preview_format(data).map(|f| (data, f)))
        .max_by_key(|(data, _)| data.len())
}

fn preview_format(data: &[u8]) -> Option<Format> {
    if data.starts_with(&[0xFF, 0xD8]) {
        Some(Format::Jpeg)
    } else if data.starts_with(&[0xFF, 0x0A]) || data.starts_with(b"\0\0\0\x0CJXL ") {
        Some(Format::Jxl)
    } else {
        None
    }
}

/// Fujifilm RAF: a fixed header holds the preview's offset and length.
fn raf_preview(bytes: &[u8]) -> Option<(usize, usize)> {
    let be32 = |at: usize| -> Option<usize> {
        Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?) as usize)
    };
    Some((be32(84)?, be32(88)?))
}

/// How far into a CR3 the preview box is looked for: it follows the
/// metadata, long before the sensor data.
const CR3_SEARCH_BYTES: usize = 16 << 20;

/// Canon CR3 (ISO BMFF): the `PRVW` box inside Canon's preview `uuid` box
/// holds a 1620x1080 JPEG after a short header (unknowns, size, JPEG
/// length). We take the JPEG from its start marker to the end of the box.
fn cr3_preview(bytes: &[u8]) -> Option<(usize, usize)> {
    let head = &bytes[..bytes.len().min(CR3_SEARCH_BYTES)];
    let at = head.windows(4).position(|w| w == b"PRVW")?;
    let start = at.checked_sub(4)?;
    let size = u32::from_be_bytes(bytes.get(start..at)?.try_into().ok()?) as usize;
    let end = start.checked_add(size)?;
    let header = bytes.get(at + 4..(at + 36).min(end).min(bytes.len()))?;
    let soi = header.windows(2).position(|w| w == [0xFF, 0xD8])? + at + 4;
    Some((soi, end.checked_sub(soi)?))
}

struct Tiff<'a> {
    bytes: &'a [u8],
    little: bool,
}

impl Tiff<'_> {
    fn u16(&self, at: usize) -> Option<u16> {
        let b: [u8; 2] = self.bytes.get(at..at + 2)?.try_into().ok()?;
        Some(if self.little {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        })
    }
    fn u32(&self, at: usize) -> Option<u32> {
        let b: [u8; 4] = self.bytes.get(at..at + 4)?.try_into().ok()?;
        Some(if self.little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }

    /// The values of a SHORT or LONG entry (inline or at its offset).
    fn values(&self, entry: usize) -> Vec<u32> {
        let (Some(kind), Some(count)) = (self.u16(entry + 2), self.u32(entry + 4)) else {
            return Vec::new();
        };
        let count = count.min(64) as usize;
        let width = match kind {
            3 => 2,
            4 | 13 => 4,
            _ => return Vec::new(),
        };
        let base = if width * count <= 4 {
            entry + 8
        } else {
            match self.u32(entry + 8) {
                Some(off) => off as usize,
                None => return Vec::new(),
            }
        };
        (0..count)
            .filter_map(|i| match width {
                2 => self.u16(base + 2 * i).map(u32::from),
                _ => self.u32(base + 4 * i),
            })
            .collect()
    }
}

fn tiff_previews(bytes: &[u8]) -> Vec<(usize, usize)> {
    let little = match bytes.get(0..2) {
        Some(b"II") => true,
        Some(b"MM") => false,
        _ => return Vec::new(),
    };
    let tiff = Tiff { bytes, little };
    let Some(first) = tiff.u32(4) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let mut queue = vec![(first as usize, 0u8)];
    let mut visited = std::collections::HashSet::new();
    // Bounded so that a malicious or looping directory chain cannot hang us.
    while let Some((ifd, depth)) = queue.pop() {
        if ifd == 0 || depth > 3 || visited.len() > 64 || !visited.insert(ifd) {
            continue;
        }
        let Some(n) = tiff.u16(ifd) else { continue };
        let (mut jpeg_off, mut jpeg_len) = (None, None);
        let (mut strip_off, mut strip_len, mut compression) = (Vec::new(), Vec::new(), 0);
        let (mut tile_off, mut tile_len) = (Vec::new(), Vec::new());
        for i in 0..n.min(512) as usize {
            let entry = ifd + 2 + 12 * i;
            let Some(tag) = tiff.u16(entry) else { break };
            let first_value = || tiff.values(entry).first().copied();
            match tag {
                0x0201 => jpeg_off = first_value(),
                0x0202 => jpeg_len = first_value(),
                0x0103 => compression = first_value().unwrap_or(0),
                0x0111 => strip_off = tiff.values(entry),
                0x0117 => strip_len = tiff.values(entry),
                0x0144 => tile_off = tiff.values(entry),
                0x0145 => tile_len = tiff.values(entry),
                // Panasonic RW2's JpgFromRaw: the JPEG is the value itself
                // (UNDEFINED bytes at the value offset).
                0x002E => {
                    if let (Some(len), Some(off)) = (tiff.u32(entry + 4), tiff.u32(entry + 8)) {
                        found.push((off as usize, len as usize));
                    }
                }
                0x014A => queue.extend(
                    tiff.values(entry)
                        .into_iter()
                        .map(|o| (o as usize, depth + 1)),
                ),
                _ => {}
            }
        }
        if let (Some(off), Some(len)) = (jpeg_off, jpeg_len) {
            found.push((off as usize, len as usize));
        }
        // Old-style JPEG (6), JPEG (7) and JPEG XL (52546, DNG 1.7) stored
        // as a single strip or tile.
        if matches!(compression, 6 | 7 | 52546) {
            for (off, len) in [(&strip_off, &strip_len), (&tile_off, &tile_len)] {
                if off.len() == 1 && len.len() == 1 {
                    found.push((off[0] as usize, len[0] as usize));
                }
            }
        }
        if let Some(next) = tiff.u32(ifd + 2 + 12 * n as usize) {
            queue.push((next as usize, depth));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_and_loops_do_not_hang_or_panic() {
        assert!(embedded_preview(b"II*\0\x08\0\0\0\x01\0", "nef").is_none());
        // IFD whose next pointer points at itself.
        let mut looped = b"II*\0\x08\0\0\0".to_vec();
        looped.extend_from_slice(&[0, 0, 8, 0, 0, 0]);
        assert!(embedded_preview(&looped, "dng").is_none());
        assert!(embedded_preview(&[0xFF; 100], "raf").is_none());
        assert!(embedded_preview(b"\0\0\0\x08PRVW", "cr3").is_none());
        assert!(embedded_preview(b"\xFF\xFF\xFF\xFFPRVW\xFF\xD8", "cr3").is_none());
    }
}
