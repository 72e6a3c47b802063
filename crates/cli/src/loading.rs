//! Loading the model a command needs: the library's, or `--model`, on the
//! device the engine's rule picks, with a download bar when it is fetched.

use std::sync::Arc;

use anyhow::Result;
use shoebox_engine::model::{DownloadEvent, ResolveOptions};
use shoebox_engine::Library;

use crate::{progress, Cli};

/// Hugging Face settings from the environment, with a download bar.
pub(crate) fn resolve_with_progress(json: bool) -> (ResolveOptions, Arc<progress::DownloadBar>) {
    let bar = Arc::new(progress::DownloadBar::new(json));
    let for_events = Arc::clone(&bar);
    let opts = ResolveOptions::from_env()
        .with_progress(move |e: DownloadEvent<'_>| for_events.on_event(e));
    (opts, bar)
}

pub(crate) fn load_model(
    library: &Library,
    cli: &Cli,
    spec: Option<&str>,
) -> Result<shoebox_engine::embed::LoadedModel> {
    let (opts, bar) = resolve_with_progress(cli.json);
    let model = library.load_model(spec.or(cli.model.as_deref()), cli.device, &opts);
    bar.finish();
    Ok(model?)
}

/// The model `shoebox embed` works on: `--model`, else the next model while
/// a switch is under way, else the library's.
pub(crate) fn load_embedding_model(
    library: &Library,
    cli: &Cli,
) -> Result<shoebox_engine::embed::LoadedModel> {
    let (opts, bar) = resolve_with_progress(cli.json);
    let model = library.load_embedding_model(cli.model.as_deref(), cli.device, &opts);
    bar.finish();
    Ok(model?)
}
