//! `shoebox`: the command-line shell over the engine. Argument parsing and
//! presentation only; every behaviour lives in `shoebox-engine`.

mod dupes;
mod output;
mod progress;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use shoebox_engine::embed::EmbedOptions;
use shoebox_engine::ingest::ScanOptions;
use shoebox_engine::model::{DeviceChoice, DownloadEvent, ResolveOptions};
use shoebox_engine::search::SearchOptions;
use shoebox_engine::tags::RetagOptions;
use shoebox_engine::Library;

#[derive(Parser)]
#[command(name = "shoebox", version, about = "Private, offline photo organizer")]
struct Cli {
    /// Library folder (catalog and thumbnails). Defaults to the platform's
    /// data folder.
    #[arg(long, global = true, env = "SHOEBOX_LIBRARY", value_name = "DIR")]
    library: Option<PathBuf>,

    /// Machine-readable JSON on stdout instead of text.
    #[arg(long, global = true)]
    json: bool,

    /// Model: a registry name (`shoebox model list`), a Hugging Face repo id
    /// `org/name[@revision]`, or a local model folder. Defaults to the
    /// library's active model, then to the registry default.
    #[arg(long, global = true, env = "SHOEBOX_MODEL", value_name = "MODEL")]
    model: Option<String>,

    /// Where models run: auto, cpu, cuda or metal. Falls back to the CPU,
    /// with a warning, when the device cannot start.
    #[arg(long, global = true, env = "SHOEBOX_DEVICE", default_value = "auto")]
    device: DeviceChoice,

    #[command(subcommand)]
    command: Command,
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
    Embed {
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
    },
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
    Model(ModelCommand),
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
        page: PageArgs,
    },
    /// Photos that look like the given one (by path or catalog id).
    Similar {
        photo: String,
        #[command(flatten)]
        page: PageArgs,
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
    Tags(TagsCommand),
    /// Put a tag on a photo or take it off.
    #[command(subcommand)]
    Tag(TagCommand),
    /// Accuracy harnesses for real weights.
    #[command(subcommand)]
    Eval(EvalCommand),
    /// Serve the web UI and the JSON API (docs/api.md) to a browser on this
    /// computer. Loopback only; prints its URL, with a fresh token, first.
    Serve {
        /// 127.0.0.1, ::1 or localhost (other addresses are refused).
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// 0 picks a free port.
        #[arg(long, default_value_t = 8765)]
        port: u16,
        /// A fixed token (at least 16 letters, digits, - or _) instead of a
        /// random one per start.
        #[arg(long, env = "SHOEBOX_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// The built web UI (default: ui/dist of the source tree, if built).
        #[arg(long, value_name = "DIR")]
        ui: Option<PathBuf>,
        /// Do not index folders in the background when they are added.
        #[arg(long)]
        no_scan: bool,
        /// Do not follow the folders live (no watcher, no job queue): work
        /// runs only when a command asks for it.
        #[arg(long)]
        no_watch: bool,
    },
    /// Follow the library folders live and process background work, in the
    /// foreground, with a status line (Ctrl-C stops; work resumes next time).
    Watch(WatchArgs),
    /// The background job queue: list (the default), pause, resume, or run
    /// it to the end.
    Jobs {
        #[command(subcommand)]
        command: Option<JobsCommand>,
    },
}

#[derive(clap::Args)]
struct WatchArgs {
    /// Most folders watched through OS events (over all library folders);
    /// folders beyond it are polled. Lowers the OS limit, never raises it.
    #[arg(long, env = "SHOEBOX_WATCH_LIMIT", value_name = "FOLDERS")]
    max_watches: Option<usize>,
    /// Seconds between reconciles of folders that are polled.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    poll_seconds: u64,
    /// Quiet time after a change before a path is looked at.
    #[arg(long, default_value_t = 500, value_name = "MS")]
    debounce_ms: u64,
    /// How long a file's size and mtime must stay the same before it is read.
    #[arg(long, default_value_t = 1000, value_name = "MS")]
    settle_ms: u64,
    /// Seconds between checks for folders that disappeared or came back.
    #[arg(long, default_value_t = 2, value_name = "SECONDS")]
    root_check_seconds: u64,
    /// Only thumbnails and metadata: no embeddings or tags.
    #[arg(long)]
    no_embed: bool,
    /// Skip the start-up reconcile of every folder.
    #[arg(long)]
    no_reconcile: bool,
    /// Analysis threads (default: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
}

