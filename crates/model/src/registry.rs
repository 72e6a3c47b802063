//! The built-in list of models that can be named instead of spelled out.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

const MODELS_JSON: &str = include_str!("../../../assets/models.json");

/// How a model's files are laid out and which encoder code runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Family {
    /// `CLIPModel` in the Hugging Face transformers layout.
    #[serde(rename = "clip-hf")]
    ClipHf,
    /// MobileCLIP in the open_clip layout (not implemented yet).
    #[serde(rename = "mobileclip-openclip")]
    MobileClipOpenClip,
    /// `SiglipModel` in the transformers layout (SigLIP, and the
    /// fixed-resolution SigLIP 2 checkpoints).
    #[serde(rename = "siglip")]
    Siglip,
}

impl Family {
    pub fn as_str(self) -> &'static str {
        match self {
            Family::ClipHf => "clip-hf",
            Family::MobileClipOpenClip => "mobileclip-openclip",
            Family::Siglip => "siglip",
        }
    }
}

impl std::fmt::Display for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelEntry {
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub repo: String,
    #[serde(default = "main_revision")]
    pub revision: String,
    pub family: Family,
    /// The model a new library uses on a CPU.
    #[serde(default)]
    pub default: bool,
    /// The model a new library uses where a GPU was found.
    #[serde(default)]
    pub default_on_gpu: bool,
    #[serde(default)]
    pub embedding_dim: Option<usize>,
    #[serde(default)]
    pub image_size: Option<usize>,
    #[serde(default)]
    pub download_mb: Option<u64>,
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub relevance: RelevancePolicy,
    /// Languages its text tower was trained on (`multilingual`, or codes).
    #[serde(default)]
    pub languages: Vec<String>,
    #[serde(default)]
    pub licence: String,
    /// Image-tower cost per photo, as published.
    #[serde(default)]
    pub image_gmacs: Option<f32>,
    /// Published text-to-image recall per language code.
    #[serde(default)]
    pub recall: Option<BTreeMap<String, f32>>,
}

/// How search tells relevant photos from the rest with this model's
/// scores. Models differ in where their cosines sit (CLIP text-to-image
/// scores cluster near 0.2–0.3, image-to-image far higher), so this is per
/// model; the search applies it to each query's own score distribution.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RelevancePolicy {
    /// Robust z-score a photo needs: its score must reach the query's
    /// median plus `z` times the scores' robust spread (1.4826 × MAD).
    #[serde(default = "default_relevance_z")]
    pub z: f32,
    /// An absolute cosine a text match must also reach, once calibrated
    /// on real weights for this model; `None` relies on the z-score alone.
    #[serde(default)]
    pub text_floor: Option<f32>,
}

fn default_relevance_z() -> f32 {
    3.0
}

impl Default for RelevancePolicy {
    fn default() -> Self {
        RelevancePolicy {
            z: default_relevance_z(),
            text_floor: None,
        }
    }
}

/// The spec that means "the registry's default for this device".
pub fn is_default_spec(spec: &str) -> bool {
    spec.trim().eq_ignore_ascii_case("default")
}

fn main_revision() -> String {
    "main".to_string()
}

impl ModelEntry {
    /// The stable identifier under which embeddings are stored.
    pub fn id(&self) -> String {
        format!("{}@{}", self.repo, self.revision)
    }

    fn matches(&self, spec: &str) -> bool {
        let spec = spec.trim();
        self.name.eq_ignore_ascii_case(spec)
            || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(spec))
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct ModelRegistry {
    models: Vec<ModelEntry>,
}

impl ModelRegistry {
    /// The registry compiled into the binary from `assets/models.json`.
    pub fn builtin() -> &'static ModelRegistry {
        static REGISTRY: std::sync::OnceLock<ModelRegistry> = std::sync::OnceLock::new();
        REGISTRY.get_or_init(|| {
            // The asset is compiled in and covered by a unit test, so a parse
            // failure here is a build defect, not a runtime condition.
            ModelRegistry::from_json(MODELS_JSON).expect("assets/models.json is valid")
        })
    }

