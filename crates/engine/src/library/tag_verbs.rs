//! Tagging verbs of [`Library`] (see `tags` and docs/tags.md). Each verb
//! that changes tags writes sidecars when the library asks for that and
//! emits `changed {what: "tags"}`.

use std::path::Path;

use serde::Serialize;

use super::Library;
use crate::browse::NamedTag;
use crate::embed::LoadedModel;
use crate::error::{EngineError, Result};
use crate::jobs::Change;
use crate::tags::{
    self, Calibration, RetagOptions, RetagProgress, RetagReport, TextEncoder, Vocabulary,
    XmpReport, XmpSettings,
};

/// What the user did to a photo's tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TagAction {
    /// Put a tag on (any name: unknown names become keywords).
    Add,
    /// Confirmed an automatic suggestion (it becomes the user's).
    Confirm,
    /// Took a tag off; re-tagging never puts it back.
    Remove,
    /// The same as `Remove`, said of a suggestion.
    Reject,
}

impl TagAction {
    fn puts_on(self) -> bool {
        matches!(self, TagAction::Add | TagAction::Confirm)
    }
}

/// The answer to a tag edit, the same for every shell.
#[derive(Debug, Clone, Serialize)]
pub struct TagChange {
    pub id: i64,
    /// The tag's key (compared case-insensitively).
    pub tag: String,
    /// Its name as shown and written to sidecars: the vocabulary's, or
    /// what the user typed, case kept.
    pub name: String,
    pub action: TagAction,
    /// Whether the tag (or a synonym naming it) was on the photo before,
    /// from any source.
    pub was_on: bool,
    /// The photo's tags afterwards.
    pub tags: Vec<NamedTag>,
}

impl Library {
    /// The built-in vocabulary plus this library's custom tags.
    pub fn vocabulary(&self) -> Result<Vocabulary> {
        tags::vocabulary(self.catalog())
    }

    /// The tag calibration in effect for a model.
    pub fn tag_calibration(&self, model_key: &str) -> Result<Calibration> {
        Calibration::for_model(self.dir(), model_key)
    }

    /// Re-tags incrementally with `model` (see `tags::job`), then writes
    /// sidecars of changed photos when the library asks for that.
    pub fn retag(
        &self,
        model: &LoadedModel,
        opts: &RetagOptions,
        on_progress: &dyn Fn(&RetagProgress),
    ) -> Result<RetagReport> {
        let vocab = self.vocabulary()?;
        let calibration = self.tag_calibration(&model.row.key)?;
        self.retag_with(model, model.row.id, &vocab, &calibration, opts, on_progress)
    }

    /// `retag` with any text encoder, vocabulary and calibration: what the
    /// tests use with their deterministic encoder.
    pub fn retag_with(
        &self,
        encoder: &dyn TextEncoder,
        model_id: i64,
        vocab: &Vocabulary,
        calibration: &Calibration,
        opts: &RetagOptions,
        on_progress: &dyn Fn(&RetagProgress),
    ) -> Result<RetagReport> {
        let report = tags::run_retag(
            self.catalog(),
            model_id,
            encoder,
            vocab,
            calibration,
            opts,
            on_progress,
        )?;
        tags::sync_if_enabled(self.catalog(), &report.changed_photos)?;
        self.catalog().trim_change_log()?;
        if !report.changed_photos.is_empty() {
            self.emit_changed(Change::Tags, None);
        }
        Ok(report)
    }

    /// Tags on a photo: auto ones with their score, user and imported ones.
    pub fn photo_tags(&self, id: i64) -> Result<Vec<crate::catalog::PhotoTag>> {
        self.info(id)?;
        self.catalog().photo_tags(id)
    }

