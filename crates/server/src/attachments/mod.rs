//! Uploads: streamed to a temporary file under a byte limit, typed by content, sanitized
//! (images re-encoded without metadata, with a thumbnail), then stored under a random key.

pub mod audio;
pub mod image;
pub mod name;
pub mod sniff;

use std::path::Path;

use omw_domain::{Attachment, Principal, time::now_millis};
use omw_storage::{AttachmentRecord, NewAttachment};
use tokio::io::AsyncWriteExt;

use crate::{
    error::{ApiError, ErrorCode},
    service::ChatService,
};

/// A file received from a client, waiting in a temporary file.
pub struct Received {
    pub file: tempfile::NamedTempFile,
    pub size: u64,
    pub name: String,
    pub duration_hint_ms: Option<i64>,
}

pub fn too_large(max: u64) -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!("files are limited to {max} bytes"),
    )
}

pub fn unsupported(what: &str) -> ApiError {
    ApiError::new(
        ErrorCode::UnsupportedMediaType,
        format!(
            "{what}: only images (JPEG, PNG, GIF, WebP), PDF, documents (DOCX, XLSX, PPTX, ODT, TXT) \
             and audio (WebM/Opus, Ogg, MP3, M4A/AAC, WAV) are accepted"
        ),
    )
}

/// Append a chunk to the temporary file, refusing past `max` bytes.
pub async fn append(
    out: &mut tokio::fs::File,
    size: &mut u64,
    chunk: &[u8],
    max: u64,
) -> Result<(), ApiError> {
    *size += chunk.len() as u64;
    if *size > max {
        return Err(too_large(max));
    }
    out.write_all(chunk).await.map_err(|e| {
        tracing::error!(error = %e, "writing an upload to disk");
        ApiError::internal()
    })
}

/// What will be stored: the main file, maybe a thumbnail, and what a message shows of it.
struct Prepared {
    main: std::path::PathBuf,
    mime: String,
    size: u64,
    thumb: Option<Vec<u8>>,
    width: Option<i64>,
    height: Option<i64>,
    duration_ms: Option<i64>,
    _sanitized: Option<tempfile::NamedTempFile>,
}

fn prepare(received: &Received, kind: sniff::Kind) -> Result<Prepared, ApiError> {
    let path = received.file.path();
    match kind {
        sniff::Kind::Image(format) => {
            let img = image::sanitize(path, format).map_err(|e| {
                tracing::info!(error = %e, "image refused");
                unsupported(&format!("the image could not be read ({e})"))
            })?;
            let mut out = tempfile::NamedTempFile::new_in(path.parent().unwrap_or(Path::new(".")))
                .map_err(|_| ApiError::internal())?;
            std::io::Write::write_all(&mut out, &img.bytes).map_err(|_| ApiError::internal())?;
            Ok(Prepared {
                main: out.path().to_path_buf(),
                size: img.bytes.len() as u64,
                mime: img.mime.to_string(),
                thumb: Some(img.thumb),
                width: Some(i64::from(img.width)),
                height: Some(i64::from(img.height)),
                duration_ms: None,
                _sanitized: Some(out),
            })
        }
        // Audio and documents are stored as received.
        sniff::Kind::Audio(mime) | sniff::Kind::Document(mime) => Ok(Prepared {
            main: path.to_path_buf(),
            size: received.size,
            mime: mime.to_string(),
            thumb: None,
            width: None,
            height: None,
            duration_ms: matches!(kind, sniff::Kind::Audio(_))
                .then(|| audio::duration_ms(path, mime).or(received.duration_hint_ms))
                .flatten(),
            _sanitized: None,
        }),
    }
}

impl ChatService {
    /// Accept an upload into an active chat of `who`. The file has been received (within the
    /// size limit) but not yet checked.
    pub async fn store_upload(
        &self,
        who: &Principal,
        chat_id: &str,
        received: Received,
    ) -> Result<Attachment, ApiError> {
        let chat = self.member_chat(who, chat_id).await?;
        if !chat.is_active() {
            return Err(ApiError::new(ErrorCode::ChatClosed, "this chat is closed"));
        }
        if received.size == 0 {
            return Err(ApiError::invalid("the file is empty"));
        }
        let kind = sniff::classify(received.file.path()).await?;
        let received = std::sync::Arc::new(received);
        let prepared = {
            let r = received.clone();
            tokio::task::spawn_blocking(move || prepare(&r, kind))
                .await
                .map_err(|_| ApiError::internal())??
        };
        let id = uuid::Uuid::new_v4().to_string();
        let key = format!("files/{}/{}", chat.id, uuid::Uuid::new_v4());
        self.files
            .put_file(&key, &prepared.main)
            .await
            .map_err(storage_unavailable)?;
        let thumb_key = match &prepared.thumb {
            Some(bytes) => {
                let k = format!("thumbs/{}/{}", chat.id, uuid::Uuid::new_v4());
                self.files
                    .put_bytes(&k, bytes.clone())
                    .await
                    .map_err(storage_unavailable)?;
                Some(k)
            }
            None => None,
        };
        let record = NewAttachment {
            id: id.clone(),
            chat_id: chat.id.clone(),
            uploader_id: who.user_id.clone(),
            name: name::sanitize(&received.name),
            mime: prepared.mime.clone(),
            size: i64::try_from(prepared.size).unwrap_or(i64::MAX),
            storage_key: key,
            thumb_key,
            width: prepared.width,
            height: prepared.height,
            duration_ms: prepared.duration_ms,
            created_at: now_millis(),
        };
        self.store.insert_attachment(record.clone()).await?;
        metrics::counter!("omw_uploads_total").increment(1);
        Ok(AttachmentRecord::from(record).to_attachment())
    }

    /// An attachment's record, if `who` takes part in its chat.
    pub async fn attachment_for(
        &self,
        who: &Principal,
        id: &str,
    ) -> Result<AttachmentRecord, ApiError> {
        let rec = self
            .store
            .get_attachment(id)
            .await?
            .ok_or_else(|| ApiError::not_found("attachment not found"))?;
        // Not a participant: the same answer as a missing file, so ids cannot be probed.
        match self.member_chat(who, &rec.chat_id).await {
            Ok(_) => Ok(rec),
            Err(_) => Err(ApiError::not_found("attachment not found")),
        }
    }

    /// Remove uploads never sent in a message within `max_age`.
    pub async fn sweep_unlinked(&self, max_age: std::time::Duration) -> Result<usize, ApiError> {
        let before = now_millis() - i64::try_from(max_age.as_millis()).unwrap_or(i64::MAX);
        let mut n = 0;
        for rec in self.store.unlinked_attachments(before, 500).await? {
            if self.store.delete_unlinked_attachment(&rec.id).await? {
                for key in std::iter::once(&rec.storage_key).chain(rec.thumb_key.as_ref()) {
                    if let Err(e) = self.files.delete(key).await {
                        tracing::warn!(key, error = %e, "could not delete an unlinked upload");
                    }
                }
                n += 1;
            }
        }
        Ok(n)
    }
}

fn storage_unavailable(e: object_store::Error) -> ApiError {
    tracing::error!(error = %e, "file storage");
    ApiError::new(
        ErrorCode::Unavailable,
        "file storage is unavailable, try again",
    )
}
