//! Text and JSON presentation of engine results. JSON shapes are documented
//! in README.md; scripts rely on them.

use std::path::Path;

use anyhow::Result;
use serde::Serialize;
use shoebox_engine::catalog::{ErrorEntry, PhotoInfo, Root, StatusCounts};
use shoebox_engine::catalog::{PhotoTag, TagCount, TagDef};
use shoebox_engine::embed::{EmbedReport, LoadedModel, ModelStatus};
use shoebox_engine::ingest::ScanReport;
use shoebox_engine::search::SearchResults;
use shoebox_engine::tags::eval::EvalReport;
use shoebox_engine::tags::{Concept, RetagReport, Vocabulary, XmpReport, XmpSettings};

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
    live_lines(live);
    Ok(())
}

fn live_lines(live: &shoebox_engine::library::LiveStatus) {
    match live.engine_pid {
        Some(pid) => println!("Watching: yes (process {pid})"),
        None => println!("Watching: no (`shoebox watch`)"),
    }
    for w in &live.watch {
        match (&w.mode[..], &w.reason) {
            ("native", _) => println!("  {}  watched", w.path),
            (mode, Some(reason)) => println!("  {}  {mode}: {reason}", w.path),
            (mode, None) => println!("  {}  {mode}", w.path),
        }
    }
    if !live.paused.is_empty() {
        println!("Paused:   {}", live.paused.join(", "));
    }
    if live.queued_paths > 0 {
        println!("Changed paths waiting: {}", live.queued_paths);
    }
    for j in &live.jobs {
        let key = if j.key.is_empty() {
            String::new()
        } else {
            format!(" {}", j.key)
        };
        match &j.last_error {
            Some(e) => println!(
                "Job {}{key}: {} (attempt {}): {e}",
                j.kind, j.state, j.attempts
            ),
            None => println!("Job {}{key}: {}", j.kind, j.state),
        }
    }
}

pub fn jobs(json: bool, live: &shoebox_engine::library::LiveStatus) -> Result<()> {
    if json {
        return print_json(live);
    }
    if live.jobs.is_empty() && live.queued_paths == 0 {
        println!("No background work queued.");
    }
    live_lines(live);
    Ok(())
}

pub fn paused(json: bool, kinds: &[String]) -> Result<()> {
    if json {
        return print_json(&serde_json::json!({ "paused": kinds }));
    }
    if kinds.is_empty() {
        println!("Nothing is paused.");
    } else {
        println!("Paused: {}", kinds.join(", "));
    }
    Ok(())
}

pub fn jobs_ran(json: bool, steps: u64, live: &shoebox_engine::library::LiveStatus) -> Result<()> {
    if json {
        return print_json(&serde_json::json!({ "steps": steps, "live": live }));
    }
    println!("Ran {steps} job steps.");
    live_lines(live);
    Ok(())
}