    /// The user puts a tag on a photo (or takes it off): a decision
    /// re-tagging never overrides.
    pub fn edit_tag(&self, id: i64, name: &str, action: TagAction) -> Result<TagChange> {
        self.info(id)?;
        let vocab = self.vocabulary()?;
        let (tag, was_on) = if action.puts_on() {
            tags::add_tag(self.catalog(), &vocab, id, name)?
        } else {
            tags::remove_tag(self.catalog(), &vocab, id, name)?
        };
        tags::sync_if_enabled(self.catalog(), &[id])?;
        self.emit_changed(Change::Tags, Some(&[id]));
        let names = tags::display_names(self.catalog(), &vocab)?;
        Ok(TagChange {
            id,
            name: names.get(&tag).cloned().unwrap_or_else(|| tag.clone()),
            tag,
            action,
            was_on,
            tags: self.named_tags(id)?,
        })
    }

    /// `edit_tag` with [`TagAction::Add`].
    pub fn add_tag(&self, id: i64, name: &str) -> Result<TagChange> {
        self.edit_tag(id, name, TagAction::Add)
    }

    /// `edit_tag` with [`TagAction::Remove`].
    pub fn remove_tag(&self, id: i64, name: &str) -> Result<TagChange> {
        self.edit_tag(id, name, TagAction::Remove)
    }

    pub fn tag_counts(&self) -> Result<Vec<crate::catalog::TagCount>> {
        self.catalog().tag_counts()
    }

    /// Creates a custom tag from a name (and optionally a description of
    /// what it looks like), confirmed on `examples`. The next re-tag
    /// builds its prototype and assigns it.
    pub fn add_custom_tag(
        &self,
        name: &str,
        description: Option<&str>,
        parent: Option<&str>,
        examples: &[i64],
    ) -> Result<crate::catalog::TagDef> {
        for id in examples {
            self.info(*id)?;
        }
        let def = tags::add_custom(self.catalog(), name, description, parent, examples)?;
        tags::sync_if_enabled(self.catalog(), examples)?;
        self.emit_changed(Change::Tags, Some(examples));
        Ok(def)
    }

    /// Stops assigning a custom tag automatically: the next re-tag removes
    /// its auto tags; the photos the user tagged keep it.
    pub fn remove_custom_tag(&self, name: &str) -> Result<String> {
        let tag = tags::tag_key(name);
        if !self.catalog().demote_custom_tag(&tag)? {
            return Err(EngineError::Invalid(format!(
                "`{name}` is not a custom tag (see `shoebox tags custom list`)"
            )));
        }
        self.emit_changed(Change::Tags, None);
        Ok(tag)
    }

    pub fn xmp_settings(&self) -> Result<XmpSettings> {
        tags::xmp_settings(self.catalog())
    }

    pub fn set_xmp_settings(&self, settings: &XmpSettings) -> Result<()> {
        tags::set_xmp_settings(self.catalog(), settings)?;
        self.emit_changed(Change::Settings, None);
        Ok(())
    }

    /// The accuracy harness (see `tags::eval`): images of `dir` listed in
    /// `labels` are embedded (not added to the library) and tagged. With
    /// `fit`, per-concept thresholds fitted on them become the library's
    /// calibration for the model. The figures use the calibration in effect
    /// before fitting.
    pub fn eval_tags(
        &self,
        model: &LoadedModel,
        labels: &Path,
        dir: &Path,
        fit: bool,
        on_progress: &dyn Fn(&RetagProgress),
    ) -> Result<tags::eval::EvalReport> {
        let vocab = self.vocabulary()?;
        let calibration = self.tag_calibration(&model.row.key)?;
        let (mut report, fitted) = tags::eval::run_eval(
            self.catalog(),
            model.row.id,
            &model.row.key,
            model,
            &|path| self.embed_file(model, path, false),
            &vocab,
            &calibration,
            labels,
            dir,
            on_progress,
        )?;
        if let (true, Some(c)) = (fit, fitted) {
            let path = c.save(self.dir(), &model.row.key)?;
            report.calibration_fitted = true;
            report.calibration_path = Some(path.display().to_string());
        }
        Ok(report)
    }

    /// Writes (or with `dry_run` plans) XMP sidecars for every tagged photo.
    pub fn export_xmp(&self, dry_run: bool) -> Result<XmpReport> {
        tags::export_xmp(self.catalog(), None, dry_run)
    }
}
