//! Demo-only endpoints (`serve --demo`): mint tokens for the seeded users and move the booking
//! through its statuses. They do not exist without `--demo`.

use axum::{
    Json, Router,
    extract::State,
    routing::{get, post},
};
use omw_domain::{BookingStatus, BookingUpdate, Party, Role};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use super::JsonBody;
use crate::{
    http::state::{AppState, DemoState},
    service::ServiceError,
};

pub const CUSTOMER: (&str, &str) = ("demo-customer", "Alice Customer");
pub const WORKER: (&str, &str) = ("demo-worker", "Bob Worker");

fn party((id, name): (&str, &str)) -> Party {
    Party {
        id: id.into(),
        name: name.into(),
    }
}

fn update(status: BookingStatus) -> BookingUpdate {
    BookingUpdate {
        customer: party(CUSTOMER),
        worker: Some(party(WORKER)),
        status,
        starts_at: None,
        region: None,
    }
}

/// Seed an accepted booking, or a fresh one if the last run finished it.
pub async fn seed(state: &AppState) -> Result<DemoState, ServiceError> {
    let mut id = "demo-booking".to_string();
    if let (Some(b), _) = state.chats.booking_and_chat(&id).await?
        && b.status.is_final()
    {
        id = format!("demo-booking-{}", omw_domain::time::now_millis());
    }
    if state.chats.booking_and_chat(&id).await?.0.is_none() {
        state
            .chats
            .apply_booking(&id, update(BookingStatus::Accepted))
            .await?;
    }
    Ok(DemoState {
        booking_id: Mutex::new(id),
    })
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/demo/api/booking", get(booking))
        .route("/demo/api/token", post(token))
        .route("/demo/api/booking/status", post(set_status))
        .route("/demo/api/reset", post(reset))
}

fn demo(s: &AppState) -> Result<&DemoState, ServiceError> {
    s.demo
        .as_deref()
        .ok_or_else(|| ServiceError::not_found("demo mode is off"))
}

async fn booking_json(s: &AppState, id: &str) -> Result<Value, ServiceError> {
    let (booking, chat) = s.chats.booking_and_chat(id).await?;
    Ok(json!({ "booking": booking, "chat": chat }))
}

async fn booking(State(s): State<AppState>) -> Result<Json<Value>, ServiceError> {
    let id = demo(&s)?.booking_id.lock().await.clone();
    Ok(Json(booking_json(&s, &id).await?))
}

#[derive(Deserialize)]
struct TokenBody {
    role: Role,
}

async fn token(
    State(s): State<AppState>,
    JsonBody(body): JsonBody<TokenBody>,
) -> Result<Json<Value>, ServiceError> {
    demo(&s)?;
    let (id, name) = match body.role {
        Role::Customer => CUSTOMER,
        Role::Worker => WORKER,
    };
    let token = s
        .jwt
        .mint(id, body.role, Some(name), 12 * 3600)
        .map_err(|e| ServiceError::new(crate::service::error::ErrorCode::Unavailable, e))?;
    Ok(Json(
        json!({ "token": token, "user": { "id": id, "name": name, "role": body.role } }),
    ))
}

#[derive(Deserialize)]
struct StatusBody {
    status: String,
}

async fn set_status(
    State(s): State<AppState>,
    JsonBody(body): JsonBody<StatusBody>,
) -> Result<Json<Value>, ServiceError> {
    let id = demo(&s)?.booking_id.lock().await.clone();
    let status = BookingStatus::parse(&body.status)
        .ok_or_else(|| ServiceError::invalid("unknown status"))?;
    s.chats.apply_booking(&id, update(status)).await?;
    Ok(Json(booking_json(&s, &id).await?))
}

async fn reset(State(s): State<AppState>) -> Result<Json<Value>, ServiceError> {
    let d = demo(&s)?;
    let id = format!("demo-booking-{}", omw_domain::time::now_millis());
    s.chats
        .apply_booking(&id, update(BookingStatus::Accepted))
        .await?;
    *d.booking_id.lock().await = id.clone();
    Ok(Json(booking_json(&s, &id).await?))
}
