//! The engine tests' fixture: a real library (catalog file, thumbnails) in
//! a temporary folder, with one registered photo folder.

use std::path::{Path, PathBuf};

use shoebox_engine::ingest::{ScanOptions, ScanReport};
use shoebox_engine::Library;

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
