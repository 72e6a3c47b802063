//! Tags: `tags`, `tag`, and the accuracy harness `eval`.

use crate::output::say;
use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;
use serde::Serialize;
use shoebox_engine::catalog::{PhotoTag, TagCount, TagDef};
use shoebox_engine::library::TagChange;
use shoebox_engine::tags::eval::EvalReport;
use shoebox_engine::tags::{
    Concept, RetagOptions, RetagReport, Vocabulary, XmpReport, XmpSettings,
};
use shoebox_engine::Library;

use crate::loading::load_model;
use crate::output::print_json;
use crate::{cancel_on_ctrl_c, progress, Cli};

#[derive(Subcommand)]
pub(crate) enum TagsCommand {
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
pub(crate) enum CustomCommand {
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
pub(crate) enum TagCommand {
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
pub(crate) enum EvalCommand {
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

pub(crate) fn tags_command(library: &Library, cli: &Cli, command: &TagsCommand) -> Result<()> {
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
            tag_counts(json, &library.tag_counts()?, &vocab)
        }
        TagsCommand::Vocab => vocabulary(json, &library.vocabulary()?),
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
            custom_added(json, &def, ids.len())
        }
        TagsCommand::Custom(CustomCommand::Remove { name }) => {
            custom_removed(json, &library.remove_custom_tag(name)?)
        }
        TagsCommand::Custom(CustomCommand::List) => {
            let vocab = library.vocabulary()?;
            let custom: Vec<_> = vocab.concepts().iter().filter(|c| c.custom).collect();
            custom_list(json, &custom)
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
            retag_report(json, &report)
        }
        TagsCommand::ExportXmp { dry_run } => xmp_report(json, &library.export_xmp(*dry_run)?),
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
            xmp_settings(json, &settings)
        }
    }
}

pub(crate) fn show_tags(library: &Library, json: bool, photo: &str) -> Result<()> {
    let id = library.resolve_photo(photo)?;
    let vocab = library.vocabulary()?;
    photo_tags(json, &library.photo_tags(id)?, &vocab)
}

pub(crate) fn tag_command(library: &Library, json: bool, command: &TagCommand) -> Result<()> {
    let change = match command {
        TagCommand::Add { photo, tag } => {
            library.add_tag(library.resolve_photo(photo)?, &tag.join(" "))?
        }
        TagCommand::Remove { photo, tag } => {
            library.remove_tag(library.resolve_photo(photo)?, &tag.join(" "))?
        }
    };
    tag_changed(json, &change)
}

pub(crate) fn eval_command(library: &Library, cli: &Cli, command: &EvalCommand) -> Result<()> {
    let EvalCommand::Tags { labels, dir, fit } = command;
    let model = load_model(library, cli, None)?;
    let bar = progress::TagBar::new(cli.json);
    let report = library.eval_tags(&model, labels, dir, *fit, &|p| bar.update(p))?;
    bar.finish();
    eval_tags(cli.json, &report)
}

pub(crate) fn display_name(vocab: &Vocabulary, tag: &str) -> String {
    vocab
        .get(tag)
        .map(|c| c.name.clone())
        .unwrap_or_else(|| tag.to_string())
}

pub(crate) fn print_retag(r: &RetagReport) {
    if r.prototypes_built > 0 {
        say!(
            "Built {} tag prototypes from {} prompts in {:.1}s (once per model; cached).",
            r.prototypes_built,
            r.prompts_embedded,
            r.prototype_seconds
        );
    }
    let verb = if r.cancelled {
        "Stopped after tagging"
    } else {
        "Tagged"
    };
    say!(
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
        say!("No tags. (Tags appear after `shoebox embed`; add your own with `shoebox tag add`.)");
    }
    for t in tags {
        let score = t
            .score
            .map(|s| format!("{s:.3}"))
            .unwrap_or_else(|| "-".into());
        say!(
            "{:<28} {:>6}  {}",
            display_name(vocab, &t.tag),
            score,
            t.source
        );
    }
    Ok(())
}

pub fn tag_counts(json: bool, counts: &[TagCount], vocab: &Vocabulary) -> Result<()> {
    if json {
        return print_json(counts);
    }
    if counts.is_empty() {
        say!("No tags yet.");
    }
    for c in counts {
        say!(
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
pub(crate) fn print_text(text: &str) -> Result<()> {
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
    say!(
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
    say!("`{tag}` is no longer assigned automatically; `shoebox tags retag` drops its auto tags.");
    Ok(())
}

pub fn custom_list(json: bool, custom: &[&Concept]) -> Result<()> {
    if json {
        return print_json(custom);
    }
    for c in custom {
        say!("{:<28} {}", c.name, c.descriptions.join("; "));
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
        say!("{c} {p}");
    }
    for p in &r.updated {
        say!("{u} {p}");
    }
    for f in &r.failed {
        say!("skipped {}: {}", f.path, f.reason);
    }
    say!(
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
    say!(
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
    say!(
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
        say!("  skipped {}: {}", s.file, s.reason);
    }
    if !r.unknown_labels.is_empty() {
        say!(
            "  labels not in the vocabulary: {}",
            r.unknown_labels.join(", ")
        );
    }
    if let Some(p) = &r.calibration_path {
        say!(
            "  fitted thresholds for {} concepts, saved to {p}",
            r.fitted_concepts
        );
    }
    Ok(())
}

pub(crate) fn tag_changed(json: bool, change: &TagChange) -> Result<()> {
    if json {
        return print_json(change);
    }
    let (id, name) = (change.id, &change.name);
    match (change.action, change.was_on) {
        (shoebox_engine::library::TagAction::Add, _) => {
            say!("Tagged photo {id} with `{name}`.")
        }
        (_, true) => say!("Removed `{name}` from photo {id}; re-tagging will not put it back."),
        (_, false) => say!("Photo {id} did not have `{name}`; it will not be given it."),
    }
    Ok(())
}
