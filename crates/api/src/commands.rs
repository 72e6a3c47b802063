//! The command table: names, argument types and results (docs/api.md).
//! Each command parses its arguments, calls the engine facade and shapes
//! the answer; behaviour lives in the engine.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use shoebox_engine::dupes::Tier;
use shoebox_engine::model::DeviceChoice;
use shoebox_engine::model::{DownloadEvent, ResolveOptions};
use shoebox_engine::search::{self, Query, SearchOptions, SearchResults, Sort};
use shoebox_engine::tags::SidecarNaming;
use shoebox_engine::{EngineError, Library};

use crate::error::ApiError;
use crate::state::{ApiState, Download};

type Out = Result<Value, ApiError>;

/// Every command: its name and whether `GET` may call it (it takes no
/// arguments and changes nothing).
pub const COMMANDS: &[(&str, bool)] = &[
    ("status", true),
    ("first_run", true),
    ("first_run_done", false),
    ("errors", true),
    ("scan", false),
    ("timeline", true),
    ("photo", false),
    ("reveal", false),
    ("search", false),
    ("similar", false),
    ("tags", true),
    ("tag_photos", false),
    ("tag_add", false),
    ("tag_remove", false),
    ("tag_confirm", false),
    ("tag_reject", false),
    ("custom_tag_create", false),
    ("custom_tag_remove", false),
    ("dupes", true),
    ("dupes_resolve", false),
    ("dupes_resolve_all", false),
    ("dupes_keep_all", false),
    ("dupes_not_duplicates", false),
    ("dupes_history", true),
    ("dupes_undo", false),
    ("folders", true),
    ("folders_add", false),
    ("folders_remove", false),
    ("settings_get", true),
    ("settings_set", false),
    ("settings_clear_previews", false),
    ("models", true),
    ("model_download", false),
    ("model_download_cancel", false),
    ("model_choose", false),
    ("model_add", false),
    ("prioritize", false),
    ("jobs_pause", false),
    ("jobs_resume", false),
];

/// Whether `name` is a command that `GET` may call.
pub fn allows_get(name: &str) -> bool {
    COMMANDS.iter().any(|(n, get)| *n == name && *get)
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
    let _span = tracing::debug_span!("command", name).entered();
    match name {
        "status" => status(state, parse(name, args)?),
        "first_run" => first_run(state, parse(name, args)?),
        "first_run_done" => first_run_done(state, parse(name, args)?),
        "errors" => errors(state, parse(name, args)?),
        "scan" => scan(state, parse(name, args)?),
        "timeline" => timeline(state, parse(name, args)?),
        "photo" => photo(state, parse(name, args)?),
        "reveal" => reveal(state, parse(name, args)?),
        "search" => search_cmd(state, parse(name, args)?),
        "similar" => similar(state, parse(name, args)?),
        "tags" => tags(state, parse(name, args)?),
        "tag_photos" => tag_photos(state, parse(name, args)?),
        "tag_add" => tag_edit(state, parse(name, args)?, "add"),
        "tag_confirm" => tag_edit(state, parse(name, args)?, "confirm"),
        "tag_remove" => tag_edit(state, parse(name, args)?, "remove"),
        "tag_reject" => tag_edit(state, parse(name, args)?, "reject"),
        "custom_tag_create" => custom_tag_create(state, parse(name, args)?),
        "custom_tag_remove" => custom_tag_remove(state, parse(name, args)?),
        "dupes" => dupes(state, parse(name, args)?),
        "dupes_resolve" => dupes_resolve(state, parse(name, args)?),
        "dupes_resolve_all" => dupes_resolve_all(state, parse(name, args)?),
        "dupes_keep_all" | "dupes_not_duplicates" => dupes_ignore(state, parse(name, args)?),
        "dupes_history" => dupes_history(state, parse(name, args)?),
        "dupes_undo" => dupes_undo(state, parse(name, args)?),
        "folders" => folders(state, parse(name, args)?),
        "folders_add" => folders_add(state, parse(name, args)?),
        "folders_remove" => folders_remove(state, parse(name, args)?),
        "settings_get" => settings_get(state, parse(name, args)?),
        "settings_set" => settings_set(state, parse(name, args)?),
        "settings_clear_previews" => settings_clear_previews(state, parse(name, args)?),
        "models" => models(state, parse(name, args)?),
        "model_download" => model_download(state, parse(name, args)?),
        "model_download_cancel" => model_download_cancel(state, parse(name, args)?),
        "model_choose" => model_choose(state, parse(name, args)?),
        "model_add" => model_add(state, parse(name, args)?),
        "prioritize" => prioritize(state, parse(name, args)?),
        "jobs_pause" => jobs(state, parse(name, args)?, true),
        "jobs_resume" => jobs(state, parse(name, args)?, false),
        other => Err(ApiError::UnknownCommand(other.to_string())),
    }
}

