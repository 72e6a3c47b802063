//! Embeddings: choosing and loading the model, and the background job that
//! gives every photo a vector for it.

mod job;
pub mod models;
pub mod switch;

pub use job::{run_embed_job, EmbedOptions, EmbedProgress, EmbedReport};
pub use models::{LoadedModel, ModelStatus};
