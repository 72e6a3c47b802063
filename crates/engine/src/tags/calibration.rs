//! Calibration: the per-model data file that sets the decision rule (floor,
//! z, margin, cap), the prior for the library statistics, the example
//! blending, and per-concept thresholds fitted on labelled data.
//!
//! Where it comes from, first found wins:
//! 1. `LIBRARY/tag-calibration/<model file name>.json` (written by
//!    `shoebox eval tags --fit`),
//! 2. the built-in file for the model, if one ships,
//! 3. `assets/tags/calibration/default.json`.
//!
//! The shipped default is **not fitted** (no real weights were available
//! when it was written); see docs/tags.md for the method and refit command.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::scoring::{BlendParams, ConceptRule, Prior, Rule};
use crate::error::{EngineError, Result};

const DEFAULT: &str = include_str!("../../../../assets/tags/calibration/default.json");

/// Built-in calibration files by model key. Empty until someone with real
/// weights fits one.
const BUILTIN: &[(&str, &str)] = &[];

pub const CALIBRATION_DIR: &str = "tag-calibration";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// File format version (1).
    pub format: u32,
    /// The model key it was fitted for (`null` for the generic default).
    pub model: Option<String>,
    /// Whether thresholds were fitted on labelled data.
    pub fitted: bool,
    #[serde(default)]
    pub note: String,
    pub rule: Rule,
    pub prior: Prior,
    #[serde(default)]
    pub blend: BlendParams,
    /// Fitted per-concept rules, by tag key.
    #[serde(default)]
    pub concepts: BTreeMap<String, ConceptRule>,
}

impl Calibration {
    pub fn builtin_default() -> Calibration {
        serde_json::from_str(DEFAULT).expect("the built-in calibration is valid")
    }

    pub fn parse(text: &str) -> Result<Calibration> {
        let c: Calibration = serde_json::from_str(text)
            .map_err(|e| EngineError::Invalid(format!("bad tag calibration file: {e}")))?;
        if c.format != 1 {
            return Err(EngineError::Invalid(format!(
                "tag calibration format {} is not supported (this build reads 1)",
                c.format
            )));
        }
        Ok(c)
    }

    /// The file a library keeps for `model_key`.
    pub fn library_path(library_dir: &Path, model_key: &str) -> PathBuf {
        let name: String = model_key
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        library_dir
            .join(CALIBRATION_DIR)
            .join(format!("{name}.json"))
    }

    /// The calibration in effect for a model (see the module doc). A
    /// library file that cannot be read is an error, not silently ignored.
    pub fn for_model(library_dir: &Path, model_key: &str) -> Result<Calibration> {
        let path = Self::library_path(library_dir, model_key);
        if path.is_file() {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| EngineError::io(format!("cannot read {}", path.display()), e))?;
            return Self::parse(&text)
                .map_err(|e| EngineError::Invalid(format!("{}: {e}", path.display())));
        }
        if let Some((_, text)) = BUILTIN.iter().find(|(k, _)| *k == model_key) {
            return Self::parse(text);
        }
        Ok(Self::builtin_default())
    }

    /// Writes the library's file for the model atomically.
    pub fn save(&self, library_dir: &Path, model_key: &str) -> Result<PathBuf> {
        let path = Self::library_path(library_dir, model_key);
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| EngineError::Invalid(format!("cannot encode calibration: {e}")))?;
        super::xmp::write_atomically(&path, text.as_bytes())?;
        Ok(path)
    }

    pub fn concept_rule(&self, tag: &str) -> ConceptRule {
        self.concepts.get(tag).copied().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_parses_and_is_marked_unfitted() {
        let c = Calibration::builtin_default();
        assert!(!c.fitted);
        assert_eq!(c.format, 1);
        let back = Calibration::parse(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back, c);
    }
}