fn parse<T: DeserializeOwned>(name: &str, args: Value) -> Result<T, ApiError> {
    serde_json::from_value(args)
        .map_err(|e| ApiError::BadRequest(format!("invalid arguments for `{name}`: {e}")))
}

fn to_value(v: impl serde::Serialize) -> Out {
    serde_json::to_value(v).map_err(|e| ApiError::Engine(EngineError::Invalid(e.to_string())))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoArgs {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PhotoId {
    id: i64,
}

// ---- library state -------------------------------------------------------

fn status(state: &ApiState, _: NoArgs) -> Out {
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
    out["download"] = download_state(state);
    Ok(out)
}

fn download_state(state: &ApiState) -> Value {
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

fn model_list(
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

fn first_run(state: &ApiState, _: NoArgs) -> Out {
    let library = state.library();
    let models = model_list(state, &library)?;
    to_value(library.first_run(&models)?)
}

fn first_run_done(state: &ApiState, _: NoArgs) -> Out {
    let library = state.library();
    library.finish_first_run()?;
    Ok(json!({"needed": false}))
}

fn errors(state: &ApiState, _: NoArgs) -> Out {
    Ok(json!({"errors": state.library().errors()?}))
}

fn scan(state: &ApiState, _: NoArgs) -> Out {
    state.request_scan(None)?;
    Ok(json!({"started": true}))
}

// ---- browsing -------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct TimelineArgs {
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

fn timeline(state: &ApiState, a: TimelineArgs) -> Out {
    let t = state.library().timeline(a.offset, a.limit, a.months)?;
    let mut out = to_value(&t)?;
    if t.months.is_none() {
        out.as_object_mut().expect("object").remove("months");
    }
    Ok(out)
}

fn photo(state: &ApiState, a: PhotoId) -> Out {
    to_value(state.library().photo_details(a.id)?)
}

fn reveal(state: &ApiState, a: PhotoId) -> Out {
    to_value(state.library().photo_location(a.id)?)
}

// ---- search ---------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchArgs {
    q: Option<String>,
    query: Option<Query>,
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

fn search_options(
    limit: usize,
    offset: usize,
    sort: Option<&str>,
    all: bool,
    min_score: Option<f32>,
) -> Result<SearchOptions, ApiError> {
    if limit > shoebox_engine::browse::MAX_PAGE {
        return Err(ApiError::BadRequest(format!(
            "limit is at most {}",
            shoebox_engine::browse::MAX_PAGE
        )));
    }
    Ok(SearchOptions {
        limit,
        offset,
        sort: sort
            .map(str::parse::<Sort>)
            .transpose()?
            .unwrap_or_default(),
        all,
        min_score,
        ..SearchOptions::default()
    })
}

/// The engine's results plus the chips and whether more exist past the
/// cut-off.
fn search_answer(results: SearchResults) -> Out {
    let chips = search::chips(&results.query);
    let more = results
        .cutoff
        .as_ref()
        .is_some_and(|c| c.min_score.is_some())
        && results.candidates > results.total;
    let mut out = to_value(&results)?;
    out["chips"] = to_value(chips)?;
    out["more"] = json!(more);
    Ok(out)
}

fn search_cmd(state: &ApiState, a: SearchArgs) -> Out {
    let opts = search_options(a.limit, a.offset, a.sort.as_deref(), a.all, a.min_score)?;
    let library = state.library();
    let query = match (a.q, a.query) {
        (Some(_), Some(_)) => {
            return Err(ApiError::BadRequest(
                "give either `q` (text) or `query` (structured), not both".into(),
            ))
        }
        (Some(q), None) => search::parse(&q, chrono::Local::now().date_naive())
            .map_err(|e| ApiError::Engine(e.into()))?,
        (None, Some(query)) => query,
        (None, None) => {
            return Err(ApiError::BadRequest(
                "`search` needs `q` (text) or `query` (structured)".into(),
            ))
        }
    };
    let model = state.model(&library)?;
    search_answer(library.search_query(&model, query, &opts)?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SimilarArgs {
    id: i64,
    #[serde(default = "default_results")]
    limit: usize,
    #[serde(default)]
    offset: usize,
    sort: Option<String>,
    #[serde(default)]
    all: bool,
    min_score: Option<f32>,
}

fn similar(state: &ApiState, a: SimilarArgs) -> Out {
    let opts = search_options(a.limit, a.offset, a.sort.as_deref(), a.all, a.min_score)?;
    let library = state.library();
    library.info(a.id)?;
    let model = state.model(&library)?;
    search_answer(library.similar(&model, a.id, &opts)?)
}

// ---- tags -----------------------------------------------------------------

fn tags(state: &ApiState, _: NoArgs) -> Out {
    Ok(json!({"tags": state.library().tag_tree()?}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TagPhotosArgs {
    tag: String,
    /// `auto`, `user` or `imported`: only photos whose tag came from there.
    source: Option<String>,
    #[serde(default)]
    offset: usize,
    #[serde(default = "default_page")]
    limit: usize,
}

fn default_page() -> usize {
    200
}

fn tag_photos(state: &ApiState, a: TagPhotosArgs) -> Out {
    to_value(
        state
            .library()
            .tag_photos(&a.tag, a.source.as_deref(), a.offset, a.limit)?,
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TagEditArgs {
    id: i64,
    tag: String,
}

fn tag_edit(state: &ApiState, a: TagEditArgs, action: &str) -> Out {
    let library = state.library();
    let (tag, was_on) = match action {
        "add" | "confirm" => {
            let was_on = library.photo_tags(a.id)?.iter().any(|t| {
                t.source == shoebox_engine::catalog::SOURCE_USER
                    && shoebox_engine::tags::tag_key(&t.tag)
                        == shoebox_engine::tags::tag_key(&a.tag)
            });
            (library.add_tag(a.id, &a.tag)?, was_on)
        }
        _ => library.remove_tag(a.id, &a.tag)?,
    };
    let tags = library.named_tags(a.id)?;
    drop(library);
    state.events().changed("tags", Some(&[a.id]));
    Ok(json!({"id": a.id, "tag": tag, "action": action, "was_on": was_on, "tags": tags}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomTagArgs {
    name: String,
    description: Option<String>,
    parent: Option<String>,
    #[serde(default)]
    examples: Vec<i64>,
}

fn custom_tag_create(state: &ApiState, a: CustomTagArgs) -> Out {
    let library = state.library();
    for id in &a.examples {
        library.info(*id)?;
    }
    let def = library.add_custom_tag(
        &a.name,
        a.description.as_deref(),
        a.parent.as_deref(),
        &a.examples,
    )?;
    drop(library);
    state.events().changed("tags", Some(&a.examples));
    let mut out = to_value(def)?;
    out["examples"] = json!(a.examples.len());
    Ok(out)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NameArgs {
    name: String,
}

fn custom_tag_remove(state: &ApiState, a: NameArgs) -> Out {
    let tag = state.library().remove_custom_tag(&a.name)?;
    state.events().changed("tags", None);
    Ok(json!({"tag": tag}))
}

// ---- duplicates -----------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DupesArgs {
    #[serde(default)]
    tier: Option<String>,
}

fn parse_tier(tier: &str) -> Result<Tier, ApiError> {
    Ok(tier.parse::<Tier>()?)
}

fn dupes(state: &ApiState, a: DupesArgs) -> Out {
    let tier = a.tier.as_deref().map(parse_tier).transpose()?;
    let all = state.library().duplicates(None)?;
    let mut counts = json!({"exact": 0, "near": 0, "similar": 0});
    for g in &all {
        let key = g.tier.as_str();
        counts[key] = json!(counts[key].as_i64().unwrap_or(0) + 1);
    }
    let groups: Vec<Value> = all
        .iter()
        .filter(|g| tier.is_none_or(|t| g.tier == t))
        .map(|g| {
            let mut v = to_value(g)?;
            v["differs"] = json!(g.differences());
            if let Some(members) = v["members"].as_array_mut() {
                for m in members {
                    let keep = m["id"].as_i64() == Some(g.keep);
                    m["keep"] = json!(keep);
                }
            }
            Ok(v)
        })
        .collect::<Result<_, ApiError>>()?;
    Ok(json!({"counts": counts, "groups": groups}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResolveArgs {
    group: String,
    keep: Option<i64>,
    /// Safe by default: nothing moves unless `dry_run` is false.
    #[serde(default = "yes")]
    dry_run: bool,
}

fn yes() -> bool {
    true
}

fn dupes_resolve(state: &ApiState, a: ResolveArgs) -> Out {
    let resolution = state
        .library()
        .resolve_duplicate(&a.group, a.keep, a.dry_run)?;
    if !a.dry_run {
        state.events().changed("dupes", None);
        state.events().changed("photos", None);
    }
    to_value(resolution)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResolveAllArgs {
    tier: String,
    #[serde(default = "yes")]
    dry_run: bool,
}

fn dupes_resolve_all(state: &ApiState, a: ResolveAllArgs) -> Out {
    let tier = parse_tier(&a.tier)?;
    let groups = state.library().resolve_all_duplicates(tier, a.dry_run)?;
    if !a.dry_run {
        state.events().changed("dupes", None);
        state.events().changed("photos", None);
    }
    Ok(json!({"tier": tier, "dry_run": a.dry_run, "groups": groups}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupArgs {
    group: String,
}

fn dupes_ignore(state: &ApiState, a: GroupArgs) -> Out {
    let group = state.library().ignore_duplicate(&a.group)?;
    let decision = match (group.kind, group.tier) {
        (shoebox_engine::dupes::GroupKind::Copies, _) | (_, Tier::Similar) => "keep_all",
        _ => "not_duplicates",
    };
    state.events().changed("dupes", None);
    Ok(json!({"group": group.id, "tier": group.tier, "decision": decision}))
}

fn dupes_history(state: &ApiState, _: NoArgs) -> Out {
    Ok(json!({"actions": state.library().duplicate_history()?}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UndoArgs {
    action: i64,
}

fn dupes_undo(state: &ApiState, a: UndoArgs) -> Out {
    let report = state.library().undo_duplicate_action(a.action)?;
    state.events().changed("dupes", None);
    state.request_scan(None)?;
    to_value(report)
}

// ---- folders --------------------------------------------------------------

fn folders(state: &ApiState, _: NoArgs) -> Out {
    let library = state.library();
    let watch = library.live_status()?.watch;
    let folders: Vec<Value> = library
        .folders()?
        .into_iter()
        .map(|r| {
            let mut v = to_value(&r)?;
            v["watch"] = json!(watch.iter().find(|w| w.root_id == r.id).map(|w| &w.mode));
            Ok(v)
        })
        .collect::<Result<_, ApiError>>()?;
    Ok(json!({"folders": folders}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddFolderArgs {
    path: PathBuf,
    #[serde(default = "yes")]
    scan: bool,
}

fn folders_add(state: &ApiState, a: AddFolderArgs) -> Out {
    let root = state.library().add_folder(&a.path)?;
    state.events().changed("folders", None);
    if a.scan {
        state.request_scan(Some(root.id))?;
    }
    to_value(root)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FolderIdArgs {
    id: i64,
}

fn folders_remove(state: &ApiState, a: FolderIdArgs) -> Out {
    let root = state.library().remove_folder_id(a.id)?;
    state.events().changed("folders", None);
    state.events().changed("photos", None);
    to_value(root)
}

// ---- settings -------------------------------------------------------------

fn settings_value(state: &ApiState, library: &Library) -> Out {
    let xmp = library.xmp_settings()?;
    let choice = state.device(library);
    let (_, device) = shoebox_engine::model::select_device(choice);
    Ok(json!({
        "xmp": xmp,
        "thumbnails": library.thumbnail_cache()?,
        "library": library.dir(),
        "device": device.name,
        "device_choice": choice.to_string(),
        "devices": ["auto", "cpu", "cuda", "metal"],
        "device_reason": device.fallback_reason,
        "device_locked": state.options().device != DeviceChoice::Auto,
    }))
}

fn settings_get(state: &ApiState, _: NoArgs) -> Out {
    let library = state.library();
    settings_value(state, &library)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsArgs {
    xmp: Option<XmpArgs>,
    device: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct XmpArgs {
    write_on_change: Option<bool>,
    naming: Option<String>,
}

fn settings_set(state: &ApiState, a: SettingsArgs) -> Out {
    let library = state.library();
    if let Some(x) = a.xmp {
        let mut settings = library.xmp_settings()?;
        if let Some(w) = x.write_on_change {
            settings.write_on_change = w;
        }
        if let Some(n) = x.naming {
            settings.naming = n.parse::<SidecarNaming>()?;
        }
        library.set_xmp_settings(&settings)?;
    }
    let mut device_changed = false;
    if let Some(d) = a.device {
        let choice: DeviceChoice = d.parse().map_err(|e: shoebox_engine::model::Error| {
            ApiError::Engine(EngineError::Invalid(e.to_string()))
        })?;
        device_changed = choice != state.device(&library);
        library
            .catalog()
            .set_setting(crate::state::DEVICE_SETTING, &choice.to_string())?;
    }
    let out = settings_value(state, &library)?;
    drop(library);
    if device_changed {
        // The model is loaded again on the new device (the live engine
        // restarts with it).
        state.model_changed()?;
    }
    state.events().changed("settings", None);
    Ok(out)
}

fn settings_clear_previews(state: &ApiState, _: NoArgs) -> Out {
    to_value(state.library().clear_previews()?)
}

// ---- models ---------------------------------------------------------------

fn models(state: &ApiState, _: NoArgs) -> Out {
    let library = state.library();
    let list = model_list(state, &library)?;
    let active = library.catalog().active_model()?.map(|m| m.key);
    Ok(json!({"active": active, "models": list, "download": download_state(state)}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DownloadArgs {
    name: Option<String>,
    #[serde(rename = "use", default = "yes")]
    use_it: bool,
}

fn model_download(state: &ApiState, a: DownloadArgs) -> Out {
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

fn model_download_cancel(state: &ApiState, _: NoArgs) -> Out {
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
    state.events().changed("models", None);
    // Photos without a vector for this model get one in the background.
    state.model_changed()?;
    Ok(out)
}

fn model_choose(state: &ApiState, a: NameArgs) -> Out {
    use_model(state, &a.name)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelAddArgs {
    path: PathBuf,
}

fn model_add(state: &ApiState, a: ModelAddArgs) -> Out {
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

// ---- jobs -----------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JobsArgs {
    #[serde(default)]
    kinds: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PrioritizeArgs {
    ids: Vec<i64>,
}

fn prioritize(state: &ApiState, a: PrioritizeArgs) -> Out {
    if a.ids.len() > shoebox_engine::browse::MAX_PAGE {
        return Err(ApiError::BadRequest(format!(
            "at most {} photos at a time",
            shoebox_engine::browse::MAX_PAGE
        )));
    }
    state.library().prioritize(&a.ids)?;
    state.wake();
    Ok(json!({"queued": a.ids.len()}))
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
