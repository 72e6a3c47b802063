//! Changing the library's model without losing search.
//!
//! Vectors of two models cannot be compared, so a new model must embed
//! every photo before it can answer a query. Until it has, the old model
//! stays active (search, tags and similar shots keep working on its
//! vectors) and the new one is the *next* model, which the embedding job
//! works on. The moment the next model has a vector (or a recorded
//! failure) for every visible photo, it becomes the active one: search's
//! cut-off and the tags switch with it.

use serde::Serialize;

use crate::catalog::{Catalog, ModelRow};
use crate::error::Result;

/// A switch in progress: what `status` and `model list` show.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ModelSwitch {
    /// The model search uses until the switch completes.
    pub from: String,
    /// The model being embedded.
    pub to: String,
    /// Photos the next model has still to embed.
    pub remaining: i64,
}

/// Makes `model_id` the library's model: at once when nothing is lost by
/// it (no model yet, the active one has no vectors, or the new one has
/// embedded everything already), else as the next model. Returns whether
/// it is active now.
pub fn choose(catalog: &Catalog, model_id: i64) -> Result<bool> {
    let immediate = match catalog.active_model()? {
        None => true,
        Some(active) if active.id == model_id => true,
        Some(active) => {
            catalog.count_embeddings(active.id)? == 0
                || catalog.count_pending_embeddings(Some(model_id))? == 0
        }
    };
    if immediate {
        catalog.set_active_model(model_id)?;
        catalog.set_next_model(None)?;
    } else {
        catalog.set_next_model(Some(model_id))?;
    }
    Ok(immediate)
}

/// The model the embedding job works on: the next one, else the active.
pub fn target(catalog: &Catalog) -> Result<Option<ModelRow>> {
    Ok(match catalog.next_model()? {
        Some(next) => Some(next),
        None => catalog.active_model()?,
    })
}

/// Promotes the next model once it has embedded every visible photo.
/// Returns whether it did.
pub fn promote_if_complete(catalog: &Catalog) -> Result<bool> {
    let Some(next) = catalog.next_model()? else {
        return Ok(false);
    };
    if catalog.count_pending_embeddings(Some(next.id))? > 0 {
        return Ok(false);
    }
    catalog.set_active_model(next.id)?;
    catalog.set_next_model(None)?;
    tracing::info!(model = %next.key, "the next model embedded every photo and is now active");
    Ok(true)
}

pub fn status(catalog: &Catalog) -> Result<Option<ModelSwitch>> {
    let (Some(active), Some(next)) = (catalog.active_model()?, catalog.next_model()?) else {
        return Ok(None);
    };
    Ok(Some(ModelSwitch {
        from: active.key,
        to: next.key,
        remaining: catalog.count_pending_embeddings(Some(next.id))?,
    }))
}
