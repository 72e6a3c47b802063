//! Read-side queries behind browsing: the timeline (month counts and pages
//! of photos), a photo's files, and the photos carrying a tag.

use rusqlite::params;
use serde::Serialize;

use super::Catalog;
use crate::error::Result;

/// A photo visible in an online folder.
const VISIBLE: &str = "EXISTS (SELECT 1 FROM files f JOIN roots r ON r.id = f.root_id
     WHERE f.photo_id = p.id AND f.status = 'ok' AND r.online = 1)";

/// One month of the timeline (`month` is `YYYY-MM` of the date the photo
/// carries, `None` for undated photos) and where it starts in the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonthCount {
    pub month: Option<String>,
    pub count: i64,
    /// Index of the month's first photo in the timeline order.
    pub offset: i64,
}

/// A photo as a grid cell needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GridPhoto {
    pub id: i64,
    pub width: u32,
    pub height: u32,
    pub taken_at: Option<String>,
}

/// One file of a photo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhotoFile {
    pub path: String,
    pub bytes: u64,
    pub online: bool,
}

/// A photo carrying a tag.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaggedPhoto {
    pub id: i64,
    pub width: u32,
    pub height: u32,
    pub taken_at: Option<String>,
    pub source: String,
    pub score: Option<f64>,
}

/// Newest first, undated last, ties by id (newest catalogued first). The
/// month of a photo is the first 7 characters of its RFC 3339 date, so
/// this order keeps each month contiguous.
const TIMELINE_ORDER: &str = "p.taken_at IS NULL, p.taken_at DESC, p.id DESC";

impl Catalog {
    /// Every month with visible photos, newest first, undated last.
    pub fn timeline_months(&self) -> Result<Vec<MonthCount>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT substr(p.taken_at, 1, 7) AS m, COUNT(*) FROM photos p WHERE {VISIBLE}
             GROUP BY m ORDER BY m IS NULL, m DESC"
        ))?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)?)))?;
        let mut offset = 0;
        let mut out = Vec::new();
        for row in rows {
            let (month, count) = row?;
            out.push(MonthCount {
                month,
                count,
                offset,
            });
            offset += count;
        }
        Ok(out)
    }

    pub fn count_visible_photos(&self) -> Result<i64> {
        Ok(self.conn.query_row(
            &format!("SELECT COUNT(*) FROM photos p WHERE {VISIBLE}"),
            [],
            |r| r.get(0),
        )?)
    }

    /// One page of the timeline.
    pub fn timeline_page(&self, offset: i64, limit: i64) -> Result<Vec<GridPhoto>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT p.id, p.width, p.height, p.taken_at FROM photos p WHERE {VISIBLE}
             ORDER BY {TIMELINE_ORDER} LIMIT ?1 OFFSET ?2"
        ))?;
        let rows = stmt.query_map(params![limit, offset], |r| {
            Ok(GridPhoto {
                id: r.get(0)?,
                width: r.get(1)?,
                height: r.get(2)?,
                taken_at: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Readable files of a photo, with their sizes and folder state.
    pub fn photo_file_list(&self, photo_id: i64) -> Result<Vec<PhotoFile>> {
        let mut stmt = self.conn.prepare(
            "SELECT f.display_path, f.size, r.online FROM files f JOIN roots r ON r.id = f.root_id
              WHERE f.photo_id = ?1 AND f.status = 'ok' ORDER BY f.display_path",
        )?;
        let rows = stmt.query_map([photo_id], |r| {
            Ok(PhotoFile {
                path: r.get(0)?,
                bytes: r.get::<_, i64>(1)?.max(0) as u64,
                online: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Visible photos carrying `tag` (from any source), newest first, and
    /// how many there are.
    pub fn tag_photos(
        &self,
        tag: &str,
        offset: i64,
        limit: i64,
    ) -> Result<(i64, Vec<TaggedPhoto>)> {
        let total = self.conn.query_row(
            &format!(
                "SELECT COUNT(*) FROM photo_tags t JOIN photos p ON p.id = t.photo_id
                  WHERE t.tag = ?1 AND {VISIBLE}"
            ),
            [tag],
            |r| r.get(0),
        )?;
        let mut stmt = self.conn.prepare(&format!(
            "SELECT p.id, p.width, p.height, p.taken_at, t.source, t.score
               FROM photo_tags t JOIN photos p ON p.id = t.photo_id
              WHERE t.tag = ?1 AND {VISIBLE}
              ORDER BY {TIMELINE_ORDER} LIMIT ?2 OFFSET ?3"
        ))?;
        let rows = stmt.query_map(params![tag, limit, offset], |r| {
            Ok(TaggedPhoto {
                id: r.get(0)?,
                width: r.get(1)?,
                height: r.get(2)?,
                taken_at: r.get(3)?,
                source: r.get(4)?,
                score: r.get(5)?,
            })
        })?;
        Ok((total, rows.collect::<rusqlite::Result<_>>()?))
    }
}