/// Text from files (EXIF fields, file names) with control characters
/// escaped, so a hostile camera model cannot move the cursor, clear the
/// screen or retitle the terminal.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(s);
    }
    std::borrow::Cow::Owned(
        s.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
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
    println!("Photo #{}", info.id);
    for p in &info.paths {
        println!("  file:        {}", printable(p));
    }
    println!(
        "  size:        {}x{} {}",
        info.width, info.height, info.format
    );
    println!("  taken:       {}", text(&info.taken_at));
    println!(
        "  camera:      {} {}",
        printable(info.camera_make.as_deref().unwrap_or_default()),
        printable(info.camera_model.as_deref().unwrap_or_default())
    );
    println!("  lens:        {}", text(&info.lens));
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
        println!(
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
    println!("{}", path.display());
    Ok(())
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
    if let Some(tags) = tags {
        print_retag(tags);
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

fn display_name(vocab: &Vocabulary, tag: &str) -> String {
    vocab
        .get(tag)
        .map(|c| c.name.clone())
        .unwrap_or_else(|| tag.to_string())
}

fn print_retag(r: &RetagReport) {
    if r.prototypes_built > 0 {
        println!(
            "Built {} tag prototypes from {} prompts in {:.1}s (once per model; cached).",
            r.prototypes_built, r.prompts_embedded, r.prototype_seconds
        );
    }
    let verb = if r.cancelled {
        "Stopped after tagging"
    } else {
        "Tagged"
    };
    println!(
        "{verb} {} photos against {} concepts: {} tags added, {} removed ({} concepts changed) in {:.1}s.",
        r.photos_scored, r.concepts, r.tags_added, r.tags_removed, r.changed_concepts, r.seconds
    );
}

pub fn retag_report(json: bool, r: &RetagReport) -> Result<()> {
    if json {
        return print_json(r);
    }
    print_retag(r);
    Ok(())
}

pub fn photo_tags(json: bool, tags: &[PhotoTag], vocab: &Vocabulary) -> Result<()> {
    if json {
        return print_json(tags);
    }
    if tags.is_empty() {
        println!(
            "No tags. (Tags appear after `shoebox embed`; add your own with `shoebox tag add`.)"
        );
    }
    for t in tags {
        let score = t
            .score
            .map(|s| format!("{s:.3}"))
            .unwrap_or_else(|| "-".into());
        println!(
            "{:<28} {:>6}  {}",
            display_name(vocab, &t.tag),
            score,
            t.source
        );
    }
    Ok(())
}

pub fn tag_changed(json: bool, id: i64, tag: &str, added: bool, was_on: bool) -> Result<()> {
    if json {
        #[derive(Serialize)]
        struct Changed<'a> {
            id: i64,
            tag: &'a str,
            action: &'a str,
            was_on: bool,
        }
        return print_json(&Changed {
            id,
            tag,
            action: if added { "added" } else { "removed" },
            was_on,
        });
    }
    if added {
        println!("Tagged photo {id} with `{tag}`.");
    } else if was_on {
        println!("Removed `{tag}` from photo {id}; re-tagging will not put it back.");
    } else {
        println!("Photo {id} did not have `{tag}`; it will not be given it.");
    }
    Ok(())
}

pub fn tag_counts(json: bool, counts: &[TagCount], vocab: &Vocabulary) -> Result<()> {
    if json {
        return print_json(counts);
    }
    if counts.is_empty() {
        println!("No tags yet.");
    }
    for c in counts {
        println!(
            "{:<28} {:>6}  (auto {}, user {}, imported {}, rejected {})",
            display_name(vocab, &c.tag),
            c.count,
            c.auto,
            c.user,
            c.imported,
            c.rejected
        );
    }
    Ok(())
}

pub fn vocabulary(json: bool, vocab: &Vocabulary) -> Result<()> {
    if json {
        return print_json(vocab.concepts());
    }
    let concepts = vocab.concepts();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); concepts.len()];
    let mut roots = Vec::new();
    for i in 0..concepts.len() {
        match vocab.parents_of(i).first() {
            Some(&p) => children[p].push(i),
            None => roots.push(i),
        }
    }
    fn show(vocab: &Vocabulary, children: &[Vec<usize>], i: usize, depth: usize, out: &mut String) {
        let c: &Concept = &vocab.concepts()[i];
        out.push_str(&"  ".repeat(depth));
        out.push_str(&c.name);
        if c.group {
            out.push('/');
        }
        if c.custom {
            out.push_str(" (custom)");
        }
        let other: Vec<String> = vocab
            .parents_of(i)
            .iter()
            .skip(1)
            .map(|&p| vocab.concepts()[p].name.clone())
            .collect();
        if !other.is_empty() {
            out.push_str(&format!("  [also under {}]", other.join(", ")));
        }
        out.push('\n');
        for &ch in &children[i] {
            show(vocab, children, ch, depth + 1, out);
        }
    }
    let mut out = String::new();
    for r in roots {
        show(vocab, &children, r, 0, &mut out);
    }
    out.push_str(&format!(
        "{} concepts ({} taggable).\n",
        concepts.len(),
        vocab.taggable().count()
    ));
    print_text(&out)
}

