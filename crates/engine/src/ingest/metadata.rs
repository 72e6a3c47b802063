//! EXIF metadata through kamadak-exif.
//!
//! Taken-at: DateTimeOriginal (with OffsetTimeOriginal when present), else
//! DateTimeDigitized, else the IFD0 DateTime. Without an offset the wall-clock
//! time is written as RFC 3339 in the computer's local time zone at that date,
//! because cameras record local time and that is what the user remembers.
//! Without any EXIF date, `taken_at` is null and timelines fall back to the
//! file's modification time.

use exif::{Exif, In, Tag, Value};

use crate::catalog::Capture;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExifMeta {
    pub capture: Capture,
    pub gps: Option<(f64, f64)>,
    /// 1..=8 as in the EXIF spec; 1 when absent or invalid.
    pub orientation: u16,
    /// A Live Photo still's content identifier (Apple's maker note).
    pub content_id: Option<String>,
}

/// Reads EXIF from any container kamadak-exif understands. `Ok(None)` means
/// the file simply has no EXIF; `Err` means it has a block we could not parse,
/// which the caller records as a warning and carries on.
pub fn read(bytes: &[u8]) -> Result<Option<ExifMeta>, String> {
    let reader = exif::Reader::new();
    match reader.read_from_container(&mut std::io::Cursor::new(bytes)) {
        Ok(exif) => Ok(Some(extract(&exif))),
        Err(exif::Error::NotFound(_)) => Ok(None),
        Err(e) => Err(format!(
            "EXIF block is unreadable ({e}); imported without camera metadata"
        )),
    }
}

