//! Paths are stored as raw bytes so that non-UTF-8 file names keep their
//! identity; a lossy display string is stored beside them for people.

use std::path::{Path, PathBuf};

#[cfg(unix)]
pub fn to_bytes(path: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    path.as_os_str().as_bytes().to_vec()
}

#[cfg(unix)]
pub fn from_bytes(bytes: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
}

#[cfg(not(unix))]
pub fn to_bytes(path: &Path) -> Vec<u8> {
    // Windows paths are UTF-16; WTF-8 via the lossless `to_string_lossy` is not
    // available, so unpaired surrogates are the one case that loses identity.
    path.to_string_lossy().into_owned().into_bytes()
}

#[cfg(not(unix))]
pub fn from_bytes(bytes: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
}

/// A folder the user typed: `~` and `~/…` expanded to the home folder.
/// A relative path is refused (`None`): against which folder it would be
/// resolved is the shell's business (the CLI makes it absolute from its
/// working directory; the app has no working directory a user could see).
pub fn user_folder(typed: &Path) -> Option<PathBuf> {
    let text = typed.to_string_lossy();
    let home = || {
        std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
    };
    let path = if text == "~" {
        home()?
    } else if let Some(rest) = text.strip_prefix("~/") {
        home()?.join(rest)
    } else {
        typed.to_path_buf()
    };
    path.is_absolute().then_some(path)
}

pub fn display(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// Byte-wise "is `path` inside `dir`" that respects component boundaries, so
/// `/a/bc` is not inside `/a/b`.
pub fn is_within(path: &[u8], dir: &[u8]) -> bool {
    let dir = dir.strip_suffix(b"/").unwrap_or(dir);
    path.len() > dir.len() && path.starts_with(dir) && path[dir.len()] == b'/'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_respects_component_boundaries() {
        assert!(is_within(b"/a/b/c.jpg", b"/a/b"));
        assert!(is_within(b"/a/b/c.jpg", b"/a/b/"));
        assert!(!is_within(b"/a/bc/c.jpg", b"/a/b"));
        assert!(!is_within(b"/a/b", b"/a/b"));
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_round_trips() {
        let raw = b"/tmp/caf\xe9.jpg";
        assert_eq!(to_bytes(&from_bytes(raw)), raw);
    }
}
