//! The search query language: free text to embed, concepts to subtract and
//! filters, parsed from one line such as
//! `dog on the beach -people in:"Summer Trip" last summer`.
//!
//! Parsing is pure: [`parse`] takes the date "today" so relative phrases
//! ("last year") are deterministic, and never touches the catalog.
//!
//! The user-facing syntax follows (kept in `docs/query-language.md`).
#![doc = include_str!("../../../../docs/query-language.md")]

mod dates;
mod filters;
mod lex;
#[cfg(test)]
mod tests;
mod text;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use dates::{extract_dates, Item, W};
use filters::apply_filter;
use lex::{classify, lex, not_target, push_unique, Class, NotTarget};

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
    #[error("unknown filter '{key}:'{} (the filters are {known}; put the word in quotes to search for it as text)", closest.map(|c| format!(": did you mean '{c}:'?")).unwrap_or_default())]
    UnknownFilter {
        key: String,
        known: &'static str,
        /// The filter the user probably meant (`tpye:` -> `type`).
        closest: Option<&'static str>,
    },
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
/// The filter key within two edits of `key` (a typo, `tpye` or `caemra`),
/// if exactly one is that close.
pub(crate) fn closest_key(key: &str) -> Option<&'static str> {
    let key = key.to_lowercase();
    let mut near = KEYS
        .iter()
        .filter(|k| strsim::damerau_levenshtein(&key, k) <= 2);
    let first = near.next()?;
    near.next().is_none().then_some(*first)
}

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

/// "Today" for relative date phrases: this computer's local date. Every
/// search from text learns the date here, whichever shell typed it.
pub fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

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
