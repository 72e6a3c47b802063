//! `Library`: the one facade the shells use. Its methods are the product's
//! verbs; everything behind them lives in the catalog and ingest modules.

use std::path::{Path, PathBuf};

use crate::catalog::{Catalog, ErrorEntry, PhotoInfo, Root, StatusCounts};
use crate::error::{EngineError, Result};
use crate::ingest::analyze::StageTimes;
use crate::ingest::decode;
use crate::ingest::format::{self, Format};
use crate::ingest::thumbs::ThumbCache;
use crate::ingest::{self, raw, ScanOptions, ScanProgress, ScanReport};
use crate::paths;

pub const CATALOG_FILE: &str = "catalog.sqlite";
pub const THUMBS_DIR: &str = "thumbs";

pub struct Library {
    dir: PathBuf,
    catalog: Catalog,
    thumbs: ThumbCache,
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
        Ok(Library {
            dir,
            catalog,
            thumbs,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn folders(&self) -> Result<Vec<Root>> {
        self.catalog.roots()
    }

    /// Registers a folder. Nested registrations are refused so that a file
    /// never belongs to two roots.
    pub fn add_folder(&self, path: &Path) -> Result<Root> {
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
                return Ok(root);
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
        Ok(self
            .catalog
            .roots()?
            .into_iter()
            .find(|r| r.id == id)
            .expect("root just inserted"))
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
        self.catalog.remove_root(root.id)?;
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
        ingest::run_scan(&ctx, &roots, opts, on_progress)
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
            .ok_or_else(|| {
                EngineError::Invalid(format!(
                    "photo {id} is offline: none of its files can be reached"
                ))
            })?;
        let bytes = std::fs::read(&source)
            .map_err(|e| EngineError::io(format!("cannot read {}", source.display()), e))?;
        let fmt = format::sniff(&bytes[..bytes.len().min(format::SNIFF_LEN)], &source).ok_or_else(
            || EngineError::Invalid(format!("{} is no longer an image", source.display())),
        )?;
        let (data, fmt): (&[u8], Format) = match fmt {
            Format::Raw(kind) => (
                raw::embedded_jpeg(&bytes, kind)
                    .ok_or_else(|| EngineError::Invalid("RAW preview missing".into()))?,
                Format::Jpeg,
            ),
            other => (&bytes, other),
        };
        let (w, h) = (info.width.max(1), info.height.max(1));
        let min_edge = ((size as u64 * w.min(h) as u64).div_ceil(w.max(h) as u64)) as u32;
        let decoded =
            decode::decode_reduced(data, fmt, min_edge.max(1)).map_err(EngineError::Invalid)?;
        let upright = decode::apply_orientation(decoded.image, info.orientation);
        self.thumbs
            .write(&hash, size, &upright)
            .map_err(EngineError::Invalid)
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}
