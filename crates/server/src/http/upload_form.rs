//! The upload route's multipart form: which fields it reads and how, written once for the
//! route (into a temporary file) and for the fuzz targets (into nothing), and the route's body
//! as it is read: counted against its limit, and drained after a refusal.

use std::{
    pin::Pin,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use axum::{
    body::{Body, BodyDataStream, Bytes},
    extract::{FromRequest, Multipart, Request, multipart::MultipartError},
    http::{HeaderValue, StatusCode, header, request::Parts},
};
use futures::Stream;

use crate::service::{
    ErrorCode, ServiceError,
    uploads::{self as attachments},
};

/// Room for the multipart framing around the file itself.
pub(super) const MULTIPART_OVERHEAD: u64 = 64 * 1024;
/// How long, and how idle at most, a refused upload's body is read and thrown away.
pub(super) const DRAIN_TIME: Duration = Duration::from_secs(30);
pub(super) const DRAIN_IDLE: Duration = Duration::from_secs(5);

pub(super) fn multipart_error(
    e: axum::extract::multipart::MultipartError,
    body: &SharedBody,
) -> ServiceError {
    if body.over_limit() || e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ServiceError::new(ErrorCode::PayloadTooLarge, "upload too large")
    } else {
        ServiceError::invalid(format!("multipart body: {}", e.body_text()))
    }
}

/// The request body, shared between the multipart parser and the drain that follows a refusal;
/// counts what was read and fails past `limit` bytes (the parser's view only).
#[derive(Clone)]
pub(super) struct SharedBody {
    inner: Arc<Mutex<BodyDataStream>>,
    read: Arc<AtomicU64>,
    over: Arc<AtomicBool>,
    limit: u64,
}

impl SharedBody {
    pub(super) fn new(body: Body, limit: u64) -> Self {
        SharedBody {
            inner: Arc::new(Mutex::new(body.into_data_stream())),
            read: Arc::default(),
            over: Arc::default(),
            limit,
        }
    }

    fn over_limit(&self) -> bool {
        self.over.load(Ordering::Relaxed)
    }

    fn poll_inner(&self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, axum::Error>>> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let polled = Pin::new(&mut *inner).poll_next(cx);
        if let Poll::Ready(Some(Ok(chunk))) = &polled {
            self.read.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        }
        polled
    }

    /// Read and discard the rest of the body, within the drain bounds. True if it was read to
    /// its end (the connection can stay open).
    pub(super) async fn drain(&self, max: u64) -> bool {
        let drain = async {
            loop {
                if self.read.load(Ordering::Relaxed) > max {
                    return false;
                }
                match tokio::time::timeout(
                    DRAIN_IDLE,
                    futures::future::poll_fn(|cx| self.poll_inner(cx)),
                )
                .await
                {
                    Ok(Some(Ok(_))) => {}
                    Ok(None) => return true,
                    Ok(Some(Err(_))) | Err(_) => return false,
                }
            }
        };
        tokio::time::timeout(DRAIN_TIME, drain)
            .await
            .unwrap_or(false)
    }
}

impl Stream for SharedBody {
    type Item = Result<Bytes, axum::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.over_limit() {
            return Poll::Ready(Some(Err(axum::Error::new("upload too large"))));
        }
        let polled = self.poll_inner(cx);
        if self.read.load(Ordering::Relaxed) > self.limit {
            self.over.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err(axum::Error::new("upload too large"))));
        }
        polled
    }
}

/// The upload body as a multipart form (the request's headers and extensions, the shared
/// body).
pub(super) async fn open_form<S: Send + Sync>(
    body: &SharedBody,
    parts: &Parts,
    state: &S,
) -> Result<Multipart, ServiceError> {
    let mut req = Request::new(Body::from_stream(body.clone()));
    *req.headers_mut() = parts.headers.clone();
    *req.extensions_mut() = parts.extensions.clone();
    // Anything but multipart/form-data is the wrong kind of body, not a malformed one.
    Multipart::from_request(req, state).await.map_err(|_| {
        ServiceError::new(
            ErrorCode::UnsupportedMediaType,
            "expected a multipart/form-data body with a `file` field",
        )
    })
}

