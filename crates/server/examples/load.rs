//! A load test of a running `shoebox serve`: `THREADS` keep-alive
//! connections each send `REQUESTS / THREADS` requests, cycling through
//! `/api/status`, `/api/timeline` and `/thumb/<id>`; prints p50/p95/p99
//! latency and the failures. Only loopback addresses are accepted.
//!
//! `cargo run --release -p shoebox-server --example load -- URL [REQUESTS] [THREADS]`
//! where URL is the line `shoebox serve` printed. tools/bench/serve_load.sh
//! sets up a library and runs it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// One request on a keep-alive connection: its status code.
fn request(
    stream: &mut TcpStream,
    reader: &mut BufReader<TcpStream>,
    text: &str,
) -> std::io::Result<u16> {
    stream.write_all(text.as_bytes())?;
    let mut status = String::new();
    if reader.read_line(&mut status)? == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body)?;
    Ok(status
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let url = args.get(1).expect("usage: load URL [REQUESTS] [THREADS]");
    let requests: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let threads: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(8);
    let rest = url.strip_prefix("http://").expect("an http:// URL");
    let (addr, token) = rest.split_once("/?token=").expect("the URL serve printed");
    let ip: std::net::SocketAddr = addr.parse().expect("an IP:port address");
    assert!(ip.ip().is_loopback(), "load tests target loopback only");
    let paths = ["/api/status", "/thumb/1?size=256", "/api/timeline"];
    let started = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (addr, token) = (addr.to_string(), token.to_string());
            std::thread::spawn(move || {
                let mut latencies = Vec::new();
                let mut failures = 0usize;
                let mut stream = TcpStream::connect(&addr).expect("connect");
                stream
                    .set_read_timeout(Some(Duration::from_secs(30)))
                    .unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                for i in 0..requests / threads {
                    let path = paths[(i + t) % paths.len()];
                    let (method, body) = if path == "/api/timeline" {
                        ("POST", "{}")
                    } else {
                        ("GET", "")
                    };
                    let text = format!(
                        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    let sent = Instant::now();
                    match request(&mut stream, &mut reader, &text) {
                        Ok(code) => {
                            latencies.push(sent.elapsed());
                            if !(200..400).contains(&code) {
                                failures += 1;
                            }
                        }
                        Err(_) => {
                            failures += 1;
                            break;
                        }
                    }
                }
                (latencies, failures)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut failures = 0;
    for h in handles {
        let (l, f) = h.join().unwrap();
        all.extend(l);
        failures += f;
    }
    let wall = started.elapsed();
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    println!(
        "{} requests over {threads} connections in {:.2} s ({:.0}/s): p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {failures} failed",
        all.len(),
        wall.as_secs_f64(),
        all.len() as f64 / wall.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.95).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        all.last().unwrap().as_secs_f64() * 1e3,
    );
}
