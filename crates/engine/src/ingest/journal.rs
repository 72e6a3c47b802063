//! The decode journal: which files a process was decoding when it died.
//!
//! A file that crashes the process (a decoder bug, an allocation abort under
//! a memory limit) never gets a catalog row, so without this every later
//! scan would decode it again and die the same way. Each process appends
//! `B <path>` before decoding a file and `E <path>` after, to a journal of
//! its own in `<library>/decoding/`. When the process crashes (an abort on a
//! failed allocation, a segmentation fault in a decoder), a signal handler
//! appends `C` before the process dies. A journal whose process is gone is
//! read at the next start: if it ends in a crash, each file begun and never
//! ended earns a strike. A kill (the user's kill -9, a closed laptop lid)
//! leaves no `C` and costs nothing. The first strike only retries the file
//! (several files are decoded at once, and only one was to blame); at two
//! strikes it is recorded as an error and not decoded again until it
//! changes. The kernel's OOM killer sends SIGKILL, which cannot be caught:
//! such a death is treated as a kill.
//!
//! Lines are small `O_APPEND` writes, so a dying process loses nothing
//! already written (the page cache outlives the process); an OS crash may
//! lose the tail, which at worst costs a strike.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::catalog::hex;

/// Strikes after which a file is no longer decoded.
pub const STRIKES_TO_SKIP: u32 = 2;

static JOURNALS_OPENED: AtomicU64 = AtomicU64::new(0);

pub struct DecodeJournal {
    file: Option<Mutex<File>>,
    /// This journal's slot in the crash handler's table.
    crash_slot: Option<usize>,
    path: PathBuf,
    /// Strikes carried over from dead processes, by path bytes.
    strikes: HashMap<Vec<u8>, u32>,
}

/// A file being decoded; dropping it records the end.
pub struct Decoding<'a> {
    journal: &'a DecodeJournal,
    key: String,
}

impl Drop for Decoding<'_> {
    fn drop(&mut self) {
        self.journal.append(&format!("E {}\n", self.key));
    }
}

/// The file descriptors of this process's open journals, for the crash
/// handler (which may only make async-signal-safe calls: no locks, no
/// allocation).
#[cfg(unix)]
static CRASH_FDS: [std::sync::atomic::AtomicI32; 8] =
    [const { std::sync::atomic::AtomicI32::new(-1) }; 8];

/// The signals a crashing decoder dies of.
#[cfg(unix)]
const CRASH_SIGNALS: [libc::c_int; 5] = [
    libc::SIGABRT,
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGILL,
    libc::SIGFPE,
];

/// The actions in place before ours (Rust's own stack-overflow report is
/// one), in the order of [`CRASH_SIGNALS`].
#[cfg(unix)]
static PREVIOUS_ACTIONS: std::sync::OnceLock<[libc::sigaction; 5]> = std::sync::OnceLock::new();

#[cfg(unix)]
extern "C" fn on_crash(signal: libc::c_int) {
    for slot in &CRASH_FDS {
        let fd = slot.load(Ordering::Relaxed);
        if fd >= 0 {
            // SAFETY: write(2) is async-signal-safe; the buffer is static.
            unsafe { libc::write(fd, b"C\n".as_ptr().cast(), 2) };
        }
    }
    let previous = PREVIOUS_ACTIONS.get().and_then(|actions| {
        CRASH_SIGNALS
            .iter()
            .position(|s| *s == signal)
            .map(|i| actions[i])
    });
    // SAFETY: sigaction, signal and raise are async-signal-safe.
    unsafe {
        match previous {
            Some(old) if old.sa_sigaction != libc::SIG_DFL && old.sa_sigaction != libc::SIG_IGN => {
                // Hand over to the handler that was there: restored, it
                // gets the fault when the instruction runs again (and
                // abort() raises again by itself).
                libc::sigaction(signal, &old, std::ptr::null_mut());
            }
            _ => {
                // Die of the same signal (core dump, exit status) as
                // without us.
                libc::signal(signal, libc::SIG_DFL);
                libc::raise(signal);
            }
        }
    }
}

