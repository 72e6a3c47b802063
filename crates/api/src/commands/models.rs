//! Models: the list, downloads in the background, choosing one.

use std::path::PathBuf;

use serde::Deserialize;
use serde_json::{json, Value};
use shoebox_engine::jobs::download::DownloadRequest;
use shoebox_engine::jobs::LiveEvent;
use shoebox_engine::{EngineError, Library};

use super::tags::NameArgs;
use super::{NoArgs, Out};
use crate::error::ApiError;
use crate::state::ApiState;

/// The download in flight as its last `download` event, or null.
pub(super) fn download_state(state: &ApiState) -> Value {
    state
        .downloads()
        .running()
        .and_then(|d| serde_json::to_value(LiveEvent::Download(d)).ok())
        .unwrap_or(Value::Null)
}

pub(super) fn model_list(
    state: &ApiState,
    library: &Library,
) -> Result<Vec<shoebox_engine::embed::ModelStatus>, ApiError> {
    let resolve = state.offline_resolve();
    Ok(library.models(&resolve)?)
}

pub(super) fn list(state: &ApiState, _: NoArgs) -> Out {
    let library = state.library();
    let list = model_list(state, &library)?;
    let active = library.catalog().active_model()?.map(|m| m.key);
    Ok(json!({"active": active, "models": list, "download": download_state(state)}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DownloadArgs {
    name: Option<String>,
    #[serde(rename = "use", default = "super::yes")]
    use_it: bool,
}

pub(super) fn download(state: &ApiState, a: DownloadArgs) -> Out {
    let (name, request) = {
        let library = state.library();
        let name = match a.name {
            Some(n) => n,
            None => library.model_spec(None)?,
        };
        let request = DownloadRequest {
            library_dir: library.dir().to_path_buf(),
            spec: name.clone(),
            use_it: a.use_it,
            device: state.device(&library),
            resolve: state.options().resolve.clone(),
        };
        (name, request)
    };
    let after_use = state.clone();
    state.downloads().start(
        request,
        state.engine_events(),
        Box::new(move || {
            // The new model: the live engine restarts with it and embeds.
            if let Err(e) = after_use.model_changed() {
                tracing::warn!("cannot switch to the downloaded model: {e}");
            }
        }),
    )?;
    Ok(json!({"started": true, "name": name}))
}

pub(super) fn download_cancel(state: &ApiState, _: NoArgs) -> Out {
    Ok(json!({"cancelled": state.downloads().cancel()}))
}

fn use_model(state: &ApiState, spec: &str) -> Out {
    let resolve = state.offline_resolve();
    let (loaded, active, switching) = {
        let library = state.library();
        let loaded = library.use_model(spec, state.device(&library), &resolve)?;
        let active = library.catalog().active_model()?.map(|m| m.key);
        (loaded, active, library.model_switch()?)
    };
    // `switching`: the model embeds first, and search keeps `active` until
    // it is done (docs/models.md).
    let out = json!({"active": active, "key": loaded.row.key, "dim": loaded.row.dim,
                     "switching": switching});
    // Photos without a vector for this model get one in the background.
    state.model_changed()?;
    Ok(out)
}

pub(super) fn choose(state: &ApiState, a: NameArgs) -> Out {
    use_model(state, &a.name)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ModelAddArgs {
    path: PathBuf,
}

pub(super) fn add(state: &ApiState, a: ModelAddArgs) -> Out {
    if !a.path.is_dir() {
        return Err(ApiError::NotFound(format!(
            "{} is not a folder; a model folder holds config.json, model.safetensors, tokenizer.json and preprocessor_config.json",
            a.path.display()
        )));
    }
    let path = a
        .path
        .canonicalize()
        .map_err(|e| EngineError::io(format!("cannot open {}", a.path.display()), e))?;
    use_model(state, &path.to_string_lossy())
}