#[derive(Subcommand)]
enum JobsCommand {
    /// Queued, running and failed jobs, and paused kinds.
    List,
    /// Pause kinds of work (scan, ingest, embed, tags; all when none given).
    Pause { kinds: Vec<String> },
    /// Resume kinds of work (all when none given).
    Resume { kinds: Vec<String> },
    /// Run the queue until it is empty, without watching.
    Run {
        /// Only thumbnails and metadata: no embeddings or tags.
        #[arg(long)]
        no_embed: bool,
    },
}

#[derive(Subcommand)]
enum TagsCommand {
    /// A photo's tags (by path or catalog id), with score and source.
    Show { photo: String },
    /// Every tag in use, with counts by source.
    List,
    /// The vocabulary's hierarchy (built-in and custom tags).
    Vocab,
    /// Custom tags: `custom add "our red van" [--examples ID...]`.
    #[command(subcommand)]
    Custom(CustomCommand),
    /// Re-tag photos now (runs after `embed` by itself): incremental, or
    /// everything with --full.
    Retag {
        #[arg(long)]
        full: bool,
    },
    /// Write XMP sidecars with every tagged photo's keywords (dc:subject,
    /// lr:hierarchicalSubject, digiKam:TagsList); originals are never touched.
    ExportXmp {
        /// Only say which sidecars would be created or updated.
        #[arg(long)]
        dry_run: bool,
    },
    /// Show or change the sidecar settings.
    Xmp {
        /// Write sidecars whenever tags change: on or off (default off).
        #[arg(long, value_name = "on|off")]
        write_on_change: Option<String>,
        /// append (photo.jpg.xmp, darktable/digiKam) or replace (photo.xmp, Lightroom).
        #[arg(long)]
        naming: Option<String>,
    },
    /// `shoebox tags PHOTO`: the same as `tags show PHOTO`.
    #[command(external_subcommand)]
    Photo(Vec<String>),
}

#[derive(Subcommand)]
enum CustomCommand {
    /// Create a custom tag from a name, optionally with a description of
    /// what it looks like and confirmed example photos (ids or paths).
    Add {
        name: String,
        #[arg(long)]
        description: Option<String>,
        /// A built-in tag this one sits under (e.g. car).
        #[arg(long)]
        parent: Option<String>,
        #[arg(long, num_args = 1..)]
        examples: Vec<String>,
    },
    /// The library's custom tags.
    List,
    /// Stop assigning a custom tag automatically (its auto tags go at the
    /// next re-tag; photos you tagged keep it).
    Remove { name: String },
}

#[derive(Subcommand)]
enum TagCommand {
    /// Put a tag on a photo (a user decision re-tagging never overrides).
    Add {
        photo: String,
        #[arg(required = true, num_args = 1..)]
        tag: Vec<String>,
    },
    /// Take a tag off a photo; re-tagging will not put it back.
    Remove {
        photo: String,
        #[arg(required = true, num_args = 1..)]
        tag: Vec<String>,
    },
}

#[derive(Subcommand)]
enum EvalCommand {
    /// Tagging accuracy on a labelled folder: top-1/top-5 and precision /
    /// recall of assigned tags. labels.csv rows: `file,tag;tag;...`.
    Tags {
        #[arg(long)]
        labels: PathBuf,
        dir: PathBuf,
        /// Fit per-concept thresholds on this set and save them as the
        /// library's calibration for the model.
        #[arg(long)]
        fit: bool,
    },
}