/// EXIF of a JPEG XL file: the container's `Exif` box (a 4-byte offset to
/// the TIFF header, then TIFF), which kamadak-exif does not look for. A bare
/// codestream has no EXIF.
pub fn read_jxl(bytes: &[u8]) -> Result<Option<ExifMeta>, String> {
    let Some(payload) = super::bmff::find(bytes, b"Exif") else {
        return Ok(None);
    };
    let offset = payload
        .get(..4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .unwrap_or(usize::MAX);
    let tiff = payload
        .get(4usize.saturating_add(offset)..)
        .ok_or("EXIF block is unreadable (its offset points past the box); imported without camera metadata")?;
    match exif::Reader::new().read_raw(tiff.to_vec()) {
        Ok(exif) => Ok(Some(extract(&exif))),
        Err(e) => Err(format!(
            "EXIF block is unreadable ({e}); imported without camera metadata"
        )),
    }
}

fn extract(exif: &Exif) -> ExifMeta {
    let (taken_at, taken_at_source) = taken_at(exif)
        .map(|(t, s)| (Some(t), Some(s.to_string())))
        .unwrap_or((None, None));
    ExifMeta {
        capture: Capture {
            taken_at,
            taken_at_source,
            camera_make: text(exif, Tag::Make),
            camera_model: text(exif, Tag::Model),
            lens: text(exif, Tag::LensModel).or_else(|| text(exif, Tag::LensMake)),
        },
        gps: gps(exif),
        orientation: exif
            .get_field(Tag::Orientation, In::PRIMARY)
            .and_then(|f| f.value.get_uint(0))
            .filter(|o| (1..=8).contains(o))
            .unwrap_or(1) as u16,
        content_id: super::live_photo::still_content_id(exif),
    }
}

fn text(exif: &Exif, tag: Tag) -> Option<String> {
    let field = exif.get_field(tag, In::PRIMARY)?;
    let Value::Ascii(parts) = &field.value else {
        return None;
    };
    let raw = parts.first()?;
    let s = String::from_utf8_lossy(raw);
    let s = s.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    (!s.is_empty()).then(|| s.to_string())
}

fn taken_at(exif: &Exif) -> Option<(String, &'static str)> {
    let candidates = [
        (
            Tag::DateTimeOriginal,
            Tag::OffsetTimeOriginal,
            "exif:DateTimeOriginal",
        ),
        (
            Tag::DateTimeDigitized,
            Tag::OffsetTimeDigitized,
            "exif:DateTimeDigitized",
        ),
        (Tag::DateTime, Tag::OffsetTime, "exif:DateTime"),
    ];
    candidates
        .iter()
        .find_map(|(date_tag, offset_tag, source)| {
            let date = text(exif, *date_tag)?;
            let offset = text(exif, *offset_tag);
            parse_exif_datetime(&date, offset.as_deref()).map(|t| (t, *source))
        })
}

/// "2019:05:04 13:22:10" plus an optional "+02:00" into RFC 3339.
pub fn parse_exif_datetime(date: &str, offset: Option<&str>) -> Option<String> {
    use chrono::{FixedOffset, LocalResult, NaiveDateTime, TimeZone};
    let date = date.trim();
    let naive = NaiveDateTime::parse_from_str(date, "%Y:%m:%d %H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(date, "%Y-%m-%d %H:%M:%S"))
        .or_else(|_| NaiveDateTime::parse_from_str(date, "%Y:%m:%d %H:%M"))
        .ok()?;
    if naive.and_utc().timestamp() <= 0 {
        // "0000:00:00 00:00:00" and the 1970 epoch are unset clocks, not dates.
        return None;
    }
    let with_offset = offset
        .and_then(|o| {
            chrono::DateTime::parse_from_str(
                &format!("2000-01-01T00:00:00{o}"),
                "%Y-%m-%dT%H:%M:%S%:z",
            )
            .ok()
        })
        .map(|d| *d.offset())
        .and_then(|off: FixedOffset| off.from_local_datetime(&naive).single());
    let rendered = match with_offset {
        Some(t) => t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
        None => match chrono::Local.from_local_datetime(&naive) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t
                .fixed_offset()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
            LocalResult::None => naive
                .and_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        },
    };
    Some(rendered)
}

/// A file timestamp (nanoseconds since the epoch) as RFC 3339 in the local
/// time zone, like EXIF dates without an offset.
pub fn rfc3339_from_unix_ns(ns: i64) -> Option<String> {
    use chrono::TimeZone;
    if ns <= 0 {
        return None;
    }
    let utc = chrono::Utc.timestamp_nanos(ns);
    Some(
        utc.with_timezone(&chrono::Local)
            .fixed_offset()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
    )
}

fn gps(exif: &Exif) -> Option<(f64, f64)> {
    let coord = |tag: Tag, ref_tag: Tag, negative: u8| -> Option<f64> {
        let field = exif.get_field(tag, In::PRIMARY)?;
        let Value::Rational(parts) = &field.value else {
            return None;
        };
        if parts.len() < 3 || parts.iter().any(|r| r.denom == 0) {
            return None;
        }
        let v = parts[0].to_f64() + parts[1].to_f64() / 60.0 + parts[2].to_f64() / 3600.0;
        let sign = match exif.get_field(ref_tag, In::PRIMARY).map(|f| &f.value) {
            Some(Value::Ascii(r)) if r.first().and_then(|s| s.first()) == Some(&negative) => -1.0,
            _ => 1.0,
        };
        Some(sign * v)
    };
    let lat = coord(Tag::GPSLatitude, Tag::GPSLatitudeRef, b'S')?;
    let lon = coord(Tag::GPSLongitude, Tag::GPSLongitudeRef, b'W')?;
    // Exactly (0, 0) is what many devices write when they had no fix.
    let valid = lat.abs() <= 90.0 && lon.abs() <= 180.0 && !(lat == 0.0 && lon == 0.0);
    valid.then_some((lat, lon))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dates_with_and_without_offset() {
        assert_eq!(
            parse_exif_datetime("2019:05:04 13:22:10", Some("+02:00")).as_deref(),
            Some("2019-05-04T13:22:10+02:00")
        );
        let local = parse_exif_datetime("2019:05:04 13:22:10", None).unwrap();
        assert!(local.starts_with("2019-05-04T13:22:10"), "{local}");
        assert_eq!(parse_exif_datetime("0000:00:00 00:00:00", None), None);
        assert_eq!(parse_exif_datetime("garbage", None), None);
    }
}
