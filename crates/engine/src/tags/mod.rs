//! Auto-tagging: zero-shot tags from the CLIP model Shoebox already runs,
//! with a hierarchical vocabulary, calibrated abstaining decisions, user
//! corrections that improve tags without training, and XMP interchange.
//! See docs/tags.md.
//!
//! - `vocab`: the concepts, their hierarchy and prompts, custom tags.
//! - `prototypes`: concept text prototypes, cached per model.
//! - `scoring`: the math on vectors (blending, statistics, decisions).
//! - `calibration`: the per-model data file for the decision rule.
//! - `job`: the incremental re-tag job.
//! - `xmp`: keywords in and out of XMP sidecars and embedded metadata.
//! - `eval`: the accuracy harness for real weights.

pub mod calibration;
pub mod eval;
pub mod job;
pub mod prototypes;
pub mod scoring;
pub mod vocab;
pub mod xmp;

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;

pub use calibration::Calibration;
pub use job::{run_retag, RetagOptions, RetagProgress, RetagReport};
pub use prototypes::TextEncoder;
pub use vocab::{tag_key, Concept, CustomTag, Vocabulary};
pub use xmp::SidecarNaming;

use crate::catalog::{Catalog, PhotoTag, TagDef};
use crate::error::{EngineError, Result};

/// Setting: write sidecars whenever tags change (`on`/`off`, default off).
pub const SETTING_XMP_WRITE: &str = "tags.xmp.write";
/// Setting: sidecar naming, `append` (photo.jpg.xmp) or `replace` (photo.xmp).
pub const SETTING_XMP_NAMING: &str = "tags.xmp.naming";

/// The longest custom description: the text tower takes 77 tokens.
const MAX_DESCRIPTION_CHARS: usize = 200;

/// The vocabulary in effect: built in plus the library's custom tags.
pub fn vocabulary(catalog: &Catalog) -> Result<Vocabulary> {
    let custom: Vec<CustomTag> = catalog
        .tag_defs()?
        .into_iter()
        .filter(|d| d.kind == "custom")
        .map(|d| CustomTag {
            tag: d.tag,
            name: d.name,
            description: d.description,
            parent: d.parent,
        })
        .collect();
    Ok(vocab::builtin().with_custom(&custom))
}

/// Maps a typed or imported name to a tag key: a concept by name or
/// synonym, else the name's key. `Some(display name)` comes back for a
/// name the vocabulary does not know (to remember how it was written).
pub fn resolve_name(vocab: &Vocabulary, name: &str) -> Result<(String, Option<String>)> {
    if let Some(c) = vocab.lookup(name) {
        return Ok((c.tag.clone(), None));
    }
    let key = tag_key(name);
    if key.is_empty() {
        return Err(EngineError::Invalid(format!(
            "`{name}` is not a usable tag name"
        )));
    }
    Ok((
        key,
        Some(name.split_whitespace().collect::<Vec<_>>().join(" ")),
    ))
}

/// A tag's display name: the concept's, else the user's, else the key.
pub fn display_names(catalog: &Catalog, vocab: &Vocabulary) -> Result<HashMap<String, String>> {
    let mut names: HashMap<String, String> = catalog
        .tag_defs()?
        .into_iter()
        .map(|d| (d.tag, d.name))
        .collect();
    for c in vocab.concepts() {
        names.insert(c.tag.clone(), c.name.clone());
    }
    Ok(names)
}

/// Puts a tag on a photo as the user's decision; returns its key and
/// whether it was on before. A keyword keeps the spelling the user typed
/// last, so sidecars carry "our cat Chelsea", not its lowercased key.
pub fn add_tag(
    catalog: &Catalog,
    vocab: &Vocabulary,
    photo_id: i64,
    name: &str,
) -> Result<(String, bool)> {
    let (tag, display) = resolve_name(vocab, name)?;
    if let Some(display) = display {
        catalog.name_keyword(&tag, &display)?;
    }
    let was_on = catalog.add_user_tag(photo_id, &tag, &implied_by(vocab, &tag))?;
    Ok((tag, was_on))
}

