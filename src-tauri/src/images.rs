//! The `shoebox://` protocol: thumbnails and previews by photo id, never by
//! path. The bytes, ETag and Cache-Control come from `shoebox_api::image`,
//! exactly as `shoebox serve` answers `/thumb/<id>` and `/preview/<id>`.
//!
//! Accepted URL forms (the webviews spell custom schemes differently):
//! - `shoebox://thumb/<id>?size=256`, `shoebox://preview/<id>` (docs/api.md;
//!   Linux and macOS keep `thumb`/`preview` as the host),
//! - `shoebox://localhost/thumb/<id>` (what `convertFileSrc` yields there),
//! - `http://shoebox.localhost/thumb/<id>` (Windows, WebView2).

use shoebox_api::{ApiError, ApiState, ImageKind};
use tauri::http::{header, Request, Response, StatusCode};

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageRequest {
    pub kind: ImageKind,
    pub id: i64,
    pub size: Option<u32>,
}

/// Reads the kind, photo id and size from a request URL's host, path and
/// query.
pub fn parse(host: Option<&str>, path: &str, query: Option<&str>) -> Result<ImageRequest, String> {
    let mut segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match host {
        Some("thumb") | Some("preview") => segments.insert(0, host.unwrap_or_default()),
        None | Some("") | Some("localhost") | Some("shoebox.localhost") => {}
        Some(other) => return Err(format!("unknown host `{other}`")),
    }
    let (kind, id) = match segments.as_slice() {
        ["thumb", id] => (ImageKind::Thumb, *id),
        ["preview", id] => (ImageKind::Preview, *id),
        _ => return Err(format!("expected thumb/<id> or preview/<id>, not `{path}`")),
    };
    let id: i64 = id
        .parse()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| format!("`{id}` is not a photo id"))?;
    let mut size = None;
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        // Other parameters (cache busters and the like) are ignored.
        if let Some(("size", v)) = pair.split_once('=') {
            size = Some(v.parse().map_err(|_| format!("`{v}` is not a size"))?);
        }
    }
    Ok(ImageRequest { kind, id, size })
}

/// Answers one protocol request.
pub fn respond(state: &ApiState, request: &Request<Vec<u8>>) -> Response<Vec<u8>> {
    if request.method() != tauri::http::Method::GET && request.method() != tauri::http::Method::HEAD
    {
        return error(405, "method_not_allowed", "images are read with GET".into());
    }
    let uri = request.uri();
    let asked = match parse(uri.host(), uri.path(), uri.query()) {
        Ok(asked) => asked,
        Err(message) => return error(400, "bad_request", message),
    };
    let if_none_match = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok());
    match shoebox_api::image(state, asked.kind, asked.id, asked.size, if_none_match) {
        Ok(reply) => {
            let body = if request.method() == tauri::http::Method::HEAD {
                Vec::new()
            } else {
                reply.body
            };
            Response::builder()
                .status(reply.status)
                .header(header::CONTENT_TYPE, reply.content_type)
                .header(header::ETAG, reply.etag)
                .header(header::CACHE_CONTROL, reply.cache_control)
                .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
                .body(body)
                .unwrap_or_else(|e| internal(e.to_string()))
        }
        Err(e) => api_error(&e),
    }
}

fn api_error(e: &ApiError) -> Response<Vec<u8>> {
    if e.code() == "internal" {
        tracing::warn!("image request failed: {e}");
    }
    error(e.http_status(), e.code(), e.to_string())
}

fn error(status: u16, code: &str, message: String) -> Response<Vec<u8>> {
    let body = serde_json::json!({"error": {"code": code, "message": message}});
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-store")
        .body(body.to_string().into_bytes())
        .unwrap_or_else(|e| internal(e.to_string()))
}

fn internal(message: String) -> Response<Vec<u8>> {
    let mut response = Response::new(message.into_bytes());
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_url(url: &str) -> Result<ImageRequest, String> {
        let uri: tauri::http::Uri = url.parse().unwrap();
        parse(uri.host(), uri.path(), uri.query())
    }

    #[test]
    fn every_platform_form() {
        let thumb = |id, size| ImageRequest {
            kind: ImageKind::Thumb,
            id,
            size,
        };
        assert_eq!(
            parse_url("shoebox://thumb/17?size=256"),
            Ok(thumb(17, Some(256)))
        );
        assert_eq!(parse_url("shoebox://thumb/17"), Ok(thumb(17, None)));
        assert_eq!(
            parse_url("shoebox://localhost/thumb/17?size=1024"),
            Ok(thumb(17, Some(1024)))
        );
        assert_eq!(
            parse_url("http://shoebox.localhost/thumb/17?size=256"),
            Ok(thumb(17, Some(256)))
        );
        let preview = ImageRequest {
            kind: ImageKind::Preview,
            id: 9,
            size: None,
        };
        assert_eq!(parse_url("shoebox://preview/9"), Ok(preview));
        assert_eq!(parse_url("shoebox://localhost/preview/9"), Ok(preview));
        assert_eq!(
            parse_url("http://shoebox.localhost/preview/9?v=2"),
            Ok(preview)
        );
    }

    #[test]
    fn never_a_path() {
        for url in [
            "shoebox://localhost/etc/passwd",
            "shoebox://thumb/..%2F..%2Fetc%2Fpasswd",
            "shoebox://thumb/-1",
            "shoebox://thumb/0",
            "shoebox://thumb/1/2",
            "shoebox://localhost/thumb/",
            "shoebox://example.com/thumb/1",
            "http://shoebox.localhost/home/me/x.jpg",
            "shoebox://thumb/1?size=big",
        ] {
            assert!(parse_url(url).is_err(), "{url} was accepted");
        }
    }
}
