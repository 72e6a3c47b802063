//! Turning a model spec (directory, registry name or Hugging Face repo id)
//! into a local directory, downloading into the standard Hugging Face cache
//! when needed.
//!
//! hf-hub 0.5 does the transfer: it writes `blobs/<etag>.part`, resumes from
//! its length with an HTTP Range request (also on a later run after a crash)
//! and retries a dropped connection from where it stopped. It has no offline
//! mode and no cache-first lookup for a whole model, which this module adds:
//! a desktop app should not touch the network once the model is there.

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use hf_hub::api::sync::{ApiBuilder, ApiError};
use hf_hub::{Cache, Repo, RepoType};

use crate::registry::{Family, ModelRegistry};
use crate::{Error, Result};

/// What a `clip-hf` model directory must contain.
pub const REQUIRED_FILES: [&str; 4] = [
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "preprocessor_config.json",
];
pub(crate) const REQUIRED_FILES_HUMAN: &str =
    "config.json, model.safetensors, tokenizer.json and preprocessor_config.json";
/// Older repos without safetensors still ship PyTorch weights.
pub(crate) const WEIGHTS_FALLBACK: &str = "pytorch_model.bin";

const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// A model ready to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelDir {
    pub path: PathBuf,
    /// Stable identity for stored embeddings: `repo@revision` for hub
    /// models, `local:<hash>` for directories.
    pub id: String,
    pub family: Family,
    /// The commit the cached snapshot came from, for hub models.
    pub commit: Option<String>,
}

/// Download progress, reported per file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownloadEvent<'a> {
    /// A file is already in the cache; nothing to transfer.
    Cached {
        file: &'a str,
    },
    /// A transfer began; `done` is non-zero when resuming a partial file.
    Started {
        file: &'a str,
        total: u64,
        done: u64,
    },
    Progress {
        file: &'a str,
        done: u64,
        total: u64,
    },
    Finished {
        file: &'a str,
    },
}

/// Receives download progress; a CLI renders it with indicatif, the app
/// forwards it as events. Any `Fn(DownloadEvent)` closure works.
pub trait DownloadProgress: Send + Sync {
    fn on_event(&self, event: DownloadEvent<'_>);
}

impl<F: Fn(DownloadEvent<'_>) + Send + Sync> DownloadProgress for F {
    fn on_event(&self, event: DownloadEvent<'_>) {
        self(event)
    }
}

/// Where and how to fetch. `Default` reads the usual Hugging Face
/// variables; tests set fields directly instead of mutating the process
/// environment.
#[derive(Clone)]
pub struct ResolveOptions {
    pub endpoint: String,
    /// The hub cache (`.../huggingface/hub`), holding `models--org--name`.
    pub cache_dir: PathBuf,
    pub offline: bool,
    pub token: Option<String>,
    pub progress: Option<Arc<dyn DownloadProgress>>,
    /// Retries of a failed transfer; each resumes where the last stopped.
    pub retries: usize,
    /// Set it to stop a download within a chunk: resolution fails with
    /// [`Error::Cancelled`]; partial files stay, so a later download
    /// resumes.
    pub cancel: Option<Arc<AtomicBool>>,
}

impl std::fmt::Debug for ResolveOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResolveOptions")
            .field("endpoint", &self.endpoint)
            .field("cache_dir", &self.cache_dir)
            .field("offline", &self.offline)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("progress", &self.progress.is_some())
            .field("retries", &self.retries)
            .field("cancel", &self.cancel.is_some())
            .finish()
    }
}

impl Default for ResolveOptions {
    fn default() -> Self {
        Self::from_env()
    }
}

fn env_nonempty(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.trim().is_empty())
}

fn truthy(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "on"
    )
}

