use std::path::PathBuf;

/// Every failure the engine reports to a shell. Messages are written for the
/// user: they say what went wrong and, where possible, what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("catalog error: {0}")]
    Sqlite(#[from] rusqlite::Error),

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    #[error("the catalog at {path} was written by a newer Shoebox (schema version {found}, this build knows up to {known}); upgrade Shoebox")]
    SchemaTooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },

    #[error("{0} is not a folder")]
    NotAFolder(PathBuf),

    #[error("{path} is already inside the library folder {root}")]
    NestedRoot { path: PathBuf, root: PathBuf },

    #[error(
        "{path} contains the library folder {root}; remove that folder first with `shoebox remove`"
    )]
    ContainsRoot { path: PathBuf, root: PathBuf },

    #[error("{0} is not a library folder (see `shoebox status` for the list)")]
    UnknownRoot(PathBuf),

    #[error("no photo matches {0}")]
    PhotoNotFound(String),

    #[error(
        "could not find a place to keep the library; pass --library DIR or set SHOEBOX_LIBRARY"
    )]
    NoDataDir,

    #[error("{0}")]
    Invalid(String),

    /// A duplicate group id that is not (or no longer) proposed.
    #[error("no duplicate group {0}: it was resolved or ignored, or its members changed; list groups again with `shoebox dupes`")]
    GroupNotFound(String),

    /// A photo without a vector for the model a request needs.
    #[error("photo {id} has no embedding for {model} yet; run `shoebox embed` first")]
    NotEmbedded { id: i64, model: String },

    /// None of a photo's files can be reached (its folder is missing).
    #[error("photo {0} is offline: none of its files can be reached")]
    Offline(i64),

    /// The request contradicts the library's state (e.g. similar shots
    /// resolved without choosing the one to keep).
    #[error("{0}")]
    Conflict(String),

    #[error(transparent)]
    Model(#[from] shoebox_model::Error),

    #[error(transparent)]
    Query(#[from] crate::query::QueryError),
}

impl EngineError {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        EngineError::Io {
            context: context.into(),
            source,
        }
    }
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;
