//! Browsing verbs of [`Library`] for the app and the HTTP API: the
//! timeline, a photo's full details, the tag hierarchy with counts, the
//! photos of a tag, where a photo is (to reveal it), the first-run state
//! and the thumbnail cache.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::Library;
use crate::browse::{
    dedup, CacheStats, Cleared, DefaultModel, FirstRun, NamedTag, PhotoDetails, PhotoLocation,
    TagNode, TagPhotos, Timeline, TimelineCache, MAX_PAGE, OFFLINE_NOTE, SETTING_FIRST_RUN_DONE,
};
use crate::catalog::{Changes, Root, TaggedPhoto};
use crate::embed::ModelStatus;
use crate::error::{EngineError, Result};
use crate::tags;

fn check_page(limit: usize) -> Result<()> {
    if limit > MAX_PAGE {
        return Err(EngineError::Invalid(format!(
            "a page holds at most {MAX_PAGE} photos (asked for {limit})"
        )));
    }
    Ok(())
}

impl Library {
    /// Every visible photo, newest first (undated last): month counts (when
    /// `months`) and the page `offset..offset + limit`. Served from an
    /// in-memory copy of the order that follows the catalog's change log
    /// (only changed photos are read again), so scrolling a 100k grid
    /// costs microseconds per page.
    pub fn timeline(&self, offset: usize, limit: usize, months: bool) -> Result<Timeline> {
        check_page(limit)?;
        self.with_timeline(|cache| {
            let end = offset.saturating_add(limit).min(cache.rows.len());
            Timeline {
                total: cache.rows.len() as i64,
                months: months.then(|| cache.months.clone()),
                offset,
                limit,
                photos: cache.rows.get(offset.min(end)..end).unwrap_or(&[]).to_vec(),
            }
        })
    }

    /// Runs `f` on the timeline order, brought up to date first.
    fn with_timeline<T>(&self, f: impl FnOnce(&TimelineCache) -> T) -> Result<T> {
        let mut slot = self.timeline_cache().borrow_mut();
        self.catalog().read_snapshot(|c| {
            let fresh = match slot.take() {
                Some(mut cache) => match c.changes_since(cache.seq)? {
                    (_, Changes::Photos(ids)) if ids.is_empty() => cache,
                    (seq, Changes::Photos(ids)) if ids.len() <= cache.rows.len() / 4 + 1000 => {
                        let ids = dedup(ids);
                        let fresh = c.timeline_rows_for(&ids)?;
                        cache.apply(seq, ids, fresh);
                        cache
                    }
                    _ => TimelineCache::load(c)?,
                },
                None => TimelineCache::load(c)?,
            };
            *slot = Some(fresh);
            Ok(())
        })?;
        Ok(f(slot.as_ref().expect("just filled")))
    }

    /// Metadata, files, tags (with display names) and rejections of a photo.
    pub fn photo_details(&self, id: i64) -> Result<PhotoDetails> {
        let info = self.info(id)?;
        let files = self.catalog().photo_file_list(id)?;
        let names = tags::display_names(self.catalog(), &self.vocabulary()?)?;
        let tags = self
            .catalog()
            .photo_tags(id)?
            .into_iter()
            .map(|t| NamedTag {
                name: names.get(&t.tag).cloned().unwrap_or_else(|| t.tag.clone()),
                tag: t.tag,
                score: t.score,
                source: t.source,
            })
            .collect();
        Ok(PhotoDetails {
            bytes: files.first().map_or(0, |f| f.bytes),
            files,
            place: None,
            tags,
            rejected: self.catalog().rejected_tags(id)?,
            info,
        })
    }

    /// The photo's tags with display names (what a tag edit returns).
    pub fn named_tags(&self, id: i64) -> Result<Vec<NamedTag>> {
        Ok(self.photo_details(id)?.tags)
    }

    /// The vocabulary (built in and custom) in its order, then keywords
    /// outside it, each with its counts.
    pub fn tag_tree(&self) -> Result<Vec<TagNode>> {
        let vocab = self.vocabulary()?;
        let counts: HashMap<String, crate::catalog::TagCount> = self
            .tag_counts()?
            .into_iter()
            .map(|c| (c.tag.clone(), c))
            .collect();
        let node = |tag: &str, name: &str| -> TagNode {
            let c = counts.get(tag);
            TagNode {
                tag: tag.to_string(),
                name: name.to_string(),
                parents: Vec::new(),
                group: false,
                custom: false,
                keyword: false,
                count: c.map_or(0, |c| c.count),
                auto: c.map_or(0, |c| c.auto),
                user: c.map_or(0, |c| c.user),
                imported: c.map_or(0, |c| c.imported),
                rejected: c.map_or(0, |c| c.rejected),
            }
        };
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for c in vocab.concepts() {
            seen.insert(c.tag.clone());
            out.push(TagNode {
                parents: c.parents.clone(),
                group: c.group,
                custom: c.custom,
                ..node(&c.tag, &c.name)
            });
        }
        let mut extra: Vec<(String, String)> = self
            .catalog()
            .tag_defs()?
            .into_iter()
            .filter(|d| !seen.contains(&d.tag))
            .map(|d| (d.tag, d.name))
            .collect();
        let known: HashSet<String> = extra.iter().map(|(t, _)| t.clone()).collect();
        extra.extend(
            counts
                .keys()
                .filter(|t| !seen.contains(*t) && !known.contains(*t))
                .map(|t| (t.clone(), t.clone())),
        );
        extra.sort();
        for (tag, name) in extra {
            out.push(TagNode {
                keyword: true,
                ..node(&tag, &name)
            });
        }
        Ok(out)
    }