/// Long text output; a reader that stops early (`| head`) is not an error.
fn print_text(text: &str) -> Result<()> {
    use std::io::Write;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

pub fn custom_added(json: bool, def: &TagDef, examples: usize) -> Result<()> {
    if json {
        #[derive(Serialize)]
        struct Added<'a> {
            #[serde(flatten)]
            def: &'a TagDef,
            examples: usize,
        }
        return print_json(&Added { def, examples });
    }
    println!(
        "Custom tag `{}` saved with {examples} confirmed examples; `shoebox tags retag` (or the next `embed`) finds more.",
        def.tag
    );
    Ok(())
}

pub fn custom_removed(json: bool, tag: &str) -> Result<()> {
    if json {
        #[derive(Serialize)]
        struct Removed<'a> {
            tag: &'a str,
            removed: bool,
        }
        return print_json(&Removed { tag, removed: true });
    }
    println!(
        "`{tag}` is no longer assigned automatically; `shoebox tags retag` drops its auto tags."
    );
    Ok(())
}

pub fn custom_list(json: bool, custom: &[&Concept]) -> Result<()> {
    if json {
        return print_json(custom);
    }
    for c in custom {
        println!("{:<28} {}", c.name, c.descriptions.join("; "));
    }
    Ok(())
}

pub fn xmp_report(json: bool, r: &XmpReport) -> Result<()> {
    if json {
        return print_json(r);
    }
    let (c, u, summary) = if r.dry_run {
        ("would create", "would update", "to create, to update")
    } else {
        ("created", "updated", "created, updated")
    };
    let (sc, su) = summary.split_once(", ").expect("two words");
    for p in &r.created {
        println!("{c} {p}");
    }
    for p in &r.updated {
        println!("{u} {p}");
    }
    for f in &r.failed {
        println!("skipped {}: {}", f.path, f.reason);
    }
    println!(
        "{} photos: {} sidecars {sc}, {} {su}, {} unchanged, {} skipped (naming: {}).",
        r.photos,
        r.created.len(),
        r.updated.len(),
        r.unchanged,
        r.failed.len(),
        r.naming
    );
    Ok(())
}

pub fn xmp_settings(json: bool, s: &XmpSettings) -> Result<()> {
    if json {
        return print_json(s);
    }
    println!(
        "Write sidecars on change: {}. Naming: {} ({}).",
        if s.write_on_change { "on" } else { "off" },
        s.naming.as_str(),
        match s.naming {
            shoebox_engine::tags::SidecarNaming::Append => "photo.jpg.xmp",
            shoebox_engine::tags::SidecarNaming::Replace => "photo.xmp",
        }
    );
    Ok(())
}

pub fn eval_tags(json: bool, r: &EvalReport) -> Result<()> {
    if json {
        return print_json(r);
    }
    println!(
        "{} images, {} concepts, model {}:\n  top-1 {:.3}  top-5 {:.3}\n  assigned tags: precision {:.3}, recall {:.3}, F1 {:.3}; {} images without a tag",
        r.images,
        r.concepts,
        r.model,
        r.top1,
        r.top5,
        r.assigned.precision,
        r.assigned.recall,
        r.assigned.f1,
        r.abstained
    );
    for s in &r.skipped {
        println!("  skipped {}: {}", s.file, s.reason);
    }
    if !r.unknown_labels.is_empty() {
        println!(
            "  labels not in the vocabulary: {}",
            r.unknown_labels.join(", ")
        );
    }
    if let Some(p) = &r.calibration_path {
        println!(
            "  fitted thresholds for {} concepts, saved to {p}",
            r.fitted_concepts
        );
    }
    Ok(())
}
