//! The command table (docs/api.md): one row per command with its name,
//! whether `GET` may call it, its handler and a one-line doc. `dispatch`,
//! the Tauri shell's command list and docs/api.md's index all follow the
//! table (tests hold them to it). Handlers parse their arguments, call one
//! engine verb and send its answer; behaviour lives in the engine.

mod dupes;
mod library;
mod models;
mod search;
mod settings;
mod tags;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use shoebox_engine::EngineError;

use crate::error::ApiError;
use crate::state::ApiState;

type Out = Result<Value, ApiError>;

/// One command of the API.
pub struct Command {
    pub name: &'static str,
    /// `GET` may call it: it takes no arguments and changes nothing.
    pub get: bool,
    /// What it does, in one line (docs/api.md's index).
    pub doc: &'static str,
    run: fn(&ApiState, Value) -> Out,
}

/// A table row: the handler gets its arguments parsed into its own type.
macro_rules! row {
    ($name:literal, $get:expr, $handler:path, $doc:literal) => {
        Command {
            name: $name,
            get: $get,
            doc: $doc,
            run: |state, args| $handler(state, parse($name, args)?),
        }
    };
}

/// Every command, in the order docs/api.md describes them.
pub static COMMANDS: &[Command] = &[
    row!(
        "status",
        true,
        library::status,
        "Counts, folders, live work and a download in flight."
    ),
    row!(
        "first_run",
        true,
        library::first_run,
        "Whether the first-run flow shows, and what it offers."
    ),
    row!(
        "first_run_done",
        false,
        library::first_run_done,
        "The first-run flow is finished."
    ),
    row!(
        "errors",
        true,
        library::errors,
        "Files and folders that could not be read, with the reason."
    ),
    row!(
        "scan",
        false,
        library::scan,
        "Look at every folder again for new, changed and gone files."
    ),
    row!(
        "timeline",
        true,
        library::timeline,
        "A page of photos, newest first, with the month index."
    ),
    row!(
        "photo",
        false,
        library::photo,
        "Everything the photo view shows about one photo."
    ),
    row!(
        "reveal",
        false,
        library::reveal,
        "Where a photo's file is (the desktop app also opens its folder)."
    ),
    row!(
        "search",
        false,
        search::search,
        "Photos matching a query (text or structured), with chips and the cut-off."
    ),
    row!(
        "similar",
        false,
        search::similar,
        "Photos that look like one photo."
    ),
    row!(
        "tags",
        true,
        tags::tags,
        "The tag tree: vocabulary, custom tags and keywords, with counts."
    ),
    row!(
        "tag_photos",
        false,
        tags::tag_photos,
        "A page of the photos carrying a tag."
    ),
    row!(
        "tag_add",
        false,
        tags::add,
        "Put a tag on a photo (the user's decision)."
    ),
    row!(
        "tag_remove",
        false,
        tags::remove,
        "Take a tag off a photo; re-tagging never puts it back."
    ),
    row!(
        "tag_confirm",
        false,
        tags::confirm,
        "Confirm an automatic tag suggestion."
    ),
    row!(
        "tag_reject",
        false,
        tags::reject,
        "Reject an automatic tag suggestion."
    ),
    row!(
        "custom_tag_create",
        false,
        tags::custom_create,
        "Create a custom tag from a name, a description and examples."
    ),
    row!(
        "custom_tag_remove",
        false,
        tags::custom_remove,
        "Stop assigning a custom tag automatically."
    ),
    row!(
        "dupes",
        true,
        dupes::list,
        "Duplicate groups with counts per tier and the keep suggestion."
    ),
    row!(
        "dupes_resolve",
        false,
        dupes::resolve,
        "Keep one member of a group and move the others to the OS trash."
    ),
    row!(
        "dupes_resolve_all",
        false,
        dupes::resolve_all,
        "Apply the suggestion to every certain group of a tier."
    ),
    row!(
        "dupes_keep_all",
        false,
        dupes::ignore,
        "Keep every member of a group; it is not proposed again."
    ),
    row!(
        "dupes_not_duplicates",
        false,
        dupes::ignore,
        "These are different photos; the group is not proposed again."
    ),
    row!(
        "dupes_history",
        true,
        dupes::history,
        "Every resolution, oldest first."
    ),
    row!(
        "dupes_undo",
        false,
        dupes::undo,
        "Put a resolution's files back from the trash."
    ),
    row!(
        "folders",
        true,
        library::folders,
        "The library's folders and how each is followed."
    ),
    row!(
        "folders_add",
        false,
        library::folders_add,
        "Register a photo folder (and index it)."
    ),
    row!(
        "folders_remove",
        false,
        library::folders_remove,
        "Forget a folder; its files are never touched."
    ),
    row!(
        "settings_get",
        true,
        settings::get,
        "Sidecar, thumbnail and device settings."
    ),
    row!(
        "settings_set",
        false,
        settings::set,
        "Change sidecar or device settings."
    ),
    row!(
        "settings_clear_previews",
        false,
        settings::clear_previews,
        "Delete cached previews (made again on demand)."
    ),
    row!(
        "models",
        true,
        models::list,
        "Models known, downloaded and in use."
    ),
    row!(
        "model_download",
        false,
        models::download,
        "Download a model in the background."
    ),
    row!(
        "model_download_cancel",
        false,
        models::download_cancel,
        "Cancel the download in flight."
    ),
    row!(
        "model_choose",
        false,
        models::choose,
        "Make a downloaded model the library's model."
    ),
    row!(
        "model_add",
        false,
        models::add,
        "Use a model folder from disk."
    ),
    row!(
        "prioritize",
        false,
        library::prioritize,
        "Index and embed these photos before anything else."
    ),
    row!(
        "jobs_pause",
        false,
        library::jobs_pause,
        "Pause kinds of background work."
    ),
    row!(
        "jobs_resume",
        false,
        library::jobs_resume,
        "Resume kinds of background work."
    ),
];

