//! Request handling: limits, authentication, routing, headers, the event
//! stream.
//!
//! Every limit that protects the process is enforced here, before the
//! engine sees a request: header size and count, header/body/idle
//! timeouts, the number of open connections, and the body size, which is
//! checked against `Content-Length` before a byte of the body is read. A
//! request with a wrong token is answered without reading its body.

use std::convert::Infallible;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use crossbeam_channel::RecvTimeoutError;
use http_body_util::{combinators::BoxBody, BodyExt, Limited};
use hyper::body::{Body, Frame, Incoming};
use hyper::header::CONTENT_LENGTH;
use hyper::{Method, Request};
use serde_json::Value;
use shoebox_api::{ApiError, ApiState, ImageKind};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Notify, Semaphore};

use crate::reply::{
    add_header, api_error_reply, error_reply, full, html, json_reply, percent_decode, reply, Reply,
};
use crate::static_files;

/// The largest request body accepted (commands take small JSON objects).
pub(crate) const MAX_BODY: usize = 1 << 20;
/// The request line and headers together; larger heads get 431.
pub(crate) const MAX_HEAD_BYTES: usize = 16 * 1024;
pub(crate) const MAX_HEADERS: usize = 64;
/// A client must send its whole head within this time.
pub(crate) const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// …and its whole body within this time.
pub(crate) const BODY_TIMEOUT: Duration = Duration::from_secs(15);
/// A connection with no request in flight and no bytes either way is closed
/// after this long (event streams send a ping every [`PING_EVERY`]).
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Open connections at once; more are closed at accept. One user's browser
/// opens about six, plus one event stream per tab.
pub(crate) const MAX_CONNECTIONS: usize = 128;
/// Comment lines keep idle event streams (and proxies) alive.
const PING_EVERY: Duration = Duration::from_secs(15);

pub(crate) struct Shared {
    pub state: ApiState,
    pub token: String,
    pub port: u16,
    pub ui_dir: Option<PathBuf>,
    pub stop: Arc<AtomicBool>,
    pub stopped: Notify,
}

impl Shared {
    fn cookie_name(&self) -> String {
        // Cookies are not port-scoped: two servers on one host must not
        // overwrite each other's cookie.
        format!("shoebox_token_{}", self.port)
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}

/// Accepts connections until [`Shared::stop`] is set and `stopped` notified.
pub(crate) async fn accept_loop(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shared.stopped.notified() => break,
        };
        if shared.stopping() {
            break;
        }
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!("accept failed: {e}");
                // Out of file descriptors, say: do not spin.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            tracing::warn!("{MAX_CONNECTIONS} connections open: closing a new one");
            drop(stream);
            continue;
        };
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            serve_connection(stream, shared).await;
            drop(slot);
        });
    }
}

/// Activity on one connection, for the idle timeout.
struct Activity {
    started: Instant,
    last_ms: AtomicU64,
    in_flight: AtomicUsize,
}

