//! Request handling: authentication, routing, headers, the event stream.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::RecvTimeoutError;
use serde_json::{json, Value};
use shoebox_api::{ApiError, ApiState, ImageKind};
use tiny_http::{Header, Method, Request, Response, StatusCode};

use crate::static_files;

/// The largest request body accepted (commands take small JSON objects).
const MAX_BODY: usize = 1 << 20;
/// Comment lines keep idle event streams (and proxies) alive.
const PING_EVERY: Duration = Duration::from_secs(15);

pub(crate) struct Shared {
    pub state: ApiState,
    pub token: String,
    pub port: u16,
    pub ui_dir: Option<PathBuf>,
    pub stop: Arc<AtomicBool>,
}

impl Shared {
    fn cookie_name(&self) -> String {
        // Cookies are not port-scoped: two servers on one host must not
        // overwrite each other's cookie.
        format!("shoebox_token_{}", self.port)
    }
}

pub(crate) fn accept_loop(server: &tiny_http::Server, shared: &Arc<Shared>) {
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let request = match server.recv() {
            Ok(r) => r,
            Err(e) => {
                if shared.stop.load(Ordering::SeqCst) {
                    break;
                }
                tracing::warn!("accept failed: {e}");
                continue;
            }
        };
        let shared = Arc::clone(shared);
        let spawned = std::thread::Builder::new()
            .name("shoebox-request".into())
            .spawn(move || handle(request, &shared));
        if let Err(e) = spawned {
            tracing::warn!("cannot start a request thread: {e}");
        }
    }
}

pub(crate) type Reply = Response<std::io::Cursor<Vec<u8>>>;

pub(crate) fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("valid header")
}

/// Headers every answer carries.
fn security_headers() -> Vec<Header> {
    vec![
        header(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data: blob:",
        ),
        header("X-Content-Type-Options", "nosniff"),
        header("Referrer-Policy", "no-referrer"),
        header("X-Frame-Options", "DENY"),
    ]
}

pub(crate) fn with_headers(mut r: Reply, extra: Vec<Header>) -> Reply {
    for h in security_headers().into_iter().chain(extra) {
        r.add_header(h);
    }
    r
}

pub(crate) fn html(status: u16, page: &str) -> Reply {
    with_headers(
        Response::from_data(page.as_bytes().to_vec()).with_status_code(StatusCode(status)),
        vec![
            header("Content-Type", "text/html; charset=utf-8"),
            header("Cache-Control", "no-store"),
        ],
    )
}

pub(crate) fn not_found() -> Reply {
    error_reply("not_found", "no such page")
}

fn json_reply(status: u16, body: &Value) -> Reply {
    let bytes = serde_json::to_vec(body).expect("JSON values serialise");
    with_headers(
        Response::from_data(bytes).with_status_code(StatusCode(status)),
        vec![
            header("Content-Type", "application/json"),
            header("Cache-Control", "no-store"),
        ],
    )
}

fn error_reply(code: &'static str, message: impl Into<String>) -> Reply {
    json_reply(
        shoebox_api::status_for(code),
        &json!({"error": {"code": code, "message": message.into()}}),
    )
}

fn api_error_reply(e: &ApiError) -> Reply {
    json_reply(e.http_status(), &e.to_json())
}

fn header_value<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request
        .headers()
        .iter()
        .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

/// Splits `/path?query` and decodes the query's `key=value` pairs.
fn split_url(url: &str) -> (&str, Vec<(String, String)>) {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let pairs = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect();
    (path, pairs)
}

pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Compares without stopping at the first difference.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

enum Auth {
    /// The token came in the URL: set the cookie on this answer.
    Url,
    Other,
}

