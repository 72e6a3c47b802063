//! `Library`: the one facade the shells use. Its methods are the product's
//! verbs; everything behind them lives in the catalog and ingest modules.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use crate::catalog::{Catalog, ErrorEntry, PhotoInfo, Root, StatusCounts};
use crate::embed::{self, EmbedOptions, EmbedProgress, EmbedReport, LoadedModel, ModelStatus};
use crate::error::{EngineError, Result};
use crate::ingest::analyze::StageTimes;
use crate::ingest::decode;
use crate::ingest::thumbs::ThumbCache;
use crate::ingest::{self, ScanOptions, ScanProgress, ScanReport};
use crate::jobs::Change;
use crate::model::ModelRegistry;
use crate::paths;
use crate::search::{self, QueryVectors, SearchOptions, SearchResults, VectorIndex};
use crate::tags;
use shoebox_model::{DeviceChoice, ResolveOptions};

mod browse_verbs;
mod dupe_verbs;
mod job_verbs;
pub mod settings;
mod tag_verbs;

pub use job_verbs::{FolderState, LiveStatus};
pub use tag_verbs::{TagAction, TagChange};

pub use crate::catalog::CATALOG_FILE;

/// The answer to adding a folder: the folder, and whether it is new (a
/// folder added twice is simply there, and nothing new starts).
#[derive(Debug, Clone, serde::Serialize)]
pub struct FolderAdded {
    #[serde(flatten)]
    pub root: Root,
    /// False when the folder was in the library already.
    pub added: bool,
}
pub use crate::ingest::thumbs::THUMBS_DIR;

pub struct Library {
    dir: PathBuf,
    catalog: Catalog,
    thumbs: ThumbCache,
    /// Loaded on the first search, then kept in sync with the catalog.
    index: RefCell<Option<VectorIndex>>,
    /// The timeline order, loaded on first use, kept in sync the same way.
    timeline: RefCell<Option<crate::browse::TimelineCache>>,
    /// Where the verbs report what they changed (nowhere until a shell
    /// subscribes with [`Library::set_events`]).
    events: RefCell<crate::jobs::EventSink>,
}

impl Library {
    /// The platform's data folder, e.g. `~/.local/share/shoebox` on Linux.
    pub fn default_dir() -> Result<PathBuf> {
        directories::ProjectDirs::from("", "", "Shoebox")
            .map(|d| d.data_dir().to_path_buf())
            .ok_or(EngineError::NoDataDir)
    }

