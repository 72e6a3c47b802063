//! Date phrases in the free text ("last summer", "in 2019", "1990s"):
//! found, removed from the text and turned into filters.

use chrono::{Datelike, Days, Months, NaiveDate};

use super::filters::{narrow, period_value};
use super::Filters;

// ---------------------------------------------------------------------------
// Date phrases in the text.

pub(super) enum Item {
    /// An unquoted word that may belong to a date phrase.
    Word(String),
    /// Quoted text: kept as is.
    Literal(String),
    /// Where a filter or negation was: date phrases do not span it.
    Barrier,
}

/// A word prepared for matching.
pub(super) struct W {
    pub(super) raw: String,
    /// Lowercase, without surrounding punctuation.
    pub(super) norm: String,
    /// Starts with a capital letter (after punctuation).
    pub(super) capital: bool,
    /// Ends with punctuation that ends a phrase (`summer, 2019` is two things).
    pub(super) stop: bool,
}

impl W {
    pub(super) fn new(raw: String) -> W {
        let core = raw
            .trim_start_matches(|c: char| "([{'\"".contains(c))
            .trim_end_matches(|c: char| ",.;:!?)]}'\"".contains(c));
        // "last year's", "summer's": the possessive of a word, not of "1990's".
        let core = match core
            .strip_suffix("'s")
            .or_else(|| core.strip_suffix("\u{2019}s"))
        {
            Some(base) if base.ends_with(char::is_alphabetic) => base,
            _ => core,
        };
        W {
            norm: core.to_lowercase(),
            capital: core.chars().next().is_some_and(char::is_uppercase),
            stop: raw.ends_with(|c: char| ",;:!?)]}".contains(c)),
            raw,
        }
    }
}

#[derive(Clone, Copy)]
pub(super) enum Period {
    /// From the first day up to (not including) the second.
    Range(NaiveDate, NaiveDate),
    /// A month or season without a year: its first month and length in months.
    Recurring { first: u32, len: u32 },
}

#[derive(Clone, Copy, PartialEq)]
pub(super) enum Prep {
    /// in, during, from
    Within,
    /// of, on: removed with the date, but no clue for ambiguous words.
    Weak,
    Since,
    Before,
    After,
    Between,
}

/// What a date phrase does to the filters.
pub(super) enum Effect {
    Range(NaiveDate, NaiveDate),
    Months { first: u32, len: u32 },
    After(NaiveDate),
    Before(NaiveDate),
}

/// How sure a month or season word is to mean a date.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Kind {
    /// summer, December: always.
    Plain,
    /// may, march, mar: capitalised, with a year, or after a date word.
    Verb,
    /// spring, fall, jan: with a year, after a date word, or after "this".
    Noun,
}

/// Context a period is read in.
#[derive(Clone, Copy, Default)]
pub(super) struct Ctx {
    /// After in/during/from/since/before/after: ambiguous words are dates.
    clue: bool,
    /// A bare year is a date.
    year_ok: bool,
    /// "the" came first: `during the march` is a noun, not a month.
    article: bool,
}

pub(super) fn recurring(norm: &str) -> Option<(u32, u32, Kind)> {
    use Kind::*;
    Some(match norm {
        "spring" => (3, 3, Noun),
        "summer" => (6, 3, Plain),
        "autumn" => (9, 3, Plain),
        "fall" => (9, 3, Noun),
        "winter" => (12, 3, Plain),
        "january" => (1, 1, Plain),
        "jan" => (1, 1, Noun),
        "february" | "feb" => (2, 1, Plain),
        "march" | "mar" => (3, 1, Verb),
        "april" | "apr" => (4, 1, Plain),
        "may" => (5, 1, Verb),
        "june" | "jun" => (6, 1, Plain),
        "july" | "jul" => (7, 1, Plain),
        "august" | "aug" => (8, 1, Plain),
        "september" | "sep" | "sept" => (9, 1, Plain),
        "october" | "oct" => (10, 1, Plain),
        "november" | "nov" => (11, 1, Plain),
        "december" | "dec" => (12, 1, Plain),
        _ => return None,
    })
}