/// The command named `name`.
pub fn command(name: &str) -> Option<&'static Command> {
    COMMANDS.iter().find(|c| c.name == name)
}

/// Whether `name` is a command that `GET` may call.
pub fn allows_get(name: &str) -> bool {
    command(name).is_some_and(|c| c.get)
}

/// docs/api.md's command index, made from the table.
pub fn index_markdown() -> String {
    let mut out = String::from("| command | GET | what it does |\n|---|---|---|\n");
    for c in COMMANDS {
        let get = if c.get { "yes" } else { "" };
        out.push_str(&format!("| `{}` | {get} | {} |\n", c.name, c.doc));
    }
    out
}

/// Runs command `name` with `args` (a JSON object; `null` counts as `{}`).
pub fn dispatch(state: &ApiState, name: &str, args: Value) -> Out {
    let args = match args {
        Value::Null => json!({}),
        Value::Object(_) => args,
        other => {
            return Err(ApiError::BadRequest(format!(
                "arguments of `{name}` must be a JSON object, not {other}"
            )))
        }
    };
    let command = command(name).ok_or_else(|| ApiError::UnknownCommand(name.to_string()))?;
    let _span = tracing::debug_span!("command", name).entered();
    (command.run)(state, args)
}

fn parse<T: DeserializeOwned>(name: &str, args: Value) -> Result<T, ApiError> {
    serde_json::from_value(args)
        .map_err(|e| ApiError::BadRequest(format!("invalid arguments for `{name}`: {e}")))
}

/// The engine's answer as JSON: the same struct the CLI's `--json`
/// prints, written the same way. Through text, because a direct
/// `to_value` widens an f32 score to f64 (0.18393472 would go out as
/// 0.1839347183704376).
fn to_value(v: impl serde::Serialize) -> Out {
    let invalid = |e: serde_json::Error| ApiError::Engine(EngineError::Invalid(e.to_string()));
    serde_json::from_str(&serde_json::to_string(&v).map_err(invalid)?).map_err(invalid)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoArgs {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PhotoId {
    id: i64,
}

fn yes() -> bool {
    true
}