/// The tags a user tag implies: its vocabulary ancestors, groups excepted.
fn implied_by(vocab: &Vocabulary, tag: &str) -> Vec<String> {
    vocab.index(tag).map_or_else(Vec::new, |i| {
        vocab
            .ancestors(i)
            .into_iter()
            .map(|a| &vocab.concepts()[a])
            .filter(|c| !c.group)
            .map(|c| c.tag.clone())
            .collect()
    })
}

/// Takes a tag off a photo and remembers the rejection; returns the key
/// and whether it was on.
pub fn remove_tag(
    catalog: &Catalog,
    vocab: &Vocabulary,
    photo_id: i64,
    name: &str,
) -> Result<(String, bool)> {
    let (tag, _) = resolve_name(vocab, name)?;
    let was_on = catalog.reject_tag(photo_id, &tag)?;
    Ok((tag, was_on))
}

/// Creates (or redescribes) a custom tag and confirms it on `examples`.
pub fn add_custom(
    catalog: &Catalog,
    name: &str,
    description: Option<&str>,
    parent: Option<&str>,
    examples: &[i64],
) -> Result<TagDef> {
    let base = vocab::builtin();
    let tag = tag_key(name);
    if tag.is_empty() {
        return Err(EngineError::Invalid(format!(
            "`{name}` is not a usable tag name"
        )));
    }
    if base.get(&tag).is_some() {
        return Err(EngineError::Invalid(format!(
            "`{name}` is a built-in tag already; add it to photos with `shoebox tag add`"
        )));
    }
    let description = description.map(str::trim).filter(|d| !d.is_empty());
    for text in [Some(name), description].into_iter().flatten() {
        if text.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(EngineError::Invalid(format!(
                "a custom tag's name and description must each be at most {MAX_DESCRIPTION_CHARS} characters"
            )));
        }
    }
    let parent = match parent {
        Some(p) => Some(
            base.lookup(p)
                .map(|c| c.tag.clone())
                .ok_or_else(|| EngineError::Invalid(format!("unknown parent tag `{p}`")))?,
        ),
        None => None,
    };
    let def = TagDef {
        tag: tag.clone(),
        name: name.split_whitespace().collect::<Vec<_>>().join(" "),
        kind: "custom".into(),
        description: description.map(str::to_string),
        parent,
    };
    catalog.upsert_tag_def(&def)?;
    let implied = implied_by(&vocabulary(catalog)?, &tag);
    for &id in examples {
        if catalog.photo_hash(id)?.is_none() {
            return Err(EngineError::PhotoNotFound(id.to_string()));
        }
        catalog.add_user_tag(id, &tag, &implied)?;
    }
    Ok(def)
}

/// Sidecar settings of a library.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct XmpSettings {
    /// Write sidecars whenever tags change (off by default).
    pub write_on_change: bool,
    pub naming: SidecarNaming,
}

pub fn xmp_settings(catalog: &Catalog) -> Result<XmpSettings> {
    Ok(XmpSettings {
        write_on_change: catalog.setting(SETTING_XMP_WRITE)?.as_deref() == Some("on"),
        naming: match catalog.setting(SETTING_XMP_NAMING)? {
            Some(n) => n.parse()?,
            None => SidecarNaming::default(),
        },
    })
}

pub fn set_xmp_settings(catalog: &Catalog, settings: &XmpSettings) -> Result<()> {
    catalog.set_setting(
        SETTING_XMP_WRITE,
        if settings.write_on_change {
            "on"
        } else {
            "off"
        },
    )?;
    catalog.set_setting(SETTING_XMP_NAMING, settings.naming.as_str())
}

/// One sidecar that could not be written, and why.
#[derive(Debug, Clone, Serialize)]
pub struct SidecarProblem {
    pub path: String,
    pub reason: String,
}

/// What an export did (or, dry, would do).
#[derive(Debug, Clone, Default, Serialize)]
pub struct XmpReport {
    pub dry_run: bool,
    pub naming: String,
    pub photos: usize,
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub unchanged: usize,
    pub failed: Vec<SidecarProblem>,
}

