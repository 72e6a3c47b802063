//! The scan progress bar. It draws on stderr, and only on a terminal, so
//! `--json` output and pipes stay clean.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use shoebox_engine::ingest::ScanProgress;

pub struct ScanBar {
    bar: ProgressBar,
}

impl ScanBar {
    pub fn new(json: bool) -> Self {
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        if json {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {msg:>10} [{bar:30}] {pos}/{len} files  {per_sec}  eta {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        ScanBar { bar }
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