/// A year a bare number can be: four digits, 1900 to 2099.
pub(super) fn year_of(norm: &str) -> Option<i32> {
    if norm.len() != 4 || !norm.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let y: i32 = norm.parse().ok()?;
    (1900..=2099).contains(&y).then_some(y)
}

pub(super) fn occurrence(year: i32, first: u32, len: u32) -> Option<(NaiveDate, NaiveDate)> {
    let start = NaiveDate::from_ymd_opt(year, first, 1)?;
    Some((start, start.checked_add_months(Months::new(len))?))
}

/// The most recent occurrence that has begun by `today`.
pub(super) fn recent_started(
    today: NaiveDate,
    first: u32,
    len: u32,
) -> Option<(NaiveDate, NaiveDate)> {
    let this = occurrence(today.year(), first, len)?;
    if this.0 <= today {
        Some(this)
    } else {
        occurrence(today.year() - 1, first, len)
    }
}

/// The most recent occurrence that has ended by `today`.
pub(super) fn recent_completed(
    today: NaiveDate,
    first: u32,
    len: u32,
) -> Option<(NaiveDate, NaiveDate)> {
    let mut year = today.year();
    loop {
        let occ = occurrence(year, first, len)?;
        if occ.1 <= today {
            return Some(occ);
        }
        year -= 1;
    }
}

pub(super) fn year_range(a: i32, b: i32) -> Option<Period> {
    Some(Period::Range(
        NaiveDate::from_ymd_opt(a, 1, 1)?,
        NaiveDate::from_ymd_opt(b + 1, 1, 1)?,
    ))
}

/// A single word that is a date on its own: `2019-05`, `2019-05-17`, `2018-2020`.
pub(super) fn dated_token(norm: &str) -> Option<Period> {
    if let Some(p) = decade(norm) {
        return Some(p);
    }
    if let Some((a, b)) = norm.split_once(['-', '\u{2013}']) {
        if let (Some(a), Some(b)) = (year_of(a), year_of(b)) {
            return if a <= b { year_range(a, b) } else { None };
        }
    }
    if !norm.contains('-') {
        return None;
    }
    let (start, end) = period_value(norm).ok()?;
    Some(Period::Range(start, end))
}

/// `1990s` or `1990's`: 1990-01-01 up to 2000-01-01.
pub(super) fn decade(norm: &str) -> Option<Period> {
    let digits = norm.strip_suffix('s')?;
    let digits = digits
        .strip_suffix('\'')
        .or_else(|| digits.strip_suffix('\u{2019}'))
        .unwrap_or(digits);
    let y = year_of(digits)?;
    if y % 10 != 0 {
        return None;
    }
    year_range(y, y + 9)
}

/// The word after `ws[k - 1]`, unless punctuation ends the phrase there.
pub(super) fn next(ws: &[W], k: usize) -> Option<&W> {
    if k == 0 || ws.get(k - 1)?.stop {
        return None;
    }
    ws.get(k)
}

