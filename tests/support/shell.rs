//! The shells' tests' harness: the `shoebox` binary run against a library
//! in a temporary folder, isolated from the user's settings. Every run is
//! offline (`HF_HUB_OFFLINE`), with its own Hugging Face cache, home and
//! trash, and without the caller's `SHOEBOX_*` settings.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The CLI under test: this build's, or `SHOEBOX_TEST_BIN` (to run the
/// same tests against another build, e.g. to see a regression test fail
/// on the code before its fix).
pub fn shoebox_bin() -> PathBuf {
    std::env::var_os("SHOEBOX_TEST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_shoebox")))
}

/// The committed tiny CLIP model (random weights, real architecture).
pub fn tiny_model() -> PathBuf {
    crate::support::tiny_model_dir().canonicalize().unwrap()
}

/// A library, a photo folder, a home and a trash in one temporary folder.
pub struct Shell {
    pub tmp: tempfile::TempDir,
    pub library: PathBuf,
    /// The photo folder (canonical; created, not registered).
    pub photos: PathBuf,
    /// `XDG_DATA_HOME`: the trash is `Trash/` in it.
    pub data_home: PathBuf,
    /// `SHOEBOX_MODEL` for every run, if set.
    pub model: Option<PathBuf>,
}

impl Shell {
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let photos = tmp.path().join("photos");
        let data_home = tmp.path().join("xdg-data");
        std::fs::create_dir_all(&photos).unwrap();
        std::fs::create_dir_all(&data_home).unwrap();
        Shell {
            library: tmp.path().join("library"),
            photos: photos.canonicalize().unwrap(),
            data_home: data_home.canonicalize().unwrap(),
            model: None,
            tmp,
        }
    }

    /// Every run uses the tiny model (`SHOEBOX_MODEL`).
    pub fn with_tiny_model() -> Self {
        Shell {
            model: Some(tiny_model()),
            ..Self::new()
        }
    }

    /// `shoebox ARGS`, ready to run.
    pub fn command(&self, args: &[&str]) -> Command {
        self.command_in(&self.library, args)
    }

    /// `shoebox ARGS` on another library (several libraries, one setup).
    pub fn command_in(&self, library: &Path, args: &[&str]) -> Command {
        let mut c = Command::new(shoebox_bin());
        c.env("SHOEBOX_LIBRARY", library)
            .env("XDG_DATA_HOME", &self.data_home)
            .env("HOME", self.tmp.path())
            .env("HF_HOME", self.tmp.path().join("hf"))
            .env("HF_HUB_OFFLINE", "1");
        for var in [
            "HF_HUB_CACHE",
            "HF_ENDPOINT",
            "SHOEBOX_MODEL",
            "SHOEBOX_DEVICE",
            "SHOEBOX_TOKEN",
            "SHOEBOX_WATCH_LIMIT",
        ] {
            c.env_remove(var);
        }
        if let Some(model) = &self.model {
            c.env("SHOEBOX_MODEL", model);
        }
        c.args(args);
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        stdout_of(self.run(args))
    }

    /// Runs with `--json` and expects success; returns the answer.
    pub fn json(&self, args: &[&str]) -> Value {
        let text = self.ok(&[args, &["--json"]].concat());
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: {e}: {text}"))
    }

    /// Runs and expects failure; returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(!out.status.success(), "shoebox {args:?} should fail");
        String::from_utf8(out.stderr).unwrap()
    }

    /// The photo folder as an argument.
    pub fn photos_arg(&self) -> &str {
        self.photos.to_str().unwrap()
    }

    /// A file in the photo folder as an argument.
    pub fn photo(&self, name: &str) -> String {
        self.photos.join(name).to_str().unwrap().to_string()
    }

    /// Where moved files go (the freedesktop trash in `data_home`).
    pub fn trash_files(&self) -> PathBuf {
        self.data_home.join("Trash").join("files")
    }
}

impl Default for Shell {
    fn default() -> Self {
        Self::new()
    }
}

/// Waits for `cond`; the deadline only guards against hanging forever.
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(180);
    while !cond() {
        assert!(Instant::now() < deadline, "gave up waiting for: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The stdout of a run that must have succeeded (its stderr shown if not).
pub fn stdout_of(out: Output) -> String {
    assert!(
        out.status.success(),
        "shoebox failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Starts `command`, sends it SIGKILL after `delay`; returns whether it was
/// still running then (the kill landed mid-work).
pub fn kill_after(command: &mut Command, delay: Duration) -> bool {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(delay);
    let running = child.try_wait().unwrap().is_none();
    child.kill().unwrap(); // SIGKILL on unix
    child.wait().unwrap();
    running
}

/// Runs `command()` and kills it with SIGKILL after a delay until `wanted`
/// kills landed while it ran (at most `4 * wanted` runs). Whenever a run
/// finishes first, the next delay is halved, so a fast machine gets its
/// kills too: the test waits for the event, it does not race the clock.
/// Returns (kills that landed, runs that finished first).
pub fn kill_repeatedly(
    mut command: impl FnMut() -> Command,
    wanted: usize,
    first_delay: Duration,
) -> (usize, usize) {
    let (mut landed, mut finished) = (0, 0);
    let mut delay = first_delay;
    while landed < wanted && landed + finished < 4 * wanted {
        if kill_after(&mut command(), delay) {
            landed += 1;
        } else {
            finished += 1;
            delay /= 2;
        }
    }
    (landed, finished)
}