#[derive(clap::Args)]
struct PageArgs {
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

#[derive(Subcommand)]
enum ModelCommand {
    /// Models Shoebox knows, with what is downloaded and in use.
    List,
    /// Download a model into the Hugging Face cache (default: the model in effect).
    Download { spec: Option<String> },
    /// Make a model this library's model (downloads it when needed).
    Use { spec: String },
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SHOEBOX_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
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
    if let Command::Serve {
        host,
        port,
        token,
        ui,
        no_scan,
        no_watch,
    } = &cli.command
    {
        let opts = ServeOptions {
            host,
            port: *port,
            token: token.clone(),
            ui: ui.clone(),
            no_scan: *no_scan,
            no_watch: *no_watch,
        };
        return serve(&cli, opts);
    }
    let library = open_library(&cli)?;
    let json = cli.json;
    match &cli.command {
        Command::Add { folder } => {
            let root = library.add_folder(folder)?;
            output::folder_added(json, &root)
        }
        Command::Remove { folder } => {
            let root = library.remove_folder(folder)?;
            output::folder_removed(json, &root)
        }
        Command::Scan { threads } => {
            let bar = progress::ScanBar::new(json);
            let opts = ScanOptions {
                threads: *threads,
                cancel: None,
            };
            let report = library.scan(&opts, &|p| bar.update(p))?;
            bar.finish();
            output::scan_report(json, &report)
        }
        Command::Status => output::status(
            json,
            &library.status()?,
            &library.folders()?,
            &library.live_status()?,
        ),
        Command::Info { photo } => {
            let id = library.resolve_photo(photo)?;
            output::info(json, &library.info(id)?)
        }
        Command::Errors => output::errors(json, &library.errors()?),
        Command::Thumbnail { photo, size } => {
            let id = library.resolve_photo(photo)?;
            let path = library.thumbnail(id, *size)?;
            output::thumbnail(json, id, *size, &path)
        }
        Command::Embed {
            batch,
            workers,
            retry_failed,
            no_tags,
        } => {
            let model = load_model(&library, &cli, None)?;
            let bar = progress::EmbedBar::new(json);
            let cancel = cancel_on_ctrl_c();
            let opts = EmbedOptions {
                batch_size: *batch,
                workers: *workers,
                cancel: Some(cancel),
                retry_failed: *retry_failed,
                ..EmbedOptions::default()
            };
            let cancel = opts.cancel.clone();
            let report = library.embed(&model, &opts, &|p| bar.update(p))?;
            bar.finish();
            let tags = if *no_tags || report.cancelled {
                None
            } else {
                let bar = progress::TagBar::new(json);
                let tags = library.retag(
                    &model,
                    &RetagOptions {
                        full: false,
                        cancel,
                    },
                    &|p| bar.update(p),
                )?;
                bar.finish();
                Some(tags)
            };
            output::embed_report(json, &report, tags.as_ref())
        }
        Command::EmbedImage { files, full_decode } => {
            let model = load_model(&library, &cli, None)?;
            let mut rows = Vec::with_capacity(files.len());
            for file in files {
                let embedding = library.embed_file(&model, file, *full_decode)?;
                rows.push((file.to_string_lossy().into_owned(), embedding));
            }
            let rows: Vec<_> = rows
                .iter()
                .map(|(file, e)| output::Embedded {
                    file: Some(file),
                    text: None,
                    embedding: e.clone(),
                })
                .collect();
            output::embeddings(json, &rows)
        }
        Command::EmbedText { texts } => {
            let model = load_model(&library, &cli, None)?;
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            let vectors = library.embed_texts(&model, &refs)?;
            let rows: Vec<_> = texts
                .iter()
                .zip(vectors)
                .map(|(t, embedding)| output::Embedded {
                    file: None,
                    text: Some(t),
                    embedding,
                })
                .collect();
            output::embeddings(json, &rows)
        }
        Command::Model(ModelCommand::List) => {
            output::model_list(json, &library.models(&ResolveOptions::from_env())?)
        }
        Command::Model(ModelCommand::Download { spec }) => {
            let model = load_model(&library, &cli, spec.as_deref())?;
            output::model_ready(json, &model, false)
        }
        Command::Model(ModelCommand::Use { spec }) => {
            let (opts, bar) = resolve_with_progress(json);
            let model = library.use_model(spec, cli.device, &opts);
            bar.finish();
            output::model_ready(json, &model?, true)
        }
        Command::Doctor => output::doctor(json, &doctor(&library, &cli)),
        Command::Search { query, page } => {
            let model = load_model(&library, &cli, None)?;
            let results = library.search(&model, &query.join(" "), &page.options()?)?;
            output::search_results(json, &results)
        }
        Command::Similar { photo, page } => {
            let id = library.resolve_photo(photo)?;
            let model = load_model(&library, &cli, None)?;
            output::search_results(json, &library.similar(&model, id, &page.options()?)?)
        }
        Command::Dupes(args) => dupes::run(&library, json, args),
        Command::Tags(command) => tags_command(&library, &cli, command),
        Command::Tag(TagCommand::Add { photo, tag }) => {
            let id = library.resolve_photo(photo)?;
            let tag = library.add_tag(id, &tag.join(" "))?;
            output::tag_changed(json, id, &tag, true, true)
        }
        Command::Tag(TagCommand::Remove { photo, tag }) => {
            let id = library.resolve_photo(photo)?;
            let (tag, was_on) = library.remove_tag(id, &tag.join(" "))?;
            output::tag_changed(json, id, &tag, false, was_on)
        }
        Command::Serve { .. } => unreachable!("handled above"),
        Command::Watch(args) => watch(&library, &cli, args),
        Command::Jobs { command } => jobs_command(
            &library,
            &cli,
            command.as_ref().unwrap_or(&JobsCommand::List),
        ),
        Command::Eval(EvalCommand::Tags { labels, dir, fit }) => {
            let model = load_model(&library, &cli, None)?;
            let bar = progress::TagBar::new(json);
            let report = library.eval_tags(&model, labels, dir, *fit, &|p| bar.update(p))?;
            bar.finish();
            output::eval_tags(json, &report)
        }
    }
}

struct ServeOptions<'a> {
    host: &'a str,
    port: u16,
    token: Option<String>,
    ui: Option<PathBuf>,
    no_scan: bool,
    no_watch: bool,
}

