//! The platform's server-to-server booking API.

use axum::{
    Json, Router,
    extract::{Path, State},
    routing::put,
};
use omw_domain::{Booking, BookingStatus, BookingUpdate, Chat, Party};
use serde::{Deserialize, Serialize};

use super::{
    JsonBody,
    extract::{Platform, nested_object},
};
use crate::{http::state::AppState, service::error::ServiceError};

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/platform/bookings/{booking_id}",
        put(put_booking).get(get_booking),
    )
}

#[derive(Deserialize)]
pub struct BookingBody {
    #[serde(deserialize_with = "nested_object")]
    customer: Party,
    #[serde(default, deserialize_with = "nested_object")]
    worker: Option<Party>,
    status: String,
}

#[derive(Serialize)]
pub struct BookingResponse {
    booking: Booking,
    chat: Option<Chat>,
}

async fn put_booking(
    _: Platform,
    State(s): State<AppState>,
    Path(booking_id): Path<String>,
    JsonBody(body): JsonBody<BookingBody>,
) -> Result<Json<BookingResponse>, ServiceError> {
    let status = BookingStatus::parse(&body.status).ok_or_else(|| {
        ServiceError::invalid("status must be one of requested, accepted, en_route, in_progress, completed, cancelled")
    })?;
    let update = BookingUpdate {
        customer: body.customer,
        worker: body.worker,
        status,
    };
    let applied = s.chats.apply_booking(&booking_id, update).await?;
    Ok(Json(BookingResponse {
        booking: applied.booking,
        chat: applied.chat,
    }))
}

async fn get_booking(
    _: Platform,
    State(s): State<AppState>,
    Path(booking_id): Path<String>,
) -> Result<Json<BookingResponse>, ServiceError> {
    let (booking, chat) = s.chats.booking_and_chat(&booking_id).await?;
    let booking = booking.ok_or_else(|| ServiceError::not_found("booking not found"))?;
    Ok(Json(BookingResponse { booking, chat }))
}
