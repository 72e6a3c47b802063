//! `search` and `similar`: the engine's results, printed as text or as
//! the same JSON the API sends.

use crate::output::say;
use anyhow::Result;
use shoebox_engine::search::{SearchOptions, SearchResults};
use shoebox_engine::Library;

use crate::loading::load_model;
use crate::output::print_json;
use crate::Cli;

#[derive(clap::Args)]
pub(crate) struct PageArgs {
    /// Results per page.
    #[arg(long, default_value_t = 20)]
    limit: usize,
    /// Results to skip (for the next page).
    #[arg(long, default_value_t = 0)]
    offset: usize,
    /// relevance (best first) or date (newest first).
    #[arg(long, default_value = "relevance")]
    sort: String,
    /// Ignore the relevance cut-off: everything that passes the filters.
    #[arg(long)]
    all: bool,
    /// A fixed minimum score instead of the adaptive cut-off.
    #[arg(long)]
    min_score: Option<f32>,
}

impl PageArgs {
    fn options(&self) -> Result<SearchOptions> {
        Ok(SearchOptions {
            limit: self.limit,
            offset: self.offset,
            sort: self.sort.parse()?,
            all: self.all,
            min_score: self.min_score,
            ..SearchOptions::default()
        })
    }
}

pub(crate) fn search(
    library: &Library,
    cli: &Cli,
    query: &[String],
    page: &PageArgs,
) -> Result<()> {
    // A bad query is reported before a model is loaded.
    let query = library.parse_query(&query.join(" "))?;
    let model = load_model(library, cli, None)?;
    search_results(
        cli.json,
        &library.search_query(&model, query, &page.options()?)?,
    )
}

pub(crate) fn similar(library: &Library, cli: &Cli, photo: &str, page: &PageArgs) -> Result<()> {
    let id = library.resolve_photo(photo)?;
    let model = load_model(library, cli, None)?;
    search_results(cli.json, &library.similar(&model, id, &page.options()?)?)
}

pub fn search_results(json: bool, r: &SearchResults) -> Result<()> {
    if json {
        return print_json(r);
    }
    if r.results.is_empty() {
        say!("No photos match.");
        if r.more {
            say!(
                "{} photos pass the filters but none is a clear match; `--all` shows them ranked anyway.",
                r.candidates
            );
        }
        return Ok(());
    }
    for hit in &r.results {
        let score = hit
            .score
            .map(|s| format!("{s:.3}"))
            .unwrap_or_else(|| "  -  ".into());
        let date = hit
            .taken_at
            .as_deref()
            .map(|t| &t[..t.len().min(10)])
            .unwrap_or("          ");
        say!("{score}  {date}  {}", hit.path);
    }
    let shown = r.offset + r.results.len();
    if shown < r.total {
        say!(
            "{}-{} of {}; `--offset {shown}` for more.",
            r.offset + 1,
            shown,
            r.total
        );
    }
    if r.more {
        say!(
            "{} more pass the filters below the relevance cut-off; `--all` shows them.",
            r.candidates - r.total
        );
    }
    Ok(())
}