fn serve(cli: &Cli, o: ServeOptions<'_>) -> Result<()> {
    let ServeOptions {
        host,
        port,
        token,
        ui,
        no_scan,
        no_watch,
    } = o;
    use std::io::Write;
    let dir = match &cli.library {
        Some(dir) => dir.clone(),
        None => Library::default_dir()?,
    };
    let mut opts = shoebox_api::ApiOptions::new(&dir);
    opts.model = cli.model.clone();
    opts.device = cli.device;
    opts.scan_on_add = !no_scan;
    let state = shoebox_api::ApiState::open(opts)
        .with_context(|| format!("opening the library in {}", dir.display()))?;
    let ui_dir = match ui {
        Some(dir) if dir.join("index.html").is_file() => Some(dir),
        Some(dir) => anyhow::bail!(
            "{} has no index.html: build the UI with `npm --prefix ui run build` and pass ui/dist",
            dir.display()
        ),
        None => shoebox_server::default_ui_dir(),
    };
    let server = shoebox_server::Server::start(shoebox_server::ServeConfig {
        state: state.clone(),
        host: host.to_string(),
        port,
        token,
        ui_dir: ui_dir.clone(),
    })?;
    // Before the URL goes out: whoever reads it may ask for status at once.
    if !no_watch && !no_scan {
        state
            .start_live()
            .context("starting the live library (use --no-watch to serve without it)")?;
    }
    // The first stdout line is the URL (scripts and tests read it).
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", server.url())?;
    out.flush()?;
    drop(out);
    eprintln!(
        "Shoebox is serving {} on {} (UI: {}). Open the URL above; Ctrl-C stops.",
        dir.display(),
        server.addr(),
        ui_dir.map_or_else(|| "not built".to_string(), |d| d.display().to_string()),
    );
    let stop = server.stop_handle();
    ctrlc::set_handler(move || stop.stop()).context("installing the Ctrl-C handler")?;
    server.wait();
    state.stop_live()?;
    eprintln!("stopped");
    Ok(())
}

