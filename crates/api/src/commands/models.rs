//! Models: the list, downloads in the background, choosing one.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{json, Value};
use shoebox_engine::model::{DownloadEvent, ResolveOptions};
use shoebox_engine::{EngineError, Library};

use super::tags::NameArgs;
use super::{NoArgs, Out};
use crate::error::ApiError;
use crate::state::{ApiState, Download};

pub(super) fn download_state(state: &ApiState) -> Value {
    let d = state
        .inner
        .download
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    match d.as_ref() {
        Some(d) if d.running => d.last.clone(),
        _ => Value::Null,
    }
}

pub(super) fn model_list(
    state: &ApiState,
    library: &Library,
) -> Result<Vec<shoebox_engine::embed::ModelStatus>, ApiError> {
    let resolve = ResolveOptions {
        offline: true,
        progress: None,
        ..state.options().resolve.clone()
    };
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
    let name = match a.name {
        Some(n) => n,
        None => state.library().model_spec(None)?,
    };
    let cancel = Arc::new(AtomicBool::new(false));
    {
        let mut slot = state
            .inner
            .download
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(d) = slot.as_ref().filter(|d| d.running) {
            return Err(ApiError::Conflict(format!(
                "{} is being downloaded; wait for it or cancel it first",
                d.name
            )));
        }
        let first = json!({"event": "download", "name": name, "state": "running",
                           "file": null, "done_bytes": 0, "total_bytes": null, "error": null});
        *slot = Some(Download {
            name: name.clone(),
            cancel: Arc::clone(&cancel),
            last: first.clone(),
            running: true,
        });
        state.events().emit(first);
    }
    let st = state.clone();
    let spec = name.clone();
    std::thread::Builder::new()
        .name("shoebox-download".into())
        .spawn(move || run_download(&st, &spec, a.use_it, cancel))
        .map_err(|e| ApiError::Engine(EngineError::io("cannot start the download", e)))?;
    Ok(json!({"started": true, "name": name}))
}

fn set_download(state: &ApiState, event: Value, running: bool) {
    if let Some(d) = state
        .inner
        .download
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .as_mut()
    {
        d.last = event.clone();
        d.running = running;
    }
    state.events().emit(event);
}

fn run_download(state: &ApiState, spec: &str, use_it: bool, cancel: Arc<AtomicBool>) {
    let progress_state = state.clone();
    let name = spec.to_string();
    let on_event = move |e: DownloadEvent<'_>| {
        // Byte counts of the file in transfer; cached and finished files
        // add nothing a progress bar needs.
        let (file, done, total) = match e {
            DownloadEvent::Started { file, total, done } => (file, done, total),
            DownloadEvent::Progress { file, done, total } => (file, done, total),
            DownloadEvent::Cached { .. } | DownloadEvent::Finished { .. } => return,
        };
        let event = json!({"event": "download", "name": name, "state": "running", "file": file,
                           "done_bytes": done, "total_bytes": total, "error": null});
        set_download(&progress_state, event, true);
    };
    // HF_HUB_OFFLINE (the shell's settings) still forbids the network.
    let resolve = ResolveOptions {
        cancel: Some(Arc::clone(&cancel)),
        ..state.options().resolve.clone()
    }
    .with_progress(on_event);
    let result = (|| -> Result<(), ApiError> {
        let library = Library::open(state.library_dir())?;
        if use_it {
            library.use_model(spec, state.device(&library), &resolve)?;
            drop(library);
            state.model_changed()?;
        } else {
            library.load_model(Some(spec), state.device(&library), &resolve)?;
        }
        Ok(())
    })();
    let (st, error) = match result {
        Ok(()) => ("done", None),
        Err(_) if cancel.load(Ordering::SeqCst) => ("cancelled", None),
        Err(e) => ("failed", Some(e.to_string())),
    };
    // The end event carries the last byte counts seen.
    let last = download_last(state);
    let event = json!({"event": "download", "name": spec, "state": st, "file": last["file"],
                       "done_bytes": last["done_bytes"].as_u64().unwrap_or(0),
                       "total_bytes": last["total_bytes"], "error": error});
    set_download(state, event, false);
    state.events().changed("models", None);
}

fn download_last(state: &ApiState) -> Value {
    state
        .inner
        .download
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .as_ref()
        .map_or(Value::Null, |d| d.last.clone())
}

pub(super) fn download_cancel(state: &ApiState, _: NoArgs) -> Out {
    let slot = state
        .inner
        .download
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    let cancelled = match slot.as_ref().filter(|d| d.running) {
        Some(d) => {
            d.cancel.store(true, Ordering::SeqCst);
            true
        }
        None => false,
    };
    Ok(json!({"cancelled": cancelled}))
}

fn use_model(state: &ApiState, spec: &str) -> Out {
    let resolve = ResolveOptions {
        offline: true,
        progress: None,
        ..state.options().resolve.clone()
    };
    let loaded = {
        let library = state.library();
        library.use_model(spec, state.device(&library), &resolve)?
    };
    let out = json!({"active": loaded.row.key, "key": loaded.row.key, "dim": loaded.row.dim});
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
