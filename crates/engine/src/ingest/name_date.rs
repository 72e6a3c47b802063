//! Dates in file and folder names, for photos without an EXIF date (issue
//! 21: a thousand undated photos all filed under the day they were copied).
//! Phones and apps write the capture time into the name
//! (`IMG_20190714_153012.jpg`, `PXL_20210203_123456789.jpg`,
//! `IMG-20190714-WA0001.jpg`, `2019-07-14 15.30.12.jpg`,
//! `Screenshot_20190714-153012.png`), and people name folders by month
//! (`2013-07 Rome`). A name date is trusted only when it is a real calendar
//! date between 1990 and next year; the time, when the name has none, is
//! noon, so that no time zone moves it to another day.

use std::path::Path;

use chrono::{Datelike, NaiveDate};

/// `taken_at_source` for a date read from the file's name.
pub const FROM_FILE_NAME: &str = "name:file";
/// `taken_at_source` for a date read from its folder's name.
pub const FROM_FOLDER_NAME: &str = "name:folder";

/// The date in the file's name, else in its folder's name, as RFC 3339 in
/// the local time zone (like EXIF dates without an offset), with its source.
pub fn date_from_names(path: &Path) -> Option<(String, &'static str)> {
    let stem = path.file_stem()?.to_string_lossy();
    if let Some(t) = date_in_file_name(&stem) {
        return Some((t, FROM_FILE_NAME));
    }
    let folder = path.parent()?.file_name()?.to_string_lossy();
    date_in_folder_name(&folder).map(|t| (t, FROM_FOLDER_NAME))
}

/// A date (and a time, when there is one) anywhere in a file name.
pub fn date_in_file_name(name: &str) -> Option<String> {
    let b = name.as_bytes();
    (0..b.len())
        .filter(|&i| i == 0 || !b[i - 1].is_ascii_digit())
        .find_map(|i| compact_at(b, i).or_else(|| separated_at(b, i)))
}

/// A month or a day at the start of a folder name: `2013-07 Rome`,
/// `2013_07_14 beach`, `2013-07`. A bare year is not enough: `2019/` holds
/// a whole year, and its photos would all land on one day.
pub fn date_in_folder_name(name: &str) -> Option<String> {
    let b = name.as_bytes();
    let year = digits(b, 0, 4)?;
    let sep = *b.get(4)?;
    if !matches!(sep, b'-' | b'_' | b'.') {
        return None;
    }
    let month = digits(b, 5, 2)?;
    let (day, end) = match (b.get(7), digits(b, 8, 2)) {
        (Some(&s), Some(day)) if s == sep => (day, 10),
        _ => (1, 7),
    };
    if b.get(end).is_some_and(|c| c.is_ascii_digit()) {
        return None;
    }
    render(year, month, day, None)
}

/// `YYYYMMDD`, then optionally `[_-T ]HHMMSS` (more digits, such as
/// Pixel's milliseconds, may follow).
fn compact_at(b: &[u8], i: usize) -> Option<String> {
    let (year, month, day) = (digits(b, i, 4)?, digits(b, i + 4, 2)?, digits(b, i + 6, 2)?);
    if b.get(i + 8).is_some_and(|c| c.is_ascii_digit()) {
        return None;
    }
    let time = match b.get(i + 8) {
        Some(b'_' | b'-' | b'T' | b' ') => (|| {
            Some((
                digits(b, i + 9, 2)?,
                digits(b, i + 11, 2)?,
                digits(b, i + 13, 2)?,
            ))
        })(),
        _ => None,
    };
    render(year, month, day, time.filter(|t| valid_time(*t)))
        .or_else(|| render(year, month, day, None))
}

/// `YYYY-MM-DD` (or with `_` or `.`), then optionally a time
/// `HH.MM.SS`, `HH-MM-SS` or `HH:MM:SS` after a space, `_`, `-`, `T` or
/// " at " (macOS screenshots).
fn separated_at(b: &[u8], i: usize) -> Option<String> {
    let year = digits(b, i, 4)?;
    let sep = *b.get(i + 4)?;
    if !matches!(sep, b'-' | b'_' | b'.') || b.get(i + 7) != Some(&sep) {
        return None;
    }
    let (month, day) = (digits(b, i + 5, 2)?, digits(b, i + 8, 2)?);
    if b.get(i + 10).is_some_and(|c| c.is_ascii_digit()) {
        return None;
    }
    let rest = &b[(i + 10).min(b.len())..];
    let at = if rest.starts_with(b" at ") {
        4
    } else if matches!(rest.first(), Some(b' ' | b'_' | b'-' | b'T')) {
        1
    } else {
        usize::MAX
    };
    let time = (at != usize::MAX)
        .then(|| {
            let t = &rest[at..];
            let ok = |k: usize| matches!(t.get(k), Some(b'.' | b'-' | b':' | b'_'));
            if ok(2) && ok(5) {
                Some((digits(t, 0, 2)?, digits(t, 3, 2)?, digits(t, 6, 2)?))
            } else {
                None
            }
        })
        .flatten();
    render(year, month, day, time.filter(|t| valid_time(*t)))
        .or_else(|| render(year, month, day, None))
}

