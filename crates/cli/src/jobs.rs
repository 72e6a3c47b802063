//! The live library from the command line: `watch` and `jobs`.

use crate::output::say;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use anyhow::Result;
use clap::Subcommand;
use shoebox_engine::model::ResolveOptions;
use shoebox_engine::Library;

use crate::output::print_json;
use crate::{cancel_on_ctrl_c, progress, Cli};

#[derive(clap::Args)]
pub(crate) struct WatchArgs {
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
pub(crate) enum JobsCommand {
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

pub(crate) fn model_slot(
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

pub(crate) fn watch(library: &Library, cli: &Cli, args: &WatchArgs) -> Result<()> {
    use std::time::Duration;
    let model = model_slot(library, cli, args.no_embed)?;
    let opts = shoebox_engine::live::LiveOptions {
        watch: shoebox_engine::live::watch::WatchConfig {
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

pub(crate) fn jobs_command(library: &Library, cli: &Cli, command: &JobsCommand) -> Result<()> {
    let json = cli.json;
    let refs = |v: &[String]| -> Vec<String> { v.to_vec() };
    match command {
        JobsCommand::List => jobs(json, &library.live_status()?),
        JobsCommand::Pause { kinds } => {
            let kinds = refs(kinds);
            let k: Vec<&str> = kinds.iter().map(String::as_str).collect();
            paused(json, &library.pause_jobs(&k)?)
        }
        JobsCommand::Resume { kinds } => {
            let kinds = refs(kinds);
            let k: Vec<&str> = kinds.iter().map(String::as_str).collect();
            paused(json, &library.resume_jobs(&k)?)
        }
        JobsCommand::Run { no_embed } => {
            let model = model_slot(library, cli, *no_embed)?;
            let line = Arc::new(progress::LiveLine::new(json));
            let sink_line = Arc::clone(&line);
            let stop = cancel_on_ctrl_c();
            let settle = shoebox_engine::ingest::live::SETTLE;
            let steps = library.run_jobs(
                model,
                0,
                settle,
                Arc::new(move |e| sink_line.on_event(e)),
                &stop,
            )?;
            line.finish();
            jobs_ran(json, steps, &library.live_status()?)
        }
    }
}

pub fn jobs(json: bool, live: &shoebox_engine::library::LiveStatus) -> Result<()> {
    if json {
        return print_json(live);
    }
    if live.jobs.is_empty() && live.queued_paths == 0 {
        say!("No background work queued.");
    }
    crate::library::live_lines(live);
    Ok(())
}

pub fn paused(json: bool, kinds: &[String]) -> Result<()> {
    if json {
        return print_json(&serde_json::json!({ "paused": kinds }));
    }
    if kinds.is_empty() {
        say!("Nothing is paused.");
    } else {
        say!("Paused: {}", kinds.join(", "));
    }
    Ok(())
}

pub fn jobs_ran(json: bool, steps: u64, live: &shoebox_engine::library::LiveStatus) -> Result<()> {
    if json {
        return print_json(&serde_json::json!({ "steps": steps, "live": live }));
    }
    say!("Ran {steps} job steps.");
    crate::library::live_lines(live);
    Ok(())
}