fn tags_command(library: &Library, cli: &Cli, command: &TagsCommand) -> Result<()> {
    let json = cli.json;
    match command {
        TagsCommand::Show { photo } => show_tags(library, json, photo),
        TagsCommand::Photo(args) => {
            // `shoebox tags PHOTO [--json]`: clap hands over the raw words.
            let (photo, rest) = args.split_first().expect("clap gives the name");
            let mut json = json;
            for arg in rest {
                match arg.as_str() {
                    "--json" => json = true,
                    other => anyhow::bail!(
                        "unexpected argument `{other}`; usage: shoebox tags PHOTO [--json] \
                         (or a subcommand: show, list, vocab, custom, retag, export-xmp, xmp)"
                    ),
                }
            }
            show_tags(library, json, photo)
        }
        TagsCommand::List => {
            let vocab = library.vocabulary()?;
            output::tag_counts(json, &library.tag_counts()?, &vocab)
        }
        TagsCommand::Vocab => output::vocabulary(json, &library.vocabulary()?),
        TagsCommand::Custom(CustomCommand::Add {
            name,
            description,
            parent,
            examples,
        }) => {
            let ids = examples
                .iter()
                .map(|e| library.resolve_photo(e))
                .collect::<Result<Vec<_>, _>>()?;
            let def =
                library.add_custom_tag(name, description.as_deref(), parent.as_deref(), &ids)?;
            output::custom_added(json, &def, ids.len())
        }
        TagsCommand::Custom(CustomCommand::Remove { name }) => {
            output::custom_removed(json, &library.remove_custom_tag(name)?)
        }
        TagsCommand::Custom(CustomCommand::List) => {
            let vocab = library.vocabulary()?;
            let custom: Vec<_> = vocab.concepts().iter().filter(|c| c.custom).collect();
            output::custom_list(json, &custom)
        }
        TagsCommand::Retag { full } => {
            let model = load_model(library, cli, None)?;
            let bar = progress::TagBar::new(json);
            let report = library.retag(
                &model,
                &RetagOptions {
                    full: *full,
                    cancel: Some(cancel_on_ctrl_c()),
                },
                &|p| bar.update(p),
            )?;
            bar.finish();
            output::retag_report(json, &report)
        }
        TagsCommand::ExportXmp { dry_run } => {
            output::xmp_report(json, &library.export_xmp(*dry_run)?)
        }
        TagsCommand::Xmp {
            write_on_change,
            naming,
        } => {
            let mut settings = library.xmp_settings()?;
            if let Some(w) = write_on_change {
                settings.write_on_change = match w.as_str() {
                    "on" => true,
                    "off" => false,
                    other => anyhow::bail!("--write-on-change takes on or off, not `{other}`"),
                };
            }
            if let Some(n) = naming {
                settings.naming = n.parse()?;
            }
            if write_on_change.is_some() || naming.is_some() {
                library.set_xmp_settings(&settings)?;
            }
            output::xmp_settings(json, &settings)
        }
    }
}

fn model_slot(
    library: &Library,
    cli: &Cli,
    no_embed: bool,
) -> Result<Option<Arc<shoebox_engine::jobs::handlers::ModelSlot>>> {
    if no_embed {
        return Ok(None);
    }
    let slot = library.model_slot(cli.model.as_deref(), cli.device, ResolveOptions::from_env())?;
    if slot.is_none() {
        eprintln!(
            "note: no model chosen yet, so photos get thumbnails but no embeddings or tags \
             (`shoebox model use MODEL`, or --model)"
        );
    }
    Ok(slot)
}

fn watch(library: &Library, cli: &Cli, args: &WatchArgs) -> Result<()> {
    use std::time::Duration;
    let model = model_slot(library, cli, args.no_embed)?;
    let opts = shoebox_engine::live::LiveOptions {
        watch: shoebox_engine::ingest::watch::WatchConfig {
            debounce: Duration::from_millis(args.debounce_ms),
            settle: Duration::from_millis(args.settle_ms),
            max_watches: args.max_watches,
            poll_interval: Duration::from_secs(args.poll_seconds.max(1)),
            root_check: Duration::from_secs(args.root_check_seconds.max(1)),
        },
        threads: args.threads,
        model,
        reconcile_at_start: !args.no_reconcile,
        extra_handlers: Vec::new(),
    };
    let line = Arc::new(progress::LiveLine::new(cli.json));
    let sink_line = Arc::clone(&line);
    let engine = library.start_live(opts, Arc::new(move |e| sink_line.on_event(e)))?;
    let stop = cancel_on_ctrl_c();
    while !stop.load(Ordering::Relaxed) && !engine.finished() {
        std::thread::sleep(Duration::from_millis(100));
    }
    let result = engine.stop();
    line.finish();
    Ok(result?)
}

