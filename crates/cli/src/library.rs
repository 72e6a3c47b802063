//! Folders, scanning, status and single photos: `add`, `remove`, `scan`,
//! `status`, `info`, `errors`, `thumbnail`.

use crate::output::say;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Serialize;
use shoebox_engine::catalog::{ErrorEntry, PhotoInfo, Root, StatusCounts};
use shoebox_engine::ingest::{ScanOptions, ScanReport};
use shoebox_engine::library::FolderAdded;
use shoebox_engine::Library;

use crate::output::{print_json, printable};
use crate::progress;

pub(crate) fn add(library: &Library, json: bool, folder: &Path) -> Result<()> {
    // A relative folder is the terminal's: from the working directory.
    let folder = std::path::absolute(folder)?;
    folder_added(json, &library.add_folder_reporting(&folder)?)
}

pub(crate) fn remove(library: &Library, json: bool, folder: &Path) -> Result<()> {
    folder_removed(json, &library.remove_folder(folder)?)
}

pub(crate) fn scan(library: &Library, json: bool, threads: usize) -> Result<()> {
    let bar = progress::ScanBar::new(json);
    let opts = ScanOptions {
        threads,
        cancel: None,
    };
    let report = library.scan(&opts, &|p| bar.update(p))?;
    bar.finish();
    scan_report(json, &report)
}

pub(crate) fn show_status(library: &Library, json: bool) -> Result<()> {
    status(
        json,
        &library.status()?,
        &library.folders()?,
        &library.live_status()?,
    )
}

pub(crate) fn show_info(library: &Library, json: bool, photo: &str) -> Result<()> {
    let id = library.resolve_photo(photo)?;
    info(json, &library.info(id)?)
}

pub(crate) fn show_errors(library: &Library, json: bool) -> Result<()> {
    errors(json, &library.errors()?)
}

pub(crate) fn show_thumbnail(library: &Library, json: bool, photo: &str, size: u32) -> Result<()> {
    let id = library.resolve_photo(photo)?;
    let path: PathBuf = library.thumbnail(id, size)?;
    thumbnail(json, id, size, &path)
}

pub fn folder_added(json: bool, answer: &FolderAdded) -> Result<()> {
    if json {
        return print_json(answer);
    }
    let path = answer.root.path.display();
    if answer.added {
        say!("Added {path}. Run `shoebox scan` to index it.");
    } else {
        say!("{path} is already in the library.");
    }
    Ok(())
}

pub fn folder_removed(json: bool, root: &Root) -> Result<()> {
    if json {
        return print_json(root);
    }
    say!(
        "Removed {} from the library. No file was touched.",
        root.path.display()
    );
    Ok(())
}

pub fn scan_report(json: bool, report: &ScanReport) -> Result<()> {
    if json {
        return print_json(report);
    }
    say!(
        "Scanned {} files in {:.1}s: {} new photos, {} new locations of known photos, {} unchanged, {} problems, {} removed.",
        report.discovered,
        report.seconds,
        report.new_photos,
        report.linked_files,
        report.unchanged,
        report.failed,
        report.removed
    );
    for folder in &report.offline_folders {
        say!("Offline: {folder} is missing (unmounted?); its photos are kept and marked offline.");
    }
    if report.failed > 0 {
        say!("Run `shoebox errors` to see what could not be read.");
    }
    Ok(())
}

