//! Which model embeds, where its files come from, and its catalog row.

use serde::Serialize;
use shoebox_model::{
    resolve_model, select_device, DeviceChoice, DeviceInfo, EmbeddingModel, ModelDir,
    ModelRegistry, ResolveOptions,
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
    Ok(ModelRegistry::builtin().default_model().name.clone())
}

/// Resolves (downloading if needed), loads onto the chosen device and
/// registers the model.
pub fn load(
    catalog: &Catalog,
    spec: &str,
    device: DeviceChoice,
    resolve: &ResolveOptions,
) -> Result<LoadedModel> {
    let dir = resolve_model(spec, resolve)?;
    let (device, device_info) = select_device(device);
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
        out.push(ModelStatus {
            name: row.spec.clone(),
            repo: row.key.clone(),
            family: "clip-hf".to_string(),
            default: false,
            active: active.as_ref().is_some_and(|a| a.id == row.id),
            downloaded: resolve_model(&row.spec, &offline).is_ok(),
            download_mb: None,
            embedded: catalog.count_embeddings(row.id)?,
            notes: String::new(),
        });
    }
    Ok(out)
}