impl ResolveOptions {
    /// `HF_ENDPOINT`, `HF_HUB_CACHE` / `HF_HOME` / `XDG_CACHE_HOME`,
    /// `HF_HUB_OFFLINE` and `HF_TOKEN`, as huggingface_hub reads them.
    pub fn from_env() -> Self {
        let cache_dir = env_nonempty("HF_HUB_CACHE")
            .map(PathBuf::from)
            .or_else(|| env_nonempty("HF_HOME").map(|h| PathBuf::from(h).join("hub")))
            .or_else(|| {
                env_nonempty("XDG_CACHE_HOME").map(|x| PathBuf::from(x).join("huggingface/hub"))
            })
            .or_else(|| {
                env_nonempty("HOME")
                    .or_else(|| env_nonempty("USERPROFILE"))
                    .map(|h| PathBuf::from(h).join(".cache/huggingface/hub"))
            })
            .unwrap_or_else(|| PathBuf::from(".cache/huggingface/hub"));
        Self {
            endpoint: env_nonempty("HF_ENDPOINT")
                .map(|e| e.trim_end_matches('/').to_string())
                .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string()),
            cache_dir,
            offline: env_nonempty("HF_HUB_OFFLINE").is_some_and(|v| truthy(&v)),
            token: env_nonempty("HF_TOKEN"),
            progress: None,
            retries: 5,
            cancel: None,
        }
    }

    pub fn with_progress(mut self, progress: impl DownloadProgress + 'static) -> Self {
        self.progress = Some(Arc::new(progress));
        self
    }
}

/// The model to use when the user names none: `SHOEBOX_MODEL`, else the
/// registry default.
pub fn default_model_spec() -> String {
    env_nonempty("SHOEBOX_MODEL")
        .unwrap_or_else(|| ModelRegistry::builtin().default_model().name.clone())
}

/// Resolves a spec to a local model directory, downloading if necessary.
///
/// `spec` is a directory, a registry name or alias, or a Hugging Face repo
/// id `org/name` with an optional `@revision`. An empty spec means the
/// registry default.
pub fn resolve_model(spec: &str, opts: &ResolveOptions) -> Result<ModelDir> {
    let spec = spec.trim();
    let registry = ModelRegistry::builtin();
    if spec.is_empty() {
        let m = registry.default_model();
        return resolve_hub(&m.repo, &m.revision, m.family, opts);
    }
    let path = Path::new(spec);
    if path.is_dir() {
        return resolve_local(path);
    }
    if looks_like_path(spec) {
        return Err(Error::Unavailable(format!(
            "model directory {spec} does not exist; it should contain {REQUIRED_FILES_HUMAN}"
        )));
    }
    if let Some(m) = registry.find(spec) {
        return resolve_hub(&m.repo, &m.revision, m.family, opts);
    }
    let (repo, revision) = spec.split_once('@').unwrap_or((spec, "main"));
    if is_repo_id(repo) && !revision.is_empty() {
        // The family is read from the downloaded config.json.
        return resolve_hub(repo, revision, Family::ClipHf, opts);
    }
    Err(Error::UnknownModel {
        spec: spec.to_string(),
        known: registry.known_names(),
    })
}

fn looks_like_path(spec: &str) -> bool {
    spec.starts_with(['/', '.', '~', '\\'])
        || spec.contains('\\')
        || spec.ends_with('/')
        || spec.matches('/').count() > 1
        || (spec.len() > 1 && spec.as_bytes()[1] == b':')
        || Path::new(spec).exists()
}

fn is_repo_id(s: &str) -> bool {
    let ok = |p: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    matches!(s.split_once('/'), Some((org, name)) if ok(org) && ok(name))
}

fn resolve_local(dir: &Path) -> Result<ModelDir> {
    let family = detect_family(dir)?;
    for file in REQUIRED_FILES {
        let present = dir.join(file).is_file()
            || (file == "model.safetensors" && dir.join(WEIGHTS_FALLBACK).is_file());
        if !present {
            return Err(Error::MissingFile {
                dir: dir.to_path_buf(),
                file: file.to_string(),
            });
        }
    }
    let path = dir.canonicalize().map_err(|e| Error::io(dir, e))?;
    Ok(ModelDir {
        id: local_id(&path)?,
        path,
        family,
        commit: None,
    })
}

fn detect_family(dir: &Path) -> Result<Family> {
    let config = dir.join("config.json");
    let text = std::fs::read_to_string(&config).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::MissingFile {
            dir: dir.to_path_buf(),
            file: "config.json".into(),
        },
        _ => Error::io(&config, e),
    })?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| Error::config("config.json", e))?;
    match v.get("model_type").and_then(|m| m.as_str()) {
        None | Some("clip") => Ok(Family::ClipHf),
        Some("siglip") => Ok(Family::Siglip),
        Some(other) => Err(Error::UnsupportedFamily(other.to_string())),
    }
}

