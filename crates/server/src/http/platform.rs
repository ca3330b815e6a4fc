//! The platform's server-to-server booking API.

use axum::{
    Json, Router,
    extract::{Path, State},
    routing::put,
};
use omw_domain::{BookingStatus, BookingUpdate};

use super::{JsonBody, error::PlatformRefused, extract::Platform};
use crate::{
    http::state::AppState,
    service::ServiceError,
    wire::{
        reply::{BookingReply, ErrorReply},
        request::BookingPut,
    },
};

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/platform/bookings/{booking_id}",
        put(put_booking).get(get_booking),
    )
}

/// The booking as the platform has it now: opens the chat on acceptance, closes it on
/// completion or cancellation.
#[utoipa::path(put, path = "/api/v1/platform/bookings/{booking_id}", tag = "platform",
    security(("platformKey" = [])),
    params(("booking_id" = String, Path, description = "The platform's booking id")),
    request_body = BookingPut,
    responses(
        (status = 200, description = "Applied", body = BookingReply),
        (status = 400, description = "invalid_payload", body = ErrorReply),
        PlatformRefused,
        (status = 409, description = "conflict: a transition the booking cannot make", body = ErrorReply),
    ),
)]
pub(super) async fn put_booking(
    _: Platform,
    State(s): State<AppState>,
    Path(booking_id): Path<String>,
    JsonBody(body): JsonBody<BookingPut>,
) -> Result<Json<BookingReply>, ServiceError> {
    let status = BookingStatus::parse(&body.status).ok_or_else(|| {
        ServiceError::invalid("status must be one of requested, accepted, en_route, in_progress, completed, cancelled")
    })?;
    let starts_at = body
        .starts_at
        .as_deref()
        .map(|t| {
            chrono::DateTime::parse_from_rfc3339(t.trim())
                .map(|t| t.timestamp_millis())
                .map_err(|_| ServiceError::invalid("starts_at must be an RFC 3339 time"))
        })
        .transpose()?;
    let update = BookingUpdate {
        customer: body.customer,
        worker: body.worker,
        status,
        starts_at,
        region: body.region,
    };
    let applied = s.chats.apply_booking(&booking_id, update).await?;
    Ok(Json(BookingReply {
        booking: applied.booking,
        chat: applied.chat,
    }))
}

/// A booking and its chat, as this service knows them.
#[utoipa::path(get, path = "/api/v1/platform/bookings/{booking_id}", tag = "platform",
    security(("platformKey" = [])),
    params(("booking_id" = String, Path, description = "The platform's booking id")),
    responses(
        (status = 200, description = "OK", body = BookingReply),
        PlatformRefused,
        (status = 404, description = "not_found", body = ErrorReply),
    ),
)]
pub(super) async fn get_booking(
    _: Platform,
    State(s): State<AppState>,
    Path(booking_id): Path<String>,
) -> Result<Json<BookingReply>, ServiceError> {
    let (booking, chat) = s.chats.booking_and_chat(&booking_id).await?;
    let booking = booking.ok_or_else(|| ServiceError::not_found("booking not found"))?;
    Ok(Json(BookingReply { booking, chat }))
}
