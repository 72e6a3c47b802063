//! Search and similar photos: the engine's results as they are (chips,
//! the cut-off and "more" included).

use serde::Deserialize;
use shoebox_engine::search::{Query, SearchOptions, Sort};

use super::{to_value, Out};
use crate::error::ApiError;
use crate::state::ApiState;

/// The arguments of both commands: `search` takes `q` or `query`,
/// `similar` takes `id`; both page and cut off the same way.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SearchArgs {
    q: Option<String>,
    query: Option<Query>,
    id: Option<i64>,
    #[serde(default = "default_results")]
    limit: usize,
    #[serde(default)]
    offset: usize,
    sort: Option<String>,
    #[serde(default)]
    all: bool,
    min_score: Option<f32>,
}

fn default_results() -> usize {
    50
}

fn unknown(command: &str, field: &str) -> ApiError {
    ApiError::BadRequest(format!(
        "invalid arguments for `{command}`: unknown field `{field}`"
    ))
}

impl SearchArgs {
    fn options(&self) -> Result<SearchOptions, ApiError> {
        Ok(SearchOptions {
            limit: self.limit,
            offset: self.offset,
            sort: self
                .sort
                .as_deref()
                .map(str::parse::<Sort>)
                .transpose()?
                .unwrap_or_default(),
            all: self.all,
            min_score: self.min_score,
            ..SearchOptions::default()
        })
    }
}

pub(super) fn search(state: &ApiState, a: SearchArgs) -> Out {
    if a.id.is_some() {
        return Err(unknown("search", "id"));
    }
    let opts = a.options()?;
    let library = state.library();
    let query = match (a.q, a.query) {
        (Some(_), Some(_)) => {
            return Err(ApiError::BadRequest(
                "give either `q` (text) or `query` (structured), not both".into(),
            ))
        }
        (Some(q), None) => library.parse_query(&q)?,
        (None, Some(query)) => query,
        (None, None) => {
            return Err(ApiError::BadRequest(
                "`search` needs `q` (text) or `query` (structured)".into(),
            ))
        }
    };
    let model = state.model(&library)?;
    to_value(library.search_query(&model, query, &opts)?)
}

pub(super) fn similar(state: &ApiState, a: SearchArgs) -> Out {
    if a.q.is_some() || a.query.is_some() {
        return Err(unknown(
            "similar",
            if a.q.is_some() { "q" } else { "query" },
        ));
    }
    let id = a.id.ok_or_else(|| {
        ApiError::BadRequest("invalid arguments for `similar`: missing field `id`".into())
    })?;
    let opts = a.options()?;
    let library = state.library();
    library.info(id)?;
    let model = state.model(&library)?;
    to_value(library.similar(&model, id, &opts)?)
}
