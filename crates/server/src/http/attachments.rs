//! Uploads (multipart, streamed under a byte limit) and private downloads.

use axum::{
    Json, Router,
    body::Body,
    extract::{DefaultBodyLimit, FromRequestParts, Path, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use object_store::GetRange;
use tokio::io::AsyncWriteExt;

use super::{
    AuthUser,
    error::{Refused, WriteRefused},
    upload_form::{
        MULTIPART_OVERHEAD, SharedBody, TempFileSink, multipart_error, open_form, read_form,
    },
};
use crate::{
    http::state::AppState,
    service::error::{ErrorCode, ServiceError},
    service::uploads::{self as attachments, Received},
    wire::{
        reply::{AttachmentReply, ErrorReply},
        request::UploadForm,
    },
};

/// A refused upload's body is read and thrown away up to this many times the largest body
/// accepted, for at most `DRAIN_TIME` and while it keeps coming (`DRAIN_IDLE`): a client
/// (a browser's fetch) still sending when the connection closes sees a reset, not our answer.
/// Past that the answer goes out with `Connection: close` (`upload_form::DRAIN_TIME`,
/// `DRAIN_IDLE`).
const DRAIN_FACTOR: u64 = 4;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/chats/{chat_id}/attachments",
            // The handler counts the body itself (it must be able to read past the limit to
            // answer cleanly).
            post(upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/attachments/{id}", get(download::<FILE>))
        .route("/attachments/{id}/thumb", get(download::<THUMB>))
}

/// Every refusal, early (401, 403, 413 from the declared length, 409) or late, is answered only
/// after the body has been read (within bounds), so that the client receives it.
#[utoipa::path(post, path = "/api/v1/chats/{chat_id}/attachments", tag = "attachments",
    summary = "Upload a file (typed by its content)",
    security(("bearerJwt" = [])),
    params(("chat_id" = String, Path, description = "The chat")),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored", body = AttachmentReply),
        Refused,
        WriteRefused,
        (status = 413, description = "payload_too_large: over MAX_UPLOAD_BYTES, the unsent-upload quotas (UPLOAD_QUOTA_USER_BYTES, UPLOAD_QUOTA_CHAT_BYTES) or MAX_GIF_PIXELS", body = ErrorReply),
        (status = 415, description = "unsupported_media_type", body = ErrorReply),
    ),
)]
pub(super) async fn upload(State(s): State<AppState>, req: Request) -> Response {
    let max = s.config.max_upload_bytes;
    let body_limit = max + MULTIPART_OVERHEAD;
    let (mut parts, body) = req.into_parts();
    let body = SharedBody::new(body, body_limit);
    // A declared length past what would be drained: answered at once, and the connection
    // closed, rather than reading it.
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let drain_max = body_limit.saturating_mul(DRAIN_FACTOR);
    let result = match declared {
        Some(n) if n > drain_max => Err(attachments::too_large(max)),
        _ => accept(&s, &mut parts, body.clone(), declared).await,
    };
    match result {
        Ok(body) => (StatusCode::CREATED, Json(body)).into_response(),
        Err(e) => {
            let drained = declared.is_none_or(|n| n <= drain_max) && body.drain(drain_max).await;
            let mut res = e.into_response();
            if !drained {
                res.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            res
        }
    }
}

async fn accept(
    s: &AppState,
    parts: &mut axum::http::request::Parts,
    body: SharedBody,
    declared: Option<u64>,
) -> Result<AttachmentReply, ServiceError> {
    let max = s.config.max_upload_bytes;
    let AuthUser(who) = AuthUser::from_request_parts(parts, s).await?;
    let Path(chat_id) = Path::<String>::from_request_parts(parts, s)
        .await
        .map_err(|e| ServiceError::invalid(e.body_text()))?;
    // A declared length past the limit is refused before reading anything.
    if declared.is_some_and(|n| n > max + MULTIPART_OVERHEAD) {
        return Err(attachments::too_large(max));
    }
    s.chats.admit_upload(&who, &chat_id).await?;
    let tmp_dir = s.config.upload_dir.join("tmp");
    tokio::fs::create_dir_all(&tmp_dir)
        .await
        .map_err(|_| ServiceError::internal())?;
    let mut multipart = open_form(&body, parts, s).await?;
    let mut sink = TempFileSink {
        dir: tmp_dir,
        max,
        file: None,
    };
    let duration_hint_ms =
        read_form(&mut multipart, &mut sink, |e| multipart_error(e, &body)).await?;
    drop(multipart);
    let (file, mut out, name, size) = sink
        .file
        .ok_or_else(|| ServiceError::invalid("multipart field `file` is required"))?;
    out.flush().await.map_err(|_| ServiceError::internal())?;
    let received = Received {
        file,
        size,
        name,
        duration_hint_ms,
    };
    let attachment = s.chats.store_upload(&who, &chat_id, received).await?;
    Ok(AttachmentReply { attachment })
}

/// `download::<THUMB>` serves an attachment's JPEG thumbnail, `download::<FILE>` the file: the
/// two routes differ in nothing else.
const FILE: bool = false;
const THUMB: bool = true;

/// Download a file (participants only; `Range` supported). The OpenAPI operation of
/// `download::<FILE>`: one generic handler serves both routes, so each route's documentation
/// sits on a marker of its own.
#[utoipa::path(get, path = "/api/v1/attachments/{id}", tag = "attachments",
    security(("bearerJwt" = [])),
    params(("id" = String, Path, description = "The attachment")),
    responses(
        (status = 200, description = "The file"),
        (status = 206, description = "A byte range"),
        (status = 401, description = "unauthorized", body = ErrorReply),
        (status = 404, description = "not_found", body = ErrorReply),
    ),
)]
#[allow(dead_code, reason = "a marker for the OpenAPI derive, never called")]
pub(super) fn file_route() {}

