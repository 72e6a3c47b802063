//! Lexing: whitespace-separated chunks with quotes, and what each chunk is
//! (a filter, a negated concept, a literal, a word).

use chrono::NaiveDate;

use super::dates::{match_phrase, W};
use super::{QueryError, KEYS, KNOWN_KEYS, LITTLE_WORDS};

// ---------------------------------------------------------------------------
// Lexing: whitespace-separated chunks, with quotes.

/// One whitespace-separated piece of the input. A quote opens at the start
/// of a chunk, after its leading `-`, or right after `key:`.
#[derive(Debug, Clone)]
pub(super) struct Chunk {
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

pub(super) fn is_open_quote(c: char) -> bool {
    c == '"' || c == '\u{201C}'
}

pub(super) fn is_close_quote(c: char) -> bool {
    c == '"' || c == '\u{201D}'
}

pub(super) fn lex(input: &str) -> Vec<Chunk> {
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

pub(super) enum Class {
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

pub(super) fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub(super) fn trim_end_punct(s: &str) -> &str {
    s.trim_end_matches(|c: char| ",.;:!?".contains(c))
}

pub(super) fn classify(c: &Chunk) -> Result<Class, QueryError> {
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
                closest: super::closest_key(key),
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

pub(super) enum NotTarget {
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
pub(super) fn not_target(rest: &[Chunk], today: NaiveDate) -> Result<NotTarget, QueryError> {
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

pub(super) fn push_unique(list: &mut Vec<String>, value: &str) {
    if !list
        .iter()
        .any(|v| v.to_lowercase() == value.to_lowercase())
    {
        list.push(value.to_string());
    }
}
