//! Uploads (multipart, streamed under a byte limit) and private downloads.

use axum::{
    Json, Router,
    body::Body,
    extract::{DefaultBodyLimit, Multipart, Path, State, multipart::MultipartRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use object_store::GetRange;
use serde_json::json;
use tokio::io::AsyncWriteExt;

use super::AuthUser;
use crate::{
    attachments::{self, Received},
    error::{ApiError, ErrorCode},
    state::AppState,
};

/// Room for the multipart framing around the file itself.
const MULTIPART_OVERHEAD: u64 = 64 * 1024;

pub fn routes(max_upload: u64) -> Router<AppState> {
    let body_limit = usize::try_from(max_upload + MULTIPART_OVERHEAD).unwrap_or(usize::MAX);
    Router::new()
        .route(
            "/chats/{chat_id}/attachments",
            post(upload).layer(DefaultBodyLimit::max(body_limit)),
        )
        .route("/attachments/{id}", get(download))
        .route("/attachments/{id}/thumb", get(thumbnail))
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(ErrorCode::PayloadTooLarge, "upload too large")
    } else {
        ApiError::invalid(format!("multipart body: {}", e.body_text()))
    }
}

async fn upload(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Path(chat_id): Path<String>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let max = s.config.max_upload_bytes;
    // A declared length past the limit is refused before reading anything.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max + MULTIPART_OVERHEAD) {
        return Err(attachments::too_large(max));
    }
    // Authorize before reading the body: outsiders do not get to fill our disk.
    let chat = s.chats.member_chat(&who, &chat_id).await?;
    if !chat.is_active() {
        return Err(ApiError::new(ErrorCode::ChatClosed, "this chat is closed"));
    }
    let mut multipart = multipart.map_err(|_| {
        ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "expected a multipart/form-data body with a `file` field",
        )
    })?;
    let tmp_dir = s.config.upload_dir.join("tmp");
    tokio::fs::create_dir_all(&tmp_dir)
        .await
        .map_err(|_| ApiError::internal())?;
    let mut received: Option<Received> = None;
    let mut duration_hint_ms = None;
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        match field.name() {
            Some("file") if received.is_none() => {
                let name = field.file_name().unwrap_or("file").to_string();
                let file =
                    tempfile::NamedTempFile::new_in(&tmp_dir).map_err(|_| ApiError::internal())?;
                let mut out =
                    tokio::fs::File::from_std(file.reopen().map_err(|_| ApiError::internal())?);
                let mut size = 0u64;
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    attachments::append(&mut out, &mut size, &chunk, max).await?;
                }
                out.flush().await.map_err(|_| ApiError::internal())?;
                received = Some(Received {
                    file,
                    size,
                    name,
                    duration_hint_ms: None,
                });
            }
            Some("duration_ms") => {
                let text = field.text().await.map_err(multipart_error)?;
                duration_hint_ms = text
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|d| (0..=3_600_000).contains(d));
            }
            _ => {}
        }
    }
    let mut received =
        received.ok_or_else(|| ApiError::invalid("multipart field `file` is required"))?;
    received.duration_hint_ms = duration_hint_ms;
    let attachment = s.chats.store_upload(&who, &chat_id, received).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "attachment": attachment })),
    ))
}

async fn download(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let rec = s.chats.attachment_for(&who, &id).await?;
    serve(&s, &rec.storage_key, &rec.mime, Some(&rec.name), &headers).await
}

async fn thumbnail(
    State(s): State<AppState>,
    AuthUser(who): AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let rec = s.chats.attachment_for(&who, &id).await?;
    let key = rec
        .thumb_key
        .ok_or_else(|| ApiError::not_found("this attachment has no thumbnail"))?;
    serve(&s, &key, "image/jpeg", None, &headers).await
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
            (b >= a).then(|| GetRange::Bounded(a..b + 1))
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
    key: &str,
    mime: &str,
    name: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let range = parse_range(headers);
    let ranged = range.is_some();
    let file = match s.chats.files.get(key, range).await {
        Ok(f) => f,
        Err(object_store::Error::NotFound { .. }) => {
            return Err(ApiError::not_found("attachment not found"));
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
            return Err(ApiError::new(
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
        .header(header::CACHE_CONTROL, "private, max-age=3600")
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
        .map_err(|_| ApiError::internal())?;
    res.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("authorization"));
    Ok(res)
}