    /// Visible photos carrying `tag` (a key or a name), newest first (the
    /// timeline's order, filtered).
    ///
    /// `source` keeps only photos whose tag came from there (`auto`: the
    /// suggestions still to confirm or reject).
    pub fn tag_photos(
        &self,
        tag: &str,
        source: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> Result<TagPhotos> {
        check_page(limit)?;
        let vocab = self.vocabulary()?;
        let key = match vocab.lookup(tag) {
            Some(c) => c.tag.clone(),
            None => tags::tag_key(tag),
        };
        let tagged = self.catalog().tag_sources(&key)?;
        self.with_timeline(|cache| {
            let mut total = 0;
            let mut photos = Vec::new();
            for r in &cache.rows {
                let Some((from, score)) = tagged.get(&r.id) else {
                    continue;
                };
                if source.is_some_and(|s| s != from) {
                    continue;
                }
                if total >= offset && photos.len() < limit {
                    photos.push(TaggedPhoto {
                        id: r.id,
                        width: r.width,
                        height: r.height,
                        taken_at: r.taken_at.clone(),
                        source: from.clone(),
                        score: *score,
                    });
                }
                total += 1;
            }
            TagPhotos {
                tag: key,
                total: total as i64,
                offset,
                limit,
                photos,
            }
        })
    }

    /// Where photo `id` is: its first file in an online folder (else its
    /// first file), for a shell to reveal. Nothing is opened here.
    pub fn photo_location(&self, id: i64) -> Result<PhotoLocation> {
        self.info(id)?;
        let files = self.catalog().photo_file_list(id)?;
        let file = files
            .iter()
            .find(|f| f.online)
            .or(files.first())
            .ok_or_else(|| EngineError::PhotoNotFound(format!("{id} (it has no readable file)")))?;
        let folder = Path::new(&file.path)
            .parent()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        Ok(PhotoLocation {
            id,
            path: file.path.clone(),
            folder,
            online: file.online,
        })
    }

    /// Forgets the folder with catalog id `id` (see `remove_folder`).
    pub fn remove_folder_id(&self, id: i64) -> Result<Root> {
        let root = self
            .folders()?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or_else(|| EngineError::UnknownRoot(format!("#{id}").into()))?;
        self.forget_folder(root)
    }

    /// Whether the first-run flow should show, and what it needs to offer.
    /// `models` is this library's model list (`Library::models`).
    pub fn first_run(&self, models: &[ModelStatus]) -> Result<FirstRun> {
        let folders = self.folders()?.len();
        let active = models.iter().find(|m| m.active);
        let model = self.catalog().active_model()?.map(|m| m.key);
        let model_ready = active.is_some_and(|m| m.downloaded)
            || model.as_deref().is_some_and(|k| Path::new(k).is_dir());
        let done = self
            .catalog()
            .setting(SETTING_FIRST_RUN_DONE)?
            .is_some_and(|v| v == "1");
        Ok(FirstRun {
            needed: !(done || (folders > 0 && model.is_some())),
            folders,
            model,
            model_ready,
            default_model: models.iter().find(|m| m.default).map(|m| DefaultModel {
                name: m.name.clone(),
                download_mb: m.download_mb,
                downloaded: m.downloaded,
            }),
            offline_note: OFFLINE_NOTE,
        })
    }

    /// Records that the first-run flow was completed or skipped.
    pub fn finish_first_run(&self) -> Result<()> {
        self.catalog().set_setting(SETTING_FIRST_RUN_DONE, "1")
    }

    /// Size of the thumbnail cache (grid thumbnails and previews).
    pub fn thumbnail_cache(&self) -> Result<CacheStats> {
        let mut stats = CacheStats::default();
        walk_cache(self.thumbs_dir(), &mut |_, len| {
            stats.bytes += len;
            stats.files += 1;
            false
        })?;
        Ok(stats)
    }

    /// Removes the cached previews (made again on demand); the grid
    /// thumbnails the scan made stay.
    pub fn clear_previews(&self) -> Result<Cleared> {
        let suffix = format!("-{}.jpg", crate::ingest::thumbs::PREVIEW_SIZE);
        let mut cleared = Cleared::default();
        walk_cache(self.thumbs_dir(), &mut |path, len| {
            let is_preview = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(&suffix));
            if is_preview && std::fs::remove_file(path).is_ok() {
                cleared.removed += 1;
                cleared.bytes += len;
            }
            is_preview
        })?;
        Ok(cleared)
    }
}

/// Calls `f(path, len)` for every file under `dir` (two levels: the
/// cache's hash-prefix folders). A missing cache is an empty one.
fn walk_cache(dir: &Path, f: &mut dyn FnMut(&Path, u64) -> bool) -> Result<()> {
    let Ok(top) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for sub in top.flatten() {
        let Ok(entries) = std::fs::read_dir(sub.path()) else {
            continue;
        };
        for e in entries.flatten() {
            if let Ok(meta) = e.metadata() {
                if meta.is_file() {
                    f(&e.path(), meta.len());
                }
            }
        }
    }
    Ok(())
}
