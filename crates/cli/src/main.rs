//! `shoebox`: the command-line shell over the engine. Argument parsing and
//! presentation only; every behaviour lives in `shoebox-engine`.

mod output;
mod progress;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use shoebox_engine::ingest::ScanOptions;
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
        Command::Status => output::status(json, &library.status()?, &library.folders()?),
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
    }
}
