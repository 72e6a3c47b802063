//! The parser's examples (docs/query-language.md lists the same).

use super::*;
use chrono::NaiveDate;

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
            known: KNOWN_KEYS,
            closest: None,
        }
    );
    // A typo gets the filter it was meant to be.
    let typo = err("dog tpye:raw").to_string();
    assert!(
        typo.starts_with("unknown filter 'tpye:': did you mean 'type:'?"),
        "{typo}"
    );
    assert!(err("caemra:canon")
        .to_string()
        .contains("did you mean 'camera:'?"));
    assert!(err("BEFOR:2019")
        .to_string()
        .contains("did you mean 'before:'?"));
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
