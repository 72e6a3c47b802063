//! Models and embeddings: `model`, `embed`, `embed-image`, `embed-text`
//! and `doctor`.

use crate::output::say;
use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;
use serde::Serialize;
use shoebox_engine::embed::{EmbedOptions, EmbedReport, LoadedModel, ModelStatus};
use shoebox_engine::model::ResolveOptions;
use shoebox_engine::tags::RetagReport;
use shoebox_engine::Library;

use crate::loading::{load_embedding_model, load_model, resolve_with_progress};
use crate::output::print_json;
use crate::{cancel_on_ctrl_c, progress, Cli};

/// `shoebox embed`.
#[derive(clap::Args)]
pub(crate) struct EmbedArgs {
    /// Images per forward pass (default: 16 on the CPU, 64 on a GPU).
    #[arg(long, default_value_t = 0)]
    batch: usize,
    /// Decode threads (default: half the cores on the CPU).
    #[arg(long, default_value_t = 0)]
    workers: usize,
    /// Try again photos whose embedding failed before.
    #[arg(long)]
    retry_failed: bool,
    /// Do not re-tag after embedding (run `shoebox tags retag` later).
    #[arg(long)]
    no_tags: bool,
}

#[derive(Subcommand)]
pub(crate) enum ModelCommand {
    /// Models Shoebox knows, with what is downloaded and in use.
    List,
    /// Download a model into the Hugging Face cache (default: the model in effect).
    Download { spec: Option<String> },
    /// Make a model this library's model (downloads it when needed).
    Use { spec: String },
}

pub(crate) fn embed(library: &Library, cli: &Cli, args: &EmbedArgs) -> Result<()> {
    let model = load_embedding_model(library, cli)?;
    let embed_bar = progress::EmbedBar::new(cli.json);
    let tag_bar = progress::TagBar::new(cli.json);
    let opts = EmbedOptions {
        batch_size: args.batch,
        workers: args.workers,
        cancel: Some(cancel_on_ctrl_c()),
        retry_failed: args.retry_failed,
        ..EmbedOptions::default()
    };
    let (report, tags) = library.embed_and_tag(
        &model,
        &opts,
        !args.no_tags,
        &|p| embed_bar.update(p),
        &|p| tag_bar.update(p),
    )?;
    embed_bar.finish();
    tag_bar.finish();
    embed_report(cli.json, &report, tags.as_ref())
}

pub(crate) fn embed_image(
    library: &Library,
    cli: &Cli,
    files: &[PathBuf],
    full_decode: bool,
) -> Result<()> {
    let model = load_model(library, cli, None)?;
    let mut rows = Vec::with_capacity(files.len());
    for file in files {
        rows.push(Embedded {
            file: Some(file.to_string_lossy().into_owned()),
            text: None,
            embedding: library.embed_file(&model, file, full_decode)?,
        });
    }
    embeddings(cli.json, &rows)
}

pub(crate) fn embed_text(library: &Library, cli: &Cli, texts: &[String]) -> Result<()> {
    let model = load_model(library, cli, None)?;
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let rows: Vec<Embedded> = texts
        .iter()
        .zip(library.embed_texts(&model, &refs)?)
        .map(|(t, embedding)| Embedded {
            file: None,
            text: Some(t.clone()),
            embedding,
        })
        .collect();
    embeddings(cli.json, &rows)
}

pub(crate) fn model_command(library: &Library, cli: &Cli, command: &ModelCommand) -> Result<()> {
    let json = cli.json;
    match command {
        ModelCommand::List => model_list(json, &library.models(&ResolveOptions::from_env())?),
        ModelCommand::Download { spec } => {
            let model = load_model(library, cli, spec.as_deref())?;
            model_ready(json, &model, Chosen::No)
        }
        ModelCommand::Use { spec } => {
            let (opts, bar) = resolve_with_progress(json);
            let model = library.use_model(spec, cli.device, &opts);
            bar.finish();
            let chosen = match library.model_switch()? {
                Some(switch) => Chosen::Next(switch.remaining),
                None => Chosen::Active,
            };
            model_ready(json, &model?, chosen)
        }
    }
}

pub(crate) fn show_doctor(library: &Library, cli: &Cli) -> Result<()> {
    doctor(cli.json, &doctor_report(library, cli))
}

pub(crate) fn doctor_report(library: &Library, cli: &Cli) -> Doctor {
    let resolve = ResolveOptions::from_env();
    let spec = library
        .model_spec(cli.model.as_deref())
        .unwrap_or_else(|e| format!("? ({e})"));
    // The device in effect: the flag or SHOEBOX_DEVICE, else Settings.
    let choice = library.device_choice(cli.device);
    let (_, device_info) = shoebox_engine::model::select_device(choice);
    let offline_lookup = ResolveOptions {
        offline: true,
        ..resolve.clone()
    };
    let found = shoebox_engine::model::resolve_model(&spec, &offline_lookup);
    Doctor {
        version: env!("CARGO_PKG_VERSION"),
        library: library.dir().display().to_string(),
        model_spec: spec,
        model: found.as_ref().ok().map(|d| d.id.clone()),
        model_path: found.as_ref().ok().map(|d| d.path.display().to_string()),
        model_error: found.as_ref().err().map(|e| e.to_string()),
        device_requested: choice.to_string(),
        device: device_info.name,
        device_fallback_reason: device_info.fallback_reason,
        threads: shoebox_engine::model::compute_threads(),
        features: shoebox_engine::model::compiled_features(),
        hf_cache: resolve.cache_dir.display().to_string(),
        hf_endpoint: resolve.endpoint.clone(),
        offline: resolve.offline,
    }
}

