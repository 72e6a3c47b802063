//! Thumbnails and previews by photo id, with what a transport needs to
//! answer: bytes, content type, ETag and Cache-Control, or "not modified".

use shoebox_engine::ingest::thumbs::{GRID_SIZE, PREVIEW_SIZE};
use shoebox_engine::EngineError;

use crate::error::ApiError;
use crate::state::ApiState;

/// `/thumb/<id>` (256 px unless a size is given) or `/preview/<id>` (1024 px).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Thumb,
    Preview,
}

/// Clients keep images but revalidate them: a photo's pixels never change
/// (a changed file is another photo), but SQLite may hand a deleted
/// photo's id to a new one, so an id alone is not forever. Revalidation is
/// a catalog lookup answered with 304; the ETag carries the content hash.
pub const CACHE_CONTROL: &str = "private, no-cache";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageReply {
    /// 200, or 304 when `If-None-Match` matched (`body` is then empty).
    pub status: u16,
    pub body: Vec<u8>,
    pub content_type: &'static str,
    /// Quoted, ready for the `ETag` header.
    pub etag: String,
    pub cache_control: &'static str,
}

/// The image of photo `id`. `size` is 256 or 1024 (default: 256 for a
/// thumbnail, 1024 for a preview); `if_none_match` is the request's
/// header, if any.
pub fn image(
    state: &ApiState,
    kind: ImageKind,
    id: i64,
    size: Option<u32>,
    if_none_match: Option<&str>,
) -> Result<ImageReply, ApiError> {
    let size = match (kind, size) {
        (_, Some(s)) if s == GRID_SIZE || s == PREVIEW_SIZE => s,
        (_, Some(s)) => {
            return Err(ApiError::BadRequest(format!(
                "size {s} is not available: use {GRID_SIZE} or {PREVIEW_SIZE}"
            )))
        }
        (ImageKind::Thumb, None) => GRID_SIZE,
        (ImageKind::Preview, None) => PREVIEW_SIZE,
    };
    let library = state.images();
    let hash = library
        .catalog()
        .photo_hash(id)?
        .ok_or_else(|| EngineError::PhotoNotFound(id.to_string()))?;
    let etag = format!("\"{}-{size}\"", shoebox_engine::catalog::hex(&hash[..16]));
    let reply = |status, body| ImageReply {
        status,
        body,
        content_type: "image/jpeg",
        etag: etag.clone(),
        cache_control: CACHE_CONTROL,
    };
    if if_none_match.is_some_and(|h| etag_matches(h, &etag)) {
        return Ok(reply(304, Vec::new()));
    }
    let path = library.thumbnail(id, size)?;
    drop(library);
    let body = std::fs::read(&path)
        .map_err(|e| EngineError::io(format!("cannot read {}", path.display()), e))?;
    Ok(reply(200, body))
}

/// The image a URL path names: `/thumb/<id>` or `/preview/<id>` (also
/// `thumb/<id>` as a Tauri `shoebox://thumb/<id>` URI's host + path gives
/// it). `None` for anything else.
pub fn parse_image_path(path: &str) -> Option<(ImageKind, Option<i64>)> {
    let path = path.trim_start_matches('/');
    let (kind, rest) = path.split_once('/')?;
    let kind = match kind {
        "thumb" => ImageKind::Thumb,
        "preview" => ImageKind::Preview,
        _ => return None,
    };
    Some((kind, rest.parse().ok()))
}

/// `If-None-Match: "a", W/"b"` or `*`.
fn etag_matches(header: &str, etag: &str) -> bool {
    header.split(',').any(|t| {
        let t = t.trim();
        t == "*" || t.trim_start_matches("W/") == etag
    })
}

#[cfg(test)]
mod tests {
    use super::etag_matches;

    #[test]
    fn image_paths() {
        use super::{parse_image_path, ImageKind};
        assert_eq!(
            parse_image_path("/thumb/12"),
            Some((ImageKind::Thumb, Some(12)))
        );
        assert_eq!(
            parse_image_path("preview/3"),
            Some((ImageKind::Preview, Some(3)))
        );
        assert_eq!(parse_image_path("/thumb/x"), Some((ImageKind::Thumb, None)));
        assert_eq!(parse_image_path("/api/status"), None);
    }

    #[test]
    fn if_none_match_forms() {
        assert!(etag_matches("\"ab-256\"", "\"ab-256\""));
        assert!(etag_matches("W/\"x\", \"ab-256\"", "\"ab-256\""));
        assert!(etag_matches("*", "\"ab-256\""));
        assert!(!etag_matches("\"ab-1024\"", "\"ab-256\""));
    }
}
