//! Text and JSON presentation of engine results. JSON shapes are documented
//! in README.md; scripts rely on them.

use std::path::Path;

use anyhow::Result;
use serde::Serialize;
use shoebox_engine::catalog::{ErrorEntry, PhotoInfo, Root, StatusCounts};
use shoebox_engine::embed::{EmbedReport, LoadedModel, ModelStatus};
use shoebox_engine::ingest::ScanReport;
use shoebox_engine::search::SearchResults;

pub fn print_json<T: Serialize + ?Sized>(value: &T) -> Result<()> {
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
    match &counts.model {
        Some(model) => println!(
            "Embedded: {} ({} to go) with {model}",
            counts.embedded, counts.pending_embeddings
        ),
        None => println!("Embedded: none yet (`shoebox embed`)"),
    }
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

pub fn embed_report(json: bool, report: &EmbedReport) -> Result<()> {
    if json {
        return print_json(report);
    }
    let verb = if report.cancelled {
        "Stopped after embedding"
    } else {
        "Embedded"
    };
    println!(
        "{verb} {} photos in {:.1}s ({:.1} photos/s) with {} on {}.",
        report.embedded, report.seconds, report.photos_per_second, report.model, report.device
    );
    if report.failed > 0 {
        println!(
            "{} photos could not be embedded; `shoebox errors` lists them.",
            report.failed
        );
    }
    if report.remaining > 0 {
        println!(
            "{} photos left; run `shoebox embed` again to continue.",
            report.remaining
        );
    }
    Ok(())
}

#[derive(Serialize)]
pub struct Embedded<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<&'a str>,
    pub embedding: Vec<f32>,
}

pub fn embeddings(json: bool, rows: &[Embedded]) -> Result<()> {
    if json {
        return print_json(rows);
    }
    for row in rows {
        let label = row.file.or(row.text).unwrap_or_default();
        let head: Vec<String> = row
            .embedding
            .iter()
            .take(4)
            .map(|v| format!("{v:+.4}"))
            .collect();
        println!(
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
            flags.push("default".to_string());
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
        println!("{:<24} {}{size}  [{}]", m.name, m.repo, flags.join(", "));
    }
    Ok(())
}

pub fn model_ready(json: bool, model: &LoadedModel, active: bool) -> Result<()> {
    if json {
        return print_json(&serde_json::json!({
            "model": model.row.key,
            "spec": model.row.spec,
            "path": model.dir.path,
            "dim": model.row.dim,
            "device": model.device_info.name,
            "active": active,
        }));
    }
    println!(
        "{} is ready in {} ({} dims).",
        model.row.key,
        model.dir.path.display(),
        model.row.dim
    );
    if active {
        println!("It is now this library's model; `shoebox embed` fills in its vectors.");
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
    println!("shoebox {}", d.version);
    println!("library:  {}", d.library);
    println!("model:    {}", d.model_spec);
    match (&d.model, &d.model_error) {
        (Some(key), _) => println!(
            "          {key} at {}",
            d.model_path.as_deref().unwrap_or("?")
        ),
        (None, Some(err)) => println!("          not available: {err}"),
        _ => {}
    }
    println!("device:   {} (requested {})", d.device, d.device_requested);
    if let Some(reason) = &d.device_fallback_reason {
        println!("          fell back to the CPU: {reason}");
    }
    println!("threads:  {}", d.threads);
    println!("features: {}", d.features.join(", "));
    println!(
        "hf cache: {} (endpoint {}{})",
        d.hf_cache,
        d.hf_endpoint,
        if d.offline { ", offline" } else { "" }
    );
    Ok(())
}

pub fn search_results(json: bool, r: &SearchResults) -> Result<()> {
    if json {
        return print_json(r);
    }
    if r.results.is_empty() {
        println!("No photos match.");
        if r.candidates > 0 && r.cutoff.as_ref().is_some_and(|c| c.min_score.is_some()) {
            println!(
                "{} photos pass the filters but none is a clear match; `--all` shows them ranked anyway.",
                r.candidates
            );
        }
        return Ok(());
    }
    for hit in &r.results {
        let score = hit
            .score
            .map(|s| format!("{s:.3}"))
            .unwrap_or_else(|| "  -  ".into());
        let date = hit
            .taken_at
            .as_deref()
            .map(|t| &t[..t.len().min(10)])
            .unwrap_or("          ");
        println!("{score}  {date}  {}", hit.path);
    }
    let shown = r.offset + r.results.len();
    if shown < r.total {
        println!(
            "{}-{} of {}; `--offset {shown}` for more.",
            r.offset + 1,
            shown,
            r.total
        );
    }
    Ok(())
}