pub fn embed_report(json: bool, report: &EmbedReport, tags: Option<&RetagReport>) -> Result<()> {
    if json {
        #[derive(Serialize)]
        struct WithTags<'a> {
            #[serde(flatten)]
            embed: &'a EmbedReport,
            tags: Option<&'a RetagReport>,
        }
        return print_json(&WithTags {
            embed: report,
            tags,
        });
    }
    let verb = if report.cancelled {
        "Stopped after embedding"
    } else {
        "Embedded"
    };
    say!(
        "{verb} {} photos in {:.1}s ({:.1} photos/s) with {} on {}.",
        report.embedded,
        report.seconds,
        report.photos_per_second,
        report.model,
        report.device
    );
    if report.failed > 0 {
        say!(
            "{} photos could not be embedded; `shoebox errors` lists them.",
            report.failed
        );
    }
    if report.remaining > 0 {
        say!(
            "{} photos left; run `shoebox embed` again to continue.",
            report.remaining
        );
    }
    if let Some(tags) = tags {
        crate::tags::print_retag(tags);
    }
    Ok(())
}

#[derive(Serialize)]
pub struct Embedded {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    pub embedding: Vec<f32>,
}

pub fn embeddings(json: bool, rows: &[Embedded]) -> Result<()> {
    if json {
        return print_json(rows);
    }
    for row in rows {
        let label = row
            .file
            .as_deref()
            .or(row.text.as_deref())
            .unwrap_or_default();
        let head: Vec<String> = row
            .embedding
            .iter()
            .take(4)
            .map(|v| format!("{v:+.4}"))
            .collect();
        say!(
            "{label}: [{}, ...] ({} dims)",
            head.join(", "),
            row.embedding.len()
        );
    }
    Ok(())
}

pub fn model_list(json: bool, models: &[ModelStatus]) -> Result<()> {
    if json {
        return print_json(models);
    }
    for m in models {
        let mut flags = Vec::new();
        if m.active {
            flags.push("active".to_string());
        }
        if m.default {
            flags.push("default on a CPU".to_string());
        }
        if m.default_on_gpu {
            flags.push("default on a GPU".to_string());
        }
        flags.push(if m.downloaded {
            "downloaded".into()
        } else {
            "not downloaded".into()
        });
        if m.embedded > 0 {
            flags.push(format!("{} photos embedded", m.embedded));
        }
        let size = m
            .download_mb
            .map(|mb| format!(", {mb} MB"))
            .unwrap_or_default();
        say!("{:<24} {}{size}  [{}]", m.name, m.repo, flags.join(", "));
        let mut facts = Vec::new();
        if !m.languages.is_empty() {
            facts.push(m.languages.join(", "));
        }
        if !m.licence.is_empty() {
            facts.push(m.licence.clone());
        }
        if let Some(cost) = m.relative_cost {
            facts.push(format!("{cost}x the default's image cost"));
        }
        if let Some(recall) = &m.recall {
            let per_language: Vec<String> = recall
                .iter()
                .map(|(lang, r)| format!("{lang} {r}"))
                .collect();
            facts.push(format!("recall {}", per_language.join(" / ")));
        }
        if !facts.is_empty() {
            say!("{:<24} {}", "", facts.join("; "));
        }
    }
    Ok(())
}

/// What `model use` made of a model.
pub enum Chosen {
    /// Only downloaded and checked.
    No,
    /// The library's model now.
    Active,
    /// The next model, with this many photos to embed before it takes over.
    Next(i64),
}

pub fn model_ready(json: bool, model: &LoadedModel, chosen: Chosen) -> Result<()> {
    if json {
        return print_json(&serde_json::json!({
            "model": model.row.key,
            "spec": model.row.spec,
            "path": model.dir.path,
            "dim": model.row.dim,
            "device": model.device_info.name,
            "active": matches!(chosen, Chosen::Active),
            "switching": matches!(chosen, Chosen::Next(_)),
        }));
    }
    say!(
        "{} is ready in {} ({} dims).",
        model.row.key,
        model.dir.path.display(),
        model.row.dim
    );
    match chosen {
        Chosen::No => {}
        Chosen::Active => {
            say!("It is now this library's model; `shoebox embed` fills in its vectors.")
        }
        Chosen::Next(remaining) => say!(
            "It takes over once it has embedded {remaining} photos (`shoebox embed`, or the app in the background); search keeps the current model until then."
        ),
    }
    Ok(())
}

#[derive(Serialize)]
pub struct Doctor {
    pub version: &'static str,
    pub library: String,
    pub model_spec: String,
    pub model: Option<String>,
    pub model_path: Option<String>,
    pub model_error: Option<String>,
    pub device_requested: String,
    pub device: String,
    pub device_fallback_reason: Option<String>,
    pub threads: usize,
    pub features: Vec<&'static str>,
    pub hf_cache: String,
    pub hf_endpoint: String,
    pub offline: bool,
}

pub fn doctor(json: bool, d: &Doctor) -> Result<()> {
    if json {
        return print_json(d);
    }
    say!("shoebox {}", d.version);
    say!("library:  {}", d.library);
    say!("model:    {}", d.model_spec);
    match (&d.model, &d.model_error) {
        (Some(key), _) => say!(
            "          {key} at {}",
            d.model_path.as_deref().unwrap_or("?")
        ),
        (None, Some(err)) => say!("          not available: {err}"),
        _ => {}
    }
    say!("device:   {} (requested {})", d.device, d.device_requested);
    if let Some(reason) = &d.device_fallback_reason {
        say!("          fell back to the CPU: {reason}");
    }
    say!("threads:  {}", d.threads);
    say!("features: {}", d.features.join(", "));
    say!(
        "hf cache: {} (endpoint {}{})",
        d.hf_cache,
        d.hf_endpoint,
        if d.offline { ", offline" } else { "" }
    );
    Ok(())
}
