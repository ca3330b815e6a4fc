//! Every metric the server records, described and registered at start.
//!
//! The `metrics` macros register a series the first time it is touched, so without this a
//! fresh node would list only what already happened: a dashboard or an alert could not tell
//! "no error yet" from "no such metric", and `rate()` would have no first sample. Starting the
//! known series at 0 fixes both; label values not listed here still appear on first use.
//! `docs/operations.md` documents the same list, and `tests/ops_dashboard.rs` checks the
//! dashboard, the alert rules and that table against what `/metrics` really shows.

use metrics::{describe_counter, describe_gauge, describe_histogram};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// One label set, as `(name, value)` pairs.
type Series = &'static [(&'static str, &'static str)];

pub struct Metric {
    pub name: &'static str,
    pub kind: Kind,
    pub help: &'static str,
    /// The series it starts with at 0; `&[&[]]` is one series without labels.
    pub initial: &'static [Series],
    /// Recorded only with `REDIS_URL`: without Redis, `omw_redis_up 0` would read as an
    /// outage.
    pub redis: bool,
}

const NO_LABELS: &[Series] = &[&[]];

/// Error codes an event's ack can carry (`ErrorCode::as_str`).
const ERROR_CODES: &[Series] = &[
    &[("code", "unauthorized")],
    &[("code", "forbidden")],
    &[("code", "not_found")],
    &[("code", "chat_closed")],
    &[("code", "rate_limited")],
    &[("code", "invalid_payload")],
    &[("code", "payload_too_large")],
    &[("code", "unsupported_media_type")],
    &[("code", "conflict")],
    &[("code", "unavailable")],
    &[("code", "internal")],
];

/// The client events `realtime::events` dispatches.
const EVENTS: &[Series] = &[
    &[("event", "join_chat")],
    &[("event", "leave_chat")],
    &[("event", "send_message")],
    &[("event", "load_messages")],
    &[("event", "typing")],
    &[("event", "mark_read")],
    &[("event", "refresh_token")],
    &[("event", "unknown")],
];

/// The operations `cluster::Redis::call` names (publishing goes through it too).
const REDIS_OPS: &[Series] = &[
    &[("op", "ping")],
    &[("op", "presence")],
    &[("op", "typing")],
    &[("op", "rate_limit")],
    &[("op", "socketio")],
    &[("op", "invalidate")],
];

/// The operations `cluster::Redis::publish` names.
const PUBLISH_OPS: &[Series] = &[&[("op", "socketio")], &[("op", "invalidate")]];

/// Outcomes of a job run (`service::jobs`).
const JOB_OUTCOMES: &[Series] = &[
    &[("kind", "webhook"), ("outcome", "done")],
    &[("kind", "webhook"), ("outcome", "retry")],
    &[("kind", "webhook"), ("outcome", "dropped")],
    &[("kind", "ladder"), ("outcome", "done")],
    &[("kind", "ladder"), ("outcome", "next")],
    &[("kind", "ladder"), ("outcome", "retry")],
    &[("kind", "ladder"), ("outcome", "dropped")],
    &[("kind", "push"), ("outcome", "done")],
    &[("kind", "push"), ("outcome", "retry")],
    &[("kind", "push"), ("outcome", "dropped")],
];

/// What became of a push attempt.
const PUSH_OUTCOMES: &[Series] = &[
    &[("outcome", "sent")],
    &[("outcome", "retried")],
    &[("outcome", "failed")],
    &[("outcome", "pruned")],
    &[("outcome", "expired")],
];

/// Results of a webhook delivery attempt, for the notify webhook (the others start on use).
const WEBHOOK_RESULTS: &[Series] = &[
    &[("target", "notify"), ("result", "delivered")],
    &[("target", "notify"), ("result", "failed")],
    &[("target", "notify"), ("result", "refused")],
];

