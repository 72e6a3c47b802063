//! Measurements: process memory and faults, latencies, recall.

use super::*;

/// A field of /proc/self/status in bytes (Linux only).
pub(crate) fn proc_status(field: &str) -> Option<i64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    let kb: i64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Minor page faults of the process so far (Linux only).
pub(crate) fn minor_faults() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after "(comm)": state ppid pgrp session tty_nr tpgid flags minflt ...
    s.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(7)?
        .parse()
        .ok()
}

/// Resets VmHWM to the current RSS, so the next reading is this phase's peak.
pub(crate) fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Hands freed heap memory back to the OS (glibc keeps it resident
/// otherwise), so RSS readings show what is live. A no-op elsewhere.
pub(crate) fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> i32;
        }
        // SAFETY: glibc's malloc_trim only releases free memory; it takes
        // no pointers and is safe to call at any time.
        unsafe {
            malloc_trim(0);
        }
    }
}

pub(crate) fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// Nearest-rank percentile of sorted values.
pub(crate) fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[derive(Clone, Default)]
pub(crate) struct Lat {
    pub(crate) p50: f64,
    pub(crate) p95: f64,
    /// Mean of what the runs reported: candidates after filters, results
    /// above the cut-off, hits returned.
    pub(crate) candidates: f64,
    pub(crate) total: f64,
    pub(crate) min_total: usize,
    pub(crate) returned: f64,
}

impl Lat {
    pub(crate) fn from(mut times: Vec<f64>, counts: &[(usize, usize, usize)]) -> Lat {
        times.sort_by(f64::total_cmp);
        let mean = |f: fn(&(usize, usize, usize)) -> usize| {
            counts.iter().map(|c| f(c) as f64).sum::<f64>() / counts.len().max(1) as f64
        };
        Lat {
            p50: pct(&times, 50.0),
            p95: pct(&times, 95.0),
            candidates: mean(|c| c.0),
            total: mean(|c| c.1),
            min_total: counts.iter().map(|c| c.1).min().unwrap_or(0),
            returned: mean(|c| c.2),
        }
    }

    pub(crate) fn cell(&self) -> String {
        format!("{:.1} / {:.1}", self.p50, self.p95)
    }
}

pub(crate) struct Baseline {
    pub(crate) queries: usize,
    pub(crate) p50: f64,
    pub(crate) p95: f64,
    pub(crate) read_p50: f64,
    pub(crate) rank_p50: f64,
    pub(crate) agrees: usize,
}

pub(crate) struct Recall {
    pub(crate) queries: usize,
    pub(crate) execute: f64,
    pub(crate) raw: f64,
    pub(crate) raw_perfect: usize,
    pub(crate) mean_abs_err: f64,
    pub(crate) max_abs_err: f64,
}

pub(crate) struct Run {
    pub(crate) n: usize,
    pub(crate) catalog_bytes: u64,
    pub(crate) embeddings_bytes: Option<i64>,
    pub(crate) insert_rows_s: f64,
    pub(crate) insert_vectors_s: f64,
    pub(crate) load_s: f64,
    pub(crate) vector_bytes: usize,
    pub(crate) metadata_bytes: usize,
    pub(crate) rss_delta: Option<i64>,
    pub(crate) trimmed_delta: Option<i64>,
    pub(crate) peak_delta: Option<i64>,
    pub(crate) threads: usize,
    pub(crate) scan: Lat,
    pub(crate) scan_faults: Option<f64>,
    pub(crate) rerank_read: Lat,
    pub(crate) hit_rows: Lat,
    pub(crate) index_rows_s: f64,
    pub(crate) cases: Vec<(&'static str, Lat)>,
    pub(crate) baseline: Baseline,
    pub(crate) recall: Recall,
}

/// The k best (score, id), best first.
#[derive(Clone)]
pub(crate) struct TopK {
    pub(crate) k: usize,
    pub(crate) items: Vec<(f32, i64)>,
}

impl TopK {
    pub(crate) fn new(k: usize) -> Self {
        TopK {
            k,
            items: Vec::with_capacity(k + 1),
        }
    }

    #[inline]
    pub(crate) fn push(&mut self, score: f32, id: i64) {
        if self.items.len() == self.k && score <= self.items[self.k - 1].0 {
            return;
        }
        let at = self.items.partition_point(|&(s, _)| s >= score);
        self.items.insert(at, (score, id));
        self.items.truncate(self.k);
    }

    pub(crate) fn ids(&self) -> Vec<i64> {
        self.items.iter().map(|x| x.1).collect()
    }
}

/// Exact top-k of every query over the f32 vectors (photo id = index + 1),
/// in blocks that stay in cache, on every core.
pub(crate) fn exact_topk(data: &[f32], queries: &[Vec<f32>], k: usize) -> Vec<TopK> {
    let n = data.len() / DIM;
    let threads = cores();
    let per = n.div_ceil(threads).max(1);
    let partials: Vec<Vec<TopK>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let range = (t * per).min(n)..((t + 1) * per).min(n);
                s.spawn(move || {
                    let mut tops = vec![TopK::new(k); queries.len()];
                    let mut start = range.start;
                    while start < range.end {
                        let end = (start + 256).min(range.end);
                        for (q, top) in queries.iter().zip(tops.iter_mut()) {
                            for i in start..end {
                                top.push(dot(&data[i * DIM..(i + 1) * DIM], q), i as i64 + 1);
                            }
                        }
                        start = end;
                    }
                    tops
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    (0..queries.len())
        .map(|qi| {
            let mut top = TopK::new(k);
            for p in &partials {
                for &(s, id) in &p[qi].items {
                    top.push(s, id);
                }
            }
            top
        })
        .collect()
}
