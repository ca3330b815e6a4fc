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
use crate::{error::ApiError, state::AppState};

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
) -> Result<Json<BookingResponse>, ApiError> {
    let status = BookingStatus::parse(&body.status).ok_or_else(|| {
        ApiError::invalid("status must be one of requested, accepted, en_route, in_progress, completed, cancelled")
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
) -> Result<Json<BookingResponse>, ApiError> {
    let store = &s.chats.store;
    let booking = store
        .get_booking(&booking_id)
        .await?
        .ok_or_else(|| ApiError::not_found("booking not found"))?;
    let chat = store.get_chat_by_booking(&booking_id).await?;
    Ok(Json(BookingResponse { booking, chat }))
}