pub const ALL: &[Metric] = &[
    Metric {
        name: "omw_build_info",
        kind: Kind::Gauge,
        help: "Always 1; the label says which version runs.",
        initial: &[],
        redis: false,
    },
    Metric {
        name: "omw_http_requests_total",
        kind: Kind::Counter,
        help: "HTTP requests answered (REST, platform, health, metrics; not Socket.IO), by method, route pattern and status.",
        initial: &[],
        redis: false,
    },
    Metric {
        name: "omw_http_request_seconds",
        kind: Kind::Histogram,
        help: "Time from an HTTP request's arrival to its response head, by route pattern (a download's body streams after).",
        initial: &[],
        redis: false,
    },
    Metric {
        name: "omw_http_connections",
        kind: Kind::Gauge,
        help: "Open TCP connections, WebSockets included (capped by MAX_CONNECTIONS).",
        initial: NO_LABELS,
        redis: false,
    },
    Metric {
        name: "omw_connections_refused_total",
        kind: Kind::Counter,
        help: "TCP connections refused with 503 because MAX_CONNECTIONS were open.",
        initial: NO_LABELS,
        redis: false,
    },
    Metric {
        name: "omw_socket_connections",
        kind: Kind::Gauge,
        help: "Connected Socket.IO clients on this node.",
        initial: NO_LABELS,
        redis: false,
    },
    Metric {
        name: "omw_handshake_refused_total",
        kind: Kind::Counter,
        help: "Socket.IO handshakes refused, by code (forbidden: origin; unauthorized: token; rate_limited: a socket cap, named by cap).",
        initial: &[
            &[("code", "forbidden")],
            &[("code", "unauthorized")],
            &[("code", "rate_limited"), ("cap", "user")],
            &[("code", "rate_limited"), ("cap", "ip")],
        ],
        redis: false,
    },
    Metric {
        name: "omw_ack_seconds",
        kind: Kind::Histogram,
        help: "Time to handle a Socket.IO event and ack it, from its turn in the socket's order, by event.",
        initial: EVENTS,
        redis: false,
    },
    Metric {
        name: "omw_errors_total",
        kind: Kind::Counter,
        help: "Socket.IO events acked with an error, by error code.",
        initial: ERROR_CODES,
        redis: false,
    },
    Metric {
        name: "omw_rate_limited_total",
        kind: Kind::Counter,
        help: "Messages, events and REST calls refused by a user's rate limit.",
        initial: NO_LABELS,
        redis: false,
    },
    Metric {
        name: "omw_messages_total",
        kind: Kind::Counter,
        help: "Messages stored (a retry with the same client_id is not counted again).",
        initial: NO_LABELS,
        redis: false,
    },
    Metric {
        name: "omw_message_store_seconds",
        kind: Kind::Histogram,
        help: "Time from a message queued to it being durable (or refused): queue wait plus its batch's commit.",
        initial: NO_LABELS,
        redis: false,
    },
    Metric {
        name: "omw_write_batch_seconds",
        kind: Kind::Histogram,
        help: "Time to write one batch of messages (one transaction).",
        initial: NO_LABELS,
        redis: false,
    },
    Metric {
        name: "omw_write_batch_size",
        kind: Kind::Histogram,
        help: "Messages per written batch (group commit; at most 512).",
        initial: NO_LABELS,
        redis: false,
    },
    Metric {
        name: "omw_uploads_total",
        kind: Kind::Counter,
        help: "Uploads accepted and stored.",
        initial: NO_LABELS,
        redis: false,
    },
    Metric {
        name: "omw_upload_bytes",
        kind: Kind::Histogram,
        help: "Size of accepted uploads as stored (images after re-encoding), in bytes.",
        initial: NO_LABELS,
        redis: false,
    },
    Metric {
        name: "omw_decodes_refused_total",
        kind: Kind::Counter,
        help: "Image uploads refused with 503 because no decode slot or memory freed up within DECODE_WAIT.",
        initial: NO_LABELS,
        redis: false,
    },
    Metric {
        name: "omw_chats_purged_total",
        kind: Kind::Counter,
        help: "Closed chats deleted by the retention sweeper (files, then rows).",
        initial: NO_LABELS,
        redis: false,
    },
    Metric {
        name: "omw_purge_failures_total",
        kind: Kind::Counter,
        help: "Chat deletions that failed and were put back with backoff.",
        initial: NO_LABELS,
        redis: false,
    },
    Metric {
        name: "omw_purge_overdue_seconds",
        kind: Kind::Gauge,
        help: "How long the longest-waiting due chat deletion has waited (0 when none waits).",
        initial: NO_LABELS,
        redis: false,
    },
    Metric {
        name: "omw_redis_up",
        kind: Kind::Gauge,
        help: "1 while Redis answers, 0 during an outage (only with REDIS_URL).",
        initial: &[],
        redis: true,
    },
    Metric {
        name: "omw_redis_errors_total",
        kind: Kind::Counter,
        help: "Redis calls that failed or timed out, by operation.",
        initial: REDIS_OPS,
        redis: true,
    },
    Metric {
        name: "omw_redis_publish_skipped_total",
        kind: Kind::Counter,
        help: "Redis publishes that could not be sent (other nodes miss them live), by operation.",
        initial: PUBLISH_OPS,
        redis: true,
    },
    Metric {
        name: "omw_redis_dropped_total",
        kind: Kind::Counter,
        help: "Pub/sub messages from Redis dropped because this node's consumer was behind.",
        initial: NO_LABELS,
        redis: true,
    },
    Metric {
        name: "omw_jobs_total",
        kind: Kind::Counter,
        help: "Outbox jobs run, by kind and outcome (done, next, retry, dropped, lease_lost, settle_failed).",
        initial: JOB_OUTCOMES,
        redis: false,
    },
    Metric {
        name: "omw_webhook_attempts_total",
        kind: Kind::Counter,
        help: "Webhook delivery attempts, by target and result (delivered, failed and retried, refused by the receiver).",
        initial: WEBHOOK_RESULTS,
        redis: false,
    },
    Metric {
        name: "omw_ladder_ended_total",
        kind: Kind::Counter,
        help: "Notification ladders ended early because the recipient read what waited.",
        initial: &[&[("by", "read")]],
        redis: false,
    },
    Metric {
        name: "omw_ladder_deferred_total",
        kind: Kind::Counter,
        help: "Notification ladder steps put off because the recipient was attending the chat.",
        initial: NO_LABELS,
        redis: false,
    },
    Metric {
        name: "omw_pushes_total",
        kind: Kind::Counter,
        help: "Web Push attempts, by outcome (sent, retried, failed, pruned: the subscription was gone, expired: past its TTL).",
        initial: PUSH_OUTCOMES,
        redis: false,
    },
    Metric {
        name: "omw_push_subscriptions_total",
        kind: Kind::Counter,
        help: "Push subscriptions added and removed by their users.",
        initial: &[&[("change", "added")], &[("change", "removed")]],
        redis: false,
    },
    Metric {
        name: "omw_ladder_escalation_seconds",
        kind: Kind::Histogram,
        help: "From the message that started a notification ladder to its escalation webhook.",
        initial: NO_LABELS,
        redis: false,
    },
];

/// Give every metric its help text (once per process).
pub(super) fn describe() {
    for m in ALL {
        match m.kind {
            Kind::Counter => describe_counter!(m.name, m.help),
            Kind::Gauge => describe_gauge!(m.name, m.help),
            Kind::Histogram => describe_histogram!(m.name, m.help),
        }
    }
}

/// Start the known series at 0 (the Redis ones only when this node uses Redis). Registering
/// an existing series leaves its value alone, so several servers in one process are fine.
pub fn register(redis: bool) {
    metrics::gauge!("omw_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    for m in ALL.iter().filter(|m| redis || !m.redis) {
        for labels in m.initial {
            let labels: Vec<metrics::Label> = labels
                .iter()
                .map(|&(k, v)| metrics::Label::from_static_parts(k, v))
                .collect();
            match m.kind {
                Kind::Counter => drop(metrics::counter!(m.name, labels)),
                Kind::Gauge => drop(metrics::gauge!(m.name, labels)),
                Kind::Histogram => drop(metrics::histogram!(m.name, labels)),
            }
        }
    }
}
