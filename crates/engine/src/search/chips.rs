//! Filter chips: what the parser understood, one removable item each, for
//! a UI to show next to the search box ("after 1 Jan 2019", "tag: beach").

use chrono::NaiveDate;
use serde::Serialize;

use crate::query::Query;

/// One thing the query constrains. `field` names the `Filters` field (or
/// `negative`); `value` is the element to drop from that list, or the
/// field's whole value for single-valued fields and `months`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chip {
    pub field: &'static str,
    pub value: serde_json::Value,
    pub label: String,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn day(d: NaiveDate) -> String {
    d.format("%-d %b %Y").to_string()
}

/// The query's chips, in a stable order: dates, months, folders, cameras,
/// tags, GPS, types, like, negatives.
pub fn chips(query: &Query) -> Vec<Chip> {
    let f = &query.filters;
    let mut out = Vec::new();
    if let Some(d) = f.after {
        out.push(Chip {
            field: "after",
            value: d.to_string().into(),
            label: format!("after {}", day(d)),
        });
    }
    if let Some(d) = f.before {
        out.push(Chip {
            field: "before",
            value: d.to_string().into(),
            label: format!("before {}", day(d)),
        });
    }
    if !f.months.is_empty() {
        let names: Vec<&str> = f
            .months
            .iter()
            .filter_map(|m| MONTHS.get((*m as usize).wrapping_sub(1)).copied())
            .collect();
        out.push(Chip {
            field: "months",
            value: serde_json::to_value(&f.months).unwrap_or_default(),
            label: format!("in {}", names.join(", ")),
        });
    }
    let mut list = |field: &'static str, values: &[String], prefix: &str| {
        for v in values {
            out.push(Chip {
                field,
                value: v.clone().into(),
                label: format!("{prefix}: {v}"),
            });
        }
    };
    list("folders", &f.folders, "folder");
    list("cameras", &f.cameras, "camera");
    list("tags", &f.tags, "tag");
    if let Some(g) = f.has_gps {
        out.push(Chip {
            field: "has_gps",
            value: g.into(),
            label: if g { "has GPS" } else { "no GPS" }.into(),
        });
    }
    let mut list = |field: &'static str, values: &[String], prefix: &str| {
        for v in values {
            out.push(Chip {
                field,
                value: v.clone().into(),
                label: format!("{prefix}: {v}"),
            });
        }
    };
    list("types", &f.types, "type");
    if let Some(id) = f.like {
        out.push(Chip {
            field: "like",
            value: id.into(),
            label: format!("like photo {id}"),
        });
    }
    for n in &query.negative {
        out.push(Chip {
            field: "negative",
            value: n.clone().into(),
            label: format!("not {n}"),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::parse;

    #[test]
    fn chips_name_every_constraint_once() {
        let today = NaiveDate::from_ymd_opt(2024, 6, 1).unwrap();
        let q = parse(
            "dog after:2019 summer tag:beach in:Rome has:gps type:png like:7 -cat",
            today,
        )
        .unwrap();
        let chips = chips(&q);
        let fields: Vec<&str> = chips.iter().map(|c| c.field).collect();
        assert_eq!(
            fields,
            ["after", "months", "folders", "tags", "has_gps", "types", "like", "negative"]
        );
        assert_eq!(chips[0].label, "after 1 Jan 2019");
        assert_eq!(chips[0].value, "2019-01-01");
        assert_eq!(chips[1].label, "in Jun, Jul, Aug");
        assert_eq!(chips[1].value, serde_json::json!([6, 7, 8]));
        assert_eq!(chips[3].label, "tag: beach");
        assert_eq!(chips[7].label, "not cat");
    }

    #[test]
    fn plain_text_has_no_chips() {
        let today = NaiveDate::from_ymd_opt(2024, 6, 1).unwrap();
        assert!(chips(&parse("kids on a beach", today).unwrap()).is_empty());
    }
}