/// A period starting at `ws[j]`: how many words it takes, and what it is.
pub(super) fn period_at(ws: &[W], j: usize, ctx: Ctx, today: NaiveDate) -> Option<(usize, Period)> {
    let w = ws.get(j)?;
    if let Some(p) = dated_token(&w.norm) {
        return Some((1, p));
    }
    let day = |d: NaiveDate| Some(Period::Range(d, d.checked_add_days(Days::new(1))?));
    match w.norm.as_str() {
        "today" => return Some((1, day(today)?)),
        "yesterday" => return Some((1, day(today.checked_sub_days(Days::new(1))?)?)),
        "last" | "this" => {
            let last = w.norm == "last";
            let n = next(ws, j + 1)?;
            let tomorrow = today.checked_add_days(Days::new(1))?;
            let (start, end) = match n.norm.as_str() {
                "year" => occurrence(today.year() - i32::from(last), 1, 12)?,
                "month" => {
                    let this = occurrence(today.year(), today.month(), 1)?;
                    if last {
                        (this.0.checked_sub_months(Months::new(1))?, this.0)
                    } else {
                        this
                    }
                }
                "week" => {
                    let back = if last {
                        7
                    } else {
                        today.weekday().num_days_from_monday()
                    };
                    (today.checked_sub_days(Days::new(back.into()))?, tomorrow)
                }
                other => {
                    let (first, len, kind) = recurring(other)?;
                    if kind == Kind::Verb && !last && !n.capital {
                        return None; // "this may be", "this march"
                    }
                    if last {
                        recent_completed(today, first, len)?
                    } else {
                        recent_started(today, first, len)?
                    }
                }
            };
            return Some((2, Period::Range(start, end)));
        }
        _ => {}
    }
    if let Some((first, len, kind)) = recurring(&w.norm) {
        let year_at = |k: usize| next(ws, k).and_then(|y| year_of(&y.norm));
        let with_year = match next(ws, j + 1) {
            Some(of) if of.norm == "of" => year_at(j + 2).map(|y| (3, y)),
            _ => year_at(j + 1).map(|y| (2, y)),
        };
        if let Some((n, year)) = with_year {
            let (start, end) = occurrence(year, first, len)?;
            return Some((n, Period::Range(start, end)));
        }
        // "winter 2018-2019": the winter that starts in 2018.
        if first == 12 && len == 3 {
            let pair = next(ws, j + 1).and_then(|n| n.norm.split_once(['-', '/', '\u{2013}']));
            if let Some((a, b)) = pair {
                if let (Some(a), Some(b)) = (year_of(a), year_of(b)) {
                    if b == a + 1 {
                        let (start, end) = occurrence(a, first, len)?;
                        return Some((2, Period::Range(start, end)));
                    }
                }
            }
        }
        let ok = match kind {
            Kind::Plain => true,
            Kind::Verb => (ctx.clue && !ctx.article) || w.capital,
            Kind::Noun => ctx.clue,
        };
        return ok.then_some((1, Period::Recurring { first, len }));
    }
    // "2019 summer", "2019 December": a year right before a month or season.
    if let Some(y) = year_of(&w.norm) {
        if let Some(n) = next(ws, j + 1) {
            if let Some((first, len, kind)) = recurring(&n.norm) {
                // "2019 may be": a lowercase verb-like word stays a verb.
                if kind != Kind::Verb || n.capital || ctx.clue {
                    let (start, end) = occurrence(y, first, len)?;
                    return Some((2, Period::Range(start, end)));
                }
            }
        }
    }
    if ctx.year_ok {
        let y = year_of(&w.norm)?;
        return Some((1, year_range(y, y)?));
    }
    None
}

pub(super) const TO: &[&str] = &["to", "until", "till", "through", "-", "\u{2013}"];

/// `P1 to P2` after a dated P1 ending before `ws[k]`: the words used and the range.
pub(super) fn range_tail(
    ws: &[W],
    k: usize,
    connectors: &[&str],
    p1: Period,
    today: NaiveDate,
) -> Option<(usize, NaiveDate, NaiveDate)> {
    let Period::Range(start, _) = p1 else {
        return None;
    };
    let c = next(ws, k)?;
    if !connectors.contains(&c.norm.as_str()) || c.stop {
        return None;
    }
    let ctx = Ctx {
        clue: true,
        year_ok: true,
        article: false,
    };
    match period_at(ws, k + 1, ctx, today)? {
        (n, Period::Range(_, end)) => Some((n + 1, start, end)),
        _ => None,
    }
}

pub(super) fn within(p: Period) -> Effect {
    match p {
        Period::Range(a, b) => Effect::Range(a, b),
        Period::Recurring { first, len } => Effect::Months { first, len },
    }
}

