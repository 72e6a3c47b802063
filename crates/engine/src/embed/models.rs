//! Which model embeds, where its files come from, and its catalog row.

use serde::Serialize;
use shoebox_model::{
    family_of_dir, is_default_spec, resolve_model, select_device, DeviceChoice, DeviceInfo,
    EmbeddingModel, Family, ModelDir, ModelRegistry, ResolveOptions,
};

use crate::catalog::{Catalog, ModelRow};
use crate::error::Result;

/// A model in memory, on its device, registered in the catalog.
pub struct LoadedModel {
    pub model: EmbeddingModel,
    pub dir: ModelDir,
    pub row: ModelRow,
    pub device_info: DeviceInfo,
}

/// The model's text tower is what turns tag prompts into prototypes.
impl crate::tags::TextEncoder for LoadedModel {
    fn embed_texts(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        Ok(self.model.embed_texts(texts)?)
    }

    fn calibration(&self) -> Option<shoebox_model::Calibration> {
        self.model.calibration()
    }
}

/// One line of `shoebox model list`.
#[derive(Debug, Clone, Serialize)]
pub struct ModelStatus {
    pub name: String,
    pub repo: String,
    pub family: String,
    pub default: bool,
    pub active: bool,
    /// All files are in the local Hugging Face cache.
    pub downloaded: bool,
    pub download_mb: Option<u64>,
    /// Photos with a vector from this model in this library.
    pub embedded: i64,
    pub notes: String,
    /// The default where a GPU was found (`default` is the CPU's).
    pub default_on_gpu: bool,
    /// `multilingual`, or language codes.
    pub languages: Vec<String>,
    pub licence: String,
    /// Image-tower cost relative to the CPU default (published GMACs).
    pub relative_cost: Option<f32>,
    /// Published text-to-image recall (Crossmodal-3600, mean of R@1/5/10)
    /// per language code.
    pub recall: Option<std::collections::BTreeMap<String, f32>>,
}

/// The spec to use: the caller's (flag or `SHOEBOX_MODEL`), else the
/// library's active model, else the registry default.
pub fn effective_spec(catalog: &Catalog, explicit: Option<&str>) -> Result<String> {
    if let Some(spec) = explicit.map(str::trim).filter(|s| !s.is_empty()) {
        return Ok(spec.to_string());
    }
    if let Some(active) = catalog.active_model()? {
        return Ok(active.spec);
    }
    Ok("default".to_string())
}

/// Resolves (downloading if needed), loads onto the chosen device and
/// registers the model.
pub fn load(
    catalog: &Catalog,
    spec: &str,
    device: DeviceChoice,
    resolve: &ResolveOptions,
) -> Result<LoadedModel> {
    let (device, device_info) = select_device(device);
    // "default" is per device: SigLIP 2 B/32-256 on a CPU, B/16-224 on a
    // GPU (assets/models.json says why). The concrete name is what the
    // catalog records, so the library keeps its model on another device.
    let spec = if is_default_spec(spec) {
        ModelRegistry::builtin()
            .default_for(!device.is_cpu())
            .name
            .as_str()
    } else {
        spec
    };
    let dir = resolve_model(spec, resolve)?;
    let model = EmbeddingModel::load(&dir, &device)?;
    let row = catalog.upsert_model(&dir.id, spec, model.embedding_dim())?;
    Ok(LoadedModel {
        model,
        dir,
        row,
        device_info,
    })
}

/// Registry models with their local state, plus models this library used
/// that are not in the registry (local folders, other repos).
pub fn list(catalog: &Catalog, resolve: &ResolveOptions) -> Result<Vec<ModelStatus>> {
    let active = catalog.active_model()?;
    let rows = catalog.models()?;
    let offline = ResolveOptions {
        offline: true,
        progress: None,
        ..resolve.clone()
    };
    let mut out = Vec::new();
    for entry in ModelRegistry::builtin().models() {
        let row = rows.iter().find(|r| r.key == entry.id());
        out.push(ModelStatus {
            name: entry.name.clone(),
            repo: entry.repo.clone(),
            family: entry.family.as_str().to_string(),
            default: entry.default,
            active: active
                .as_ref()
                .is_some_and(|a| row.is_some_and(|r| r.id == a.id)),
            downloaded: resolve_model(&entry.name, &offline).is_ok(),
            download_mb: entry.download_mb,
            embedded: match row {
                Some(r) => catalog.count_embeddings(r.id)?,
                None => 0,
            },
            notes: entry.notes.clone(),
            default_on_gpu: entry.default_on_gpu,
            languages: entry.languages.clone(),
            licence: entry.licence.clone(),
            relative_cost: entry
                .image_gmacs
                .zip(ModelRegistry::builtin().default_model().image_gmacs)
                .map(|(g, base)| (g / base * 10.0).round() / 10.0),
            recall: entry.recall.clone(),
        });
    }
    let registry_keys: Vec<String> = ModelRegistry::builtin()
        .models()
        .iter()
        .map(|e| e.id())
        .collect();
    for row in rows {
        if registry_keys.contains(&row.key) {
            continue;
        }
        let dir = resolve_model(&row.spec, &offline).ok();
        out.push(ModelStatus {
            name: row.spec.clone(),
            repo: row.key.clone(),
            family: dir
                .as_ref()
                .and_then(|d| family_of_dir(&d.path))
                .map_or("unknown", Family::as_str)
                .to_string(),
            default: false,
            active: active.as_ref().is_some_and(|a| a.id == row.id),
            downloaded: dir.is_some(),
            download_mb: None,
            embedded: catalog.count_embeddings(row.id)?,
            notes: String::new(),
            default_on_gpu: false,
            languages: Vec::new(),
            licence: String::new(),
            relative_cost: None,
            recall: None,
        });
    }
    Ok(out)
}
