//! `shoebox serve`: a loopback-only HTTP server over the command API.
//!
//! - `/api/<command>`: `POST` with a JSON body (or `GET` for reads without
//!   arguments) → [`shoebox_api::dispatch`]; errors as
//!   `{"error": {"code", "message"}}` with the code's HTTP status.
//! - `/api/events`: server-sent events, one `data:` line per event.
//! - `/thumb/<id>?size=256`, `/preview/<id>`: images by photo id, with
//!   ETag and `304 Not Modified`.
//! - anything else: the built web UI from a folder, or a page saying how to
//!   build it.
//!
//! Every request needs the per-start token (`?token=`, `Authorization:
//! Bearer`, or the cookie a tokened page load sets). The contract is
//! docs/api.md.

mod http;
mod reply;
mod static_files;

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use shoebox_api::ApiState;

pub use static_files::default_ui_dir;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("refusing to listen on {0}: shoebox serve binds to loopback only (127.0.0.1, ::1 or localhost); reach it from elsewhere through an SSH tunnel")]
    NotLoopback(String),
    #[error("cannot resolve {host}: {source}")]
    Resolve {
        host: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot listen on {addr}: {message}")]
    Bind { addr: SocketAddr, message: String },
    #[error("the token must be at least 16 characters of letters, digits, `-` or `_`")]
    BadToken,
    #[error("cannot generate a token: {0}")]
    Random(String),
}

pub struct ServeConfig {
    pub state: ApiState,
    /// `127.0.0.1` (default), `::1` or `localhost`.
    pub host: String,
    /// 0 picks a free port.
    pub port: u16,
    /// A fixed token instead of a random one.
    pub token: Option<String>,
    /// The built UI (`ui/dist`); `None` serves the "build the UI" page.
    pub ui_dir: Option<PathBuf>,
}

/// A running server. `url()` is what to print; `wait()` blocks until
/// `stop()` (from a Ctrl-C handler, say) and then returns.
pub struct Server {
    shared: Arc<http::Shared>,
    addr: SocketAddr,
    accept: Option<JoinHandle<()>>,
}

/// Stops a server from another thread (e.g. a Ctrl-C handler).
#[derive(Clone)]
pub struct StopHandle {
    shared: Arc<http::Shared>,
}

impl StopHandle {
    pub fn stop(&self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // `notify_one` keeps a permit if the accept loop is not waiting yet.
        self.shared.stopped.notify_one();
    }
}

/// The address to bind, refusing anything that is not loopback.
pub fn loopback_addr(host: &str, port: u16) -> Result<SocketAddr, ServeError> {
    let host = host.trim();
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let addr = if host.eq_ignore_ascii_case("localhost") {
        SocketAddr::from(([127, 0, 0, 1], port))
    } else if let Ok(ip) = host.parse::<IpAddr>() {
        SocketAddr::new(ip, port)
    } else {
        // A name: resolve it, and accept it only if every address is loopback.
        let addrs: Vec<SocketAddr> = (host, port)
            .to_socket_addrs()
            .map_err(|source| ServeError::Resolve {
                host: host.to_string(),
                source,
            })?
            .collect();
        match addrs.first() {
            Some(a) if addrs.iter().all(|a| a.ip().is_loopback()) => *a,
            _ => return Err(ServeError::NotLoopback(host.to_string())),
        }
    };
    if !addr.ip().is_loopback() {
        return Err(ServeError::NotLoopback(host.to_string()));
    }
    Ok(addr)
}

/// 32 random bytes as 43 URL-safe characters.
pub fn random_token() -> Result<String, ServeError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| ServeError::Random(e.to_string()))?;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    // 6 bits per character.
    let mut out = String::with_capacity(43);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for b in bytes {
        acc = (acc << 8) | b as u32;
        bits += 8;
        while bits >= 6 {
            bits -= 6;
            out.push(ALPHABET[((acc >> bits) & 63) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((acc << (6 - bits)) & 63) as usize] as char);
    }
    Ok(out)
}

fn valid_token(t: &str) -> bool {
    t.len() >= 16
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Server {
    /// Binds and starts accepting requests in a background thread.
    pub fn start(cfg: ServeConfig) -> Result<Server, ServeError> {
        let addr = loopback_addr(&cfg.host, cfg.port)?;
        let token = match cfg.token {
            Some(t) if valid_token(&t) => t,
            Some(_) => return Err(ServeError::BadToken),
            None => random_token()?,
        };
        let bind_error = |e: std::io::Error| ServeError::Bind {
            addr,
            message: e.to_string(),
        };
        let listener = std::net::TcpListener::bind(addr).map_err(bind_error)?;
        listener.set_nonblocking(true).map_err(bind_error)?;
        let addr = listener.local_addr().map_err(bind_error)?;
        let shared = Arc::new(http::Shared {
            state: cfg.state,
            token,
            port: addr.port(),
            ui_dir: cfg.ui_dir,
            stop: Arc::new(AtomicBool::new(false)),
            stopped: tokio::sync::Notify::new(),
        });
        // Two workers answer requests; the engine's calls run on tokio's
        // blocking pool, so a slow search never holds up a thumbnail.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("shoebox-http")
            .enable_all()
            .build()
            .map_err(bind_error)?;
        let accept = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("shoebox-serve".into())
                .spawn(move || {
                    runtime.block_on(async move {
                        match tokio::net::TcpListener::from_std(listener) {
                            Ok(listener) => http::accept_loop(listener, shared).await,
                            Err(e) => tracing::error!("cannot listen: {e}"),
                        }
                    });
                    // Event streams notice the stop flag within half a second.
                    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
                })
                .map_err(bind_error)?
        };
        tracing::info!(%addr, "serving");
        Ok(Server {
            shared,
            addr,
            accept: Some(accept),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn token(&self) -> &str {
        &self.shared.token
    }

    /// `http://127.0.0.1:PORT/?token=...`: open it in a browser.
    pub fn url(&self) -> String {
        let host = match self.addr.ip() {
            IpAddr::V6(ip) => format!("[{ip}]"),
            IpAddr::V4(ip) => ip.to_string(),
        };
        format!(
            "http://{host}:{}/?token={}",
            self.addr.port(),
            self.shared.token
        )
    }

    pub fn stop_handle(&self) -> StopHandle {
        StopHandle {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Blocks until the server is stopped; event streams end within a
    /// second, and clients get a `stopped` event.
    pub fn wait(mut self) {
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
        self.shared
            .state
            .events()
            .emit(serde_json::json!({"event": "stopped"}));
    }

    pub fn stop(self) {
        self.stop_handle().stop();
        self.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_binds() {
        assert!(loopback_addr("127.0.0.1", 0).is_ok());
        assert!(loopback_addr("localhost", 0).is_ok());
        assert!(loopback_addr("::1", 0).is_ok());
        assert!(loopback_addr("[::1]", 0).is_ok());
        for bad in ["0.0.0.0", "192.168.1.10", "::", "8.8.8.8"] {
            assert!(
                matches!(loopback_addr(bad, 0), Err(ServeError::NotLoopback(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn tokens_are_random_and_url_safe() {
        let a = random_token().unwrap();
        let b = random_token().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(valid_token(&a));
        assert!(!valid_token("short"));
        assert!(!valid_token("has spaces in it here"));
    }
}
