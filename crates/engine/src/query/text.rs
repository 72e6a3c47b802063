//! [`Query::to_text`]: the query written back in the query language, so a
//! shell that edits a structured query (a chip taken off) shows the text
//! that means it. `parse(q.to_text()) == q` for every query the parser
//! makes; the tests hold it to that.

use chrono::NaiveDate;

use super::{parse, Query, RAW_KINDS};

const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Any date will do for re-reading text alone: a text part holds no
/// filters, and a part that would parse into one is quoted.
fn any_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2000, 1, 1).expect("a valid date")
}

/// `value` as a filter value or concept: bare when it is one plain word,
/// else quoted.
fn value(v: &str) -> String {
    let plain = !v.is_empty()
        && v.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-'))
        && !v.starts_with('-');
    if plain {
        v.to_string()
    } else {
        format!("\"{}\"", v.replace(['"', '\u{201C}', '\u{201D}'], ""))
    }
}

/// Free text that reads back as itself, quoted when its words would be
/// taken for a date phrase, a filter or a negation.
fn free_text(text: &str) -> String {
    let reads_back = parse(text, any_day())
        .is_ok_and(|q| q.text == text && q.negative.is_empty() && q.filters == Default::default());
    if reads_back {
        text.to_string()
    } else {
        format!("\"{}\"", text.replace(['"', '\u{201C}', '\u{201D}'], ""))
    }
}

impl Query {
    /// The query in the query language (docs/query-language.md).
    pub fn to_text(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if !self.text.is_empty() {
            parts.push(free_text(&self.text));
        }
        for n in &self.negative {
            parts.push(format!("-{}", value(n)));
        }
        let f = &self.filters;
        if let Some(d) = f.after {
            parts.push(format!("after:{d}"));
        }
        if let Some(d) = f.before {
            parts.push(format!("before:{d}"));
        }
        for m in &f.months {
            if let Some(name) = MONTH_NAMES.get((*m as usize).wrapping_sub(1)) {
                parts.push(format!("in {name}"));
            }
        }
        for v in &f.folders {
            parts.push(format!("in:{}", value(v)));
        }
        for v in &f.cameras {
            parts.push(format!("camera:{}", value(v)));
        }
        for v in &f.tags {
            parts.push(format!("tag:{}", value(v)));
        }
        match f.has_gps {
            Some(true) => parts.push("has:gps".into()),
            Some(false) => parts.push("no:gps".into()),
            None => {}
        }
        let all_raw = RAW_KINDS
            .iter()
            .all(|k| f.types.iter().any(|t| t == &format!("raw-{k}")));
        for t in &f.types {
            if all_raw && t.starts_with("raw-") {
                continue;
            }
            parts.push(format!("type:{t}"));
        }
        if all_raw {
            parts.push("type:raw".into());
        }
        if let Some(id) = f.like {
            parts.push(format!("like:{id}"));
        }
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_parsed_query_reads_back_the_same() {
        let today = NaiveDate::from_ymd_opt(2024, 3, 15).unwrap();
        let queries = [
            "",
            "dog on the beach",
            "beach -dog",
            "beach -\"red car\" not people",
            "kids after:2019 before:2021-06",
            "last summer",
            "snow in December",
            "sunset in:\"Summer Trip\" camera:iphone tag:\"our cat Chelsea\"",
            "has:gps type:raw",
            "no:gps type:jpg type:nef",
            "like:42 at night",
            "the 1990s",
            "may flowers",
            "\"last summer\" the band",
            "year:2019 winter",
            "a-b c.d",
        ];
        for input in queries {
            let q = parse(input, today).unwrap_or_else(|e| panic!("{input}: {e}"));
            let text = q.to_text();
            let back = parse(&text, today).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(back, q, "`{input}` → `{text}`");
        }
    }
}
