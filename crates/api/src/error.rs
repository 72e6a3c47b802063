//! `ApiError`: every failure a command reports, with a stable `code` that
//! clients switch on and a message written for the user.

use serde::Serialize;
use shoebox_engine::model::Error as ModelError;
use shoebox_engine::EngineError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Arguments that are not an object, of the wrong type, unknown or missing.
    #[error("{0}")]
    BadRequest(String),
    #[error("unknown command `{0}` (see docs/api.md for the list)")]
    UnknownCommand(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NoModel(String),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// The JSON body of an error: `{"error": {"code", "message"}}`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ErrorDetail {
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    /// The stable code (see docs/api.md).
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::UnknownCommand(_) => "unknown_command",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::NoModel(_) => "no_model",
            ApiError::Engine(e) => engine_code(e),
        }
    }

    /// The HTTP status for the code.
    pub fn http_status(&self) -> u16 {
        status_for(self.code())
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message: self.to_string(),
            },
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self.body()).expect("error bodies serialise")
    }
}

/// HTTP status of an error code.
pub fn status_for(code: &str) -> u16 {
    match code {
        "bad_request" | "bad_query" => 400,
        "unauthorized" => 401,
        "forbidden" => 403,
        "not_found" | "unknown_command" => 404,
        "method_not_allowed" => 405,
        "timeout" => 408,
        "conflict" | "no_model" | "not_embedded" | "offline" => 409,
        "payload_too_large" => 413,
        "invalid" => 422,
        _ => 500,
    }
}

fn engine_code(e: &EngineError) -> &'static str {
    match e {
        EngineError::Query(_) => "bad_query",
        EngineError::PhotoNotFound(_)
        | EngineError::UnknownRoot(_)
        | EngineError::GroupNotFound(_) => "not_found",
        EngineError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            "not_found"
        }
        EngineError::NestedRoot { .. } | EngineError::ContainsRoot { .. } => "conflict",
        EngineError::Conflict(_) => "conflict",
        EngineError::NotEmbedded { .. } => "not_embedded",
        EngineError::Offline(_) => "offline",
        EngineError::NotAFolder(_) | EngineError::Invalid(_) => "invalid",
        EngineError::Model(m) => match m {
            ModelError::Unavailable(_)
            | ModelError::UnknownModel { .. }
            | ModelError::MissingFile { .. }
            | ModelError::Download { .. } => "no_model",
            _ => "model_error",
        },
        _ => "internal",
    }
}
