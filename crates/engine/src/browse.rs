//! What browsing answers with (the timeline, a photo's details, the tag
//! tree, a tag's photos, where a photo is, the first-run state, the
//! thumbnail cache) and the timeline's in-memory order; the verbs are in
//! `library::browse`.

use std::collections::HashSet;

use serde::Serialize;

use crate::catalog::{Catalog, GridPhoto, MonthCount, PhotoFile, PhotoInfo, TaggedPhoto};
use crate::error::Result;

/// The most photos one timeline or tag page returns.
pub const MAX_PAGE: usize = 2000;

/// Settings key: the first-run flow was completed (or skipped).
pub const SETTING_FIRST_RUN_DONE: &str = "ui.first_run_done";

/// Every visible photo, newest first, as month counts and one page.
#[derive(Debug, Clone, Serialize)]
pub struct Timeline {
    pub total: i64,
    /// Every month with its count and first index; `None` when not asked.
    pub months: Option<Vec<MonthCount>>,
    pub offset: usize,
    pub limit: usize,
    pub photos: Vec<GridPhoto>,
}

/// A tag on a photo with its display name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NamedTag {
    pub tag: String,
    pub name: String,
    pub score: Option<f64>,
    pub source: String,
}

/// Everything the photo view shows.
#[derive(Debug, Clone, Serialize)]
pub struct PhotoDetails {
    #[serde(flatten)]
    pub info: PhotoInfo,
    /// Size of the photo's first readable file.
    pub bytes: u64,
    pub files: Vec<PhotoFile>,
    /// Reserved for offline reverse geocoding; always `None` today.
    pub place: Option<String>,
    pub tags: Vec<NamedTag>,
    /// Tags the user took off (never put back automatically).
    pub rejected: Vec<String>,
}

/// One node of the tag hierarchy, with its counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TagNode {
    pub tag: String,
    pub name: String,
    /// Parent keys; the first is the main parent.
    pub parents: Vec<String>,
    /// A grouping node, never assigned to a photo.
    pub group: bool,
    pub custom: bool,
    /// A keyword from other apps or the user, outside the vocabulary.
    pub keyword: bool,
    pub count: i64,
    pub auto: i64,
    pub user: i64,
    pub imported: i64,
    pub rejected: i64,
}

/// A page of the photos carrying a tag.
#[derive(Debug, Clone, Serialize)]
pub struct TagPhotos {
    pub tag: String,
    pub total: i64,
    pub offset: usize,
    pub limit: usize,
    pub photos: Vec<TaggedPhoto>,
}

/// Where a photo is, for "reveal in folder".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhotoLocation {
    pub id: i64,
    pub path: String,
    pub folder: String,
    pub online: bool,
}

/// The default model as the first-run screen offers it.
#[derive(Debug, Clone, Serialize)]
pub struct DefaultModel {
    pub name: String,
    pub download_mb: Option<u64>,
    pub downloaded: bool,
}

/// What the first-run flow still has to do.
#[derive(Debug, Clone, Serialize)]
pub struct FirstRun {
    pub needed: bool,
    pub folders: usize,
    /// The active model's key.
    pub model: Option<String>,
    /// Whether the active model's files are present.
    pub model_ready: bool,
    pub default_model: Option<DefaultModel>,
    pub offline_note: &'static str,
}

pub const OFFLINE_NOTE: &str = "Without a model, browsing, metadata, exact and near duplicates work; search, similar photos, tags and similar shots need one. To add a model from disk, choose a folder with config.json, model.safetensors, tokenizer.json and preprocessor_config.json.";

/// Size of the thumbnail cache.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CacheStats {
    pub bytes: u64,
    pub files: u64,
}

/// What clearing the previews removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Cleared {
    pub removed: u64,
    pub bytes: u64,
}

/// The timeline order: newest first, undated last, ties by id (newest
/// catalogued first). A photo's month is the first 7 characters of its
/// RFC 3339 date, so each month is contiguous in this order.
pub fn timeline_order(a: &GridPhoto, b: &GridPhoto) -> std::cmp::Ordering {
    a.taken_at
        .is_none()
        .cmp(&b.taken_at.is_none())
        .then_with(|| b.taken_at.cmp(&a.taken_at))
        .then_with(|| b.id.cmp(&a.id))
}

/// The timeline in memory, as of change-log position `seq`.
#[derive(Debug, Default)]
pub struct TimelineCache {
    pub(crate) seq: i64,
    pub(crate) rows: Vec<GridPhoto>,
    pub(crate) months: Vec<MonthCount>,
}

impl TimelineCache {
    pub(crate) fn load(c: &Catalog) -> Result<Self> {
        let seq = c.change_seq()?;
        let mut rows = c.timeline_rows()?;
        rows.sort_unstable_by(timeline_order);
        let mut cache = TimelineCache {
            seq,
            rows,
            months: Vec::new(),
        };
        cache.count_months();
        Ok(cache)
    }

    /// `changed` photos were re-read (`fresh`: those still visible).
    pub(crate) fn apply(&mut self, seq: i64, changed: Vec<i64>, mut fresh: Vec<GridPhoto>) {
        let changed: HashSet<i64> = changed.into_iter().collect();
        self.rows.retain(|r| !changed.contains(&r.id));
        fresh.sort_unstable_by(timeline_order);
        let old = std::mem::take(&mut self.rows);
        let mut merged = Vec::with_capacity(old.len() + fresh.len());
        let (mut a, mut b) = (old.into_iter().peekable(), fresh.into_iter().peekable());
        loop {
            let take_a = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) => timeline_order(x, y) != std::cmp::Ordering::Greater,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            merged.extend(if take_a { a.next() } else { b.next() });
        }
        self.rows = merged;
        self.seq = seq;
        self.count_months();
    }

    fn count_months(&mut self) {
        let mut months: Vec<MonthCount> = Vec::new();
        for (i, r) in self.rows.iter().enumerate() {
            let month = r
                .taken_at
                .as_ref()
                .map(|t| t.chars().take(7).collect::<String>());
            match months.last_mut() {
                Some(m) if m.month == month => m.count += 1,
                _ => months.push(MonthCount {
                    month,
                    count: 1,
                    offset: i as i64,
                }),
            }
        }
        self.months = months;
    }
}

pub(crate) fn dedup(mut ids: Vec<i64>) -> Vec<i64> {
    ids.sort_unstable();
    ids.dedup();
    ids
}
