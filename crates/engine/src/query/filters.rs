//! `key:value` filters: what each key does to [`Filters`].

use chrono::{Days, Months, NaiveDate};

use super::lex::push_unique;
use super::{Filters, QueryError, KNOWN_KEYS, RAW_KINDS, TYPES_HELP};

// ---------------------------------------------------------------------------
// Filters.

pub(super) fn narrow(f: &mut Filters, after: Option<NaiveDate>, before: Option<NaiveDate>) {
    if let Some(a) = after {
        f.after = Some(f.after.map_or(a, |cur| cur.max(a)));
    }
    if let Some(b) = before {
        f.before = Some(f.before.map_or(b, |cur| cur.min(b)));
    }
}

pub(super) fn apply_filter(
    f: &mut Filters,
    key: &str,
    value: &str,
    neg: bool,
) -> Result<(), QueryError> {
    let bad = |reason: &str| QueryError::BadValue {
        key: key.to_string(),
        value: value.to_string(),
        reason: reason.to_string(),
    };
    match key {
        "has" | "no" => {
            if !matches!(value.to_lowercase().as_str(), "gps" | "location") {
                return Err(bad("the only property is gps (or location)"));
            }
            let want = (key == "has") != neg;
            if f.has_gps.is_some_and(|prev| prev != want) {
                return Err(bad("it contradicts an earlier has:gps or no:gps"));
            }
            f.has_gps = Some(want);
        }
        _ if neg => {
            return Err(QueryError::NotNegatable {
                key: key.to_string(),
            })
        }
        "after" => {
            let (start, _) = period_value(value).map_err(bad)?;
            narrow(f, Some(start), None);
        }
        "before" => {
            let (start, _) = period_value(value).map_err(bad)?;
            narrow(f, None, Some(start));
        }
        "year" => {
            if !(value.len() == 4 && value.bytes().all(|b| b.is_ascii_digit())) {
                return Err(bad(
                    "expected a year such as 2019 (date: takes a month or a day)",
                ));
            }
            let (start, end) = period_value(value).map_err(bad)?;
            narrow(f, Some(start), Some(end));
        }
        "date" => {
            let (start, end) = period_value(value).map_err(bad)?;
            narrow(f, Some(start), Some(end));
        }
        "in" => push_unique(&mut f.folders, value),
        "camera" => push_unique(&mut f.cameras, value),
        "tag" => push_unique(&mut f.tags, value),
        "type" => {
            for name in type_names(value).ok_or_else(|| bad(TYPES_HELP))? {
                push_unique(&mut f.types, &name);
            }
        }
        "like" => {
            let id = value
                .parse::<i64>()
                .ok()
                .filter(|id| *id > 0)
                .ok_or_else(|| bad("expected a photo id, a positive whole number"))?;
            if f.like.is_some_and(|prev| prev != id) {
                return Err(bad("only one like: per query"));
            }
            f.like = Some(id);
        }
        _ => {
            return Err(QueryError::UnknownFilter {
                key: key.to_string(),
                known: KNOWN_KEYS,
                closest: super::closest_key(key),
            })
        }
    }
    Ok(())
}

/// Format names the catalog stores for a `type:` value.
pub(super) fn type_names(value: &str) -> Option<Vec<String>> {
    let v = value.to_lowercase();
    let v = v.trim_start_matches('.');
    let one = |s: &str| Some(vec![s.to_string()]);
    match v {
        "jpg" | "jpeg" | "jpe" | "jfif" => one("jpeg"),
        "png" => one("png"),
        "webp" => one("webp"),
        "gif" => one("gif"),
        "tif" | "tiff" => one("tiff"),
        "bmp" | "dib" => one("bmp"),
        "heic" | "heif" | "avif" | "hif" => one("heif"),
        "raw" => Some(RAW_KINDS.iter().map(|k| format!("raw-{k}")).collect()),
        _ => {
            let kind = v.strip_prefix("raw-").unwrap_or(v);
            RAW_KINDS
                .contains(&kind)
                .then(|| vec![format!("raw-{kind}")])
        }
    }
}

/// `YYYY`, `YYYY-MM` or `YYYY-MM-DD` as a half-open range of days.
pub(super) fn period_value(value: &str) -> Result<(NaiveDate, NaiveDate), &'static str> {
    const SHAPE: &str = "expected YYYY, YYYY-MM or YYYY-MM-DD";
    let parts: Vec<&str> = value.split('-').collect();
    let digits = |s: &str, min: usize, max: usize| {
        (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    if parts.len() > 3 || !digits(parts[0], 4, 4) || !parts[1..].iter().all(|p| digits(p, 1, 2)) {
        return Err(SHAPE);
    }
    let year: i32 = parts[0].parse().map_err(|_| SHAPE)?;
    let num = |i: usize| parts.get(i).map(|p| p.parse::<u32>().unwrap_or(0));
    let (start, months, days) = match (num(1), num(2)) {
        (None, _) => (NaiveDate::from_ymd_opt(year, 1, 1), 12, 0),
        (Some(m), day) => {
            if !(1..=12).contains(&m) {
                return Err("the month must be 1 to 12");
            }
            match day {
                None => (NaiveDate::from_ymd_opt(year, m, 1), 1, 0),
                Some(d) => match NaiveDate::from_ymd_opt(year, m, d) {
                    Some(date) => (Some(date), 0, 1),
                    None => return Err("there is no such day"),
                },
            }
        }
    };
    let start = start.ok_or("the year is out of range")?;
    let end = start
        .checked_add_months(Months::new(months))
        .and_then(|d| d.checked_add_days(Days::new(days)))
        .ok_or("the year is out of range")?;
    Ok((start, end))
}
