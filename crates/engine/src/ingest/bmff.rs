//! ISO base media file format boxes (HEIF, AVIF, JPEG XL containers,
//! QuickTime movies): size, type, payload, one after another. The one box
//! walker every container reader here uses.

/// One box: its type, its payload (cut short when the data ends first),
/// and whether all of it was there.
pub struct BmffBox<'a> {
    pub kind: [u8; 4],
    pub payload: &'a [u8],
    pub complete: bool,
}

/// The boxes in `data`, in order. Stops at the first malformed header and
/// after a box that runs past the end.
pub struct Boxes<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Boxes<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Boxes { data, at: 0 }
    }
}

impl<'a> Iterator for Boxes<'a> {
    type Item = BmffBox<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        let head = self.data.get(self.at..self.at + 8)?;
        let size = u32::from_be_bytes(head[..4].try_into().ok()?) as u64;
        let kind: [u8; 4] = head[4..8].try_into().ok()?;
        let (start, size) = match size {
            // Runs to the end of the data.
            0 => (self.at + 8, (self.data.len() - self.at) as u64),
            // A 64-bit size follows the type.
            1 => {
                let large = self.data.get(self.at + 8..self.at + 16)?;
                (self.at + 16, u64::from_be_bytes(large.try_into().ok()?))
            }
            n if n >= 8 => (self.at + 8, n),
            _ => return None,
        };
        let end = self.at.checked_add(usize::try_from(size).ok()?)?;
        if end < start || start > self.data.len() {
            return None;
        }
        let complete = end <= self.data.len();
        let payload = &self.data[start..end.min(self.data.len())];
        self.at = end;
        Some(BmffBox {
            kind,
            payload,
            complete,
        })
    }
}

/// The payload of the first box of type `kind` in `data`, if all of it is
/// there.
pub fn find<'a>(data: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    Boxes::new(data)
        .find(|b| &b.kind == kind)
        .filter(|b| b.complete)
        .map(|b| b.payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_stop_at_garbage_and_know_when_cut_short() {
        assert!(find(b"\0\0\0\x04moov", b"moov").is_none());
        assert!(find(b"\xFF\xFF\xFF\xFFmoov", b"moov").is_none());
        assert_eq!(find(b"\0\0\0\x09moovX", b"moov"), Some(&b"X"[..]));
        let cut = Boxes::new(b"\0\0\0\x10moovXY").next().unwrap();
        assert_eq!((cut.payload, cut.complete), (&b"XY"[..], false));
        assert_eq!(
            find(b"\0\0\0\x01moov\0\0\0\0\0\0\0\x11Z", b"moov"),
            Some(&b"Z"[..])
        );
    }
}