/// A content-derived id, so that embeddings survive moving the directory
/// and are not reused for different weights. Hashing every byte of a
/// 1.7 GB model on each start is too slow; the safetensors header (names,
/// shapes, offsets), the file length and three 1 MiB samples of the data
/// tell fine-tunes of one architecture apart.
pub(crate) fn local_id(dir: &Path) -> Result<String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut h = blake3::Hasher::new();
    let config = dir.join("config.json");
    h.update(&std::fs::read(&config).map_err(|e| Error::io(&config, e))?);
    let weights = [dir.join("model.safetensors"), dir.join(WEIGHTS_FALLBACK)]
        .into_iter()
        .find(|p| p.is_file())
        .ok_or_else(|| Error::MissingFile {
            dir: dir.to_path_buf(),
            file: "model.safetensors".into(),
        })?;
    let io = |e| Error::io(&weights, e);
    let mut f = std::fs::File::open(&weights).map_err(io)?;
    let len = f.metadata().map_err(io)?.len();
    h.update(&len.to_le_bytes());
    const SAMPLE: u64 = 1 << 20;
    let mut header_len = [0u8; 8];
    let mut offsets = vec![0, len / 2, len.saturating_sub(SAMPLE)];
    if f.read_exact(&mut header_len).is_ok() {
        let n = u64::from_le_bytes(header_len);
        if n < len {
            offsets.push(8);
            offsets.push(8 + n.min(len - 8));
            offsets.sort_unstable();
            offsets.dedup();
            // Hash the whole header; it is small (tens of KB).
            f.seek(SeekFrom::Start(8)).map_err(io)?;
            let mut header = vec![0u8; n as usize];
            f.read_exact(&mut header).map_err(io)?;
            h.update(&header);
        }
    }
    let mut buf = vec![0u8; SAMPLE as usize];
    for off in offsets {
        f.seek(SeekFrom::Start(off)).map_err(io)?;
        let got = f.by_ref().take(SAMPLE).read(&mut buf).map_err(io)?;
        h.update(&buf[..got]);
    }
    Ok(format!("local:{}", &h.finalize().to_hex()[..32]))
}

fn offline_help(repo: &str) -> String {
    format!(
        "To use it without network access, download {REQUIRED_FILES_HUMAN} from \
         https://huggingface.co/{repo} into one directory and pass --model DIR \
         (or set SHOEBOX_MODEL=DIR)."
    )
}

