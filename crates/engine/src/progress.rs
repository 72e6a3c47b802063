//! How far a piece of work is, the same way for every kind of work and
//! every shell: done, total, the rate since it started and the time left.

use std::time::Instant;

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Progress {
    pub done: u64,
    pub total: u64,
    /// Items per second since the work started.
    pub rate: f64,
    /// `None` until the rate is known, or while the total may still grow.
    pub eta_seconds: Option<f64>,
}

impl Progress {
    /// The one rate and ETA formula: `done` items since `started`, of
    /// `total` (final unless `total_growing`, e.g. while a walk still
    /// finds files).
    pub fn since(started: Instant, done: u64, total: u64, total_growing: bool) -> Progress {
        let secs = started.elapsed().as_secs_f64();
        let rate = if secs > 0.0 { done as f64 / secs } else { 0.0 };
        let left = total.saturating_sub(done);
        Progress {
            done,
            total: total.max(done),
            rate,
            eta_seconds: (rate > 0.0 && !total_growing).then(|| left as f64 / rate),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn rate_and_eta_from_the_start() {
        let started = Instant::now() - Duration::from_secs(10);
        let p = Progress::since(started, 50, 150, false);
        assert!((p.rate - 5.0).abs() < 0.1, "{p:?}");
        assert!((p.eta_seconds.unwrap() - 20.0).abs() < 0.5, "{p:?}");
        assert_eq!(Progress::since(started, 50, 150, true).eta_seconds, None);
        assert_eq!(
            Progress::since(Instant::now(), 0, 10, false).eta_seconds,
            None
        );
        assert_eq!(Progress::since(started, 12, 10, false).total, 12);
    }
}
