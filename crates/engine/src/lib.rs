//! Shoebox engine: the catalog, ingest and every feature the shells (CLI,
//! desktop app, HTTP server) expose. Shells talk to [`Library`] only.

pub mod browse;
pub mod catalog;
pub mod dupes;
pub mod embed;
pub mod error;
pub mod ingest;
pub mod jobs;
pub mod library;
pub mod live;
pub mod paths;
pub mod progress;
pub mod query;
pub mod regular_file;
pub mod search;
pub mod sidecar;
pub mod tags;

pub use error::{EngineError, Result};
pub use library::Library;
pub use shoebox_model as model;