impl Activity {
    fn touch(&self) {
        self.last_ms
            .store(self.started.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    fn idle_for(&self) -> Duration {
        let now = self.started.elapsed().as_millis() as u64;
        Duration::from_millis(now.saturating_sub(self.last_ms.load(Ordering::Relaxed)))
    }
}

/// Resolves when the connection has been idle for [`IDLE_TIMEOUT`] with no
/// request being answered.
async fn idle(activity: &Activity) {
    loop {
        let idle = activity.idle_for();
        if idle >= IDLE_TIMEOUT && activity.in_flight.load(Ordering::SeqCst) == 0 {
            return;
        }
        tokio::time::sleep(
            IDLE_TIMEOUT
                .saturating_sub(idle)
                .max(Duration::from_millis(500)),
        )
        .await;
    }
}

async fn serve_connection(stream: TcpStream, shared: Arc<Shared>) {
    let activity = Arc::new(Activity {
        started: Instant::now(),
        last_ms: AtomicU64::new(0),
        in_flight: AtomicUsize::new(0),
    });
    let io = hyper_util::rt::TokioIo::new(Watched {
        inner: stream,
        activity: Arc::clone(&activity),
    });
    let service = {
        let activity = Arc::clone(&activity);
        hyper::service::service_fn(move |request| {
            let shared = Arc::clone(&shared);
            let activity = Arc::clone(&activity);
            async move {
                activity.in_flight.fetch_add(1, Ordering::SeqCst);
                let reply = handle(request, &shared).await;
                activity.in_flight.fetch_sub(1, Ordering::SeqCst);
                activity.touch();
                Ok::<_, Infallible>(reply)
            }
        })
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEAD_TIMEOUT)
        .max_buf_size(MAX_HEAD_BYTES)
        .max_headers(MAX_HEADERS);
    let connection = builder.serve_connection(io, service);
    tokio::select! {
        result = connection => {
            if let Err(e) = result {
                tracing::debug!("connection ended: {e}");
            }
        }
        _ = idle(&activity) => tracing::debug!("idle connection closed"),
    }
}

/// A socket that records when bytes last moved, either way.
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        poll
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        poll
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

fn header_value<'a>(request: &'a Request<Incoming>, name: &str) -> Option<&'a str> {
    request.headers().get(name).and_then(|v| v.to_str().ok())
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

fn authenticate(
    request: &Request<Incoming>,
    query: &[(String, String)],
    shared: &Shared,
) -> Option<Auth> {
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
    for cookies in request.headers().get_all("Cookie") {
        let Ok(cookies) = cookies.to_str() else {
            continue;
        };
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

/// Whether `host` (a `Host` header or an origin's authority) names a
/// loopback host.
fn loopback_host(host: &str) -> bool {
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

/// DNS rebinding defence: the Host header must name a loopback host.
fn host_allowed(request: &Request<Incoming>) -> bool {
    // HTTP/1.0 clients may omit it.
    header_value(request, "Host").is_none_or(loopback_host)
}

/// Cross-site request defence for requests that change state, beside the
/// JSON content type and the SameSite cookie: a browser names the page that
/// sent the request in `Origin`, and it must be this server (any loopback
/// name, on this port). Clients that are not browsers send no `Origin`.
fn origin_allowed(request: &Request<Incoming>, port: u16) -> bool {
    let Some(origin) = request.headers().get("Origin") else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let Some(authority) = origin.strip_prefix("http://") else {
        return false;
    };
    let port_ok = authority
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse::<u16>().ok())
        == Some(port);
    port_ok && loopback_host(authority)
}

async fn handle(request: Request<Incoming>, shared: &Arc<Shared>) -> Reply {
    let started = Instant::now();
    let method = request.method().clone();
    let url = request
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let (path, query) = split_url(&url);

    if !host_allowed(&request) {
        return error_reply(
            "unauthorized",
            "this server answers only to loopback host names",
        );
    }
    let Some(auth) = authenticate(&request, &query, shared) else {
        // The body, if any, is never read: hyper closes the connection
        // instead of draining it.
        return if path.starts_with("/api/")
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
    };
    if method != Method::GET && method != Method::HEAD && !origin_allowed(&request, shared.port) {
        return error_reply(
            "forbidden",
            "this request came from another site's page, so it is refused",
        );
    }

    let mut reply = if path == "/api/events" {
        if method == Method::GET {
            event_stream(shared)
        } else {
            error_reply("method_not_allowed", "use GET /api/events")
        }
    } else if let Some(name) = path.strip_prefix("/api/") {
        api_call(request, name.to_string(), shared).await
    } else if let Some(id) = path.strip_prefix("/thumb/") {
        image(&request, &query, id, ImageKind::Thumb, shared).await
    } else if let Some(id) = path.strip_prefix("/preview/") {
        image(&request, &query, id, ImageKind::Preview, shared).await
    } else if method == Method::GET || method == Method::HEAD {
        static_files::serve(shared.ui_dir.as_deref(), path)
    } else {
        error_reply(
            "method_not_allowed",
            format!("{method} is not allowed here"),
        )
    };
    if matches!(auth, Auth::Url) {
        let cookie = format!(
            "{}={}; HttpOnly; SameSite=Strict; Path=/",
            shared.cookie_name(),
            shared.token
        );
        add_header(&mut reply, "Set-Cookie", &cookie);
    }
    tracing::debug!(%method, path, status = reply.status().as_u16(), ms = started.elapsed().as_millis() as u64, "request");
    reply
}

/// Reads a JSON body within the size and time limits.
async fn read_json_body(request: Request<Incoming>) -> Result<Value, Reply> {
    let json_type = header_value(&request, "Content-Type").is_some_and(|t| {
        t.split(';')
            .next()
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
    });
    if !json_type {
        return Err(error_reply(
            "bad_request",
            "POST bodies must be JSON with Content-Type: application/json",
        ));
    }
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let too_large = || error_reply("payload_too_large", "the body is larger than 1 MiB");
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return Err(too_large());
    }
    let body = Limited::new(request.into_body(), MAX_BODY);
    let body = match tokio::time::timeout(BODY_TIMEOUT, body.collect()).await {
        Err(_) => return Err(error_reply("timeout", "the body did not arrive in time")),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => return Err(too_large()),
        Ok(Err(e)) => {
            return Err(error_reply(
                "bad_request",
                format!("cannot read the body: {e}"),
            ))
        }
        Ok(Ok(collected)) => collected.to_bytes(),
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&body)
        .map_err(|e| error_reply("bad_request", format!("the body is not JSON: {e}")))
}

async fn api_call(request: Request<Incoming>, name: String, shared: &Arc<Shared>) -> Reply {
    let args = match *request.method() {
        Method::GET => {
            if !shoebox_api::allows_get(&name) {
                if shoebox_api::command(&name).is_none() {
                    return api_error_reply(&ApiError::UnknownCommand(name));
                }
                return error_reply(
                    "method_not_allowed",
                    format!("`{name}` takes arguments or changes the library: use POST with a JSON body"),
                );
            }
            Value::Null
        }
        Method::POST => match read_json_body(request).await {
            Ok(v) => v,
            Err(reply) => return reply,
        },
        ref other => {
            return error_reply(
                "method_not_allowed",
                format!("{other} is not allowed: use POST (or GET for reads)"),
            )
        }
    };
    // The engine is synchronous: its calls run on the blocking pool.
    let shared = Arc::clone(shared);
    let result = tokio::task::spawn_blocking(move || {
        let result = shoebox_api::dispatch(&shared.state, &name, args);
        if let Err(e) = &result {
            if e.http_status() >= 500 {
                tracing::warn!(command = name, "{e}");
            }
        }
        result
    })
    .await;
    match result {
        Ok(Ok(v)) => json_reply(200, &v),
        Ok(Err(e)) => api_error_reply(&e),
        Err(e) => error_reply("internal", format!("the command failed: {e}")),
    }
}

async fn image(
    request: &Request<Incoming>,
    query: &[(String, String)],
    id: &str,
    kind: ImageKind,
    shared: &Arc<Shared>,
) -> Reply {
    if request.method() != Method::GET && request.method() != Method::HEAD {
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
    let inm = header_value(request, "If-None-Match").map(str::to_string);
    let shared = Arc::clone(shared);
    let result = tokio::task::spawn_blocking(move || {
        shoebox_api::image(&shared.state, kind, id, size, inm.as_deref())
    })
    .await;
    match result {
        Ok(Ok(img)) => reply(
            img.status,
            &[
                ("ETag", &img.etag),
                ("Cache-Control", img.cache_control),
                ("Content-Type", img.content_type),
            ],
            full(img.body),
        ),
        Ok(Err(e)) => api_error_reply(&e),
        Err(e) => error_reply("internal", format!("the image failed: {e}")),
    }
}

/// A response body fed from a channel, one frame per message.
struct ChannelBody(mpsc::Receiver<Bytes>);

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0.poll_recv(cx).map(|m| m.map(|b| Ok(Frame::data(b))))
    }
}

/// `text/event-stream`: one `data:` message per engine event, a comment
/// line every [`PING_EVERY`] while quiet, and a final `stopped` event when
/// the server stops.
fn event_stream(shared: &Arc<Shared>) -> Reply {
    let events = shared.state.events().subscribe();
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let shared = Arc::clone(shared);
    // The event bus is a blocking channel: a thread bridges it.
    tokio::task::spawn_blocking(move || {
        if tx
            .blocking_send(Bytes::from_static(b": connected\n\n"))
            .is_err()
        {
            return;
        }
        let mut last_write = Instant::now();
        while !shared.stopping() {
            let chunk = match events.recv_timeout(Duration::from_millis(500)) {
                Ok(event) => Bytes::from(format!("data: {event}\n\n")),
                Err(RecvTimeoutError::Timeout) if last_write.elapsed() >= PING_EVERY => {
                    Bytes::from_static(b": ping\n\n")
                }
                Err(RecvTimeoutError::Timeout) => {
                    if tx.is_closed() {
                        return; // the client went away
                    }
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            };
            if tx.blocking_send(chunk).is_err() {
                return;
            }
            last_write = Instant::now();
        }
        let _ = tx.blocking_send(Bytes::from_static(b"data: {\"event\":\"stopped\"}\n\n"));
    });
    reply(
        200,
        &[
            ("Content-Type", "text/event-stream"),
            ("Cache-Control", "no-store"),
        ],
        BoxBody::new(ChannelBody(rx)),
    )
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

    #[test]
    fn loopback_host_names() {
        for ok in ["127.0.0.1:8080", "localhost", "LOCALHOST:1", "[::1]:9"] {
            assert!(loopback_host(ok), "{ok}");
        }
        for bad in ["evil.example:80", "10.0.0.1", "[::]:1", ""] {
            assert!(!loopback_host(bad), "{bad}");
        }
    }
}
