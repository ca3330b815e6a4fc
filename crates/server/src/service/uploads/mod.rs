//! Uploads: streamed to a temporary file under a byte limit, typed by content (`sniff`),
//! sanitized (`image`: re-encoded without metadata, with a thumbnail; decoding admitted within a
//! memory budget by `gate`), audio durations read (`audio`), names cleaned (`name`), then
//! stored under a random key.

pub mod audio;
pub mod gate;
pub mod image;
pub mod name;
#[cfg(test)]
mod robustness;
pub mod sniff;

use std::path::Path;

use omw_domain::{Attachment, Principal, time::now_millis};
use omw_storage::{Admission, AttachmentRecord, NewAttachment};
use tokio::io::AsyncWriteExt;

use super::{ChatService, ErrorCode, ServiceError};

/// A file received from a client, waiting in a temporary file.
pub struct Received {
    pub file: tempfile::NamedTempFile,
    pub size: u64,
    pub name: String,
    pub duration_hint_ms: Option<i64>,
}

pub fn too_large(max: u64) -> ServiceError {
    ServiceError::new(
        ErrorCode::PayloadTooLarge,
        format!("files are limited to {max} bytes"),
    )
}

pub fn unsupported(what: &str) -> ServiceError {
    ServiceError::new(
        ErrorCode::UnsupportedMediaType,
        format!(
            "{what}: only images (JPEG, PNG, GIF, WebP), PDF, documents (DOCX, XLSX, PPTX, ODT, TXT) \
             and audio (WebM/Opus, Ogg, MP3, M4A/AAC, WAV) are accepted"
        ),
    )
}