/// Installs [`on_crash`] for [`CRASH_SIGNALS`] (once per process), keeping
/// the actions that were there for it to hand over to.
#[cfg(unix)]
fn install_crash_handler() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: reading the current actions; a zeroed sigaction is valid.
        let previous = CRASH_SIGNALS.map(|signal| unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            libc::sigaction(signal, std::ptr::null(), &mut old);
            old
        });
        if PREVIOUS_ACTIONS.set(previous).is_err() {
            return;
        }
        for signal in CRASH_SIGNALS {
            // SAFETY: a plain handler that only calls async-signal-safe
            // functions; SA_ONSTACK so a stack overflow can still run it
            // (Rust installs an alternate signal stack for its threads).
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_crash as *const () as usize;
                action.sa_flags = libc::SA_ONSTACK;
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(signal, &action, std::ptr::null_mut());
            }
        }
    });
}

#[cfg(unix)]
fn register_crash_fd(file: &File) -> Option<usize> {
    use std::os::fd::AsRawFd;
    install_crash_handler();
    let fd = file.as_raw_fd();
    CRASH_FDS.iter().position(|slot| {
        slot.compare_exchange(-1, fd, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    })
}

#[cfg(unix)]
fn unregister_crash_fd(slot: Option<usize>) {
    if let Some(i) = slot {
        CRASH_FDS[i].store(-1, Ordering::SeqCst);
    }
}

#[cfg(not(unix))]
fn register_crash_fd(_file: &File) -> Option<usize> {
    None
}

#[cfg(not(unix))]
fn unregister_crash_fd(_slot: Option<usize>) {}

/// Whether a process with this id is running (on Windows: assumed so).
pub(crate) fn pid_alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        // Signal 0 checks existence; EPERM means it exists as another user.
        let r = unsafe { libc::kill(pid as libc::pid_t, 0) };
        r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// Strikes per path from one dead journal's text.
fn strikes_in(text: &str) -> HashMap<Vec<u8>, u32> {
    let mut carried: HashMap<&str, u32> = HashMap::new();
    let mut open: HashMap<&str, i64> = HashMap::new();
    let crashed = text.lines().any(|l| l == "C");
    for line in text.lines() {
        let mut parts = line.splitn(3, ' ');
        match (parts.next(), parts.next(), parts.next()) {
            (Some("P"), Some(n), Some(key)) => {
                carried.insert(key, n.parse().unwrap_or(0));
            }
            (Some("B"), Some(key), None) => *open.entry(key).or_default() += 1,
            (Some("E"), Some(key), None) => *open.entry(key).or_default() -= 1,
            _ => {} // a torn last line
        }
    }
    let mut out = HashMap::new();
    for (key, balance) in &open {
        let prior = carried.get(key).copied().unwrap_or(0);
        if *balance > 0 {
            // In flight when the process died: to blame only for a crash.
            out.insert(*key, prior + crashed as u32);
        }
        // Begun and ended: the retry worked, the strikes are forgiven.
    }
    for (key, n) in carried {
        if !open.contains_key(key) {
            out.insert(key, n); // not tried again in that run
        }
    }
    out.into_iter()
        .filter(|(_, n)| *n > 0)
        .filter_map(|(k, n)| Some((unhex(k)?, n)))
        .collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

impl DecodeJournal {
    /// Takes over the journals of dead processes and starts this one's.
    /// Never fails: without a journal, scanning works as before.
    pub fn open(library_dir: &Path) -> DecodeJournal {
        let dir = library_dir.join("decoding");
        let _ = std::fs::create_dir_all(&dir);
        let mut strikes: HashMap<Vec<u8>, u32> = HashMap::new();
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(pid) = name
                .strip_suffix(".journal")
                .and_then(|n| n.split('-').next())
                .and_then(|p| p.parse::<u32>().ok())
            else {
                continue;
            };
            if pid == std::process::id() || pid_alive(pid) {
                continue;
            }
            // The journal is small: its paths at most.
            if let Ok(bytes) = crate::regular_file::read(&entry.path(), 64 << 20) {
                for (k, n) in strikes_in(&String::from_utf8_lossy(&bytes)) {
                    let e = strikes.entry(k).or_default();
                    *e = (*e).max(n);
                }
            }
            let _ = std::fs::remove_file(entry.path());
        }
        let path = dir.join(format!(
            "{}-{}.journal",
            std::process::id(),
            JOURNALS_OPENED.fetch_add(1, Ordering::Relaxed)
        ));
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| tracing::warn!(path = %path.display(), "no decode journal: {e}"))
            .ok();
        let crash_slot = file.as_ref().and_then(register_crash_fd);
        let journal = DecodeJournal {
            file: file.map(Mutex::new),
            crash_slot,
            path,
            strikes,
        };
        // Carry the strikes, so a file that crashes this process too
        // reaches the limit.
        let carried: String = journal
            .strikes
            .iter()
            .map(|(k, n)| format!("P {n} {}\n", hex(k)))
            .collect();
        journal.append(&carried);
        journal
    }

    fn append(&self, text: &str) {
        if text.is_empty() {
            return;
        }
        if let Some(file) = &self.file {
            let mut f = file.lock().unwrap_or_else(|p| p.into_inner());
            let _ = f.write_all(text.as_bytes());
        }
    }

    /// Strikes against `path` from earlier runs that died decoding it.
    pub fn strikes(&self, path: &Path) -> u32 {
        self.strikes
            .get(&crate::paths::to_bytes(path))
            .copied()
            .unwrap_or(0)
    }

    /// Records that `path` is being decoded until the guard is dropped.
    pub fn begin(&self, path: &Path) -> Decoding<'_> {
        let key = hex(&crate::paths::to_bytes(path));
        self.append(&format!("B {key}\n"));
        Decoding { journal: self, key }
    }
}

