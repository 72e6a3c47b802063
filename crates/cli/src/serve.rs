//! `shoebox serve`: the web UI and the JSON API on loopback.

use std::path::PathBuf;

use anyhow::{Context, Result};
use shoebox_engine::Library;

use crate::Cli;

/// `shoebox serve`.
#[derive(clap::Args)]
pub(crate) struct ServeArgs {
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
}

pub(crate) fn serve(cli: &Cli, args: &ServeArgs) -> Result<()> {
    let ServeArgs {
        host,
        port,
        token,
        ui,
        no_scan,
        no_watch,
    } = args;
    let (port, no_scan, no_watch, token, ui) =
        (*port, *no_scan, *no_watch, token.clone(), ui.clone());
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
