//! One span per HTTP request — method, path (never the query string: it may carry tokens),
//! status and latency; no headers, no bodies — and one `info` event when it is answered (the
//! access log, target `omw_chat::access`: `RUST_LOG=info,omw_chat::access=warn` silences it).
//! Everything logged while the request is handled carries the span.
//!
//! Socket.IO traffic is answered by its own layer before this router and is not logged here.

use std::time::Duration;

use axum::{
    body::Body,
    http::{Request, Response},
};
use tower_http::{
    classify::{ServerErrorsAsFailures, SharedClassifier},
    trace::TraceLayer,
};
use tracing::{Span, field::Empty};

type MakeSpan = fn(&Request<Body>) -> Span;
type OnResponse = fn(&Response<Body>, Duration, &Span);

pub type Layer =
    TraceLayer<SharedClassifier<ServerErrorsAsFailures>, MakeSpan, (), OnResponse, (), (), ()>;

pub fn layer() -> Layer {
    TraceLayer::new_for_http()
        .make_span_with(make_span as MakeSpan)
        .on_request(())
        .on_response(on_response as OnResponse)
        .on_body_chunk(())
        .on_eos(())
        // Server errors are logged where they happen, with their cause.
        .on_failure(())
}

fn make_span(req: &Request<Body>) -> Span {
    tracing::info_span!(
        "request",
        method = %req.method(),
        path = %req.uri().path(),
        status = Empty,
        latency_ms = Empty,
    )
}

fn on_response(res: &Response<Body>, latency: Duration, span: &Span) {
    // Whole microseconds: `0.603`, not `0.6034299999999999`.
    let latency_ms = latency.as_micros() as f64 / 1000.0;
    span.record("status", res.status().as_u16());
    span.record("latency_ms", latency_ms);
    // The span carries the fields.
    tracing::info!(target: "omw_chat::access", "answered");
}
