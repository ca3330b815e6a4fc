//! The OpenAPI document of the HTTP API, generated from the handlers' annotations and the wire
//! types (`crate::wire`). Served at `/api/v1/openapi.json`; a copy is checked in at
//! `docs/openapi.json` and a test fails when that copy is stale (`scripts/contract` rewrites it).

use std::{collections::BTreeMap, sync::LazyLock};

use utoipa::{
    Modify, OpenApi,
    openapi::{
        self, AllOf, Object, RefOr, Schema,
        schema::{AdditionalProperties, Type},
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};

use super::{attachments, chats, health, holds, metrics, platform, push, transcripts};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "omw-chat",
        description = "Real-time chat for active service bookings. The Socket.IO events are in \
                       docs/protocol.md; their payload types are generated into the web client \
                       (web/packages/client/src/contract.ts).",
        license(name = "MIT"),
    ),
    paths(
        chats::list_chats,
        chats::get_chat,
        chats::chat_by_booking,
        chats::messages,
        chats::send,
        chats::mark_read,
        attachments::upload,
        attachments::file_route,
        attachments::thumb_route,
        push::vapid_public_key,
        push::subscribe,
        push::unsubscribe,
        platform::put_booking,
        holds::place,
        holds::release,
        transcripts::transcript,
        transcripts::key,
        platform::get_booking,
        health::healthz,
        health::readyz,
        metrics::render,
    ),
    modifiers(&Security, &Closed),
)]
struct Api;

/// The two ways in: a user's JWT, and the platform's API key.
struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        let bearer = |format: Option<&str>, description: &str| {
            let mut http = HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(description));
            if let Some(f) = format {
                http = http.bearer_format(f);
            }
            SecurityScheme::Http(http.build())
        };
        components.add_security_scheme(
            "bearerJwt",
            bearer(Some("JWT"), "A user's token, signed by the platform"),
        );
        components.add_security_scheme("platformKey", bearer(None, "PLATFORM_API_KEY"));
    }
}

/// Every object of the contract is closed (`additionalProperties: false`): a field the document
/// does not name is a change of the contract, and the response tests catch it. A type that
/// flattens another (`ChatListItem` is a `Chat` and two more fields) comes out of utoipa as an
/// `allOf`, which a closed part would refuse; it is merged into one object first.
struct Closed;

impl Modify for Closed {
    fn modify(&self, doc: &mut openapi::OpenApi) {
        let Some(components) = doc.components.as_mut() else {
            return;
        };
        let merged: Vec<(String, Object)> = components
            .schemas
            .iter()
            .filter_map(|(name, schema)| match schema {
                RefOr::T(Schema::AllOf(all)) => {
                    Some((name.clone(), merge(all, &components.schemas)?))
                }
                _ => None,
            })
            .collect();
        for (name, object) in merged {
            components
                .schemas
                .insert(name, RefOr::T(Schema::Object(object)));
        }
        for schema in components.schemas.values_mut() {
            if let RefOr::T(Schema::Object(o)) = schema
                && !o.properties.is_empty()
            {
                o.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
            }
        }
    }
}

/// The parts of an `allOf` of objects (inline or by reference) as one object.
fn merge(all: &AllOf, schemas: &BTreeMap<String, RefOr<Schema>>) -> Option<Object> {
    let mut out = Object::with_type(Type::Object);
    out.description = all.description.clone();
    for item in &all.items {
        let part = match item {
            RefOr::Ref(r) => schemas.get(r.ref_location.rsplit('/').next()?)?,
            inline => inline,
        };
        let RefOr::T(Schema::Object(o)) = part else {
            return None;
        };
        out.properties.extend(o.properties.clone());
        out.required.extend(o.required.iter().cloned());
    }
    Some(out)
}

static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    Api::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
});

/// The document as served (pretty JSON, with a final newline like the checked-in copy).
pub fn document() -> String {
    format!("{}\n", DOCUMENT.as_str())
}

pub(super) async fn serve() -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        document(),
    )
}