fn authenticate(request: &Request, query: &[(String, String)], shared: &Shared) -> Option<Auth> {
    if query
        .iter()
        .any(|(k, v)| k == "token" && same(v, &shared.token))
    {
        return Some(Auth::Url);
    }
    if let Some(auth) = header_value(request, "Authorization") {
        if let Some(t) = auth.strip_prefix("Bearer ") {
            if same(t.trim(), &shared.token) {
                return Some(Auth::Other);
            }
        }
    }
    let name = shared.cookie_name();
    if let Some(cookies) = header_value(request, "Cookie") {
        for c in cookies.split(';') {
            if let Some((k, v)) = c.trim().split_once('=') {
                if k == name && same(v, &shared.token) {
                    return Some(Auth::Other);
                }
            }
        }
    }
    None
}

/// DNS rebinding defence: the Host header must name a loopback host.
fn host_allowed(request: &Request) -> bool {
    let Some(host) = header_value(request, "Host") else {
        return true; // HTTP/1.0 clients may omit it.
    };
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn handle(mut request: Request, shared: &Arc<Shared>) {
    let started = Instant::now();
    let url = request.url().to_string();
    let method = request.method().clone();
    let (path, query) = split_url(&url);
    let path = path.to_string();

    if !host_allowed(&request) {
        respond(
            request,
            error_reply(
                "unauthorized",
                "this server answers only to loopback host names",
            ),
        );
        return;
    }
    let Some(auth) = authenticate(&request, &query, shared) else {
        let reply = if path.starts_with("/api/")
            || path.starts_with("/thumb/")
            || path.starts_with("/preview/")
        {
            error_reply(
                "unauthorized",
                "missing or wrong token: open the URL that `shoebox serve` printed (it ends with ?token=...)",
            )
        } else {
            html(401, static_files::UNAUTHORIZED_PAGE)
        };
        respond(request, reply);
        return;
    };
    let mut extra = Vec::new();
    if matches!(auth, Auth::Url) {
        extra.push(header(
            "Set-Cookie",
            &format!(
                "{}={}; HttpOnly; SameSite=Strict; Path=/",
                shared.cookie_name(),
                shared.token
            ),
        ));
    }

    if path == "/api/events" {
        if method != Method::Get {
            respond(
                request,
                error_reply("method_not_allowed", "use GET /api/events"),
            );
            return;
        }
        event_stream(request, shared, extra);
        return;
    }

    let reply = if let Some(name) = path.strip_prefix("/api/") {
        api_call(&mut request, &method, name, shared)
    } else if let Some(id) = path.strip_prefix("/thumb/") {
        image(&request, &method, &query, id, ImageKind::Thumb, shared)
    } else if let Some(id) = path.strip_prefix("/preview/") {
        image(&request, &method, &query, id, ImageKind::Preview, shared)
    } else if method == Method::Get || method == Method::Head {
        static_files::serve(shared.ui_dir.as_deref(), &path)
    } else {
        error_reply(
            "method_not_allowed",
            format!("{method} is not allowed here"),
        )
    };
    let mut reply = reply;
    for h in extra {
        reply.add_header(h);
    }
    let status = reply.status_code().0;
    respond(request, reply);
    tracing::debug!(%method, path, status, ms = started.elapsed().as_millis() as u64, "request");
}

fn respond(request: Request, reply: Reply) {
    if let Err(e) = request.respond(reply) {
        tracing::debug!("client went away: {e}");
    }
}

fn api_call(request: &mut Request, method: &Method, name: &str, shared: &Shared) -> Reply {
    let args = match method {
        Method::Get => {
            if !shoebox_api::allows_get(name) {
                if !shoebox_api::COMMANDS.iter().any(|(n, _)| *n == name) {
                    return api_error_reply(&ApiError::UnknownCommand(name.to_string()));
                }
                return error_reply(
                    "method_not_allowed",
                    format!("`{name}` takes arguments or changes the library: use POST with a JSON body"),
                );
            }
            Value::Null
        }
        Method::Post => {
            let json_type = header_value(request, "Content-Type").is_some_and(|t| {
                t.split(';')
                    .next()
                    .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
            });
            if !json_type {
                return error_reply(
                    "bad_request",
                    "POST bodies must be JSON with Content-Type: application/json",
                );
            }
            let mut body = Vec::new();
            let read = request
                .as_reader()
                .take(MAX_BODY as u64 + 1)
                .read_to_end(&mut body);
            if let Err(e) = read {
                return error_reply("bad_request", format!("cannot read the body: {e}"));
            }
            if body.len() > MAX_BODY {
                return error_reply("bad_request", "the body is larger than 1 MiB");
            }
            if body.iter().all(u8::is_ascii_whitespace) {
                Value::Null
            } else {
                match serde_json::from_slice(&body) {
                    Ok(v) => v,
                    Err(e) => {
                        return error_reply("bad_request", format!("the body is not JSON: {e}"))
                    }
                }
            }
        }
        other => {
            return error_reply(
                "method_not_allowed",
                format!("{other} is not allowed: use POST (or GET for reads)"),
            )
        }
    };
    match shoebox_api::dispatch(&shared.state, name, args) {
        Ok(v) => json_reply(200, &v),
        Err(e) => {
            if e.http_status() >= 500 {
                tracing::warn!(command = name, "{e}");
            }
            api_error_reply(&e)
        }
    }
}

fn image(
    request: &Request,
    method: &Method,
    query: &[(String, String)],
    id: &str,
    kind: ImageKind,
    shared: &Shared,
) -> Reply {
    if *method != Method::Get && *method != Method::Head {
        return error_reply("method_not_allowed", "images are read with GET");
    }
    let Ok(id) = id.parse::<i64>() else {
        return error_reply("not_found", format!("`{id}` is not a photo id"));
    };
    let size = match query.iter().find(|(k, _)| k == "size") {
        Some((_, v)) => match v.parse::<u32>() {
            Ok(s) => Some(s),
            Err(_) => return error_reply("bad_request", format!("size `{v}` is not a number")),
        },
        None => None,
    };
    let inm = header_value(request, "If-None-Match");
    match shoebox_api::image(&shared.state, kind, id, size, inm) {
        Ok(img) => {
            let headers = vec![
                header("ETag", &img.etag),
                header("Cache-Control", img.cache_control),
                header("Content-Type", img.content_type),
            ];
            with_headers(
                Response::from_data(img.body).with_status_code(StatusCode(img.status)),
                headers,
            )
        }
        Err(e) => api_error_reply(&e),
    }
}

/// `text/event-stream`: written by hand on the raw connection, so each
/// event is flushed at once (a chunked response body would be buffered).
fn event_stream(request: Request, shared: &Arc<Shared>, extra: Vec<Header>) {
    let events = shared.state.events().subscribe();
    let mut head = String::from(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\nConnection: close\r\n",
    );
    for h in security_headers().into_iter().chain(extra) {
        head.push_str(&format!("{}: {}\r\n", h.field, h.value));
    }
    head.push_str("\r\n: connected\n\n");
    let mut writer = request.into_writer();
    if writer
        .write_all(head.as_bytes())
        .and_then(|_| writer.flush())
        .is_err()
    {
        return;
    }
    let mut last_write = Instant::now();
    while !shared.stop.load(Ordering::SeqCst) {
        let chunk = match events.recv_timeout(Duration::from_millis(500)) {
            Ok(event) => format!("data: {event}\n\n"),
            Err(RecvTimeoutError::Timeout) if last_write.elapsed() >= PING_EVERY => {
                ": ping\n\n".into()
            }
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        if writer
            .write_all(chunk.as_bytes())
            .and_then(|_| writer.flush())
            .is_err()
        {
            break; // the client went away
        }
        last_write = Instant::now();
    }
    // Tell the client the server stops (a final stopped event).
    let _ = writer.write_all(b"data: {\"event\":\"stopped\"}\n\n");
    let _ = writer.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_queries() {
        let (path, q) = split_url("/thumb/3?size=1024&token=a%2Db+c");
        assert_eq!(path, "/thumb/3");
        assert_eq!(q[0], ("size".into(), "1024".into()));
        assert_eq!(q[1], ("token".into(), "a-b c".into()));
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }

    #[test]
    fn constant_time_compare() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
    }
}