fn resolve_hub(
    repo: &str,
    revision: &str,
    family: Family,
    opts: &ResolveOptions,
) -> Result<ModelDir> {
    if family == Family::MobileClipOpenClip {
        return Err(Error::UnsupportedFamily(family.to_string()));
    }
    let hf_repo = Repo::with_revision(repo.to_string(), RepoType::Model, revision.to_string());
    let cache = Cache::new(opts.cache_dir.clone()).repo(hf_repo.clone());
    let id = format!("{repo}@{revision}");
    let progress = opts.progress.clone();
    let emit = |e: DownloadEvent<'_>| {
        if let Some(p) = &progress {
            p.on_event(e)
        }
    };

    let cached = |file: &str| -> Option<PathBuf> {
        cache.get(file).or_else(|| {
            (file == "model.safetensors")
                .then(|| cache.get(WEIGHTS_FALLBACK))
                .flatten()
        })
    };

    let mut api = None;
    // A moving revision ("main") can advance between files; files cached
    // under the older commit are then fetched again into the new snapshot.
    for _pass in 0..3 {
        let missing: Vec<&str> = REQUIRED_FILES
            .into_iter()
            .filter(|f| cached(f).is_none())
            .collect();
        if missing.is_empty() {
            let config = cached("config.json").expect("checked above");
            let path = config.parent().expect("file in snapshot").to_path_buf();
            let commit = path.file_name().map(|c| c.to_string_lossy().into_owned());
            tracing::debug!(model = %id, path = %path.display(), "model files in cache");
            // A repo outside the registry says what it is in its config.
            let family = detect_family(&path)?;
            return Ok(ModelDir {
                path,
                id,
                family,
                commit,
            });
        }
        if opts.offline {
            return Err(Error::Unavailable(format!(
                "model {id} is not in the Hugging Face cache at {} and downloads are disabled \
                 (HF_HUB_OFFLINE is set). {}",
                opts.cache_dir.display(),
                offline_help(repo)
            )));
        }
        for f in REQUIRED_FILES {
            if !missing.contains(&f) {
                emit(DownloadEvent::Cached { file: f });
            }
        }
        let api = match &mut api {
            Some(api) => api,
            None => api.insert(build_api(opts)?),
        };
        let hub = api.repo(hf_repo.clone());
        let cancel = opts.cancel.clone();
        let download = |file: &'static str| {
            if cancel.as_ref().is_some_and(|c| c.load(Ordering::SeqCst)) {
                return Err(Error::Cancelled);
            }
            let adapter = Adapter::new(file, progress.clone(), cancel.clone());
            // The adapter stops a transfer by unwinding out of hf-hub with
            // a `Cancelled` payload (its lock guard and partial file are
            // dropped as usual); any other panic goes on unwinding.
            match std::panic::catch_unwind(AssertUnwindSafe(|| {
                hub.download_with_progress(file, adapter)
            })) {
                Ok(result) => Ok(result),
                Err(payload) if payload.is::<Cancelled>() => Err(Error::Cancelled),
                Err(payload) => std::panic::resume_unwind(payload),
            }
        };
        for file in missing {
            tracing::info!(model = %id, file, "downloading");
            let result = download(file)?;
            let result = match result {
                Err(e) if file == "model.safetensors" && status_of(&e) == Some(404) => {
                    tracing::info!(model = %id, "no model.safetensors; trying {WEIGHTS_FALLBACK}");
                    download(WEIGHTS_FALLBACK)?
                }
                other => other,
            };
            result.map_err(|e| download_error(repo, revision, file, &opts.endpoint, e))?;
        }
    }
    Err(Error::Download {
        repo: repo.to_string(),
        file: "(snapshot)".into(),
        message: format!("revision {revision} kept changing while downloading; try again"),
    })
}

fn build_api(opts: &ResolveOptions) -> Result<hf_hub::api::sync::Api> {
    let mut builder = ApiBuilder::from_cache(Cache::new(opts.cache_dir.clone()))
        .with_endpoint(opts.endpoint.clone())
        .with_progress(false)
        .with_retries(opts.retries)
        .with_user_agent("shoebox", env!("CARGO_PKG_VERSION"));
    if let Some(token) = &opts.token {
        builder = builder.with_token(Some(token.clone()));
    }
    builder.build().map_err(|e| Error::Download {
        repo: String::new(),
        file: String::new(),
        message: e.to_string(),
    })
}

fn status_of(e: &ApiError) -> Option<u16> {
    match e {
        ApiError::RequestError(inner) => match inner.as_ref() {
            ureq::Error::StatusCode(code) => Some(*code),
            _ => None,
        },
        ApiError::TooManyRetries(inner) => status_of(inner),
        _ => None,
    }
}

fn download_error(repo: &str, revision: &str, file: &str, endpoint: &str, e: ApiError) -> Error {
    match status_of(&e) {
        Some(404) => Error::Download {
            repo: repo.to_string(),
            file: file.to_string(),
            message: format!(
                "not found at {endpoint} (check the repo id and revision '{revision}')"
            ),
        },
        Some(401 | 403) => Error::Download {
            repo: repo.to_string(),
            file: file.to_string(),
            message: "access denied; the repo may be private or gated (set HF_TOKEN)".into(),
        },
        Some(code) => Error::Download {
            repo: repo.to_string(),
            file: file.to_string(),
            message: format!("HTTP {code} from {endpoint}"),
        },
        None => match e {
            ApiError::RequestError(_) | ApiError::TooManyRetries(_) => Error::Unavailable(format!(
                "could not download {file} for {repo}@{revision} from {endpoint}: {e}. \
                 Partial downloads are kept and resume on the next attempt. {}",
                offline_help(repo)
            )),
            other => Error::Download {
                repo: repo.to_string(),
                file: file.to_string(),
                message: other.to_string(),
            },
        },
    }
}

