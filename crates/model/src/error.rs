use std::path::PathBuf;

/// Everything that can go wrong while resolving, loading or running a model.
///
/// Messages are written for the person at the keyboard: where a fix exists
/// (a missing file, no network), the message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "model directory {dir} has no {file}; a CLIP model directory needs {}",
        crate::hub::REQUIRED_FILES_HUMAN
    )]
    MissingFile { dir: PathBuf, file: String },

    #[error("invalid {file}: {message}")]
    Config { file: String, message: String },

    #[error("{0}")]
    Unavailable(String),

    #[error("unknown model '{spec}': not a directory, a registry name ({known}) or a Hugging Face repo id like 'org/name[@revision]'")]
    UnknownModel { spec: String, known: String },

    #[error("model family '{0}' is not supported yet (only 'clip-hf' and 'siglip' are)")]
    UnsupportedFamily(String),

    #[error("downloading {file} from {repo} failed: {message}")]
    Download {
        repo: String,
        file: String,
        message: String,
    },

    #[error("the download was cancelled (partial files are kept; downloading again resumes)")]
    Cancelled,

    #[error("tokenizer: {0}")]
    Tokenizer(String),

    #[error("invalid input: {0}")]
    InvalidInput(String),

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn config(file: impl Into<String>, message: impl std::fmt::Display) -> Self {
        Error::Config {
            file: file.into(),
            message: message.to_string(),
        }
    }
}