/// A date phrase starting at `ws[i]`: how many words it takes and its effect.
pub(super) fn match_phrase(ws: &[W], i: usize, today: NaiveDate) -> Option<(usize, Effect)> {
    let w = &ws[i];
    let prep = match w.norm.as_str() {
        "in" | "during" | "from" => Some(Prep::Within),
        "of" | "on" => Some(Prep::Weak),
        "since" => Some(Prep::Since),
        "before" => Some(Prep::Before),
        "after" => Some(Prep::After),
        "between" => Some(Prep::Between),
        _ => None,
    };
    if let Some(prep) = prep {
        if let Some(m) = with_prep(ws, i, prep, today) {
            return Some(m);
        }
    }
    without_prep(ws, i, today)
}

pub(super) fn with_prep(
    ws: &[W],
    i: usize,
    prep: Prep,
    today: NaiveDate,
) -> Option<(usize, Effect)> {
    let mut j = i + 1;
    let article = next(ws, j).is_some_and(|w| w.norm == "the");
    if article {
        j += 1;
    }
    next(ws, j)?;
    let ctx = Ctx {
        clue: prep != Prep::Weak,
        year_ok: true,
        article,
    };
    let (n, p) = period_at(ws, j, ctx, today)?;
    let end = j + n;
    let span = |extra: usize| end + extra - i;
    // A month or season with no year, before/after/since: its latest start.
    let resolved = || match p {
        Period::Range(a, b) => Some((a, b)),
        Period::Recurring { first, len } => recent_started(today, first, len),
    };
    Some(match prep {
        Prep::Between => {
            let (extra, a, b) = range_tail(ws, end, &["and"], p, today)?;
            (span(extra), Effect::Range(a, b))
        }
        Prep::Within | Prep::Weak => match range_tail(ws, end, TO, p, today) {
            Some((extra, a, b)) => (span(extra), Effect::Range(a, b)),
            None => (span(0), within(p)),
        },
        Prep::Since => (span(0), Effect::After(resolved()?.0)),
        Prep::Before => (span(0), Effect::Before(resolved()?.0)),
        Prep::After => (span(0), Effect::After(resolved()?.1)),
    })
}

pub(super) fn without_prep(ws: &[W], i: usize, today: NaiveDate) -> Option<(usize, Effect)> {
    let w = &ws[i];
    // "the summer of 2018", "the winter", "the 1990s"
    if w.norm == "the" {
        let season = next(ws, i + 1)
            .is_some_and(|n| recurring(&n.norm).is_some() || decade(&n.norm).is_some());
        if season {
            if let Some((n, p)) = period_at(ws, i + 1, Ctx::default(), today) {
                return Some((n + 1, within(p)));
            }
        }
        return None;
    }
    if let Some((n, p)) = period_at(ws, i, Ctx::default(), today) {
        return Some(match range_tail(ws, i + n, TO, p, today) {
            Some((extra, a, b)) => (n + extra, Effect::Range(a, b)),
            None => (n, within(p)),
        });
    }
    // "2018 to 2020": a bare year is a date when a dated period follows.
    let y = year_of(&w.norm)?;
    let (extra, a, b) = range_tail(ws, i + 1, TO, year_range(y, y)?, today)?;
    Some((1 + extra, Effect::Range(a, b)))
}

/// Removes date phrases from a run of plain words into `filters`, pushing
/// the other words onto `text`.
pub(super) fn extract_dates(
    ws: &[W],
    today: NaiveDate,
    filters: &mut Filters,
    text: &mut Vec<String>,
) {
    let mut i = 0;
    while i < ws.len() {
        let Some((n, effect)) = match_phrase(ws, i, today) else {
            text.push(ws[i].raw.clone());
            i += 1;
            continue;
        };
        match effect {
            Effect::Range(a, b) => narrow(filters, Some(a), Some(b)),
            Effect::After(a) => narrow(filters, Some(a), None),
            Effect::Before(b) => narrow(filters, None, Some(b)),
            Effect::Months { first, len } => {
                filters
                    .months
                    .extend((0..len).map(|k| (first - 1 + k) % 12 + 1));
            }
        }
        i += n;
    }
}
