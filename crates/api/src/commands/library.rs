//! Library state, browsing, folders and the job queue.

use std::path::PathBuf;

use serde::Deserialize;
use serde_json::json;

use super::{to_value, NoArgs, Out, PhotoId};
use crate::state::ApiState;

pub(super) fn status(state: &ApiState, _: NoArgs) -> Out {
    let library = state.library();
    let counts = library.status()?;
    let mut out = to_value(&counts)?;
    out["library"] = json!(library.dir());
    out["roots"] = to_value(library.folders()?)?;
    let live = library.live_status()?;
    drop(library);
    out["live"] = json!({
        "running": state.live_running(),
        "busy": state.busy(),
        "engine_pid": live.engine_pid,
        "paused": live.paused,
        "queued_paths": live.queued_paths,
        "progress": state.events().progress(),
        "jobs": live.jobs,
        "watch": live.watch,
    });
    out["download"] = super::models::download_state(state);
    Ok(out)
}

pub(super) fn first_run(state: &ApiState, _: NoArgs) -> Out {
    let library = state.library();
    let models = super::models::model_list(state, &library)?;
    to_value(library.first_run(&models)?)
}

pub(super) fn first_run_done(state: &ApiState, _: NoArgs) -> Out {
    state.library().finish_first_run()?;
    Ok(json!({"needed": false}))
}

pub(super) fn errors(state: &ApiState, _: NoArgs) -> Out {
    Ok(json!({"errors": state.library().errors()?}))
}

pub(super) fn scan(state: &ApiState, _: NoArgs) -> Out {
    state.request_scan(None)?;
    Ok(json!({"started": true}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct TimelineArgs {
    offset: usize,
    limit: usize,
    months: bool,
}

impl Default for TimelineArgs {
    fn default() -> Self {
        TimelineArgs {
            offset: 0,
            limit: 200,
            months: true,
        }
    }
}

pub(super) fn timeline(state: &ApiState, a: TimelineArgs) -> Out {
    let t = state.library().timeline(a.offset, a.limit, a.months)?;
    let mut out = to_value(&t)?;
    if t.months.is_none() {
        out.as_object_mut().expect("object").remove("months");
    }
    Ok(out)
}

pub(super) fn photo(state: &ApiState, a: PhotoId) -> Out {
    to_value(state.library().photo_details(a.id)?)
}

pub(super) fn reveal(state: &ApiState, a: PhotoId) -> Out {
    to_value(state.library().photo_location(a.id)?)
}

pub(super) fn folders(state: &ApiState, _: NoArgs) -> Out {
    Ok(json!({"folders": to_value(state.library().folder_states()?)?}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AddFolderArgs {
    path: PathBuf,
    #[serde(default = "super::yes")]
    scan: bool,
}

pub(super) fn folders_add(state: &ApiState, a: AddFolderArgs) -> Out {
    let answer = state.library().add_folder_reporting(&a.path)?;
    if a.scan && answer.added {
        state.request_scan(Some(answer.root.id))?;
    }
    to_value(answer)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FolderIdArgs {
    id: i64,
}

pub(super) fn folders_remove(state: &ApiState, a: FolderIdArgs) -> Out {
    to_value(state.library().remove_folder_id(a.id)?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PrioritizeArgs {
    ids: Vec<i64>,
}

pub(super) fn prioritize(state: &ApiState, a: PrioritizeArgs) -> Out {
    state.library().prioritize(&a.ids)?;
    state.wake();
    Ok(json!({"queued": a.ids.len()}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct JobsArgs {
    #[serde(default)]
    kinds: Vec<String>,
}

pub(super) fn jobs_pause(state: &ApiState, a: JobsArgs) -> Out {
    jobs(state, a, true)
}

pub(super) fn jobs_resume(state: &ApiState, a: JobsArgs) -> Out {
    jobs(state, a, false)
}

fn jobs(state: &ApiState, a: JobsArgs, pause: bool) -> Out {
    let kinds: Vec<&str> = a.kinds.iter().map(String::as_str).collect();
    let library = state.library();
    let paused = if pause {
        library.pause_jobs(&kinds)?
    } else {
        library.resume_jobs(&kinds)?
    };
    drop(library);
    state.wake();
    Ok(json!({"paused": paused}))
}
