//! `shoebox`: the command-line shell over the engine. Argument parsing and
//! presentation only; every behaviour lives in `shoebox-engine`. One module
//! per feature, each holding its arguments, its calls and its output.

mod dupes;
mod jobs;
mod library;
mod loading;
mod models;
mod output;
mod progress;
mod search;
mod serve;
mod tags;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use shoebox_engine::model::DeviceChoice;
use shoebox_engine::Library;

#[derive(Parser)]
#[command(name = "shoebox", version, about = "Private, offline photo organizer")]
pub(crate) struct Cli {
    /// Library folder (catalog and thumbnails). Defaults to the platform's
    /// data folder.
    #[arg(long, global = true, env = "SHOEBOX_LIBRARY", value_name = "DIR")]
    pub(crate) library: Option<PathBuf>,

    /// Machine-readable JSON on stdout instead of text.
    #[arg(long, global = true)]
    pub(crate) json: bool,

    /// Model: a registry name (`shoebox model list`), a Hugging Face repo id
    /// `org/name[@revision]`, or a local model folder. Defaults to the
    /// library's active model, then to the registry default.
    #[arg(long, global = true, env = "SHOEBOX_MODEL", value_name = "MODEL")]
    pub(crate) model: Option<String>,

    /// Where models run: auto, cpu, cuda or metal. Falls back to the CPU,
    /// with a warning, when the device cannot start.
    #[arg(long, global = true, env = "SHOEBOX_DEVICE", default_value = "auto")]
    pub(crate) device: DeviceChoice,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Register a photo folder.
    Add { folder: PathBuf },
    /// Forget a photo folder (its files are never touched).
    Remove { folder: PathBuf },
    /// Index everything new or changed in the library folders.
    Scan {
        /// Worker threads (default: one per core).
        #[arg(long, default_value_t = 0)]
        threads: usize,
    },
    /// Counts of photos, files, errors, offline files and pending work.
    Status,
    /// Metadata of one photo, by path or catalog id.
    Info { photo: String },
    /// Every file or folder that could not be read, with the reason.
    Errors,
    /// Path of a photo's cached thumbnail (256) or preview (1024), made on demand.
    Thumbnail {
        photo: String,
        #[arg(long, default_value_t = 256)]
        size: u32,
    },
    /// Compute the embedding of every photo that lacks one (resumable).
    Embed(models::EmbedArgs),
    /// Print the embeddings of image files (not stored).
    EmbedImage {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Decode at full size, as the Python reference does, instead of the
        /// reduced decode the embedding job uses.
        #[arg(long)]
        full_decode: bool,
    },
    /// Print the embeddings of texts.
    EmbedText {
        #[arg(required = true)]
        texts: Vec<String>,
    },
    /// List, download or choose models.
    #[command(subcommand)]
    Model(models::ModelCommand),
    /// Report the device, model, threads and compiled-in features.
    Doctor,
    /// Find photos by what they show, with filters (see README for the
    /// query language): `shoebox search "dog on the beach after:2019"`.
    Search {
        /// The query; several words need no quotes. Quote a query with
        /// `-word` ("beach -dog") or write `not dog`, so the shell's words
        /// are not read as options.
        #[arg(required = true, num_args = 1..)]
        query: Vec<String>,
        #[command(flatten)]
        page: search::PageArgs,
    },
    /// Photos that look like the given one (by path or catalog id).
    Similar {
        photo: String,
        #[command(flatten)]
        page: search::PageArgs,
    },
    /// Duplicates in three tiers (exact, near, similar), their resolution
    /// through the OS trash, remembered decisions and undo.
    Dupes(dupes::DupesArgs),
    /// Tags: `shoebox tags PHOTO` shows a photo's tags; the subcommands
    /// list, browse and manage them.
    #[command(
        subcommand,
        override_usage = "shoebox tags <PHOTO> [--json]\n       shoebox tags [OPTIONS] <COMMAND>"
    )]
    Tags(tags::TagsCommand),
    /// Put a tag on a photo or take it off.
    #[command(subcommand)]
    Tag(tags::TagCommand),
    /// Accuracy harnesses for real weights.
    #[command(subcommand)]
    Eval(tags::EvalCommand),
    /// Serve the web UI and the JSON API (docs/api.md) to a browser on this
    /// computer. Loopback only; prints its URL, with a fresh token, first.
    Serve(serve::ServeArgs),
    /// Follow the library folders live and process background work, in the
    /// foreground, with a status line (Ctrl-C stops; work resumes next time).
    Watch(jobs::WatchArgs),
    /// The background job queue: list (the default), pause, resume, or run
    /// it to the end.
    Jobs {
        #[command(subcommand)]
        command: Option<jobs::JobsCommand>,
    },
}

fn main() {
    shoebox_api::init_logging();
    if let Err(err) = run(Cli::parse()) {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

fn open_library(cli: &Cli) -> Result<Library> {
    let dir = match &cli.library {
        Some(dir) => dir.clone(),
        None => Library::default_dir()?,
    };
    Library::open(&dir).with_context(|| format!("opening the library in {}", dir.display()))
}

fn run(cli: Cli) -> Result<()> {
    if let Command::Serve(args) = &cli.command {
        return serve::serve(&cli, args);
    }
    let library = open_library(&cli)?;
    let json = cli.json;
    match &cli.command {
        Command::Add { folder } => library::add(&library, json, folder),
        Command::Remove { folder } => library::remove(&library, json, folder),
        Command::Scan { threads } => library::scan(&library, json, *threads),
        Command::Status => library::show_status(&library, json),
        Command::Info { photo } => library::show_info(&library, json, photo),
        Command::Errors => library::show_errors(&library, json),
        Command::Thumbnail { photo, size } => library::show_thumbnail(&library, json, photo, *size),
        Command::Embed(args) => models::embed(&library, &cli, args),
        Command::EmbedImage { files, full_decode } => {
            models::embed_image(&library, &cli, files, *full_decode)
        }
        Command::EmbedText { texts } => models::embed_text(&library, &cli, texts),
        Command::Model(command) => models::model_command(&library, &cli, command),
        Command::Doctor => models::show_doctor(&library, &cli),
        Command::Search { query, page } => search::search(&library, &cli, query, page),
        Command::Similar { photo, page } => search::similar(&library, &cli, photo, page),
        Command::Dupes(args) => dupes::run(&library, json, args),
        Command::Tags(command) => tags::tags_command(&library, &cli, command),
        Command::Tag(command) => tags::tag_command(&library, json, command),
        Command::Eval(command) => tags::eval_command(&library, &cli, command),
        Command::Serve(_) => unreachable!("handled above"),
        Command::Watch(args) => jobs::watch(&library, &cli, args),
        Command::Jobs { command } => jobs::jobs_command(
            &library,
            &cli,
            command.as_ref().unwrap_or(&jobs::JobsCommand::List),
        ),
    }
}

/// The first Ctrl-C asks the job to stop after the batch in flight (its
/// work is kept); a second one exits at once.
pub(crate) fn cancel_on_ctrl_c() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let for_handler = Arc::clone(&flag);
    let _ = ctrlc::set_handler(move || {
        if for_handler.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("\nstopping after the current batch (Ctrl-C again to quit now)");
    });
    flag
}
