//! Prometheus metrics at `/metrics`: what the server records (`catalogue`), per-request HTTP
//! metrics (`requests`) and the process's own (`process`).

pub mod catalogue;
mod process;
pub mod requests;

use std::sync::OnceLock;

use axum::{Router, routing::get};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::http::state::AppState;

pub use catalogue::register;

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Install the process-wide recorder once (several test servers share one process).
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
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
                // Bytes, from a voice note to MAX_UPLOAD_BYTES' default and beyond.
                .set_buckets_for_metric(
                    Matcher::Full("omw_upload_bytes".into()),
                    &[
                        16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0, 10485760.0, 33554432.0,
                    ],
                )
                .ok()?
                // A ladder's wait from the message to its webhook: seconds to an hour.
                .set_buckets_for_metric(
                    Matcher::Full("omw_ladder_escalation_seconds".into()),
                    &[
                        1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0,
                    ],
                )
                .ok()?
                .install_recorder()
                .ok()?;
            catalogue::describe();
            Some(handle)
        })
        .as_ref()
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/metrics", get(render))
}

/// Prometheus metrics (text exposition format; the catalogue is in docs/operations.md).
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses((status = 200, description = "Prometheus text exposition format", content_type = "text/plain")))]
pub(in crate::http) async fn render() -> String {
    let mut out = install().map(PrometheusHandle::render).unwrap_or_default();
    process::render(&mut out);
    out
}
