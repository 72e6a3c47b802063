//! Building answers: the security headers every answer carries, JSON and
//! error bodies, HTML pages. Shared by the request handler (`http`) and the
//! UI's files (`static_files`); knows nothing of routing.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::header::HeaderValue;
use hyper::{Response, StatusCode};
use serde_json::{json, Value};
use shoebox_api::ApiError;

/// An answer with any body.
pub(crate) type Reply = Response<BoxBody<Bytes, Infallible>>;

pub(crate) fn full(bytes: impl Into<Bytes>) -> BoxBody<Bytes, Infallible> {
    Full::new(bytes.into()).boxed()
}

/// Headers every answer carries.
const SECURITY_HEADERS: [(&str, &str); 4] = [
    (
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data: blob:",
    ),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
];

/// An answer with the security headers and `headers`.
pub(crate) fn reply(
    status: u16,
    headers: &[(&str, &str)],
    body: BoxBody<Bytes, Infallible>,
) -> Reply {
    let mut r = Response::new(body);
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in SECURITY_HEADERS.iter().chain(headers) {
        add_header(&mut r, name, value);
    }
    r
}

pub(crate) fn add_header(r: &mut Reply, name: &str, value: &str) {
    match (
        hyper::header::HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_str(value),
    ) {
        (Ok(n), Ok(v)) => {
            r.headers_mut().append(n, v);
        }
        _ => tracing::warn!(name, "dropping a header that is not valid HTTP"),
    }
}

pub(crate) fn html(status: u16, page: &'static str) -> Reply {
    reply(
        status,
        &[
            ("Content-Type", "text/html; charset=utf-8"),
            ("Cache-Control", "no-store"),
        ],
        full(page),
    )
}

pub(crate) fn not_found() -> Reply {
    error_reply("not_found", "no such page")
}

pub(crate) fn json_reply(status: u16, body: &Value) -> Reply {
    let bytes = serde_json::to_vec(body).expect("JSON values serialise");
    reply(
        status,
        &[
            ("Content-Type", "application/json"),
            ("Cache-Control", "no-store"),
        ],
        full(bytes),
    )
}

pub(crate) fn error_reply(code: &'static str, message: impl Into<String>) -> Reply {
    json_reply(
        shoebox_api::status_for(code),
        &json!({"error": {"code": code, "message": message.into()}}),
    )
}

pub(crate) fn api_error_reply(e: &ApiError) -> Reply {
    json_reply(e.http_status(), &e.to_json())
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
