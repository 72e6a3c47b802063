//! Reading files that may be hostile: only regular files are opened, never
//! blocking (a FIFO named `photo.jpg.xmp` must not hang a scan), and never
//! more than a limit is read (a sidecar linked to `/dev/zero` must not fill
//! memory). A [`Refusal`] reads as the end of "the file is …".

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::Path;

/// Why a file was not read.
#[derive(Debug)]
pub enum Refusal {
    /// No such file (or it vanished): callers usually treat this as absent.
    NotFound,
    /// A directory, FIFO, socket or device; the kind, in words.
    NotRegular(&'static str),
    /// Larger than the caller's limit; the file's size.
    TooLarge(u64),
    Io(std::io::Error),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::NotFound => f.write_str("missing"),
            Refusal::NotRegular(kind) => write!(f, "not a regular file (a {kind})"),
            Refusal::TooLarge(size) => write!(f, "too large to read ({size} bytes)"),
            Refusal::Io(e) => write!(f, "unreadable: {e}"),
        }
    }
}

/// What kind of file `meta` describes, in words, when it is not a regular
/// file.
pub fn special_kind(meta: &std::fs::Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    if t.is_file() {
        return None;
    }
    if t.is_dir() {
        return Some("folder");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return Some("named pipe");
        }
        if t.is_socket() {
            return Some("socket");
        }
        if t.is_char_device() || t.is_block_device() {
            return Some("device");
        }
    }
    Some("special file")
}

fn open_without_blocking(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // A FIFO swapped in after the type check would otherwise block the
        // open itself until a writer appears.
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

fn refusal(e: std::io::Error) -> Refusal {
    if e.kind() == ErrorKind::NotFound {
        Refusal::NotFound
    } else {
        Refusal::Io(e)
    }
}

/// Opens a regular file (following symlinks) without blocking, checking
/// the type both before and after the open.
fn open_regular(path: &Path) -> Result<(File, u64), Refusal> {
    let meta = std::fs::metadata(path).map_err(refusal)?;
    if let Some(kind) = special_kind(&meta) {
        return Err(Refusal::NotRegular(kind));
    }
    let file = open_without_blocking(path).map_err(refusal)?;
    // The path may have been swapped between the check and the open: check
    // what was actually opened.
    let opened = file.metadata().map_err(Refusal::Io)?;
    if let Some(kind) = special_kind(&opened) {
        return Err(Refusal::NotRegular(kind));
    }
    Ok((file, opened.len()))
}

/// A regular file, opened for reading (and seeking) without blocking.
pub fn open(path: &Path) -> Result<File, Refusal> {
    open_regular(path).map(|(file, _)| file)
}

/// The whole of a regular file of at most `max_bytes`.
pub fn read(path: &Path, max_bytes: u64) -> Result<Vec<u8>, Refusal> {
    let (file, len) = open_regular(path)?;
    if len > max_bytes {
        return Err(Refusal::TooLarge(len));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(Refusal::Io)?;
    if bytes.len() as u64 > max_bytes {
        return Err(Refusal::TooLarge(bytes.len() as u64));
    }
    Ok(bytes)
}

/// The first `max_bytes` (or fewer) of a regular file.
pub fn read_head(path: &Path, max_bytes: u64) -> Result<Vec<u8>, Refusal> {
    let (file, len) = open_regular(path)?;
    let mut bytes = Vec::with_capacity(len.min(max_bytes) as usize);
    file.take(max_bytes)
        .read_to_end(&mut bytes)
        .map_err(Refusal::Io)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_are_read_within_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.xmp");
        std::fs::write(&p, b"hello").unwrap();
        assert_eq!(read(&p, 5).unwrap(), b"hello");
        assert!(matches!(read(&p, 4), Err(Refusal::TooLarge(5))));
        assert!(matches!(
            read(&dir.path().join("none"), 5),
            Err(Refusal::NotFound)
        ));
        assert!(matches!(
            read(dir.path(), 5),
            Err(Refusal::NotRegular("folder"))
        ));
    }

    #[cfg(unix)]
    #[test]
    fn fifos_and_devices_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("photo.jpg.xmp");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        assert!(matches!(
            read(&fifo, 1 << 20),
            Err(Refusal::NotRegular("named pipe"))
        ));
        assert!(matches!(
            read_head(&fifo, 10),
            Err(Refusal::NotRegular("named pipe"))
        ));
        let zero = dir.path().join("zero.xmp");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        assert!(matches!(
            read(&zero, 1 << 20),
            Err(Refusal::NotRegular("device"))
        ));
    }
}
