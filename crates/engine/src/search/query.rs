//! The search query language: free text to embed, concepts to subtract and
//! filters, parsed from one line such as
//! `dog on the beach -people in:"Summer Trip" last summer`.
//!
//! Parsing is pure: [`parse`] takes the date "today" so relative phrases
//! ("last year") are deterministic, and never touches the catalog.
//!
//! The user-facing syntax follows (kept in `docs/query-language.md`).
#![doc = include_str!("../../../../docs/query-language.md")]

use chrono::{Datelike, Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

/// A parsed search: what to embed, what to subtract, and how to filter.
/// Shells that build queries from UI controls send this same structure
/// (as JSON) instead of a string, so both paths run one search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Query {
    /// Free text to embed, with filters and date phrases removed and whitespace collapsed. May be empty.
    pub text: String,
    /// Concepts to subtract ("-dog", "not dog", "-\"red car\"", "not \"red car\"").
    pub negative: Vec<String>,
    pub filters: Filters,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Filters {
    /// Taken on or after this local date (inclusive).
    pub after: Option<NaiveDate>,
    /// Taken before this local date (exclusive).
    pub before: Option<NaiveDate>,
    /// Month-of-year constraint (1..=12, sorted, no repeats), any year:
    /// "December" = `[12]`, "summer" = `[6, 7, 8]`. Several = any. Empty = no constraint.
    pub months: Vec<u32>,
    /// `in:NAME` — a folder whose name contains NAME (case-insensitive). Several = any of them.
    pub folders: Vec<String>,
    /// `camera:X` — make or model contains X (case-insensitive). Several = any.
    pub cameras: Vec<String>,
    /// `tag:X` — has tag X. Several = all of them.
    pub tags: Vec<String>,
    /// `has:gps` / `-has:gps` (or `no:gps`).
    pub has_gps: Option<bool>,
    /// `type:png`, `type:jpeg`: format names as the catalog stores them
    /// ("jpeg", "png", "webp", "gif", "tiff", "bmp", "heif", "raw-nef", ...).
    /// Aliases are normalised (jpg→jpeg, tif→tiff, heic/avif→heif) and
    /// `type:raw` expands to every "raw-KIND". Several = any.
    pub types: Vec<String>,
    /// `like:ID` — a catalog photo id whose image embedding is mixed into the query ("like this one but at night").
    pub like: Option<i64>,
}

/// Why a query could not be parsed. Messages are written for the user.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QueryError {
    /// `colour:red`: a word of letters before `:` that is not a filter key.
    #[error("unknown filter '{key}:' (the filters are {known}; put the word in quotes to search for it as text)")]
    UnknownFilter { key: String, known: &'static str },
    /// A filter value that cannot be used: `after:2019-13`, `type:mp4`,
    /// `like:abc`, `in:` with nothing after it.
    #[error("{key}:{value} is not valid: {reason}")]
    BadValue {
        key: String,
        value: String,
        reason: String,
    },
    /// `-tag:x`, `not in:x`: only has: and no: can be negated.
    #[error("-{key}: cannot be negated (only has: and no: can; use -word or not word to subtract a concept)")]
    NotNegatable { key: String },
    /// `not in 2019`, `not summer`: dates cannot be excluded.
    #[error("'not {phrase}': a date cannot be negated; use before: or after: instead")]
    NegatedDate { phrase: String },
    /// The date constraints together leave no day, e.g. `after:2020 before:2019`.
    #[error("no photo can match: the dates ask for on or after {after} and before {before}")]
    EmptyDateRange { after: NaiveDate, before: NaiveDate },
}

/// The filter keys, as error messages list them.
const KNOWN_KEYS: &str = "after, before, year, date, in, camera, tag, has, no, type, like";
const KEYS: &[&str] = &[
    "after", "before", "year", "date", "in", "camera", "tag", "has", "no", "type", "like",
];

/// RAW kinds as ingest names them ("raw-KIND"); `type:raw` means all of them.
const RAW_KINDS: &[&str] = &[
    "nef", "nrw", "cr2", "cr3", "arw", "srf", "sr2", "dng", "pef", "3fr", "erf", "kdc", "mef",
    "mos", "srw", "iiq", "rwl", "raf", "orf", "rw2",
];
const TYPES_HELP: &str = "known types are jpeg (jpg), png, webp, gif, tiff (tif), bmp, heif (heic, avif), raw, or a RAW kind such as nef, cr2, dng";

/// Words `not` carries along to the next real word: `not in the rain`.
const LITTLE_WORDS: &[&str] = &[
    "a", "an", "the", "in", "on", "at", "with", "of", "by", "for", "to",
];

/// Parses a query. `today` is injected so tests are deterministic
/// ("last year" = today.year() - 1).
pub fn parse(input: &str, today: NaiveDate) -> Result<Query, QueryError> {
    let chunks = lex(input);
    let mut filters = Filters::default();
    let mut negative: Vec<String> = Vec::new();
    let mut items: Vec<Item> = Vec::new();

    let mut i = 0;
    while i < chunks.len() {
        let chunk = &chunks[i];
        i += 1;
        match classify(chunk)? {
            Class::Filter { key, value, neg } => {
                apply_filter(&mut filters, &key, &value, neg)?;
                items.push(Item::Barrier);
            }
            Class::Negative(concept) => {
                push_unique(&mut negative, &concept);
                items.push(Item::Barrier);
            }
            Class::Literal(text) => items.push(Item::Literal(text)),
            Class::Nothing => {}
            Class::Word(raw) if raw == "-" && i == chunks.len() => {}
            Class::Word(raw) if raw.eq_ignore_ascii_case("not") => {
                if i == chunks.len() {
                    continue; // trailing "not": still typing
                }
                match not_target(&chunks[i..], today)? {
                    NotTarget::Filter { key, value, neg } => {
                        apply_filter(&mut filters, &key, &value, neg)?;
                        items.push(Item::Barrier);
                        i += 1;
                    }
                    NotTarget::Concept { concept, chunks } => {
                        if !concept.is_empty() {
                            push_unique(&mut negative, &concept);
                        }
                        items.push(Item::Barrier);
                        i += chunks;
                    }
                    NotTarget::None => items.push(Item::Word(raw)),
                }
            }
            Class::Word(raw) => items.push(Item::Word(raw)),
        }
    }

    // Date phrases, within runs of plain words.
    let mut text: Vec<String> = Vec::new();
    let mut run: Vec<W> = Vec::new();
    for item in items.into_iter().chain(std::iter::once(Item::Barrier)) {
        match item {
            Item::Word(raw) => run.push(W::new(raw)),
            other => {
                extract_dates(&run, today, &mut filters, &mut text);
                run.clear();
                if let Item::Literal(t) = other {
                    text.push(t);
                }
            }
        }
    }

    filters.months.sort_unstable();
    filters.months.dedup();
    if let (Some(after), Some(before)) = (filters.after, filters.before) {
        if after >= before {
            return Err(QueryError::EmptyDateRange { after, before });
        }
    }
    Ok(Query {
        // Removing a phrase can strand a separator: "balloon, summer".
        text: text
            .join(" ")
            .trim_end_matches([',', ';', ':'])
            .trim_end()
            .to_string(),
        negative,
        filters,
    })
}

// ---------------------------------------------------------------------------
// Lexing: whitespace-separated chunks, with quotes.

/// One whitespace-separated piece of the input. A quote opens at the start
/// of a chunk, after its leading `-`, or right after `key:`.
#[derive(Debug, Clone)]
struct Chunk {
    /// The source text, for chunks that turn out to be plain text.
    raw: String,
    /// Starts with `-` and is longer than `-`.
    neg: bool,
    /// The letters before the first `:`, when the chunk (after `-`) starts that way.
    key: Option<String>,
    /// What follows `key:` (or the chunk after `-`), without quotes.
    body: String,
    quoted: bool,
}

fn is_open_quote(c: char) -> bool {
    c == '"' || c == '\u{201C}'
}

fn is_close_quote(c: char) -> bool {
    c == '"' || c == '\u{201D}'
}

fn lex(input: &str) -> Vec<Chunk> {
    let chars: Vec<char> = input.chars().collect();
    let n = chars.len();
    let mut out = Vec::new();
    let mut i = 0;
    while i < n {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let neg = chars[i] == '-' && i + 1 < n && !chars[i + 1].is_whitespace();
        if neg {
            i += 1;
        }
        let mut j = i;
        while j < n && chars[j].is_alphabetic() {
            j += 1;
        }
        let mut key = None;
        if j > i && j < n && chars[j] == ':' {
            key = Some(chars[i..j].iter().collect::<String>());
            i = j + 1;
        }
        let (body, quoted) = if i < n && is_open_quote(chars[i]) {
            let open = i + 1;
            let mut close = open;
            while close < n && !is_close_quote(chars[close]) {
                close += 1;
            }
            let body: String = chars[open..close].iter().collect();
            i = (close + 1).min(n);
            // Anything glued to the closing quote (`"red car",`) is dropped.
            while i < n && !chars[i].is_whitespace() {
                i += 1;
            }
            (body, true)
        } else {
            let from = i;
            while i < n && !chars[i].is_whitespace() {
                i += 1;
            }
            (chars[from..i].iter().collect(), false)
        };
        out.push(Chunk {
            raw: chars[start..i].iter().collect(),
            neg,
            key,
            body,
            quoted,
        });
    }
    out
}

enum Class {
    Filter {
        key: String,
        value: String,
        neg: bool,
    },
    Negative(String),
    Literal(String),
    Word(String),
    Nothing,
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn trim_end_punct(s: &str) -> &str {
    s.trim_end_matches(|c: char| ",.;:!?".contains(c))
}

fn classify(c: &Chunk) -> Result<Class, QueryError> {
    if let Some(key) = &c.key {
        if !c.quoted && c.body.starts_with("//") {
            return Ok(Class::Word(c.raw.clone())); // a link, not a filter
        }
        let lower = key.to_lowercase();
        let known = KEYS.contains(&lower.as_str());
        let value = c.body.trim();
        if value.is_empty() && !c.quoted && !known {
            return Ok(Class::Word(c.raw.clone())); // "note:"
        }
        if !known {
            return Err(QueryError::UnknownFilter {
                key: key.clone(),
                known: KNOWN_KEYS,
            });
        }
        if value.is_empty() {
            return Err(QueryError::BadValue {
                key: lower,
                value: String::new(),
                reason: "it needs a value".into(),
            });
        }
        // An unquoted value ends before a trailing separator: `in:Trips, beach`.
        let value = if c.quoted {
            value
        } else {
            value.trim_end_matches([',', ';'])
        };
        if value.is_empty() {
            return Err(QueryError::BadValue {
                key: lower,
                value: c.body.clone(),
                reason: "it needs a value".into(),
            });
        }
        return Ok(Class::Filter {
            key: lower,
            value: value.to_string(),
            neg: c.neg,
        });
    }
    if c.quoted {
        let s = collapse(&c.body);
        return Ok(match (s.is_empty(), c.neg) {
            (true, _) => Class::Nothing,
            (false, true) => Class::Negative(s),
            (false, false) => Class::Literal(s),
        });
    }
    if c.neg && c.body.chars().next().is_some_and(char::is_alphabetic) {
        return Ok(Class::Negative(trim_end_punct(&c.body).to_string()));
    }
    Ok(Class::Word(c.raw.clone()))
}

enum NotTarget {
    /// `not key:value`: the filter, with its negation flipped.
    Filter {
        key: String,
        value: String,
        neg: bool,
    },
    /// A concept to subtract and how many chunks it used.
    Concept { concept: String, chunks: usize },
    /// `not` stays text.
    None,
}

/// What a `not` followed by `rest` (non-empty) negates.
fn not_target(rest: &[Chunk], today: NaiveDate) -> Result<NotTarget, QueryError> {
    let next = &rest[0];
    if next.key.is_some() {
        let mut flipped = next.clone();
        flipped.neg = !flipped.neg;
        return Ok(match classify(&flipped)? {
            Class::Filter { key, value, neg } => NotTarget::Filter { key, value, neg },
            _ => NotTarget::None,
        });
    }
    if next.quoted && !next.neg {
        return Ok(NotTarget::Concept {
            concept: collapse(&next.body),
            chunks: 1,
        });
    }
    if next.quoted || next.neg {
        return Ok(NotTarget::None);
    }
    // Plain words: refuse dates, then take little words plus one real word.
    let words: Vec<W> = rest
        .iter()
        .take_while(|c| c.key.is_none() && !c.quoted && !c.neg)
        .map(|c| W::new(c.raw.clone()))
        .collect();
    if let Some((len, _)) = match_phrase(&words, 0, today) {
        let phrase = words[..len]
            .iter()
            .map(|w| w.raw.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        return Err(QueryError::NegatedDate { phrase });
    }
    let mut end = 0;
    while end + 1 < words.len()
        && LITTLE_WORDS.contains(&words[end].norm.as_str())
        && !words[end].stop
    {
        end += 1;
    }
    let concept = trim_end_punct(
        &words[..=end]
            .iter()
            .map(|w| w.raw.as_str())
            .collect::<Vec<_>>()
            .join(" "),
    )
    .to_string();
    // "not 10:30", "not the" (still typing): `not` stays text.
    if !concept.chars().any(char::is_alphabetic) || LITTLE_WORDS.contains(&words[end].norm.as_str())
    {
        return Ok(NotTarget::None);
    }
    Ok(NotTarget::Concept {
        concept,
        chunks: end + 1,
    })
}

fn push_unique(list: &mut Vec<String>, value: &str) {
    if !list
        .iter()
        .any(|v| v.to_lowercase() == value.to_lowercase())
    {
        list.push(value.to_string());
    }
}

// ---------------------------------------------------------------------------
// Filters.

fn narrow(f: &mut Filters, after: Option<NaiveDate>, before: Option<NaiveDate>) {
    if let Some(a) = after {
        f.after = Some(f.after.map_or(a, |cur| cur.max(a)));
    }
    if let Some(b) = before {
        f.before = Some(f.before.map_or(b, |cur| cur.min(b)));
    }
}

fn apply_filter(f: &mut Filters, key: &str, value: &str, neg: bool) -> Result<(), QueryError> {
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
            })
        }
    }
    Ok(())
}

