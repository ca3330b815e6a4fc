//! `omw_http_requests_total` and `omw_http_request_seconds` for every request the router
//! answers. Labelled by the route's pattern (`/api/v1/chats/{chat_id}/messages`), never the
//! path itself, so chat ids do not become series; anything no route matched is `unmatched`.

use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request},
    http::Method,
    middleware::Next,
    response::Response,
};

pub async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = method_label(req.method());
    let started = Instant::now();
    let res = next.run(req).await;
    metrics::histogram!("omw_http_request_seconds", "route" => route.clone())
        .record(started.elapsed().as_secs_f64());
    metrics::counter!(
        "omw_http_requests_total",
        "method" => method,
        "route" => route,
        "status" => res.status().as_str().to_string(),
    )
    .increment(1);
    res
}

/// Any method a client makes up would otherwise be a new series.
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}
