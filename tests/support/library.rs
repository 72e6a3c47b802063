//! The engine tests' fixture: a real library (catalog file, thumbnails) in
//! a temporary folder, with one registered photo folder.

use std::path::{Path, PathBuf};

use shoebox_engine::catalog::Catalog;
use shoebox_engine::embed::LoadedModel;
use shoebox_engine::ingest::{ScanOptions, ScanReport};
use shoebox_engine::model::{DeviceChoice, ResolveOptions};
use shoebox_engine::Library;

/// Offline, with an empty cache: tests never reach for the network.
pub fn offline() -> ResolveOptions {
    ResolveOptions {
        offline: true,
        cache_dir: std::env::temp_dir().join("shoebox-tests-empty-hf-cache"),
        ..ResolveOptions::from_env()
    }
}

/// The committed tiny CLIP model's folder, as a model spec.
pub fn tiny_model_spec() -> String {
    super::tiny_model_dir().to_string_lossy().into_owned()
}

/// The tiny model loaded on the CPU for `lib`.
pub fn load_tiny_model(lib: &Library) -> LoadedModel {
    lib.load_model(Some(&tiny_model_spec()), DeviceChoice::Cpu, &offline())
        .unwrap()
}

pub struct LibraryFixture {
    pub tmp: tempfile::TempDir,
    /// The registered photo folder (canonical).
    pub photos: PathBuf,
    pub lib: Library,
}

impl LibraryFixture {
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let photos = tmp.path().join("photos");
        std::fs::create_dir_all(&photos).unwrap();
        let lib = Library::open(&tmp.path().join("library")).unwrap();
        lib.add_folder(&photos).unwrap();
        LibraryFixture {
            photos: photos.canonicalize().unwrap(),
            tmp,
            lib,
        }
    }

    /// A fixture whose folder holds `files` (name, bytes) before any scan.
    pub fn with_files<S: AsRef<str>>(files: &[(S, Vec<u8>)]) -> Self {
        let f = Self::new();
        for (name, bytes) in files {
            super::write(&f.photos.join(name.as_ref()), bytes);
        }
        f
    }

    /// The library folder (catalog and thumbnails).
    pub fn library_dir(&self) -> PathBuf {
        self.tmp.path().join("library")
    }

    pub fn scan(&self) -> ScanReport {
        self.lib.scan(&ScanOptions::default(), &|_| {}).unwrap()
    }

    /// The catalog id of the photo at `rel` (relative to the folder).
    pub fn id(&self, rel: impl AsRef<Path>) -> i64 {
        self.lib
            .resolve_photo(self.photos.join(rel).to_str().unwrap())
            .unwrap()
    }
}

impl Default for LibraryFixture {
    fn default() -> Self {
        Self::new()
    }
}

/// Every catalogued file's display path, sorted.
pub fn catalogued_files(catalog: &Catalog) -> Vec<String> {
    let mut stmt = catalog
        .connection()
        .prepare("SELECT display_path FROM files ORDER BY 1")
        .unwrap();
    let rows = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap();
    rows.map(|r| r.unwrap()).collect()
}

/// A photo's tags as sorted (tag, source) pairs.
pub fn tag_pairs(lib: &Library, id: i64) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = lib
        .photo_tags(id)
        .unwrap()
        .into_iter()
        .map(|t| (t.tag, t.source))
        .collect();
    v.sort();
    v
}
