//! Dispute holds (SPEC §9.7), for the platform: keep a booking's chat as evidence.

use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    routing::put,
};

use super::{JsonBody, error::PlatformRefused, extract::Platform, extract::QueryParams};
use crate::{
    http::state::AppState,
    service::ServiceError,
    wire::{
        reply::{ErrorReply, HoldReply, HoldView},
        request::{HoldPut, HoldRelease},
    },
};

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/platform/bookings/{booking_id}/hold",
        put(place).delete(release),
    )
}

/// Hold the booking's chat for a case: it is not deleted until every hold is released (the
/// participants are not told). The same `case_ref` again answers the first hold.
#[utoipa::path(put, path = "/api/v1/platform/bookings/{booking_id}/hold", tag = "platform",
    security(("platformKey" = [])),
    params(("booking_id" = String, Path, description = "The platform's booking id")),
    request_body = HoldPut,
    responses(
        (status = 200, description = "Held", body = HoldReply),
        (status = 400, description = "invalid_payload", body = ErrorReply),
        PlatformRefused,
        (status = 404, description = "not_found: the booking has no chat", body = ErrorReply),
        (status = 409, description = "conflict: the chat is deleted, or being deleted", body = ErrorReply),
    ),
)]
pub(super) async fn place(
    _: Platform,
    State(s): State<AppState>,
    Path(booking_id): Path<String>,
    JsonBody(body): JsonBody<HoldPut>,
) -> Result<Json<HoldReply>, ServiceError> {
    let reason = body.reason.unwrap_or_default();
    let hold = s
        .chats
        .place_hold(&booking_id, &body.case_ref, &reason)
        .await?;
    Ok(Json(HoldReply {
        hold: HoldView {
            booking_id,
            chat_id: hold.chat_id,
            case_ref: hold.case_ref,
            reason: hold.reason,
            created_at: hold.created_at,
        },
    }))
}

/// Release one case's hold (`case_ref`), or every hold of the booking's chat. Once none is
/// left, a closed chat is deleted after `CHAT_RETENTION`, counted from now.
#[utoipa::path(delete, path = "/api/v1/platform/bookings/{booking_id}/hold", tag = "platform",
    security(("platformKey" = [])),
    params(("booking_id" = String, Path, description = "The platform's booking id"), HoldRelease),
    responses(
        (status = 204, description = "Released (also when that case held nothing)"),
        (status = 400, description = "invalid_payload", body = ErrorReply),
        PlatformRefused,
        (status = 404, description = "not_found: the booking has no chat", body = ErrorReply),
    ),
)]
pub(super) async fn release(
    _: Platform,
    State(s): State<AppState>,
    Path(booking_id): Path<String>,
    QueryParams(q): QueryParams<HoldRelease>,
) -> Result<StatusCode, ServiceError> {
    s.chats
        .release_holds(&booking_id, q.case_ref.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
