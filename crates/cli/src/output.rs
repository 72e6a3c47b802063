//! Text and JSON presentation of engine results. JSON shapes are documented
//! in README.md; scripts rely on them.

use std::path::Path;

use anyhow::Result;
use serde::Serialize;
use shoebox_engine::catalog::{ErrorEntry, PhotoInfo, Root, StatusCounts};
use shoebox_engine::ingest::ScanReport;

fn print_json<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let written = serde_json::to_writer_pretty(&mut out, value)
        .map_err(std::io::Error::from)
        .and_then(|_| writeln!(out));
    match written {
        // `shoebox status --json | head` closing the pipe is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

pub fn folder_added(json: bool, root: &Root) -> Result<()> {
    if json {
        return print_json(root);
    }
    println!(
        "Added {}. Run `shoebox scan` to index it.",
        root.path.display()
    );
    Ok(())
}

pub fn folder_removed(json: bool, root: &Root) -> Result<()> {
    if json {
        return print_json(root);
    }
    println!(
        "Removed {} from the library. No file was touched.",
        root.path.display()
    );
    Ok(())
}

pub fn scan_report(json: bool, report: &ScanReport) -> Result<()> {
    if json {
        return print_json(report);
    }
    println!(
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
        println!(
            "Offline: {folder} is missing (unmounted?); its photos are kept and marked offline."
        );
    }
    if report.failed > 0 {
        println!("Run `shoebox errors` to see what could not be read.");
    }
    Ok(())
}

pub fn status(json: bool, counts: &StatusCounts, folders: &[Root]) -> Result<()> {
    if json {
        #[derive(Serialize)]
        struct Status<'a> {
            #[serde(flatten)]
            counts: &'a StatusCounts,
            roots: &'a [Root],
        }
        return print_json(&Status {
            counts,
            roots: folders,
        });
    }
    println!("Photos:   {}", counts.photos);
    println!("Files:    {}", counts.files);
    println!("Pending:  {}", counts.pending);
    println!("Errors:   {}", counts.errors);
    println!("Warnings: {}", counts.warnings);
    println!("Offline:  {}", counts.offline);
    println!("Folders:");
    if folders.is_empty() {
        println!("  (none yet: `shoebox add ~/Pictures`)");
    }
    for f in folders {
        let state = if f.online { "" } else { "  [offline]" };
        let scanned = f.last_scan_at.as_deref().unwrap_or("never scanned");
        println!("  {}  ({scanned}){state}", f.path.display());
    }
    Ok(())
}

pub fn info(json: bool, info: &PhotoInfo) -> Result<()> {
    if json {
        return print_json(info);
    }
    let none = || "-".to_string();
    println!("Photo #{}", info.id);
    for p in &info.paths {
        println!("  file:        {p}");
    }
    println!(
        "  size:        {}x{} {}",
        info.width, info.height, info.format
    );
    println!(
        "  taken:       {}",
        info.taken_at.clone().unwrap_or_else(none)
    );
    println!(
        "  camera:      {} {}",
        info.camera_make.clone().unwrap_or_default(),
        info.camera_model.clone().unwrap_or_default()
    );
    println!("  lens:        {}", info.lens.clone().unwrap_or_else(none));
    match &info.gps {
        Some(g) => println!("  gps:         {:.6}, {:.6}", g.lat, g.lon),
        None => println!("  gps:         -"),
    }
    println!("  orientation: {}", info.orientation);
    println!("  hash:        {}", info.hash);
    if info.offline {
        println!("  (offline: its folder is missing)");
    }
    Ok(())
}

pub fn errors(json: bool, errors: &[ErrorEntry]) -> Result<()> {
    if json {
        return print_json(errors);
    }
    if errors.is_empty() {
        println!("No problems.");
    }
    for e in errors {
        println!("{} [{}]: {}", e.path, e.kind, e.reason);
    }
    Ok(())
}

pub fn thumbnail(json: bool, id: i64, size: u32, path: &Path) -> Result<()> {
    if json {
        return print_json(&serde_json::json!({"id": id, "size": size, "path": path}));
    }
    println!("{}", path.display());
    Ok(())
}
