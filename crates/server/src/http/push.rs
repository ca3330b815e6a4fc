//! Web Push subscriptions (SPEC §9.2): the server's VAPID key, and a user's own subscriptions.

use axum::{Json, Router, extract::State, http::StatusCode, routing::get};

use super::{AuthUser, JsonBody, error::Unauthenticated};
use crate::{
    http::state::AppState,
    service::{ServiceError, push::NewSubscription},
    wire::{
        reply::{ErrorReply, VapidPublicKey},
        request::{PushSubscriptionRequest, PushUnsubscribe},
    },
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/push/vapid-public-key", get(vapid_public_key))
        .route(
            "/push/subscriptions",
            axum::routing::post(subscribe).delete(unsubscribe),
        )
}

/// The server's VAPID public key, for `pushManager.subscribe({ applicationServerKey })`.
#[utoipa::path(get, path = "/api/v1/push/vapid-public-key", tag = "push",
    responses((status = 200, description = "OK", body = VapidPublicKey)),
)]
pub(super) async fn vapid_public_key(State(s): State<AppState>) -> Json<VapidPublicKey> {
    Json(VapidPublicKey {
        key: s.chats.push().vapid().public_key().to_owned(),
    })
}

/// Store a push subscription of the caller's browser or device. The same endpoint again
/// replaces its keys; a user keeps their 10 newest.
#[utoipa::path(post, path = "/api/v1/push/subscriptions", tag = "push",
    security(("bearerJwt" = [])),
    request_body = PushSubscriptionRequest,
    responses(
        (status = 201, description = "stored"),
        (status = 400, description = "invalid_payload", body = ErrorReply),
        Unauthenticated,
    ),
)]
pub(super) async fn subscribe(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    JsonBody(body): JsonBody<PushSubscriptionRequest>,
) -> Result<StatusCode, ServiceError> {
    let sub = NewSubscription {
        endpoint: body.endpoint,
        p256dh: body.keys.p256dh,
        auth: body.keys.auth,
    };
    s.chats.push().subscribe(&who, sub).await?;
    Ok(StatusCode::CREATED)
}

/// Delete one of the caller's subscriptions (idempotent; another user's is never touched).
#[utoipa::path(delete, path = "/api/v1/push/subscriptions", tag = "push",
    security(("bearerJwt" = [])),
    request_body = PushUnsubscribe,
    responses(
        (status = 204, description = "gone"),
        (status = 400, description = "invalid_payload", body = ErrorReply),
        Unauthenticated,
    ),
)]
pub(super) async fn unsubscribe(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    JsonBody(body): JsonBody<PushUnsubscribe>,
) -> Result<StatusCode, ServiceError> {
    s.chats.push().unsubscribe(&who, &body.endpoint).await?;
    Ok(StatusCode::NO_CONTENT)
}
