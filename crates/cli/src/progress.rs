//! The scan progress bar. It draws on stderr, and only on a terminal, so
//! `--json` output and pipes stay clean.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use shoebox_engine::embed::EmbedProgress;
use shoebox_engine::ingest::ScanProgress;
use shoebox_engine::model::DownloadEvent;
use shoebox_engine::tags::RetagProgress;

pub struct ScanBar {
    bar: ProgressBar,
}

impl ScanBar {
    pub fn new(json: bool) -> Self {
        ScanBar {
            bar: bar_on_stderr(
                json,
                "{spinner} {msg:>10} [{bar:30}] {pos}/{len} files  {per_sec}  eta {eta}",
            ),
        }
    }

    pub fn update(&self, p: &ScanProgress) {
        self.bar.set_length(p.discovered.max(p.processed));
        self.bar.set_position(p.processed);
        self.bar
            .set_message(if p.walking { "walking" } else { "indexing" });
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

fn bar_on_stderr(json: bool, template: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    if json {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template(template)
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar
}

/// Embedding progress: done/total, photos per second and the job's ETA.
pub struct EmbedBar {
    bar: ProgressBar,
}

impl EmbedBar {
    pub fn new(json: bool) -> Self {
        EmbedBar {
            bar: bar_on_stderr(
                json,
                "{spinner} embedding [{bar:30}] {pos}/{len} photos  {msg}",
            ),
        }
    }

    pub fn update(&self, e: &EmbedProgress) {
        let p = &e.progress;
        self.bar.set_length(p.total);
        self.bar.set_position(p.done);
        let eta = p
            .eta_seconds
            .map(|s| {
                format!(
                    "  eta {}",
                    indicatif::HumanDuration(std::time::Duration::from_secs_f64(s))
                )
            })
            .unwrap_or_default();
        self.bar.set_message(format!("{:.1}/s{eta}", p.rate));
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// Re-tag progress: prototypes (concepts) first, then photos.
pub struct TagBar {
    bar: ProgressBar,
}

impl TagBar {
    pub fn new(json: bool) -> Self {
        TagBar {
            bar: bar_on_stderr(json, "{spinner} tagging: {msg} [{bar:30}] {pos}/{len}"),
        }
    }

    pub fn update(&self, p: &RetagProgress) {
        self.bar.set_length(p.total as u64);
        self.bar.set_position(p.done as u64);
        self.bar.set_message(match p.stage {
            "prototypes" => "tag prototypes (once per model)",
            _ => "photos",
        });
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// Model download progress, one bar per file.
pub struct DownloadBar {
    bar: ProgressBar,
}

impl DownloadBar {
    pub fn new(json: bool) -> Self {
        DownloadBar {
            bar: bar_on_stderr(
                json,
                "{spinner} {msg:<24} [{bar:30}] {bytes}/{total_bytes}  {bytes_per_sec}  eta {eta}",
            ),
        }
    }

    pub fn on_event(&self, event: DownloadEvent<'_>) {
        match event {
            DownloadEvent::Cached { file } => {
                self.bar.println(format!("{file}: already downloaded"));
            }
            DownloadEvent::Started { file, total, done } => {
                self.bar.reset();
                self.bar.set_message(file.to_string());
                self.bar.set_length(total);
                self.bar.set_position(done);
            }
            DownloadEvent::Progress { done, total, .. } => {
                self.bar.set_length(total);
                self.bar.set_position(done);
            }
            DownloadEvent::Finished { file } => {
                self.bar.println(format!("{file}: downloaded"));
            }
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// The live status line of `shoebox watch`: one line on a terminal,
/// redrawn as events arrive; with `--json`, every event as a JSON line on
/// stdout (for scripts and tests).
pub struct LiveLine {
    json: bool,
    bar: ProgressBar,
    state: std::sync::Mutex<LiveState>,
}

#[derive(Default)]
struct LiveState {
    watched: std::collections::BTreeMap<String, String>,
    progress: std::collections::BTreeMap<String, String>,
    idle: bool,
}

impl LiveLine {
    pub fn new(json: bool) -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        if json {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        bar.set_style(ProgressStyle::with_template("{spinner} {msg}").expect("valid template"));
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        LiveLine {
            json,
            bar,
            state: std::sync::Mutex::new(LiveState::default()),
        }
    }

    pub fn on_event(&self, e: &shoebox_engine::jobs::LiveEvent) {
        use shoebox_engine::jobs::LiveEvent;
        if self.json {
            if let Ok(line) = serde_json::to_string(e) {
                use std::io::Write;
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
            }
            return;
        }
        let mut s = self.state.lock().expect("not poisoned");
        match e {
            LiveEvent::Progress { kind, progress: p } => {
                s.idle = false;
                if p.done >= p.total {
                    s.progress.remove(kind);
                } else {
                    let eta = p
                        .eta_seconds
                        .map_or("?".to_string(), |e| format!("{e:.0}s"));
                    s.progress.insert(
                        kind.clone(),
                        format!("{kind} {}/{} {:.1}/s eta {eta}", p.done, p.total, p.rate),
                    );
                }
            }
            LiveEvent::Idle { paused } => {
                s.idle = true;
                s.progress.clear();
                if !paused.is_empty() {
                    s.progress
                        .insert("paused".into(), format!("paused: {}", paused.join(",")));
                }
            }
            LiveEvent::Watch { root, mode, reason } => {
                let text = match reason {
                    Some(r) if mode != "native" => format!("{mode} ({r})"),
                    _ => mode.clone(),
                };
                if mode != "native" {
                    self.bar.println(format!("{root}: {text}"));
                }
                s.watched.insert(root.clone(), mode.clone());
            }
            LiveEvent::JobFailed { kind, error, .. } => {
                self.bar.println(format!("{kind} failed: {error}"));
            }
            _ => {}
        }
        let polled = s.watched.values().filter(|m| *m == "polling").count();
        let offline = s.watched.values().filter(|m| *m == "offline").count();
        let mut msg = format!("watching {} folders", s.watched.len());
        if polled > 0 {
            msg.push_str(&format!(" ({polled} polled)"));
        }
        if offline > 0 {
            msg.push_str(&format!(" ({offline} offline)"));
        }
        if s.idle && s.progress.is_empty() {
            msg.push_str(" · up to date");
        }
        for p in s.progress.values() {
            msg.push_str(" · ");
            msg.push_str(p);
        }
        self.bar.set_message(msg);
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