fn jobs_command(library: &Library, cli: &Cli, command: &JobsCommand) -> Result<()> {
    let json = cli.json;
    let refs = |v: &[String]| -> Vec<String> { v.to_vec() };
    match command {
        JobsCommand::List => output::jobs(json, &library.live_status()?),
        JobsCommand::Pause { kinds } => {
            let kinds = refs(kinds);
            let k: Vec<&str> = kinds.iter().map(String::as_str).collect();
            output::paused(json, &library.pause_jobs(&k)?)
        }
        JobsCommand::Resume { kinds } => {
            let kinds = refs(kinds);
            let k: Vec<&str> = kinds.iter().map(String::as_str).collect();
            output::paused(json, &library.resume_jobs(&k)?)
        }
        JobsCommand::Run { no_embed } => {
            let model = model_slot(library, cli, *no_embed)?;
            let line = Arc::new(progress::LiveLine::new(json));
            let sink_line = Arc::clone(&line);
            let stop = cancel_on_ctrl_c();
            let settle = shoebox_engine::ingest::watch::WatchConfig::default().settle;
            let steps = library.run_jobs(
                model,
                0,
                settle,
                Arc::new(move |e| sink_line.on_event(e)),
                &stop,
            )?;
            line.finish();
            output::jobs_ran(json, steps, &library.live_status()?)
        }
    }
}

fn show_tags(library: &Library, json: bool, photo: &str) -> Result<()> {
    let id = library.resolve_photo(photo)?;
    let vocab = library.vocabulary()?;
    output::photo_tags(json, &library.photo_tags(id)?, &vocab)
}

/// Hugging Face settings from the environment, with a download bar.
fn resolve_with_progress(json: bool) -> (ResolveOptions, Arc<progress::DownloadBar>) {
    let bar = Arc::new(progress::DownloadBar::new(json));
    let for_events = Arc::clone(&bar);
    let opts = ResolveOptions::from_env()
        .with_progress(move |e: DownloadEvent<'_>| for_events.on_event(e));
    (opts, bar)
}

fn load_model(
    library: &Library,
    cli: &Cli,
    spec: Option<&str>,
) -> Result<shoebox_engine::embed::LoadedModel> {
    let (opts, bar) = resolve_with_progress(cli.json);
    let model = library.load_model(spec.or(cli.model.as_deref()), cli.device, &opts);
    bar.finish();
    Ok(model?)
}

/// The first Ctrl-C asks the job to stop after the batch in flight (its
/// work is kept); a second one exits at once.
fn cancel_on_ctrl_c() -> Arc<AtomicBool> {
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

fn doctor(library: &Library, cli: &Cli) -> output::Doctor {
    let resolve = ResolveOptions::from_env();
    let spec = library
        .model_spec(cli.model.as_deref())
        .unwrap_or_else(|e| format!("? ({e})"));
    let (_, device_info) = shoebox_engine::model::select_device(cli.device);
    let offline_lookup = ResolveOptions {
        offline: true,
        ..resolve.clone()
    };
    let found = shoebox_engine::model::resolve_model(&spec, &offline_lookup);
    output::Doctor {
        version: env!("CARGO_PKG_VERSION"),
        library: library.dir().display().to_string(),
        model_spec: spec,
        model: found.as_ref().ok().map(|d| d.id.clone()),
        model_path: found.as_ref().ok().map(|d| d.path.display().to_string()),
        model_error: found.as_ref().err().map(|e| e.to_string()),
        device_requested: cli.device.to_string(),
        device: device_info.name,
        device_fallback_reason: device_info.fallback_reason,
        threads: shoebox_engine::model::compute_threads(),
        features: shoebox_engine::model::compiled_features(),
        hf_cache: resolve.cache_dir.display().to_string(),
        hf_endpoint: resolve.endpoint.clone(),
        offline: resolve.offline,
    }
}
