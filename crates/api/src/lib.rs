//! Shoebox's command API: one table of named commands with JSON arguments
//! and results, shared by every shell. The Tauri app's invoke handler and
//! the HTTP server (`shoebox serve`) both call [`dispatch`]; the contract
//! is docs/api.md. Transport-free: no HTTP or Tauri types here.

mod commands;
pub mod error;
pub mod events;
pub mod images;
mod logging;
mod state;

pub use commands::{allows_get, command, dispatch, index_markdown, Command, COMMANDS};
pub use error::{status_for, ApiError, ErrorBody};
pub use events::EventBus;
pub use images::{image, parse_image_path, ImageKind, ImageReply};
pub use logging::init_logging;
pub use state::{ApiOptions, ApiState};