/// Bridges hf-hub's `Progress` (called with byte deltas, and `init` once
/// per attempt) to `DownloadEvent`s with running totals.
struct Adapter {
    file: &'static str,
    sink: Option<Arc<dyn DownloadProgress>>,
    cancel: Option<Arc<AtomicBool>>,
    total: u64,
    done: u64,
    last_emit: u64,
    started: bool,
}

impl Adapter {
    fn new(
        file: &'static str,
        sink: Option<Arc<dyn DownloadProgress>>,
        cancel: Option<Arc<AtomicBool>>,
    ) -> Self {
        Self {
            file,
            sink,
            cancel,
            total: 0,
            done: 0,
            last_emit: 0,
            started: false,
        }
    }
}

/// The unwinding payload of a cancelled transfer.
struct Cancelled;

/// Enough resolution for a progress bar without a callback per read.
const EMIT_EVERY: u64 = 256 * 1024;

impl hf_hub::api::Progress for Adapter {
    fn init(&mut self, size: usize, _filename: &str) {
        self.total = size as u64;
        self.done = 0;
        self.last_emit = 0;
    }

    fn update(&mut self, size: usize) {
        if self
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::SeqCst))
        {
            // No panic hook runs for `resume_unwind`: nothing is printed.
            std::panic::resume_unwind(Box::new(Cancelled));
        }
        self.done += size as u64;
        let Some(sink) = &self.sink else { return };
        if !self.started {
            // hf-hub reports a resumed prefix as the first update.
            self.started = true;
            sink.on_event(DownloadEvent::Started {
                file: self.file,
                total: self.total,
                done: self.done,
            });
            self.last_emit = self.done;
            return;
        }
        if self.done - self.last_emit >= EMIT_EVERY || self.done >= self.total {
            self.last_emit = self.done;
            sink.on_event(DownloadEvent::Progress {
                file: self.file,
                done: self.done,
                total: self.total,
            });
        }
    }

    fn finish(&mut self) {
        if let Some(sink) = &self.sink {
            sink.on_event(DownloadEvent::Finished { file: self.file });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_specs() {
        assert!(is_repo_id("openai/clip-vit-base-patch32"));
        assert!(is_repo_id("laion/CLIP-ViT-B-32-laion2B-s34B-b79K"));
        assert!(!is_repo_id("clip"));
        assert!(!is_repo_id("a/b/c"));
        assert!(looks_like_path("./models/x"));
        assert!(looks_like_path("/abs"));
        assert!(looks_like_path("models/clip/"));
        assert!(looks_like_path("C:\\models"));
        assert!(!looks_like_path("openai/clip-vit-base-patch32"));
    }

    #[test]
    fn unknown_and_missing_specs_explain_themselves() {
        let opts = ResolveOptions {
            offline: true,
            ..ResolveOptions::from_env()
        };
        let e = resolve_model("no-such-model", &opts)
            .unwrap_err()
            .to_string();
        assert!(e.contains("clip-vit-b-32"), "{e}");
        let e = resolve_model("./does/not/exist", &opts)
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not exist"), "{e}");
    }

    #[test]
    fn local_dir_needs_all_files_and_gets_a_content_id() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        std::fs::write(p.join("config.json"), r#"{"model_type":"clip"}"#).unwrap();
        let e = resolve_model(p.to_str().unwrap(), &ResolveOptions::from_env()).unwrap_err();
        assert!(matches!(e, Error::MissingFile { .. }), "{e}");
        assert!(e.to_string().contains("--") || e.to_string().contains("needs"));
        let mut st = 16u64.to_le_bytes().to_vec();
        st.extend_from_slice(b"{\"a\":1}         ");
        st.extend_from_slice(&[1, 2, 3, 4]);
        std::fs::write(p.join("model.safetensors"), &st).unwrap();
        std::fs::write(p.join("tokenizer.json"), "{}").unwrap();
        std::fs::write(p.join("preprocessor_config.json"), "{}").unwrap();
        let m = resolve_model(p.to_str().unwrap(), &ResolveOptions::from_env()).unwrap();
        assert!(m.id.starts_with("local:"));
        assert_eq!(m.family, Family::ClipHf);
        assert_eq!(m.id, local_id(p).unwrap(), "stable");
        st.extend_from_slice(&[5]);
        std::fs::write(p.join("model.safetensors"), &st).unwrap();
        assert_ne!(m.id, local_id(p).unwrap(), "weights change the id");
    }
}
