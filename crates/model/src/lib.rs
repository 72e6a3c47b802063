//! CLIP and SigLIP encoders for Shoebox: model registry, download, preprocessing
//! and tokenisation that match the transformers reference, and candle
//! inference on the CPU, CUDA or Metal.

mod activation;
mod clip;
pub mod config;
mod device;
mod error;
mod hub;
mod layers;
mod model;
pub mod preprocess;
mod registry;
pub mod resize;
mod siglip;
mod text;
mod weights;

pub use device::{compiled_features, compute_threads, select_device, DeviceChoice, DeviceInfo};
pub use error::{Error, Result};
pub use hub::{
    default_model_spec, resolve_model, DownloadEvent, DownloadProgress, ModelDir, ResolveOptions,
    REQUIRED_FILES,
};
pub use model::{family_of_dir, Calibration, EmbeddingModel};
pub use registry::{is_default_spec, Family, ModelEntry, ModelRegistry, RelevancePolicy};
