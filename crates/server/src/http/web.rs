//! The web client in demo mode: embedded in the binary (`web/dist` at build time), or read from
//! `WEB_DIR` when that is set.
//!
//! - Vite's hashed files under `/assets/` never change: cached for a year, `immutable`.
//! - `index.html` (and everything else) is revalidated: `no-cache`, with an `ETag` (the
//!   embedded files' SHA-256) so an unchanged page is a `304`.
//! - An unknown `GET` path is a client-side route (`/customer`, `/worker`): `index.html`.
//!   Never for the APIs (`/api/…`, `/demo/api/…`, `/socket.io/…`), which keep their JSON 404,
//!   nor for a missing file under `/assets/` (a stale page asking for an old bundle must not
//!   get HTML as JavaScript).

use axum::{
    body::Body,
    extract::{Request, State},
    http::{HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
};
use tower::ServiceExt;

use crate::{
    http::state::AppState,
    service::error::{ErrorCode, ServiceError},
};

/// `web/dist` as it was when the binary was built; empty when it had not been built.
#[derive(rust_embed::Embed)]
#[folder = "../../web/dist/"]
#[allow_missing = true]
struct Embedded;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const NO_CACHE: &str = "no-cache";

/// Paths that belong to an API: never answered with the web client.
fn is_api(path: &str) -> bool {
    ["/api", "/demo/api", "/socket.io"].iter().any(|prefix| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// Whether the binary carries a built web client.
pub fn embedded() -> bool {
    Embedded::get("index.html").is_some()
}

/// The demo's fallback: the web client, or the JSON 404 for API paths and other methods.
pub async fn serve(State(state): State<AppState>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    if !matches!(*req.method(), Method::GET | Method::HEAD) || is_api(&path) {
        return ServiceError::not_found("no such endpoint").into_response();
    }
    let mut res = match &state.config.web_dir {
        Some(dir) => from_disk(dir, req).await,
        None => from_binary(&path, req.headers().get(header::IF_NONE_MATCH)),
    };
    if res.status().is_success() || res.status() == StatusCode::NOT_MODIFIED {
        let cache = if path.starts_with("/assets/") {
            IMMUTABLE
        } else {
            NO_CACHE
        };
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    }
    res
}

async fn from_disk(dir: &std::path::Path, req: Request) -> Response {
    let index = tower_http::services::ServeFile::new(dir.join("index.html"));
    let files = tower_http::services::ServeDir::new(dir);
    if req.uri().path().starts_with("/assets/") {
        files.oneshot(req).await.into_response()
    } else {
        files.fallback(index).oneshot(req).await.into_response()
    }
}

fn from_binary(path: &str, if_none_match: Option<&HeaderValue>) -> Response {
    let name = match path.trim_start_matches('/') {
        "" => "index.html",
        name => name,
    };
    let file = match Embedded::get(name) {
        Some(file) => file,
        None if name.starts_with("assets/") => {
            return ServiceError::not_found("no such file").into_response();
        }
        None => match Embedded::get("index.html") {
            Some(index) => index,
            None => {
                return ServiceError::new(
                    ErrorCode::Unavailable,
                    "web client not built: this binary was built without web/dist. Build it \
                     with `npm ci --prefix web && (cd web && npx vite build)` and rebuild the \
                     binary, or point WEB_DIR at a built web client",
                )
                .into_response();
            }
        },
    };
    let hash: String = file.metadata.sha256_hash()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let etag = HeaderValue::from_str(&format!("\"{hash}\"")).expect("hex is a valid header");
    let fresh = if_none_match
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut res = if fresh {
        let mut res = Response::new(Body::empty());
        *res.status_mut() = StatusCode::NOT_MODIFIED;
        res
    } else {
        let mut res = Response::new(Body::from(file.data.into_owned()));
        if let Ok(ct) = HeaderValue::from_str(file.metadata.mimetype()) {
            res.headers_mut().insert(header::CONTENT_TYPE, ct);
        }
        res
    };
    res.headers_mut().insert(header::ETAG, etag);
    res
}

#[cfg(test)]
mod tests {
    use super::is_api;

    #[test]
    fn api_paths_are_never_the_web_client() {
        for path in [
            "/api",
            "/api/v1/nope",
            "/demo/api/token",
            "/socket.io/",
            "/socket.io",
        ] {
            assert!(is_api(path), "{path}");
        }
        for path in ["/", "/customer", "/worker/jobs/1", "/apis", "/assets/x.js"] {
            assert!(!is_api(path), "{path}");
        }
    }
}
