//! Prometheus metrics at `/metrics`.

use std::sync::OnceLock;

use axum::{Router, routing::get};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::http::state::AppState;

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Install the process-wide recorder once (several test servers share one process).
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets(&[
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                ])
                .ok()?
                // Counted in messages, not seconds (up to the writer's 512 per batch).
                .set_buckets_for_metric(
                    Matcher::Full("omw_write_batch_size".into()),
                    &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0],
                )
                .ok()?
                .install_recorder()
                .ok()
        })
        .as_ref()
}

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/metrics",
        get(|| async { install().map(PrometheusHandle::render).unwrap_or_default() }),
    )
}