/// An image's JPEG thumbnail (`download::<THUMB>`).
#[utoipa::path(get, path = "/api/v1/attachments/{id}/thumb", tag = "attachments",
    security(("bearerJwt" = [])),
    params(("id" = String, Path, description = "The attachment")),
    responses(
        (status = 200, description = "The thumbnail", content_type = "image/jpeg"),
        (status = 401, description = "unauthorized", body = ErrorReply),
        (status = 404, description = "not_found", body = ErrorReply),
    ),
)]
#[allow(dead_code, reason = "a marker for the OpenAPI derive, never called")]
pub(super) fn thumb_route() {}

async fn download<const THUMBNAIL: bool>(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ServiceError> {
    let rec = s.chats.attachment_for(&who, &id).await?.upload;
    if THUMBNAIL {
        if rec.thumb_key.is_none() {
            return Err(ServiceError::not_found("this attachment has no thumbnail"));
        }
        return serve(&s, &rec, THUMB, "image/jpeg", None, &headers).await;
    }
    serve(&s, &rec, FILE, &rec.mime, Some(&rec.name), &headers).await
}

/// `bytes=a-b`, `bytes=a-`, `bytes=-n` (one range).
fn parse_range(headers: &HeaderMap) -> Option<GetRange> {
    let v = headers
        .get(header::RANGE)?
        .to_str()
        .ok()?
        .strip_prefix("bytes=")?;
    let (a, b) = v.split_once('-')?;
    match (a.trim(), b.trim()) {
        ("", n) => n.parse().ok().map(GetRange::Suffix),
        (a, "") => a.parse().ok().map(GetRange::Offset),
        (a, b) => {
            let (a, b): (u64, u64) = (a.parse().ok()?, b.parse().ok()?);
            (b >= a).then_some(GetRange::Bounded(a..b.saturating_add(1)))
        }
    }
}

fn content_disposition(mime: &str, name: Option<&str>) -> String {
    let inline = mime.starts_with("image/") || mime.starts_with("audio/");
    let kind = if inline { "inline" } else { "attachment" };
    let Some(name) = name else {
        return kind.to_string();
    };
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

async fn serve(
    s: &AppState,
    upload: &omw_storage::NewAttachment,
    thumbnail: bool,
    mime: &str,
    name: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response, ServiceError> {
    let range = parse_range(headers);
    let ranged = range.is_some();
    let file = match s.chats.file(upload, thumbnail, range).await {
        Ok(f) => f,
        Err(object_store::Error::NotFound { .. }) => {
            return Err(ServiceError::not_found("attachment not found"));
        }
        // A sealed file that does not open (altered or moved in storage), or its key.
        Err(
            e @ object_store::Error::Generic {
                store: "seal" | "keys",
                ..
            },
        ) => {
            tracing::error!(attachment = %upload.id, error = %e, "a stored file does not open");
            return Err(ServiceError::internal());
        }
        Err(e) if ranged => {
            tracing::debug!(error = %e, "bad range");
            return Ok((
                StatusCode::RANGE_NOT_SATISFIABLE,
                [(header::CONTENT_RANGE, "bytes */*")],
            )
                .into_response());
        }
        Err(e) => {
            tracing::error!(error = %e, "reading a stored file");
            return Err(ServiceError::new(
                ErrorCode::Unavailable,
                "file storage is unavailable",
            ));
        }
    };
    let status = if ranged {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let mut res = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, mime)
        .header(header::CONTENT_LENGTH, file.range.end - file.range.start)
        .header(header::ACCEPT_RANGES, "bytes")
        .header("x-content-type-options", "nosniff")
        .header(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; sandbox",
        )
        // Never kept by the browser: a deleted chat's media must not live on in a cache.
        .header(header::CACHE_CONTROL, "private, no-store")
        .header(header::CONTENT_DISPOSITION, content_disposition(mime, name));
    if ranged {
        res = res.header(
            header::CONTENT_RANGE,
            format!(
                "bytes {}-{}/{}",
                file.range.start,
                file.range.end.saturating_sub(1),
                file.size
            ),
        );
    }
    let mut res = res
        .body(Body::from_stream(file.body))
        .map_err(|_| ServiceError::internal())?;
    res.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("authorization"));
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(value: &str) -> Option<GetRange> {
        let mut headers = HeaderMap::new();
        headers.insert(header::RANGE, HeaderValue::from_str(value).unwrap());
        parse_range(&headers)
    }

    #[test]
    fn ranges_parse_at_and_past_their_edges() {
        assert_eq!(range("bytes=0-0"), Some(GetRange::Bounded(0..1)));
        assert_eq!(range("bytes=5-"), Some(GetRange::Offset(5)));
        assert_eq!(range("bytes=-7"), Some(GetRange::Suffix(7)));
        assert_eq!(range("bytes=3-2"), None, "end before start");
        assert_eq!(
            range("bytes=0-18446744073709551615"),
            Some(GetRange::Bounded(0..u64::MAX)),
            "the last possible byte does not overflow"
        );
        assert_eq!(range("bytes=0-18446744073709551616"), None);
        assert_eq!(range("items=0-1"), None);
    }
}