    /// Opens the library in `dir`, creating and migrating it as needed.
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| {
            EngineError::io(
                format!("cannot create the library folder {}", dir.display()),
                e,
            )
        })?;
        let dir = dir.canonicalize().map_err(|e| {
            EngineError::io(
                format!("cannot open the library folder {}", dir.display()),
                e,
            )
        })?;
        let catalog = Catalog::open(&dir.join(CATALOG_FILE))?;
        let thumbs = ThumbCache::new(dir.join(THUMBS_DIR));
        // A resolution a crash interrupted is finished before anything else
        // (a scan would otherwise forget files that are in the trash). Cheap
        // when nothing is pending: one query.
        if let Err(e) = crate::dupes::resolve::reconcile(&catalog) {
            tracing::warn!("cannot finish an interrupted duplicate resolution yet: {e}");
        }
        Ok(Library {
            dir,
            catalog,
            thumbs,
            index: RefCell::new(None),
            timeline: RefCell::new(None),
            events: RefCell::new(crate::jobs::no_events()),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Sends this library's `changed` events (and nothing else) to `sink`.
    pub fn set_events(&self, sink: crate::jobs::EventSink) {
        *self.events.borrow_mut() = sink;
    }

    /// Tells the subscriber that a view changed: verbs call it after they
    /// commit, so every shell hears of every change the same way.
    pub(crate) fn emit_changed(&self, what: crate::jobs::Change, ids: Option<&[i64]>) {
        let sink = self.events.borrow().clone();
        sink(&crate::jobs::LiveEvent::Changed {
            what,
            ids: ids.map(<[i64]>::to_vec),
        });
    }

    pub(crate) fn timeline_cache(&self) -> &RefCell<Option<crate::browse::TimelineCache>> {
        &self.timeline
    }

    /// The thumbnail cache folder.
    pub(crate) fn thumb_cache(&self) -> &ThumbCache {
        &self.thumbs
    }

    pub fn thumbs_dir(&self) -> &Path {
        self.thumbs.dir()
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn folders(&self) -> Result<Vec<Root>> {
        self.catalog.roots()
    }

    /// Registers a folder. Nested registrations are refused so that a file
    /// never belongs to two roots.
    pub fn add_folder(&self, typed: &Path) -> Result<Root> {
        self.add_folder_reporting(typed).map(|a| a.root)
    }

    /// [`Library::add_folder`], saying whether the folder is new.
    pub fn add_folder_reporting(&self, typed: &Path) -> Result<FolderAdded> {
        let path = paths::user_folder(typed).ok_or_else(|| {
            EngineError::Invalid(format!(
                "give the folder's full path (such as /home/me/Pictures or ~/Pictures), not `{}`",
                typed.display()
            ))
        })?;
        let path = path
            .canonicalize()
            .map_err(|e| EngineError::io(format!("cannot open {}", path.display()), e))?;
        if !path.is_dir() {
            return Err(EngineError::NotAFolder(path));
        }
        let bytes = paths::to_bytes(&path);
        for root in self.catalog.roots()? {
            let existing = paths::to_bytes(&root.path);
            if existing == bytes {
                return Ok(FolderAdded { root, added: false });
            }
            if paths::is_within(&bytes, &existing) {
                return Err(EngineError::NestedRoot {
                    path,
                    root: root.path,
                });
            }
            if paths::is_within(&existing, &bytes) {
                return Err(EngineError::ContainsRoot {
                    path,
                    root: root.path,
                });
            }
        }
        let id = self.catalog.add_root(&path)?;
        self.emit_changed(Change::Folders, None);
        let root = self
            .catalog
            .roots()?
            .into_iter()
            .find(|r| r.id == id)
            .expect("root just inserted");
        Ok(FolderAdded { root, added: true })
    }

    /// Forgets a folder. Files on disk are never touched; photos keep their
    /// tags and embeddings in case the folder comes back.
    pub fn remove_folder(&self, path: &Path) -> Result<Root> {
        // The folder may be gone already (that is often why it is removed).
        let resolved = path.canonicalize().unwrap_or_else(|_| absolute(path));
        let root = self
            .catalog
            .roots()?
            .into_iter()
            .find(|r| r.path == resolved)
            .ok_or(EngineError::UnknownRoot(resolved))?;
        self.forget_folder(root)
    }

    /// Forgets a registered folder (see `remove_folder`).
    pub(crate) fn forget_folder(&self, root: Root) -> Result<Root> {
        self.catalog.remove_root(root.id)?;
        self.emit_changed(Change::Folders, None);
        self.emit_changed(Change::Photos, None);
        Ok(root)
    }

    pub fn scan(
        &self,
        opts: &ScanOptions,
        on_progress: &(dyn Fn(&ScanProgress) + Sync),
    ) -> Result<ScanReport> {
        let times = StageTimes::default();
        self.scan_timed(opts, &times, on_progress)
    }

    /// `scan` with the caller's stage timers, for benchmarks.
    pub fn scan_timed(
        &self,
        opts: &ScanOptions,
        times: &StageTimes,
        on_progress: &(dyn Fn(&ScanProgress) + Sync),
    ) -> Result<ScanReport> {
        let roots = self.catalog.roots()?;
        let ctx = ingest::ScanContext {
            catalog_path: self.catalog.path(),
            library_dir: &self.dir,
            thumbs: &self.thumbs,
            times,
        };
        let report = ingest::run_scan(&ctx, &roots, opts, on_progress)?;
        self.catalog.trim_change_log()?;
        self.emit_changed(Change::Photos, None);
        Ok(report)
    }

    pub fn status(&self) -> Result<StatusCounts> {
        self.catalog.status_counts()
    }

    pub fn errors(&self) -> Result<Vec<ErrorEntry>> {
        self.catalog.errors()
    }

    /// Finds a photo by catalog id or by the path of any of its files.
    pub fn resolve_photo(&self, selector: &str) -> Result<i64> {
        if let Ok(id) = selector.parse::<i64>() {
            if self.catalog.photo_hash(id)?.is_some() {
                return Ok(id);
            }
        }
        let path = Path::new(selector);
        let resolved = path.canonicalize().unwrap_or_else(|_| absolute(path));
        if let Some(id) = self.catalog.photo_id_for_path(&resolved)? {
            return Ok(id);
        }
        if let Some(reason) = self.catalog.file_error(&resolved)? {
            return Err(EngineError::PhotoNotFound(format!(
                "{selector} (the file is in the library but could not be read: {reason})"
            )));
        }
        Err(EngineError::PhotoNotFound(selector.to_string()))
    }

    pub fn info(&self, id: i64) -> Result<PhotoInfo> {
        self.catalog
            .photo_info(id)?
            .ok_or_else(|| EngineError::PhotoNotFound(id.to_string()))
    }

    /// The cached thumbnail (`size` 256) or preview (1024) of a photo, made
    /// on first request for sizes the scan does not produce.
    pub fn thumbnail(&self, id: i64, size: u32) -> Result<PathBuf> {
        let hash = self
            .catalog
            .photo_hash(id)?
            .ok_or_else(|| EngineError::PhotoNotFound(id.to_string()))?;
        let cached = self.thumbs.path(&hash, size);
        if cached.is_file() {
            return Ok(cached);
        }
        let info = self.info(id)?;
        let source = info
            .paths
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
            .ok_or(EngineError::Offline(id))?;
        let (w, h) = (info.width.max(1), info.height.max(1));
        let min_edge = ((size as u64 * w.min(h) as u64).div_ceil(w.max(h) as u64)) as u32;
        let upright = decode::load_upright_for_display(&source, min_edge.max(1), info.orientation)
            .map_err(|reason| EngineError::Invalid(format!("{}: {reason}", source.display())))?;
        self.thumbs
            .write(&hash, size, &upright)
            .map_err(EngineError::Invalid)
    }
}

/// Embedding verbs.
impl Library {
    /// The model spec in effect: `explicit` (a flag or `SHOEBOX_MODEL`),
    /// else the library's active model, else the registry default.
    pub fn model_spec(&self, explicit: Option<&str>) -> Result<String> {
        embed::models::effective_spec(&self.catalog, explicit)
    }

    /// Resolves (downloading when needed) and loads the model in effect.
    pub fn load_model(
        &self,
        explicit: Option<&str>,
        device: DeviceChoice,
        resolve: &ResolveOptions,
    ) -> Result<LoadedModel> {
        let spec = self.model_spec(explicit)?;
        embed::models::load(&self.catalog, &spec, self.device_choice(device), resolve)
    }

    /// Makes `spec` the library's model: downloads it if needed, checks
    /// that it loads, and records it as active, or as the next model while
    /// it embeds the photos the active one has (`embed::switch`).
    pub fn use_model(
        &self,
        spec: &str,
        device: DeviceChoice,
        resolve: &ResolveOptions,
    ) -> Result<LoadedModel> {
        let loaded = embed::models::load(&self.catalog, spec, self.device_choice(device), resolve)?;
        embed::switch::choose(&self.catalog, loaded.row.id)?;
        self.emit_changed(Change::Models, None);
        Ok(loaded)
    }

    pub fn models(&self, resolve: &ResolveOptions) -> Result<Vec<ModelStatus>> {
        embed::models::list(&self.catalog, resolve)
    }

    /// Runs (or continues) the embedding job for `model`, which becomes the
    /// library's model (at once, or when it has embedded every photo: see
    /// `embed::switch`).
    pub fn embed(
        &self,
        model: &LoadedModel,
        opts: &EmbedOptions,
        on_progress: &(dyn Fn(&EmbedProgress) + Sync),
    ) -> Result<EmbedReport> {
        let known = [self.catalog.active_model()?, self.catalog.next_model()?];
        if !known.iter().flatten().any(|m| m.id == model.row.id) {
            embed::switch::choose(&self.catalog, model.row.id)?;
        }
        let report = embed::run_embed_job(self.catalog.path(), model, opts, on_progress)?;
        if embed::switch::promote_if_complete(&self.catalog)? {
            self.emit_changed(Change::Models, None);
        }
        self.catalog.trim_change_log()?;
        Ok(report)
    }

    /// The model the embedding job works on: `explicit`, else the next
    /// model while a switch is under way, else the one in effect.
    pub fn load_embedding_model(
        &self,
        explicit: Option<&str>,
        device: DeviceChoice,
        resolve: &ResolveOptions,
    ) -> Result<LoadedModel> {
        match (explicit, self.catalog.next_model()?) {
            (None, Some(next)) => embed::models::load(
                &self.catalog,
                &next.spec,
                self.device_choice(device),
                resolve,
            ),
            _ => self.load_model(explicit, device, resolve),
        }
    }

    /// The model switch under way, if any.
    pub fn model_switch(&self) -> Result<Option<embed::switch::ModelSwitch>> {
        embed::switch::status(&self.catalog)
    }

    /// Embeds what lacks a vector, then (unless `tag` is off or the run was
    /// cancelled) re-tags the photos that changed: the follow-up is decided
    /// here, as the job queue decides it for the live engine.
    pub fn embed_and_tag(
        &self,
        model: &LoadedModel,
        opts: &EmbedOptions,
        tag: bool,
        on_embed: &(dyn Fn(&EmbedProgress) + Sync),
        on_tags: &dyn Fn(&tags::RetagProgress),
    ) -> Result<(EmbedReport, Option<tags::RetagReport>)> {
        let report = self.embed(model, opts, on_embed)?;
        if !tag || report.cancelled {
            return Ok((report, None));
        }
        let retag = tags::RetagOptions {
            full: false,
            cancel: opts.cancel.clone(),
        };
        let tagged = self.retag(model, &retag, on_tags)?;
        Ok((report, Some(tagged)))
    }

    /// A file's embedding as the job computes it (reduced decode, EXIF
    /// orientation), or from a full-size decode when `full_decode` is set,
    /// which is what the Python reference sees.
    pub fn embed_file(
        &self,
        model: &LoadedModel,
        path: &Path,
        full_decode: bool,
    ) -> Result<Vec<f32>> {
        let image = if full_decode {
            decode::load_full_upright(path)
        } else {
            let orientation = decode::file_orientation(path);
            decode::load_upright(path, model.model.image_size() as u32, orientation)
        }
        .map_err(|reason| EngineError::Invalid(format!("{}: {reason}", path.display())))?;
        let mut rows = model.model.embed_images(std::slice::from_ref(&image))?;
        Ok(rows.pop().expect("one image in, one vector out"))
    }

    pub fn embed_texts(&self, model: &LoadedModel, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        Ok(model.model.embed_texts(texts)?)
    }
}

/// Search verbs.
impl Library {
    /// Runs a query in Shoebox's query language (see `query`).
    pub fn search(
        &self,
        model: &LoadedModel,
        text: &str,
        opts: &SearchOptions,
    ) -> Result<SearchResults> {
        let query = self.parse_query(text)?;
        self.search_query(model, query, opts)
    }

    /// Reads a query in the query language, relative dates from today.
    pub fn parse_query(&self, text: &str) -> Result<search::Query> {
        Ok(search::parse(text, search::today())?)
    }

    /// Runs an already structured query: what the UI and the HTTP API send
    /// when the user builds a search from controls rather than typing it.
    pub fn search_query(
        &self,
        model: &LoadedModel,
        query: search::Query,
        opts: &SearchOptions,
    ) -> Result<SearchResults> {
        let mut vectors = QueryVectors::default();
        if !query.text.is_empty() {
            vectors.text = model.model.embed_texts(&[query.text.as_str()])?.pop();
        }
        if !query.negative.is_empty() {
            let negatives: Vec<&str> = query.negative.iter().map(String::as_str).collect();
            vectors.negative = model.model.embed_texts(&negatives)?;
        }
        let like = query.filters.like;
        if let Some(id) = like {
            vectors.like = Some(self.photo_vector(model, id)?);
        }
        let opts = with_model_relevance(model, opts);
        // "like this one but ...": the source photo is not an answer.
        self.with_index(model, |index| {
            search::execute(index, &self.catalog, query, &vectors, &opts, like)
        })
    }

    /// Photos that look like photo `id`.
    pub fn similar(
        &self,
        model: &LoadedModel,
        id: i64,
        opts: &SearchOptions,
    ) -> Result<SearchResults> {
        self.info(id)?;
        let vectors = QueryVectors {
            like: Some(self.photo_vector(model, id)?),
            ..Default::default()
        };
        let query = search::Query {
            filters: search::Filters {
                like: Some(id),
                ..Default::default()
            },
            ..Default::default()
        };
        let opts = with_model_relevance(model, opts);
        self.with_index(model, |index| {
            search::execute(index, &self.catalog, query, &vectors, &opts, Some(id))
        })
    }

    fn photo_vector(&self, model: &LoadedModel, id: i64) -> Result<Vec<f32>> {
        self.catalog
            .embedding(id, model.row.id)?
            .ok_or_else(|| EngineError::NotEmbedded {
                id,
                model: model.row.key.clone(),
            })
    }

    /// Runs `f` on the search index for `model`, loading it on first use
    /// and otherwise applying only what changed since the last query.
    pub fn with_index<T>(
        &self,
        model: &LoadedModel,
        f: impl FnOnce(&VectorIndex) -> Result<T>,
    ) -> Result<T> {
        let mut slot = self.index.borrow_mut();
        match slot.as_mut() {
            Some(index) if index.model_id() == model.row.id => {
                index.refresh(&self.catalog)?;
            }
            _ => {
                *slot = Some(VectorIndex::load(
                    &self.catalog,
                    model.row.id,
                    model.row.dim,
                )?);
            }
        }
        f(slot.as_ref().expect("index just loaded"))
    }
}

fn with_model_relevance(model: &LoadedModel, opts: &SearchOptions) -> SearchOptions {
    SearchOptions {
        relevance: ModelRegistry::builtin().relevance_for(&model.row.key),
        calibration: model.model.calibration(),
        ..opts.clone()
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}