/// Where the form's `file` field goes as it arrives.
pub(super) trait FileSink {
    /// A `file` field begins, named `name` by the client.
    async fn open(&mut self, name: &str) -> Result<(), ServiceError>;
    /// Its next chunk.
    async fn write(&mut self, chunk: &[u8]) -> Result<(), ServiceError>;
}

/// The route's sink: a temporary file under the upload directory, at most `max` bytes.
pub(super) struct TempFileSink {
    pub dir: std::path::PathBuf,
    pub max: u64,
    /// The file, an open handle on it, the client's name for it, and its size so far.
    pub file: Option<(tempfile::NamedTempFile, tokio::fs::File, String, u64)>,
}

impl FileSink for TempFileSink {
    async fn open(&mut self, name: &str) -> Result<(), ServiceError> {
        let file =
            tempfile::NamedTempFile::new_in(&self.dir).map_err(|_| ServiceError::internal())?;
        let out = tokio::fs::File::from_std(file.reopen().map_err(|_| ServiceError::internal())?);
        self.file = Some((file, out, name.to_string(), 0));
        Ok(())
    }

    async fn write(&mut self, chunk: &[u8]) -> Result<(), ServiceError> {
        let Some((_, out, _, size)) = &mut self.file else {
            return Err(ServiceError::internal());
        };
        attachments::append(out, size, chunk, self.max).await
    }
}

/// An upload form's fields: the first `file` field streamed into `sink`, and the
/// `duration_ms` hint (a voice note's length as the recorder measured it); other fields are
/// skipped. Returns the hint.
pub(super) async fn read_form(
    multipart: &mut Multipart,
    sink: &mut impl FileSink,
    error: impl Fn(MultipartError) -> ServiceError,
) -> Result<Option<i64>, ServiceError> {
    let mut has_file = false;
    let mut duration_hint_ms = None;
    while let Some(mut field) = multipart.next_field().await.map_err(&error)? {
        match field.name() {
            Some("file") if !has_file => {
                has_file = true;
                sink.open(field.file_name().unwrap_or("file")).await?;
                while let Some(chunk) = field.chunk().await.map_err(&error)? {
                    sink.write(&chunk).await?;
                }
            }
            Some("duration_ms") => {
                let text = field.text().await.map_err(&error)?;
                duration_hint_ms = text
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|d| (0..=3_600_000).contains(d));
            }
            _ => {}
        }
    }
    Ok(duration_hint_ms)
}

/// The fuzz targets' sink: counts the file's bytes under the same limit and keeps nothing.
struct DiscardSink {
    max: u64,
    size: u64,
}

impl FileSink for DiscardSink {
    async fn open(&mut self, _name: &str) -> Result<(), ServiceError> {
        Ok(())
    }

    async fn write(&mut self, chunk: &[u8]) -> Result<(), ServiceError> {
        attachments::append(&mut tokio::io::sink(), &mut self.size, chunk, self.max).await
    }
}

/// The route's multipart reading (its body limit, its field rules, `max` bytes of file) over a
/// body arriving in `chunks`, the file thrown away: the fuzz targets' entry point. Returns the
/// file's size and the duration hint.
pub(crate) async fn read_form_discarding(
    content_type: HeaderValue,
    chunks: Vec<Bytes>,
    max: u64,
) -> Result<(u64, Option<i64>), ServiceError> {
    let stream = futures::stream::iter(chunks.into_iter().map(Ok::<_, std::convert::Infallible>));
    let body = SharedBody::new(Body::from_stream(stream), max + MULTIPART_OVERHEAD);
    let (mut parts, ()) = Request::new(()).into_parts();
    parts.headers.insert(header::CONTENT_TYPE, content_type);
    let mut multipart = open_form(&body, &parts, &()).await?;
    let mut sink = DiscardSink { max, size: 0 };
    let hint = read_form(&mut multipart, &mut sink, |e| multipart_error(e, &body)).await?;
    Ok((sink.size, hint))
}