/// Append a chunk to the temporary file, refusing past `max` bytes.
pub async fn append(
    out: &mut (impl tokio::io::AsyncWrite + Unpin),
    size: &mut u64,
    chunk: &[u8],
    max: u64,
) -> Result<(), ServiceError> {
    *size += chunk.len() as u64;
    if *size > max {
        return Err(too_large(max));
    }
    out.write_all(chunk).await.map_err(|e| {
        tracing::error!(error = %e, "writing an upload to disk");
        ServiceError::internal()
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

fn refused(e: image::Refusal) -> ServiceError {
    match e {
        image::Refusal::Unreadable(e) => {
            tracing::info!(error = %e, "image refused");
            unsupported(&format!("the image could not be read ({e})"))
        }
        image::Refusal::TooLarge(e) => {
            tracing::info!(error = %e, "image refused");
            ServiceError::new(
                ErrorCode::PayloadTooLarge,
                format!("the image is too large to process: {e}"),
            )
        }
    }
}

fn prepare_image(
    path: &Path,
    format: sniff::ImageFormat,
    max_alloc: u64,
    gif_budget: u64,
) -> Result<Prepared, ServiceError> {
    let img = image::sanitize(path, format, max_alloc, gif_budget).map_err(refused)?;
    let mut out = tempfile::NamedTempFile::new_in(path.parent().unwrap_or(Path::new(".")))
        .map_err(|_| ServiceError::internal())?;
    std::io::Write::write_all(&mut out, &img.bytes).map_err(|_| ServiceError::internal())?;
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

/// Audio and documents are stored as received.
fn prepare_as_is(received: &Received, mime: &'static str, audio: bool) -> Prepared {
    let path = received.file.path();
    Prepared {
        main: path.to_path_buf(),
        size: received.size,
        mime: mime.to_string(),
        thumb: None,
        width: None,
        height: None,
        duration_ms: audio
            .then(|| audio::duration_ms(path, mime).or(received.duration_hint_ms))
            .flatten(),
        _sanitized: None,
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ServiceError> + Send + 'static,
) -> Result<T, ServiceError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| ServiceError::internal())?
}

/// An upload checked and copied into storage, not yet recorded (see
/// [`ChatService::commit_upload`]).
pub struct Staged {
    record: NewAttachment,
    _received: std::sync::Arc<Received>,
    _prepared: Prepared,
}

fn quota_exceeded(what: &str, quota: u64) -> ServiceError {
    ServiceError::new(
        ErrorCode::PayloadTooLarge,
        format!(
            "{what} unsent uploads are limited to {quota} bytes: send or wait for the ones \
             already uploaded"
        ),
    )
}

impl ChatService {
    /// A stored file (or a byte range of it) of `upload`: its own, or its `thumbnail`. A
    /// sealed one is opened with its chat's key; once the chat's deletion has begun it is not
    /// found.
    pub async fn file(
        &self,
        upload: &NewAttachment,
        thumbnail: bool,
        range: Option<object_store::GetRange>,
    ) -> Result<crate::files::Download, object_store::Error> {
        let key = if thumbnail {
            upload
                .thumb_key
                .as_deref()
                .ok_or_else(|| object_store::Error::NotFound {
                    path: upload.id.clone(),
                    source: "no thumbnail".into(),
                })?
        } else {
            &upload.storage_key
        };
        let seal = if upload.sealed {
            match self.store.file_key(&upload.chat_id).await {
                Ok(Some(k)) => Some(k.for_item(&sealed_item(&upload.id, thumbnail))),
                Ok(None) | Err(omw_storage::StoreError::KeyDestroyed(_)) => {
                    return Err(object_store::Error::NotFound {
                        path: key.to_owned(),
                        source: "the chat's key is gone".into(),
                    });
                }
                Err(e) => {
                    return Err(object_store::Error::Generic {
                        store: "keys",
                        source: Box::new(e),
                    });
                }
            }
        } else {
            None
        };
        self.files.get(key, range, seal.as_ref()).await
    }

    /// Before an upload's body is read: counted against the rate limit, from a participant of
    /// an open chat, within the quotas. Outsiders do not get to fill the disk.
    pub async fn admit_upload(&self, who: &Principal, chat_id: &str) -> Result<(), ServiceError> {
        self.limits.event(who).await?;
        self.member_chat(who, chat_id).await?.ensure_writable()?;
        self.check_upload_quota(who, chat_id).await
    }

    /// Accept an upload into an active chat of `who`. The file has been received (within the
    /// size limit) but not yet checked.
    pub async fn store_upload(
        &self,
        who: &Principal,
        chat_id: &str,
        received: Received,
    ) -> Result<Attachment, ServiceError> {
        let staged = self.stage_upload(who, chat_id, received).await?;
        self.commit_upload(staged).await
    }

    /// Refuse at once when `who`'s or the chat's unsent uploads already fill their quota
    /// (before any of the body is kept). The exact check is [`Self::commit_upload`]'s.
    async fn check_upload_quota(&self, who: &Principal, chat_id: &str) -> Result<(), ServiceError> {
        let (user, chat) = self
            .store
            .unsent_upload_bytes(&who.user_id, chat_id)
            .await?;
        let q = &self.uploads;
        if u64::try_from(user).unwrap_or(0) >= q.quota_user_bytes {
            return Err(quota_exceeded("your", q.quota_user_bytes));
        }
        if u64::try_from(chat).unwrap_or(0) >= q.quota_chat_bytes {
            return Err(quota_exceeded("this chat's", q.quota_chat_bytes));
        }
        Ok(())
    }

    /// Type, sanitize and copy an upload into storage under fresh keys.
    pub async fn stage_upload(
        &self,
        who: &Principal,
        chat_id: &str,
        received: Received,
    ) -> Result<Staged, ServiceError> {
        let chat = self.member_chat(who, chat_id).await?;
        chat.ensure_writable()?;
        if received.size == 0 {
            return Err(ServiceError::invalid("the file is empty"));
        }
        let kind = sniff::classify(received.file.path()).await?;
        let received = std::sync::Arc::new(received);
        let prepared = match kind {
            sniff::Kind::Image(format) => {
                let path = received.file.path().to_path_buf();
                let (w, h) = {
                    let path = path.clone();
                    blocking(move || image::probe(&path).map_err(refused)).await?
                };
                // Decoding waits its turn; the header read above is cheap.
                let permit = self
                    .decodes
                    .enter(image::memory_estimate(format, w, h))
                    .await?;
                let budget = self.uploads.max_gif_pixels;
                let prepared =
                    blocking(move || prepare_image(&path, format, permit.bytes, budget)).await;
                prepared?
            }
            sniff::Kind::Audio(mime) => prepare_as_is(&received, mime, true),
            sniff::Kind::Document(mime) => prepare_as_is(&received, mime, false),
        };
        // Sealed with the chat's key when it has one (SPEC §9.6), bound to the attachment.
        let id = uuid::Uuid::new_v4().to_string();
        let seal = self.store.file_key(&chat.id).await?;
        let seal_as = |thumbnail| {
            seal.as_ref()
                .map(|k| k.for_item(&sealed_item(&id, thumbnail)))
        };
        let key = format!("files/{}/{}", chat.id, uuid::Uuid::new_v4());
        self.files
            .put_file(&key, &prepared.main, seal_as(false).as_ref())
            .await
            .map_err(storage_unavailable)?;
        let thumb_key = match &prepared.thumb {
            Some(bytes) => {
                let k = format!("thumbs/{}/{}", chat.id, uuid::Uuid::new_v4());
                let sealed = seal_as(true);
                if let Err(e) = self
                    .files
                    .put_bytes(&k, bytes.clone(), sealed.as_ref())
                    .await
                {
                    self.delete_files(vec![key]).await;
                    return Err(storage_unavailable(e));
                }
                Some(k)
            }
            None => None,
        };
        let record = NewAttachment {
            id,
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
            sealed: seal.is_some(),
        };
        Ok(Staged {
            record,
            _received: received,
            _prepared: prepared,
        })
    }

    /// Record a staged upload, or delete its files. The row goes in only while the chat is
    /// open (under its row lock) and within the quotas: a chat closed since the upload began —
    /// and perhaps already purged, the files included — takes nothing of it.
    pub async fn commit_upload(&self, staged: Staged) -> Result<Attachment, ServiceError> {
        let record = staged.record.clone();
        let q = &self.uploads;
        let admitted = self
            .store
            .admit_attachment(
                record.clone(),
                i64::try_from(q.quota_user_bytes).unwrap_or(i64::MAX),
                i64::try_from(q.quota_chat_bytes).unwrap_or(i64::MAX),
            )
            .await;
        let refusal = match admitted {
            Ok(Admission::Inserted) => {
                metrics::counter!("omw_uploads_total").increment(1);
                metrics::histogram!("omw_upload_bytes").record(record.size as f64);
                return Ok(AttachmentRecord::from(record).to_attachment());
            }
            Ok(Admission::ChatGone) => ServiceError::not_found("chat not found"),
            Ok(Admission::ChatClosed) => {
                ServiceError::new(ErrorCode::ChatClosed, "this chat is closed")
            }
            Ok(Admission::UserQuota { .. }) => quota_exceeded("your", q.quota_user_bytes),
            Ok(Admission::ChatQuota { .. }) => quota_exceeded("this chat's", q.quota_chat_bytes),
            Err(e) => e.into(),
        };
        if matches!(refusal.code, ErrorCode::ChatClosed | ErrorCode::NotFound) {
            // The cached copy is stale: the database says the chat is closed or gone.
            self.refresh_cached(None, &record.chat_id);
        }
        self.delete_files(
            std::iter::once(record.storage_key)
                .chain(record.thumb_key)
                .collect(),
        )
        .await;
        Err(refusal)
    }

    async fn delete_files(&self, keys: Vec<String>) {
        for key in keys {
            if let Err(e) = self.files.delete(&key).await {
                tracing::warn!(key, error = %e, "could not delete a refused upload's file");
            }
        }
    }

    /// An attachment's record, if `who` takes part in its chat.
    pub async fn attachment_for(
        &self,
        who: &Principal,
        id: &str,
    ) -> Result<AttachmentRecord, ServiceError> {
        let rec = self
            .store
            .get_attachment(id)
            .await?
            .ok_or_else(|| ServiceError::not_found("attachment not found"))?;
        // Not a participant: the same answer as a missing file, so ids cannot be probed.
        match self.member_chat(who, &rec.upload.chat_id).await {
            Ok(_) => Ok(rec),
            Err(_) => Err(ServiceError::not_found("attachment not found")),
        }
    }

    /// Remove uploads never sent in a message within `max_age`.
    pub async fn sweep_unlinked(
        &self,
        max_age: std::time::Duration,
    ) -> Result<usize, ServiceError> {
        let before = now_millis() - i64::try_from(max_age.as_millis()).unwrap_or(i64::MAX);
        let mut n = 0;
        for rec in self.store.unlinked_attachments(before, 500).await? {
            let up = &rec.upload;
            if self.store.delete_unlinked_attachment(&up.id).await? {
                for key in std::iter::once(&up.storage_key).chain(up.thumb_key.as_ref()) {
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

/// What a sealed file is bound to: its attachment, and whether it is the thumbnail.
fn sealed_item(attachment_id: &str, thumbnail: bool) -> String {
    let what = if thumbnail { "thumb" } else { "file" };
    format!("{attachment_id}/{what}")
}

fn storage_unavailable(e: object_store::Error) -> ServiceError {
    tracing::error!(error = %e, "file storage");
    ServiceError::new(
        ErrorCode::Unavailable,
        "file storage is unavailable, try again",
    )
}