    pub fn from_json(json: &str) -> Result<Self> {
        let registry: ModelRegistry =
            serde_json::from_str(json).map_err(|e| Error::config("models.json", e))?;
        for (what, count) in [
            (
                "default",
                registry.models.iter().filter(|m| m.default).count(),
            ),
            (
                "default_on_gpu",
                registry.models.iter().filter(|m| m.default_on_gpu).count(),
            ),
        ] {
            if count != 1 {
                return Err(Error::config(
                    "models.json",
                    format!("exactly one model must be '{what}', found {count}"),
                ));
            }
        }
        Ok(registry)
    }

    pub fn models(&self) -> &[ModelEntry] {
        &self.models
    }

    pub fn default_model(&self) -> &ModelEntry {
        self.models
            .iter()
            .find(|m| m.default)
            .expect("validated in from_json")
    }

    /// The default for the device the model will run on.
    pub fn default_for(&self, gpu: bool) -> &ModelEntry {
        self.models
            .iter()
            .find(|m| if gpu { m.default_on_gpu } else { m.default })
            .expect("validated in from_json")
    }

    /// Looks a spec up by name, alias or exact repo id (optionally with
    /// `@revision`, which must then match too). `default` is the CPU
    /// default; callers that know the device use `default_for`.
    pub fn find(&self, spec: &str) -> Option<&ModelEntry> {
        if is_default_spec(spec) {
            return Some(self.default_model());
        }
        if let Some(m) = self.models.iter().find(|m| m.matches(spec)) {
            return Some(m);
        }
        let (repo, revision) = match spec.split_once('@') {
            Some((repo, rev)) => (repo, Some(rev)),
            None => (spec, None),
        };
        self.models
            .iter()
            .find(|m| m.repo == repo && revision.is_none_or(|r| r == m.revision))
    }

    /// The relevance policy for stored-embedding key `repo@revision`;
    /// the default for models outside the registry (local folders).
    pub fn relevance_for(&self, key: &str) -> RelevancePolicy {
        self.find(key).map(|m| m.relevance).unwrap_or_default()
    }

    pub(crate) fn known_names(&self) -> String {
        self.models
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_registry_parses_and_has_one_default() {
        let reg = ModelRegistry::builtin();
        assert_eq!(reg.default_model().repo, "google/siglip2-base-patch32-256");
        assert_eq!(reg.default_for(false).repo, reg.default_model().repo);
        assert_eq!(
            reg.default_for(true).repo,
            "google/siglip2-base-patch16-224"
        );
        assert!(reg.models().len() >= 8);
        for m in reg.models() {
            assert!(m.repo.contains('/'), "{}", m.repo);
            assert!(!m.notes.is_empty(), "{} needs a rationale", m.name);
            assert!(
                !m.languages.is_empty() && !m.licence.is_empty(),
                "{}",
                m.name
            );
        }
    }

    #[test]
    fn finds_by_name_alias_and_repo() {
        let reg = ModelRegistry::builtin();
        assert_eq!(
            reg.find("clip-vit-b-32").unwrap().repo,
            "openai/clip-vit-base-patch32"
        );
        assert_eq!(reg.find("DEFAULT").unwrap().repo, reg.default_model().repo);
        assert_eq!(
            reg.find("openai/clip-vit-large-patch14").unwrap().name,
            "clip-vit-l-14"
        );
        assert!(reg.find("openai/clip-vit-large-patch14@abc").is_none());
        assert!(reg.find("nope").is_none());
    }

    #[test]
    fn rejects_zero_or_two_defaults() {
        let entry = |d: bool| {
            format!(
                r#"{{"name":"a{d}","repo":"o/a","family":"clip-hf","default":{d},"default_on_gpu":true}}"#
            )
        };
        let none = format!(r#"{{"models":[{}]}}"#, entry(false));
        assert!(ModelRegistry::from_json(&none).is_err());
        let two = format!(r#"{{"models":[{},{}]}}"#, entry(true), entry(true));
        assert!(ModelRegistry::from_json(&two).is_err());
        let bad_family = r#"{"models":[{"name":"a","repo":"o/a","family":"nope","default":true,"default_on_gpu":true}]}"#;
        assert!(ModelRegistry::from_json(bad_family).is_err());
    }
}
