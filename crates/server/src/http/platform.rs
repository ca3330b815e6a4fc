//! The platform's server-to-server booking API.

use axum::{
    Json, Router,
    extract::{Path, State},
    routing::put,
};
use omw_domain::{BookingStatus, BookingUpdate};

use super::{JsonBody, extract::Platform};
use crate::{
    http::state::AppState,
    service::ServiceError,
    wire::{reply::BookingReply, request::BookingPut},
};

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/platform/bookings/{booking_id}",
        put(put_booking).get(get_booking),
    )
}

async fn put_booking(
    _: Platform,
    State(s): State<AppState>,
    Path(booking_id): Path<String>,
    JsonBody(body): JsonBody<BookingPut>,
) -> Result<Json<BookingReply>, ServiceError> {
    let status = BookingStatus::parse(&body.status).ok_or_else(|| {
        ServiceError::invalid("status must be one of requested, accepted, en_route, in_progress, completed, cancelled")
    })?;
    let update = BookingUpdate {
        customer: body.customer,
        worker: body.worker,
        status,
    };
    let applied = s.chats.apply_booking(&booking_id, update).await?;
    Ok(Json(BookingReply {
        booking: applied.booking,
        chat: applied.chat,
    }))
}

async fn get_booking(
    _: Platform,
    State(s): State<AppState>,
    Path(booking_id): Path<String>,
) -> Result<Json<BookingReply>, ServiceError> {
    let (booking, chat) = s.chats.booking_and_chat(&booking_id).await?;
    let booking = booking.ok_or_else(|| ServiceError::not_found("booking not found"))?;
    Ok(Json(BookingReply { booking, chat }))
}
