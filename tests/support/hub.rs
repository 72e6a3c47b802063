//! A local stand-in for the Hugging Face hub, for download tests:
//! `GET /{org}/{name}/resolve/{revision}/{file}` with the headers hf-hub
//! relies on (`ETag`, `X-Repo-Commit`, `Content-Range` for `Range`
//! requests), and optionally a connection cut halfway through a file.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

pub const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

#[derive(Default)]
struct HubState {
    files: HashMap<String, Vec<u8>>,
    /// Files whose first full-body GET is cut off halfway.
    drop_once: Mutex<Vec<String>>,
    /// "file range" for each request, in order.
    log: Mutex<Vec<String>>,
}

pub fn etag(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

pub struct Hub {
    pub endpoint: String,
    state: Arc<HubState>,
}

impl Hub {
    pub fn start(files: HashMap<String, Vec<u8>>, drop_once: &[&str]) -> Hub {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(HubState {
            files,
            drop_once: Mutex::new(drop_once.iter().map(|s| s.to_string()).collect()),
            log: Mutex::default(),
        });
        let s = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let s = s.clone();
                std::thread::spawn(move || {
                    let _ = handle(stream, &s);
                });
            }
        });
        Hub { endpoint, state }
    }

    pub fn log(&self) -> Vec<String> {
        self.state.log.lock().unwrap().clone()
    }
}

fn handle(mut stream: TcpStream, state: &HubState) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    let mut range = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("range") {
                range = Some(v.trim().to_string());
            }
        }
    }
    let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
    // /{org}/{name}/resolve/{rev}/{file}
    let parts: Vec<&str> = path.trim_start_matches('/').splitn(5, '/').collect();
    let file = match parts.as_slice() {
        [_, _, "resolve", _, file] => file.to_string(),
        _ => String::new(),
    };
    state.log.lock().unwrap().push(format!(
        "{file} {}",
        range.clone().unwrap_or_else(|| "-".into())
    ));
    let Some(body) = state.files.get(&file) else {
        write!(
            stream,
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )?;
        return Ok(());
    };
    let len = body.len();
    let (start, end) = match range.as_deref().and_then(|r| r.strip_prefix("bytes=")) {
        Some(r) => {
            let (a, b) = r.split_once('-').unwrap();
            let a: usize = a.parse().unwrap();
            let b: usize = if b.is_empty() {
                len - 1
            } else {
                b.parse().unwrap()
            };
            (a, b.min(len - 1))
        }
        None => (0, len - 1),
    };
    let slice = &body[start..=end];
    let status = if range.is_some() {
        "206 Partial Content"
    } else {
        "200 OK"
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Range: bytes {start}-{end}/{len}\r\n\
         ETag: \"{}\"\r\nX-Repo-Commit: {COMMIT}\r\nAccept-Ranges: bytes\r\nConnection: close\r\n\r\n",
        slice.len(),
        etag(body)
    )?;
    let is_probe = range.as_deref() == Some("bytes=0-0");
    let mut drop_once = state.drop_once.lock().unwrap();
    if !is_probe && slice.len() > 1 {
        if let Some(i) = drop_once.iter().position(|f| *f == file) {
            drop_once.remove(i);
            drop(drop_once);
            stream.write_all(&slice[..slice.len() / 2])?;
            stream.flush()?;
            return stream.shutdown(std::net::Shutdown::Both);
        }
    }
    drop(drop_once);
    stream.write_all(slice)
}