pub fn status(
    json: bool,
    counts: &StatusCounts,
    folders: &[Root],
    live: &shoebox_engine::library::LiveStatus,
) -> Result<()> {
    if json {
        #[derive(Serialize)]
        struct Status<'a> {
            #[serde(flatten)]
            counts: &'a StatusCounts,
            roots: &'a [Root],
            live: &'a shoebox_engine::library::LiveStatus,
        }
        return print_json(&Status {
            counts,
            roots: folders,
            live,
        });
    }
    say!("Photos:   {}", counts.photos);
    say!("Files:    {}", counts.files);
    say!("Pending:  {}", counts.pending);
    match &counts.model {
        Some(model) => say!(
            "Embedded: {} ({} to go) with {model}",
            counts.embedded,
            counts.pending_embeddings
        ),
        None => say!("Embedded: none yet (`shoebox embed`)"),
    }
    if let Some(next) = &counts.switching_to {
        say!(
            "Switching to {next}: {} photos to go (search uses the current model until then)",
            counts.switch_remaining
        );
    }
    say!("Errors:   {}", counts.errors);
    if counts.unsupported > 0 {
        say!(
            "Not supported yet: {} (`shoebox errors` lists them)",
            counts.unsupported
        );
    }
    say!("Warnings: {}", counts.warnings);
    say!("Offline:  {}", counts.offline);
    say!("Folders:");
    if folders.is_empty() {
        say!("  (none yet: `shoebox add ~/Pictures`)");
    }
    for f in folders {
        let state = if f.online { "" } else { "  [offline]" };
        let scanned = f.last_scan_at.as_deref().unwrap_or("never scanned");
        say!("  {}  ({scanned}){state}", f.path.display());
    }
    live_lines(live);
    Ok(())
}

pub(crate) fn live_lines(live: &shoebox_engine::library::LiveStatus) {
    match live.engine_pid {
        Some(pid) => say!("Watching: yes (process {pid})"),
        None => say!("Watching: no (`shoebox watch`)"),
    }
    for w in &live.watch {
        match (&w.mode[..], &w.reason) {
            ("native", _) => say!("  {}  watched", w.path),
            (mode, Some(reason)) => say!("  {}  {mode}: {reason}", w.path),
            (mode, None) => say!("  {}  {mode}", w.path),
        }
    }
    if !live.paused.is_empty() {
        say!("Paused:   {}", live.paused.join(", "));
    }
    if live.queued_paths > 0 {
        say!("Changed paths waiting: {}", live.queued_paths);
    }
    for j in &live.jobs {
        let key = if j.key.is_empty() {
            String::new()
        } else {
            format!(" {}", j.key)
        };
        match &j.last_error {
            Some(e) => say!(
                "Job {}{key}: {} (attempt {}): {e}",
                j.kind,
                j.state,
                j.attempts
            ),
            None => say!("Job {}{key}: {}", j.kind, j.state),
        }
    }
}

pub fn info(json: bool, info: &PhotoInfo) -> Result<()> {
    if json {
        return print_json(info);
    }
    let none = || "-".to_string();
    let text = |s: &Option<String>| {
        s.as_deref()
            .map_or_else(none, |s| printable(s).into_owned())
    };
    say!("Photo #{}", info.id);
    for p in &info.paths {
        say!("  file:        {}", printable(p));
    }
    say!(
        "  size:        {}x{} {}",
        info.width,
        info.height,
        info.format
    );
    say!("  taken:       {}", text(&info.capture.taken_at));
    say!(
        "  camera:      {} {}",
        printable(info.capture.camera_make.as_deref().unwrap_or_default()),
        printable(info.capture.camera_model.as_deref().unwrap_or_default())
    );
    say!("  lens:        {}", text(&info.capture.lens));
    match &info.gps {
        Some(g) => say!("  gps:         {:.6}, {:.6}", g.lat, g.lon),
        None => say!("  gps:         -"),
    }
    say!("  orientation: {}", info.orientation);
    if let Some(from) = info.decoded_from.as_deref().filter(|f| *f != "image") {
        // Thumbnails and search see a preview, not the file's own pixels.
        say!("  shown from:  {from}");
    }
    say!("  hash:        {}", info.hash);
    if info.offline {
        say!("  (offline: its folder is missing)");
    }
    Ok(())
}

pub fn errors(json: bool, errors: &[ErrorEntry]) -> Result<()> {
    if json {
        return print_json(errors);
    }
    if errors.is_empty() {
        say!("No problems.");
    }
    for e in errors {
        say!(
            "{} [{}]: {}",
            printable(&e.path),
            e.kind,
            printable(&e.reason)
        );
    }
    Ok(())
}

pub fn thumbnail(json: bool, id: i64, size: u32, path: &Path) -> Result<()> {
    if json {
        return print_json(&serde_json::json!({"id": id, "size": size, "path": path}));
    }
    say!("{}", path.display());
    Ok(())
}