impl Drop for DecodeJournal {
    fn drop(&mut self) {
        // A clean end: nothing to recover.
        unregister_crash_fd(self.crash_slot.take());
        self.file = None;
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strikes_count_unfinished_decodes_and_forgive_finished_retries() {
        let a = hex(b"/p/a.png");
        let b = hex(b"/p/b.png");
        let c = hex(b"/p/c.png");
        let text = format!("P 1 {a}\nP 1 {c}\nB {a}\nB {b}\nE {b}\nB {c}\nE {c}\nB {b}\n");
        // A kill: nobody is to blame; carried strikes stay.
        let s = strikes_in(&text);
        assert_eq!(s.get(b"/p/a.png".as_slice()), Some(&1));
        assert_eq!(s.get(b"/p/b.png".as_slice()), None);
        assert_eq!(s.get(b"/p/c.png".as_slice()), None);
        // A crash: whatever was in flight earns a strike.
        let s = strikes_in(&format!("{text}C\n"));
        assert_eq!(s.get(b"/p/a.png".as_slice()), Some(&2));
        assert_eq!(s.get(b"/p/b.png".as_slice()), Some(&1));
        assert_eq!(s.get(b"/p/c.png".as_slice()), None);
        // A torn last line is ignored.
        assert!(strikes_in(&format!("B {a}\nC\nB 12")).contains_key(b"/p/a.png".as_slice()));
    }

    #[test]
    fn a_dead_process_journal_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("decoding")).unwrap();
        // No process has pid 2^22 + 1 (above Linux's pid_max default).
        let dead = dir.path().join("decoding/4194305-0.journal");
        std::fs::write(&dead, format!("B {}\nC\n", hex(b"/x.png"))).unwrap();
        let j = DecodeJournal::open(dir.path());
        assert_eq!(j.strikes(Path::new("/x.png")), 1);
        assert!(!dead.exists());
        drop(j);
        // A clean end leaves no journal.
        assert_eq!(
            std::fs::read_dir(dir.path().join("decoding"))
                .unwrap()
                .count(),
            0
        );
    }
}