fn valid_time((h, m, s): (u32, u32, u32)) -> bool {
    h < 24 && m < 60 && s < 60
}

/// `n` ASCII digits at `at`, as a number.
fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let s = b.get(at..at + n)?;
    s.iter()
        .all(u8::is_ascii_digit)
        .then(|| s.iter().fold(0, |v, d| v * 10 + (d - b'0') as u32))
}

fn render(year: u32, month: u32, day: u32, time: Option<(u32, u32, u32)>) -> Option<String> {
    let latest = chrono::Local::now().year() + 1;
    if !(1990..=latest).contains(&(year as i32)) {
        return None;
    }
    NaiveDate::from_ymd_opt(year as i32, month, day)?;
    let (h, m, s) = time.unwrap_or((12, 0, 0));
    super::metadata::parse_exif_datetime(
        &format!("{year:04}:{month:02}:{day:02} {h:02}:{m:02}:{s:02}"),
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wall-clock part of the RFC 3339 answer (the offset is the test
    /// machine's).
    fn local(name: &str) -> Option<String> {
        date_in_file_name(name).map(|t| t[..19].to_string())
    }

    #[test]
    fn real_world_file_names() {
        let cases: &[(&str, Option<&str>)] = &[
            // Android cameras, Samsung, Pixel (milliseconds after the time).
            ("IMG_20190714_153012", Some("2019-07-14T15:30:12")),
            ("VID_20190714_153012", Some("2019-07-14T15:30:12")),
            ("20190714_153012", Some("2019-07-14T15:30:12")),
            ("PXL_20210203_123456789", Some("2021-02-03T12:34:56")),
            (
                "PXL_20210203_123456789.PORTRAIT",
                Some("2021-02-03T12:34:56"),
            ),
            ("Screenshot_20190714-153012", Some("2019-07-14T15:30:12")),
            (
                "Screenshot_20190714-153012_Chrome",
                Some("2019-07-14T15:30:12"),
            ),
            ("MVIMG_20181224_200102", Some("2018-12-24T20:01:02")),
            // WhatsApp: a date, no time.
            ("IMG-20190714-WA0001", Some("2019-07-14T12:00:00")),
            ("VID-20200101-WA0012", Some("2020-01-01T12:00:00")),
            // Dropbox camera uploads, macOS screenshots, exports.
            ("2019-07-14 15.30.12", Some("2019-07-14T15:30:12")),
            ("2019-07-14 15.30.12-1", Some("2019-07-14T15:30:12")),
            (
                "Screenshot 2019-07-14 at 15.30.12",
                Some("2019-07-14T15:30:12"),
            ),
            ("photo_2019-07-14_15-30-12", Some("2019-07-14T15:30:12")),
            ("2019-07-14", Some("2019-07-14T12:00:00")),
            ("Holiday 2019_07_14", Some("2019-07-14T12:00:00")),
            // A time that is not one keeps the date.
            ("IMG_20190714_996012", Some("2019-07-14T12:00:00")),
            // Not dates: counters, impossible dates, too old or future.
            ("IMG_1234", None),
            ("DSC01234", None),
            ("P1000001", None),
            ("IMG_20191345_101010", None),
            ("IMG_20190230", None),
            ("scan_19850704", None),
            ("29990101_000000", None),
            ("123456789012", None),
            ("holiday", None),
            ("", None),
        ];
        for (name, want) in cases {
            assert_eq!(local(name).as_deref(), *want, "{name}");
        }
    }

    #[test]
    fn folder_names_give_months_and_days_not_years() {
        let at = |name: &str| date_in_folder_name(name).map(|t| t[..19].to_string());
        assert_eq!(at("2013-07 Rome").as_deref(), Some("2013-07-01T12:00:00"));
        assert_eq!(
            at("2013_07_14 beach").as_deref(),
            Some("2013-07-14T12:00:00")
        );
        assert_eq!(at("2013-07").as_deref(), Some("2013-07-01T12:00:00"));
        assert_eq!(at("2019"), None);
        assert_eq!(at("2013-13 nope"), None);
        assert_eq!(at("2013-071"), None);
        assert_eq!(at("Rome 2013-07"), None);
    }

    #[test]
    fn the_file_name_wins_over_the_folder() {
        let p = Path::new("/photos/2013-07 Rome/IMG_20130715_101010.jpg");
        let (t, source) = date_from_names(p).unwrap();
        assert_eq!((&t[..19], source), ("2013-07-15T10:10:10", FROM_FILE_NAME));
        let p = Path::new("/photos/2013-07 Rome/DSC01234.jpg");
        let (t, source) = date_from_names(p).unwrap();
        assert_eq!(
            (&t[..19], source),
            ("2013-07-01T12:00:00", FROM_FOLDER_NAME)
        );
        assert_eq!(
            date_from_names(Path::new("/photos/2019/DSC01234.jpg")),
            None
        );
    }
}