/// Format names the catalog stores for a `type:` value.
fn type_names(value: &str) -> Option<Vec<String>> {
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
fn period_value(value: &str) -> Result<(NaiveDate, NaiveDate), &'static str> {
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

// ---------------------------------------------------------------------------
// Date phrases in the text.

enum Item {
    /// An unquoted word that may belong to a date phrase.
    Word(String),
    /// Quoted text: kept as is.
    Literal(String),
    /// Where a filter or negation was: date phrases do not span it.
    Barrier,
}

/// A word prepared for matching.
struct W {
    raw: String,
    /// Lowercase, without surrounding punctuation.
    norm: String,
    /// Starts with a capital letter (after punctuation).
    capital: bool,
    /// Ends with punctuation that ends a phrase (`summer, 2019` is two things).
    stop: bool,
}

impl W {
    fn new(raw: String) -> W {
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
enum Period {
    /// From the first day up to (not including) the second.
    Range(NaiveDate, NaiveDate),
    /// A month or season without a year: its first month and length in months.
    Recurring { first: u32, len: u32 },
}

#[derive(Clone, Copy, PartialEq)]
enum Prep {
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
enum Effect {
    Range(NaiveDate, NaiveDate),
    Months { first: u32, len: u32 },
    After(NaiveDate),
    Before(NaiveDate),
}

/// How sure a month or season word is to mean a date.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// summer, December: always.
    Plain,
    /// may, march, mar: capitalised, with a year, or after a date word.
    Verb,
    /// spring, fall, jan: with a year, after a date word, or after "this".
    Noun,
}

/// Context a period is read in.
#[derive(Clone, Copy, Default)]
struct Ctx {
    /// After in/during/from/since/before/after: ambiguous words are dates.
    clue: bool,
    /// A bare year is a date.
    year_ok: bool,
    /// "the" came first: `during the march` is a noun, not a month.
    article: bool,
}

fn recurring(norm: &str) -> Option<(u32, u32, Kind)> {
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
fn year_of(norm: &str) -> Option<i32> {
    if norm.len() != 4 || !norm.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let y: i32 = norm.parse().ok()?;
    (1900..=2099).contains(&y).then_some(y)
}

fn occurrence(year: i32, first: u32, len: u32) -> Option<(NaiveDate, NaiveDate)> {
    let start = NaiveDate::from_ymd_opt(year, first, 1)?;
    Some((start, start.checked_add_months(Months::new(len))?))
}

/// The most recent occurrence that has begun by `today`.
fn recent_started(today: NaiveDate, first: u32, len: u32) -> Option<(NaiveDate, NaiveDate)> {
    let this = occurrence(today.year(), first, len)?;
    if this.0 <= today {
        Some(this)
    } else {
        occurrence(today.year() - 1, first, len)
    }
}

/// The most recent occurrence that has ended by `today`.
fn recent_completed(today: NaiveDate, first: u32, len: u32) -> Option<(NaiveDate, NaiveDate)> {
    let mut year = today.year();
    loop {
        let occ = occurrence(year, first, len)?;
        if occ.1 <= today {
            return Some(occ);
        }
        year -= 1;
    }
}

fn year_range(a: i32, b: i32) -> Option<Period> {
    Some(Period::Range(
        NaiveDate::from_ymd_opt(a, 1, 1)?,
        NaiveDate::from_ymd_opt(b + 1, 1, 1)?,
    ))
}

/// A single word that is a date on its own: `2019-05`, `2019-05-17`, `2018-2020`.
fn dated_token(norm: &str) -> Option<Period> {
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
fn decade(norm: &str) -> Option<Period> {
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
fn next(ws: &[W], k: usize) -> Option<&W> {
    if k == 0 || ws.get(k - 1)?.stop {
        return None;
    }
    ws.get(k)
}

/// A period starting at `ws[j]`: how many words it takes, and what it is.
fn period_at(ws: &[W], j: usize, ctx: Ctx, today: NaiveDate) -> Option<(usize, Period)> {
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

const TO: &[&str] = &["to", "until", "till", "through", "-", "\u{2013}"];

/// `P1 to P2` after a dated P1 ending before `ws[k]`: the words used and the range.
fn range_tail(
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

fn within(p: Period) -> Effect {
    match p {
        Period::Range(a, b) => Effect::Range(a, b),
        Period::Recurring { first, len } => Effect::Months { first, len },
    }
}

/// A date phrase starting at `ws[i]`: how many words it takes and its effect.
fn match_phrase(ws: &[W], i: usize, today: NaiveDate) -> Option<(usize, Effect)> {
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

fn with_prep(ws: &[W], i: usize, prep: Prep, today: NaiveDate) -> Option<(usize, Effect)> {
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

fn without_prep(ws: &[W], i: usize, today: NaiveDate) -> Option<(usize, Effect)> {
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
fn extract_dates(ws: &[W], today: NaiveDate, filters: &mut Filters, text: &mut Vec<String>) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// Friday 15 March 2024.
    fn today() -> NaiveDate {
        d(2024, 3, 15)
    }

    fn p(input: &str) -> Query {
        parse(input, today()).unwrap_or_else(|e| panic!("{input:?} failed: {e}"))
    }

    fn err(input: &str) -> QueryError {
        match parse(input, today()) {
            Ok(q) => panic!("{input:?} parsed as {q:?}"),
            Err(e) => e,
        }
    }

    /// (after, before) of a query.
    fn range(q: &Query) -> (Option<NaiveDate>, Option<NaiveDate>) {
        (q.filters.after, q.filters.before)
    }

    fn span(a: NaiveDate, b: NaiveDate) -> (Option<NaiveDate>, Option<NaiveDate>) {
        (Some(a), Some(b))
    }

    fn bad_value(e: QueryError) -> (String, String) {
        match e {
            QueryError::BadValue { key, value, .. } => (key, value),
            other => panic!("expected BadValue, got {other:?}"),
        }
    }

    // --- free text -------------------------------------------------------

    #[test]
    fn empty_and_blank_queries() {
        assert_eq!(p(""), Query::default());
        assert_eq!(p("   \t  "), Query::default());
    }

    #[test]
    fn free_text_keeps_order_and_case_and_collapses_whitespace() {
        let q = p("  Dog   on the\tBeach  ");
        assert_eq!(q.text, "Dog on the Beach");
        assert!(q.negative.is_empty());
        assert_eq!(q.filters, Filters::default());
    }

    #[test]
    fn hyphenated_words_are_text() {
        let q = p("kid in a t-shirt x-ray well-lit");
        assert_eq!(q.text, "kid in a t-shirt x-ray well-lit");
        assert!(q.negative.is_empty());
    }

    #[test]
    fn numbers_are_not_dates() {
        assert_eq!(p("3 cats").text, "3 cats");
        assert_eq!(p("route 66").text, "route 66");
        assert_eq!(p("1984 poster").text, "1984 poster");
        // A bare year without a preposition stays text.
        let q = p("beach 2019");
        assert_eq!(q.text, "beach 2019");
        assert_eq!(range(&q), (None, None));
        // Outside 1900..=2099 a number is not a year even after "in".
        let q = p("in 1850");
        assert_eq!(q.text, "in 1850");
        assert_eq!(range(&q), (None, None));
        assert_eq!(p("-5 degrees").text, "-5 degrees");
    }

    #[test]
    fn times_links_and_trailing_colons_are_text() {
        let q = p("sunset at 10:30 or 5:45pm");
        assert_eq!(q.text, "sunset at 10:30 or 5:45pm");
        let q = p("screenshot of https://example.com/a:b");
        assert_eq!(q.text, "screenshot of https://example.com/a:b");
        assert_eq!(p("note: cats").text, "note: cats");
        assert_eq!(p("ratio 16:9").text, "ratio 16:9");
    }

    #[test]
    fn quoted_text_is_literal() {
        let q = p(r#""summer of 2018" "in 2019" "colour:red" "not dog" "May""#);
        assert_eq!(q.text, "summer of 2018 in 2019 colour:red not dog May");
        assert_eq!(q.filters, Filters::default());
        assert!(q.negative.is_empty());
        // Inner whitespace collapses; empty quotes vanish; unterminated runs to the end.
        assert_eq!(p(r#"a "  red   car " "" b"#).text, "a red car b");
        assert_eq!(p(r#"cat "black   hat"#).text, "cat black hat");
        // Typographic quotes work too.
        assert_eq!(p("\u{201C}in 2019\u{201D} band").text, "in 2019 band");
        // A quote inside a word is just a character.
        assert_eq!(p(r#"5" screen"#).text, r#"5" screen"#);
    }

    // --- negatives -------------------------------------------------------

    #[test]
    fn negation_forms() {
        let q = p(r#"beach -dog -"red car" not cat not "blue bike" NOT Rain"#);
        assert_eq!(q.text, "beach");
        assert_eq!(q.negative, ["dog", "red car", "cat", "blue bike", "Rain"]);
    }

    #[test]
    fn negation_details() {
        // Trailing punctuation is not part of the concept.
        assert_eq!(p("beach -dog, sun").negative, ["dog"]);
        // `not` carries little words along to the next real word.
        let q = p("picnic not in the rain please");
        assert_eq!(q.negative, ["in the rain"]);
        assert_eq!(q.text, "picnic please");
        assert_eq!(p("not a dog").negative, ["a dog"]);
        // Repeats are kept once.
        assert_eq!(p("-dog -Dog not dog").negative, ["dog"]);
        // Empty negatives vanish.
        let q = p(r#"cat -"" not """#);
        assert_eq!(q.text, "cat");
        assert!(q.negative.is_empty());
        // A negated hyphenated word.
        assert_eq!(p("-t-shirt").negative, ["t-shirt"]);
    }

    #[test]
    fn lone_dash_and_not() {
        // Trailing: dropped (still typing).
        assert_eq!(p("dog -"), p("dog"));
        assert_eq!(p("dog not"), p("dog"));
        assert_eq!(p("not"), Query::default());
        // Elsewhere a lone dash is punctuation and stays.
        let q = p("beach - sunset");
        assert_eq!(q.text, "beach - sunset");
        assert!(q.negative.is_empty());
        // "not" before something it cannot negate stays text.
        let q = p("not -dog");
        assert_eq!(q.text, "not");
        assert_eq!(q.negative, ["dog"]);
        assert_eq!(p("not 10:30").text, "not 10:30");
        let q = p("dog not the");
        assert_eq!(q.text, "dog not the");
        assert!(q.negative.is_empty());
    }

    #[test]
    fn negated_dates_are_errors() {
        for input in [
            "cats not in 2019",
            "not summer",
            "not last year",
            "not today",
        ] {
            assert!(
                matches!(err(input), QueryError::NegatedDate { .. }),
                "{input}"
            );
        }
        assert_eq!(
            err("not in 2019"),
            QueryError::NegatedDate {
                phrase: "in 2019".into()
            }
        );
        // A quoted date after "not" is a concept.
        assert_eq!(p(r#"not "summer""#).negative, ["summer"]);
    }

    // --- filters -----------------------------------------------------------

    #[test]
    fn date_filters() {
        assert_eq!(p("after:2019").filters.after, Some(d(2019, 1, 1)));
        assert_eq!(p("after:2019-05").filters.after, Some(d(2019, 5, 1)));
        assert_eq!(p("after:2019-05-17").filters.after, Some(d(2019, 5, 17)));
        assert_eq!(p("after:2019-5-7").filters.after, Some(d(2019, 5, 7)));
        assert_eq!(p("before:2019").filters.before, Some(d(2019, 1, 1)));
        assert_eq!(p("before:2019-05").filters.before, Some(d(2019, 5, 1)));
        assert_eq!(p("before:2019-05-17").filters.before, Some(d(2019, 5, 17)));
        assert_eq!(range(&p("year:2019")), span(d(2019, 1, 1), d(2020, 1, 1)));
        assert_eq!(range(&p("date:2019")), span(d(2019, 1, 1), d(2020, 1, 1)));
        assert_eq!(
            range(&p("date:2019-12")),
            span(d(2019, 12, 1), d(2020, 1, 1))
        );
        assert_eq!(
            range(&p("date:2020-02-29")),
            span(d(2020, 2, 29), d(2020, 3, 1))
        );
        assert_eq!(range(&p(r#"after:"2019-05""#)), (Some(d(2019, 5, 1)), None));
    }

    #[test]
    fn date_constraints_intersect() {
        let q = p("after:2017 after:2018-06 before:2021 before:2020-03 year:2019");
        assert_eq!(range(&q), span(d(2019, 1, 1), d(2020, 1, 1)));
        let q = p("after:2019-06 in 2019");
        assert_eq!(range(&q), span(d(2019, 6, 1), d(2020, 1, 1)));
        let q = p("summer 2018 after:2018-07-04");
        assert_eq!(range(&q), span(d(2018, 7, 4), d(2018, 9, 1)));
    }

    #[test]
    fn empty_date_range_is_an_error() {
        assert_eq!(
            err("after:2020 before:2019"),
            QueryError::EmptyDateRange {
                after: d(2020, 1, 1),
                before: d(2019, 1, 1)
            }
        );
        assert!(matches!(
            err("year:2019 in 2020"),
            QueryError::EmptyDateRange { .. }
        ));
        assert!(matches!(
            err("after:2019 before:2019"),
            QueryError::EmptyDateRange { .. }
        ));
    }

    #[test]
    fn bad_date_values() {
        assert_eq!(
            bad_value(err("after:2019-13")),
            ("after".into(), "2019-13".into())
        );
        assert_eq!(
            bad_value(err("before:2019-02-30")),
            ("before".into(), "2019-02-30".into())
        );
        for input in [
            "after:19",
            "after:2019-00",
            "after:2019-05-17-1",
            "after:20190517",
            "after:yesterday",
            "date:2019-1x",
            "year:2019-05",
            "year:19",
            "year:abcd",
        ] {
            bad_value(err(input));
        }
        let msg = err("after:2019-13").to_string();
        assert!(
            msg.contains("after:2019-13") && msg.contains("1 to 12"),
            "{msg}"
        );
    }

    #[test]
    fn string_filters() {
        let q = p(
            r#"in:Trips in:"Summer Trip" camera:canon camera:"EOS R5" tag:beach tag:"family dinner""#,
        );
        assert_eq!(q.text, "");
        assert_eq!(q.filters.folders, ["Trips", "Summer Trip"]);
        assert_eq!(q.filters.cameras, ["canon", "EOS R5"]);
        assert_eq!(q.filters.tags, ["beach", "family dinner"]);
        // Repeats (any case) are kept once.
        assert_eq!(p("tag:Beach tag:beach").filters.tags, ["Beach"]);
        // Values keep everything after the first colon.
        assert_eq!(p("camera:a:b").filters.cameras, ["a:b"]);
        // A trailing separator ends an unquoted value; quoted values keep it.
        let q = p(r#"in:Trips, beach in:"Odd;""#);
        assert_eq!(q.filters.folders, ["Trips", "Odd;"]);
        assert_eq!(q.text, "beach");
        bad_value(err("in:,"));
    }

    #[test]
    fn keys_are_case_insensitive() {
        let q = p("IN:Trips Camera:Nikon TAG:x Has:GPS Type:PNG After:2019 LIKE:5");
        assert_eq!(q.filters.folders, ["Trips"]);
        assert_eq!(q.filters.cameras, ["Nikon"]);
        assert_eq!(q.filters.tags, ["x"]);
        assert_eq!(q.filters.has_gps, Some(true));
        assert_eq!(q.filters.types, ["png"]);
        assert_eq!(q.filters.after, Some(d(2019, 1, 1)));
        assert_eq!(q.filters.like, Some(5));
    }

    #[test]
    fn gps_filters() {
        assert_eq!(p("has:gps").filters.has_gps, Some(true));
        assert_eq!(p("has:location").filters.has_gps, Some(true));
        assert_eq!(p("-has:gps").filters.has_gps, Some(false));
        assert_eq!(p("no:gps").filters.has_gps, Some(false));
        assert_eq!(p("-no:gps").filters.has_gps, Some(true));
        assert_eq!(p("not has:gps").filters.has_gps, Some(false));
        assert_eq!(p("has:gps has:gps").filters.has_gps, Some(true));
        assert_eq!(
            bad_value(err("has:gps no:gps")),
            ("no".into(), "gps".into())
        );
        assert_eq!(bad_value(err("has:faces")), ("has".into(), "faces".into()));
    }

    #[test]
    fn type_filters() {
        let types = |s: &str| p(s).filters.types;
        assert_eq!(types("type:jpg"), ["jpeg"]);
        assert_eq!(types("type:JPEG type:jpe"), ["jpeg"]);
        assert_eq!(types("type:png type:tif"), ["png", "tiff"]);
        assert_eq!(types("type:heic type:avif type:heif"), ["heif"]);
        assert_eq!(
            types("type:.webp type:gif type:dib"),
            ["webp", "gif", "bmp"]
        );
        assert_eq!(types("type:nef type:raw-dng"), ["raw-nef", "raw-dng"]);
        let raw = types("type:raw");
        assert_eq!(raw.len(), RAW_KINDS.len());
        assert!(raw.iter().all(|t| t.starts_with("raw-")));
        assert!(raw.contains(&"raw-cr2".to_string()));
        let e = err("type:mp4");
        assert_eq!(bad_value(e.clone()), ("type".into(), "mp4".into()));
        assert!(e.to_string().contains("jpeg"), "{e}");
    }

    #[test]
    fn like_filter() {
        let q = p("like:42 at night");
        assert_eq!(q.filters.like, Some(42));
        assert_eq!(q.text, "at night");
        assert_eq!(p("like:42 like:42").filters.like, Some(42));
        for input in ["like:abc", "like:0", "like:-3", "like:1.5", "like:1 like:2"] {
            assert_eq!(bad_value(err(input)).0, "like", "{input}");
        }
    }

    #[test]
    fn filters_only_query_has_empty_text() {
        let q = p("in:Trips has:gps after:2019 type:jpg");
        assert_eq!(q.text, "");
        assert!(q.negative.is_empty());
        assert_eq!(q.filters.folders, ["Trips"]);
    }

    #[test]
    fn empty_filter_value_is_an_error() {
        assert_eq!(
            err("dog in:"),
            QueryError::BadValue {
                key: "in".into(),
                value: String::new(),
                reason: "it needs a value".into()
            }
        );
        bad_value(err(r#"tag:"""#));
        bad_value(err("-has:"));
    }

    #[test]
    fn unknown_filter_is_an_error() {
        let e = err("car colour:red");
        assert_eq!(
            e,
            QueryError::UnknownFilter {
                key: "colour".into(),
                known: KNOWN_KEYS
            }
        );
        let msg = e.to_string();
        for key in KEYS {
            assert!(msg.contains(key), "{msg} lacks {key}");
        }
        assert!(matches!(
            err("-colour:red"),
            QueryError::UnknownFilter { .. }
        ));
        assert!(matches!(
            err(r#"colour:"""#),
            QueryError::UnknownFilter { .. }
        ));
        assert!(matches!(
            err("not colour:red"),
            QueryError::UnknownFilter { .. }
        ));
    }

    #[test]
    fn only_has_and_no_can_be_negated() {
        for (input, key) in [
            ("-tag:x", "tag"),
            ("-in:Trips", "in"),
            ("-camera:canon", "camera"),
            ("-type:png", "type"),
            ("-after:2019", "after"),
            ("-like:3", "like"),
            ("not tag:x", "tag"),
        ] {
            assert_eq!(
                err(input),
                QueryError::NotNegatable { key: key.into() },
                "{input}"
            );
        }
    }

    // --- date phrases ------------------------------------------------------

    #[test]
    fn year_phrases() {
        let y2019 = span(d(2019, 1, 1), d(2020, 1, 1));
        for input in ["in 2019", "from 2019", "during 2019", "of 2019", "In 2019"] {
            let q = p(input);
            assert_eq!(range(&q), y2019, "{input}");
            assert_eq!(q.text, "", "{input}");
        }
        assert_eq!(range(&p("since 2019")), (Some(d(2019, 1, 1)), None));
        assert_eq!(range(&p("before 2019")), (None, Some(d(2019, 1, 1))));
        // "after 2019" in words is after the end of 2019.
        assert_eq!(range(&p("after 2019")), (Some(d(2020, 1, 1)), None));
    }

    #[test]
    fn removing_phrases_leaves_clean_text() {
        let q = p("dog on the beach in 2019");
        assert_eq!(q.text, "dog on the beach");
        assert_eq!(range(&q), span(d(2019, 1, 1), d(2020, 1, 1)));
        assert_eq!(p("photos of dogs from last summer").text, "photos of dogs");
        assert_eq!(
            p("kids in the snow during the winter").text,
            "kids in the snow"
        );
        assert_eq!(p("the summer of 2018 at the lake").text, "at the lake");
        assert_eq!(
            p("cake since December 2019 with candles").text,
            "cake with candles"
        );
        assert_eq!(p("dogs in 2019 and cats").text, "dogs and cats");
        // Prepositions that introduce no date stay.
        assert_eq!(
            p("in the morning from the car").text,
            "in the morning from the car"
        );
        assert_eq!(p("before and after").text, "before and after");
        assert_eq!(p("last dance this one").text, "last dance this one");
        assert_eq!(p("between us").text, "between us");
    }

    #[test]
    fn seasons() {
        let q = p("summer 2018");
        assert_eq!(range(&q), span(d(2018, 6, 1), d(2018, 9, 1)));
        assert!(q.filters.months.is_empty());
        assert_eq!(
            range(&p("summer of 2018")),
            span(d(2018, 6, 1), d(2018, 9, 1))
        );
        assert_eq!(range(&p("spring 2020")), span(d(2020, 3, 1), d(2020, 6, 1)));
        assert_eq!(
            range(&p("autumn 2020")),
            span(d(2020, 9, 1), d(2020, 12, 1))
        );
        assert_eq!(range(&p("fall 2020")), span(d(2020, 9, 1), d(2020, 12, 1)));
        assert_eq!(
            range(&p("winter 2018")),
            span(d(2018, 12, 1), d(2019, 3, 1))
        );

        let months = |s: &str| p(s).filters.months;
        assert_eq!(months("summer"), [6, 7, 8]);
        assert_eq!(months("beach in summer"), [6, 7, 8]);
        assert_eq!(months("in the summer"), [6, 7, 8]);
        assert_eq!(months("autumn leaves"), [9, 10, 11]);
        assert_eq!(months("winter"), [1, 2, 12]);
        assert_eq!(months("in spring"), [3, 4, 5]);
        assert_eq!(months("in the fall"), [9, 10, 11]);
        assert_eq!(months("this spring"), Vec::<u32>::new()); // a dated range instead
        assert_eq!(p("summer").text, "");
        assert_eq!(range(&p("summer")), (None, None));
    }

    #[test]
    fn ambiguous_season_words() {
        // "spring" and "fall" alone are usually not seasons.
        let q = p("hot spring");
        assert_eq!(q.text, "hot spring");
        assert!(q.filters.months.is_empty());
        let q = p("kids fall off bikes");
        assert_eq!(q.text, "kids fall off bikes");
        assert!(q.filters.months.is_empty());
        // "waterfall" is never "fall".
        let q = p("waterfall");
        assert_eq!(q.text, "waterfall");
        assert!(q.filters.months.is_empty());
        let q = p("waterfall in fall");
        assert_eq!(q.text, "waterfall");
        assert_eq!(q.filters.months, [9, 10, 11]);
        assert_eq!(p("summertime").text, "summertime");
    }

    #[test]
    fn months() {
        let months = |s: &str| p(s).filters.months;
        assert_eq!(months("December"), [12]);
        assert_eq!(months("dec"), [12]);
        assert_eq!(months("Dec."), [12]);
        assert_eq!(months("snow in december"), [12]);
        assert_eq!(months("june july"), [6, 7]);
        assert_eq!(months("summer August"), [6, 7, 8]);
        assert_eq!(months("sept"), [9]);
        let q = p("December 2019");
        assert_eq!(range(&q), span(d(2019, 12, 1), d(2020, 1, 1)));
        assert!(q.filters.months.is_empty());
        assert_eq!(range(&p("Dec 2019")), span(d(2019, 12, 1), d(2020, 1, 1)));
        assert_eq!(
            range(&p("december of 2019")),
            span(d(2019, 12, 1), d(2020, 1, 1))
        );
        assert_eq!(range(&p("feb 2020")), span(d(2020, 2, 1), d(2020, 3, 1)));
    }

    #[test]
    fn may_and_march_as_verbs() {
        let q = p("dogs may bark");
        assert_eq!(q.text, "dogs may bark");
        assert!(q.filters.months.is_empty());
        assert_eq!(p("this may be it").text, "this may be it");
        let q = p("protest march");
        assert_eq!(q.text, "protest march");
        assert!(q.filters.months.is_empty());
        assert_eq!(p("mar the surface").text, "mar the surface");
        assert_eq!(p("this march").text, "this march");

        let months = |s: &str| p(s).filters.months;
        assert_eq!(months("May"), [5]);
        assert_eq!(months("flowers in may"), [5]);
        assert_eq!(months("March"), [3]);
        assert_eq!(months("during march"), [3]);
        assert_eq!(months("Mar"), [3]);
        assert_eq!(range(&p("may 2019")), span(d(2019, 5, 1), d(2019, 6, 1)));
        assert_eq!(range(&p("march 2020")), span(d(2020, 3, 1), d(2020, 4, 1)));
        assert_eq!(range(&p("mar 2020")), span(d(2020, 3, 1), d(2020, 4, 1)));
        assert_eq!(range(&p("last may")), span(d(2023, 5, 1), d(2023, 6, 1)));
        assert_eq!(range(&p("this May")), span(d(2023, 5, 1), d(2023, 6, 1)));
    }

    #[test]
    fn article_makes_march_a_noun() {
        let q = p("during the march");
        assert_eq!(q.text, "during the march");
        assert!(q.filters.months.is_empty());
        assert_eq!(p("during the March").filters.months, [3]);
        // Seasons after "the" are still seasons.
        assert_eq!(p("in the spring").filters.months, [3, 4, 5]);
    }

    #[test]
    fn year_before_month_or_season() {
        let q = p("beach 2019 summer");
        assert_eq!(q.text, "beach");
        assert_eq!(range(&q), span(d(2019, 6, 1), d(2019, 9, 1)));
        assert_eq!(
            range(&p("2019 December")),
            span(d(2019, 12, 1), d(2020, 1, 1))
        );
        assert_eq!(range(&p("in 2019 may")), span(d(2019, 5, 1), d(2019, 6, 1)));
        assert_eq!(range(&p("2019 May")), span(d(2019, 5, 1), d(2019, 6, 1)));
        // ...but not a lowercase verb.
        let q = p("2019 may be the year");
        assert_eq!(q.text, "2019 may be the year");
        assert_eq!(range(&q), (None, None));
    }

    #[test]
    fn winter_across_years() {
        let w = span(d(2018, 12, 1), d(2019, 3, 1));
        assert_eq!(range(&p("winter 2018-2019")), w);
        assert_eq!(range(&p("winter 2018/2019")), w);
        let q = p("in winter 2018");
        assert_eq!(range(&q), w);
        assert!(q.filters.months.is_empty());
        // Other seasons over a year range: the season in each of those years.
        let q = p("summer 2018-2019");
        assert_eq!(q.filters.months, [6, 7, 8]);
        assert_eq!(range(&q), span(d(2018, 1, 1), d(2020, 1, 1)));
    }

    #[test]
    fn decades() {
        let nineties = span(d(1990, 1, 1), d(2000, 1, 1));
        for input in [
            "1990s",
            "the 1990s",
            "in the 1990's",
            "during the 1990\u{2019}s",
        ] {
            let q = p(input);
            assert_eq!(range(&q), nineties, "{input}");
            assert_eq!(q.text, "", "{input}");
        }
        assert_eq!(p("1995s").text, "1995s");
    }

    #[test]
    fn possessives() {
        let q = p("last year's harvest");
        assert_eq!(q.text, "harvest");
        assert_eq!(range(&q), span(d(2023, 1, 1), d(2024, 1, 1)));
        assert_eq!(p("summer's end").filters.months, [6, 7, 8]);
        assert_eq!(p("dog's toy").text, "dog's toy");
    }

    #[test]
    fn stranded_separators_are_trimmed() {
        let q = p("hot air balloon, summer");
        assert_eq!(q.text, "hot air balloon");
        assert_eq!(q.filters.months, [6, 7, 8]);
        assert_eq!(p("cat, tag:x").text, "cat");
    }

    #[test]
    fn jan_as_a_name() {
        let q = p("photos of Jan");
        assert_eq!(q.text, "photos of Jan");
        assert!(q.filters.months.is_empty());
        assert_eq!(p("jan").text, "jan");
        assert_eq!(p("snow in jan").filters.months, [1]);
        assert_eq!(range(&p("Jan 2020")), span(d(2020, 1, 1), d(2020, 2, 1)));
        assert_eq!(p("january").filters.months, [1]);
    }

    #[test]
    fn relative_phrases() {
        // today() is Friday 2024-03-15.
        let r = |s: &str| {
            let q = p(s);
            assert_eq!(q.text, "", "{s}");
            range(&q)
        };
        assert_eq!(r("today"), span(d(2024, 3, 15), d(2024, 3, 16)));
        assert_eq!(r("yesterday"), span(d(2024, 3, 14), d(2024, 3, 15)));
        assert_eq!(r("last week"), span(d(2024, 3, 8), d(2024, 3, 16)));
        assert_eq!(r("this week"), span(d(2024, 3, 11), d(2024, 3, 16)));
        assert_eq!(r("this month"), span(d(2024, 3, 1), d(2024, 4, 1)));
        assert_eq!(r("last month"), span(d(2024, 2, 1), d(2024, 3, 1)));
        assert_eq!(r("this year"), span(d(2024, 1, 1), d(2025, 1, 1)));
        assert_eq!(r("last year"), span(d(2023, 1, 1), d(2024, 1, 1)));
        assert_eq!(r("Last Year"), span(d(2023, 1, 1), d(2024, 1, 1)));
        assert_eq!(r("in last year"), span(d(2023, 1, 1), d(2024, 1, 1)));
        // Seasons and months: last = most recent that has ended.
        assert_eq!(r("last summer"), span(d(2023, 6, 1), d(2023, 9, 1)));
        // Winter 2023/24 ended on 1 March.
        assert_eq!(r("last winter"), span(d(2023, 12, 1), d(2024, 3, 1)));
        assert_eq!(r("last december"), span(d(2023, 12, 1), d(2024, 1, 1)));
        assert_eq!(r("last march"), span(d(2023, 3, 1), d(2023, 4, 1)));
        // this = most recent that has begun.
        assert_eq!(r("this winter"), span(d(2023, 12, 1), d(2024, 3, 1)));
        assert_eq!(r("this spring"), span(d(2024, 3, 1), d(2024, 6, 1)));
        assert_eq!(r("this summer"), span(d(2023, 6, 1), d(2023, 9, 1)));
    }

    #[test]
    fn relative_phrases_at_edges() {
        let on = |s: &str, t: NaiveDate| range(&parse(s, t).unwrap());
        // Last month from January is December of the year before.
        assert_eq!(
            on("last month", d(2024, 1, 10)),
            span(d(2023, 12, 1), d(2024, 1, 1))
        );
        // Last summer during a summer is the previous year's.
        assert_eq!(
            on("last summer", d(2024, 8, 10)),
            span(d(2023, 6, 1), d(2023, 9, 1))
        );
        // ...and once it has ended, this year's.
        assert_eq!(
            on("last summer", d(2024, 9, 1)),
            span(d(2024, 6, 1), d(2024, 9, 1))
        );
        assert_eq!(
            on("this summer", d(2024, 8, 10)),
            span(d(2024, 6, 1), d(2024, 9, 1))
        );
        // This week on a Monday starts today.
        assert_eq!(
            on("this week", d(2024, 3, 11)),
            span(d(2024, 3, 11), d(2024, 3, 12))
        );
        // Yesterday across a year boundary.
        assert_eq!(
            on("yesterday", d(2024, 1, 1)),
            span(d(2023, 12, 31), d(2024, 1, 1))
        );
    }

    #[test]
    fn since_before_after_with_phrases() {
        let r = |s: &str| range(&p(s));
        assert_eq!(r("since last year"), (Some(d(2023, 1, 1)), None));
        assert_eq!(r("before last month"), (None, Some(d(2024, 2, 1))));
        assert_eq!(r("after yesterday"), (Some(d(2024, 3, 15)), None));
        assert_eq!(r("since yesterday"), (Some(d(2024, 3, 14)), None));
        assert_eq!(r("after summer 2018"), (Some(d(2018, 9, 1)), None));
        assert_eq!(r("before December 2019"), (None, Some(d(2019, 12, 1))));
        assert_eq!(r("since the summer of 2018"), (Some(d(2018, 6, 1)), None));
        // No year: the most recent one that has begun.
        assert_eq!(r("since December"), (Some(d(2023, 12, 1)), None));
        assert_eq!(r("since march"), (Some(d(2024, 3, 1)), None));
        assert_eq!(r("before summer"), (None, Some(d(2023, 6, 1))));
        assert_eq!(r("after winter"), (Some(d(2024, 3, 1)), None));
        assert!(p("since December").filters.months.is_empty());
    }

    #[test]
    fn year_ranges() {
        let y18_20 = span(d(2018, 1, 1), d(2021, 1, 1));
        for input in [
            "2018-2020",
            "2018\u{2013}2020",
            "2018 to 2020",
            "2018 - 2020",
            "from 2018 to 2020",
            "from 2018 until 2020",
            "in 2018-2020",
            "between 2018 and 2020",
        ] {
            let q = p(input);
            assert_eq!(range(&q), y18_20, "{input}");
            assert_eq!(q.text, "", "{input}");
        }
        assert_eq!(
            range(&p("from June 2018 to May 2019")),
            span(d(2018, 6, 1), d(2019, 6, 1))
        );
        assert_eq!(
            range(&p("summer 2018 to winter 2019")),
            span(d(2018, 6, 1), d(2020, 3, 1))
        );
        // A backwards range is text; a range that does not connect is not a range.
        assert_eq!(p("2020-2018").text, "2020-2018");
        let q = p("from 2018 to the beach");
        assert_eq!(q.text, "to the beach");
        assert_eq!(range(&q), span(d(2018, 1, 1), d(2019, 1, 1)));
        // "between" without "and" is text.
        let q = p("between 2018 or so");
        assert_eq!(q.text, "between 2018 or so");
        assert_eq!(range(&q), (None, None));
    }

    #[test]
    fn iso_dates_in_text() {
        let q = p("party 2019-05-17");
        assert_eq!(q.text, "party");
        assert_eq!(range(&q), span(d(2019, 5, 17), d(2019, 5, 18)));
        let q = p("cake on 2019-05");
        assert_eq!(q.text, "cake");
        assert_eq!(range(&q), span(d(2019, 5, 1), d(2019, 6, 1)));
        // Not a real date: text.
        assert_eq!(p("2019-13").text, "2019-13");
        assert_eq!(p("covid-19").text, "covid-19");
    }

    #[test]
    fn punctuation_ends_phrases() {
        // "summer," and "2019" are two things: months, then a bare number.
        let q = p("beach in summer, 2019 trip");
        assert_eq!(q.filters.months, [6, 7, 8]);
        assert_eq!(q.text, "beach 2019 trip");
        // Trailing punctuation on the last word of a phrase is removed with it.
        let q = p("dogs in 2019, on the beach");
        assert_eq!(q.text, "dogs on the beach");
        assert_eq!(range(&q), span(d(2019, 1, 1), d(2020, 1, 1)));
    }

    #[test]
    fn phrases_do_not_span_filters_or_quotes() {
        let q = p("summer tag:x 2018");
        assert_eq!(q.filters.months, [6, 7, 8]);
        assert_eq!(q.text, "2018");
        let q = p(r#"in "2019""#);
        assert_eq!(q.text, "in 2019");
        assert_eq!(range(&q), (None, None));
    }

    #[test]
    fn everything_together() {
        let q = p(
            r#"Dog on the beach -people not "red car" in:"Summer Trip" camera:canon tag:fav type:jpg has:gps like:7 last summer"#,
        );
        assert_eq!(q.text, "Dog on the beach");
        assert_eq!(q.negative, ["people", "red car"]);
        assert_eq!(
            q.filters,
            Filters {
                after: Some(d(2023, 6, 1)),
                before: Some(d(2023, 9, 1)),
                months: vec![],
                folders: vec!["Summer Trip".into()],
                cameras: vec!["canon".into()],
                tags: vec!["fav".into()],
                has_gps: Some(true),
                types: vec!["jpeg".into()],
                like: Some(7),
            }
        );
    }

    #[test]
    fn serialises_to_json() {
        let q = p("cat -dog year:2019 December in:Trips");
        let json = serde_json::to_value(&q).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "text": "cat",
                "negative": ["dog"],
                "filters": {
                    "after": "2019-01-01",
                    "before": "2020-01-01",
                    "months": [12],
                    "folders": ["Trips"],
                    "cameras": [],
                    "tags": [],
                    "has_gps": null,
                    "types": [],
                    "like": null
                }
            })
        );
    }

    #[test]
    fn error_messages_read_well() {
        assert_eq!(
            err("-tag:x").to_string(),
            "-tag: cannot be negated (only has: and no: can; use -word or not word to subtract a concept)"
        );
        assert_eq!(
            err("after:2020 before:2019").to_string(),
            "no photo can match: the dates ask for on or after 2020-01-01 and before 2019-01-01"
        );
        assert!(err("colour:red")
            .to_string()
            .starts_with("unknown filter 'colour:'"));
    }

    /// Arbitrary input never panics (a small deterministic fuzz).
    #[test]
    fn never_panics() {
        let pieces = [
            "-",
            "not",
            "\"",
            "\u{201C}",
            ":",
            "in",
            "in:",
            "after:",
            "2019",
            "2019-05",
            "-2018",
            "summer",
            "of",
            "the",
            "may",
            "May",
            "last",
            "this",
            "to",
            "and",
            "between",
            "since",
            "before",
            "after",
            "has:gps",
            "-has:gps",
            "colour:",
            "10:30",
            ",",
            "é",
            " ",
            "  ",
            "week",
            "year",
            "winter",
            "2099",
            "9999-12-31",
            "like:9223372036854775807",
            "x",
            "type:raw",
            "\t",
        ];
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..5000 {
            let mut s = String::new();
            for _ in 0..(seed % 9) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                s.push_str(pieces[(seed % pieces.len() as u64) as usize]);
                if seed & 3 != 0 {
                    s.push(' ');
                }
            }
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            for t in [today(), NaiveDate::MIN, NaiveDate::MAX, d(2024, 1, 1)] {
                let _ = parse(&s, t);
            }
        }
    }
}