/// The keywords for one photo's sidecar: Shoebox's tags (display names,
/// hierarchical paths for concepts), plus keywords already in the sidecar
/// that the user did not reject in Shoebox (other apps' edits survive).
fn keyword_set(
    vocab: &Vocabulary,
    names: &HashMap<String, String>,
    tags: &[PhotoTag],
    rejected: &[String],
    existing: &[String],
) -> xmp::KeywordSet {
    let mut set = xmp::KeywordSet::default();
    let mut seen: Vec<String> = Vec::new();
    for t in tags {
        let name = names.get(&t.tag).cloned().unwrap_or_else(|| t.tag.clone());
        if !seen.contains(&t.tag) {
            seen.push(t.tag.clone());
            set.subjects.push(name.clone());
        }
        match vocab.index(&t.tag) {
            Some(i) => {
                set.paths.push(vocab.path(i));
                // As Lightroom does, the flat list also names the
                // keyword's ancestors (groups excepted).
                for a in vocab.ancestors(i) {
                    let c = &vocab.concepts()[a];
                    if !c.group && !seen.contains(&c.tag) && !rejected.contains(&c.tag) {
                        seen.push(c.tag.clone());
                        set.subjects.push(c.name.clone());
                    }
                }
            }
            None => set.paths.push(vec![name]),
        }
    }
    for k in existing {
        let key = vocab
            .lookup(k)
            .map(|c| c.tag.clone())
            .unwrap_or_else(|| tag_key(k));
        if seen.contains(&key) || rejected.contains(&key) {
            continue;
        }
        seen.push(key);
        set.subjects.push(k.clone());
        set.paths.push(vec![k.clone()]);
    }
    set
}

/// Writes the sidecars of `photos` (every photo with tags or rejections
/// when `None`) next to each of their files, named as configured. Never
/// writes an original; a sidecar that cannot be read or parsed is left as
/// it is and reported.
pub fn export_xmp(catalog: &Catalog, photos: Option<&[i64]>, dry_run: bool) -> Result<XmpReport> {
    let settings = xmp_settings(catalog)?;
    let vocab = vocabulary(catalog)?;
    let names = display_names(catalog, &vocab)?;
    let ids = match photos {
        Some(ids) => ids.to_vec(),
        None => catalog.tagged_photo_ids()?,
    };
    let mut report = XmpReport {
        dry_run,
        naming: settings.naming.as_str().into(),
        ..Default::default()
    };
    for id in ids {
        let tags = catalog.photo_tags(id)?;
        let rejected = catalog.rejected_tags(id)?;
        let files = catalog.photo_files(id)?;
        if files.is_empty() {
            continue;
        }
        report.photos += 1;
        for file in files {
            let sidecar = settings.naming.sidecar_for(&file);
            let shown = sidecar.display().to_string();
            if !is_safe_sidecar(&file, &sidecar) {
                report.failed.push(SidecarProblem {
                    path: shown,
                    reason: "the sidecar name would be the photo itself".into(),
                });
                continue;
            }
            let existing = match xmp::read_sidecar(&sidecar) {
                Ok(k) => k.unwrap_or_default(),
                Err(reason) => {
                    report.failed.push(SidecarProblem {
                        path: shown,
                        reason: format!("{reason}; left as it is"),
                    });
                    continue;
                }
            };
            if tags.is_empty() && existing.is_empty() {
                continue;
            }
            let set = keyword_set(&vocab, &names, &tags, &rejected, &existing);
            match xmp::sync_sidecar(&sidecar, &set, dry_run) {
                Ok(xmp::SidecarAction::Created) => report.created.push(shown),
                Ok(xmp::SidecarAction::Updated) => report.updated.push(shown),
                Ok(xmp::SidecarAction::Unchanged) => report.unchanged += 1,
                Err(reason) => report.failed.push(SidecarProblem {
                    path: shown,
                    reason,
                }),
            }
        }
    }
    for p in &report.failed {
        tracing::warn!(path = p.path, "sidecar not written: {}", p.reason);
    }
    Ok(report)
}

fn is_safe_sidecar(file: &Path, sidecar: &Path) -> bool {
    sidecar != file
        && sidecar
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("xmp"))
}

/// Writes sidecars for `photos` when the library writes on change.
pub fn sync_if_enabled(catalog: &Catalog, photos: &[i64]) -> Result<Option<XmpReport>> {
    if photos.is_empty() || !xmp_settings(catalog)?.write_on_change {
        return Ok(None);
    }
    export_xmp(catalog, Some(photos), false).map(Some)
}
