//! The built web UI from a folder (`ui/dist`), with client-side routes
//! falling back to `index.html`; without a build, a page saying how to
//! make one.

use std::path::{Component, Path, PathBuf};

use crate::reply;

pub(crate) const NO_UI_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Shoebox</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40em;margin:3em auto;padding:0 1em}code{background:#8882;padding:.1em .3em;border-radius:3px}</style>
</head><body>
<h1>Shoebox is running</h1>
<p>The web UI is not built, so only the JSON API is available here
(for example <a href="/api/status">/api/status</a>).</p>
<p>Build the UI, then restart the server:</p>
<pre><code>npm --prefix ui install
npm --prefix ui run build
shoebox serve --ui ui/dist</code></pre>
<p>The API is described in <code>docs/api.md</code>.</p>
</body></html>
"#;

pub(crate) const UNAUTHORIZED_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Shoebox: token needed</title></head>
<body style="font:16px/1.5 system-ui,sans-serif;max-width:40em;margin:3em auto;padding:0 1em">
<h1>Token needed</h1>
<p>Open the address that <code>shoebox serve</code> printed when it started:
it ends with <code>?token=…</code>. The token changes at every start.</p>
</body></html>
"#;

/// `ui/dist` of the source tree this binary was built from, if it exists.
pub fn default_ui_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/dist");
    dir.join("index.html").is_file().then_some(dir)
}

fn content_type(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("html") => "text/html; charset=utf-8",
        Some("js") | Some("mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") | Some("map") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg") | Some("jpeg") => "image/jpeg",
        Some("webp") => "image/webp",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("woff") => "font/woff",
        Some("txt") => "text/plain; charset=utf-8",
        Some("wasm") => "application/wasm",
        _ => "application/octet-stream",
    }
}

/// The file for a URL path inside `root`, refusing `..` and the like.
fn resolve(root: &Path, url_path: &str) -> Option<PathBuf> {
    let decoded = reply::percent_decode(url_path);
    let mut out = root.to_path_buf();
    for c in Path::new(decoded.trim_start_matches('/')).components() {
        match c {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(out)
}

pub(crate) fn serve(ui_dir: Option<&Path>, url_path: &str) -> reply::Reply {
    let Some(root) = ui_dir else {
        return if url_path == "/" || url_path == "/index.html" {
            reply::html(200, NO_UI_PAGE)
        } else {
            reply::not_found()
        };
    };
    let Some(mut file) = resolve(root, url_path) else {
        return reply::not_found();
    };
    if file.is_dir() {
        file.push("index.html");
    }
    if !file.is_file() {
        // Client-side routes (no extension) get the app; missing assets 404.
        if Path::new(url_path).extension().is_some() {
            return reply::not_found();
        }
        file = root.join("index.html");
    }
    match std::fs::read(&file) {
        Ok(bytes) => {
            // Vite fingerprints assets: cache them; revalidate the rest.
            let cache = if url_path.starts_with("/assets/") {
                "public, max-age=31536000, immutable"
            } else {
                "no-cache"
            };
            reply::reply(
                200,
                &[
                    ("Content-Type", content_type(&file)),
                    ("Cache-Control", cache),
                ],
                http_body_util::BodyExt::boxed(http_body_util::Full::new(bytes::Bytes::from(
                    bytes,
                ))),
            )
        }
        Err(_) => reply::not_found(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_root() {
        let root = Path::new("/ui");
        assert_eq!(
            resolve(root, "/assets/a.js"),
            Some(PathBuf::from("/ui/assets/a.js"))
        );
        assert_eq!(resolve(root, "/../etc/passwd"), None);
        assert_eq!(resolve(root, "/a/%2e%2e/%2e%2e/x"), None);
        assert_eq!(resolve(root, "/"), Some(PathBuf::from("/ui")));
    }
}
