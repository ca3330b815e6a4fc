//! Where uploaded files live: a local directory by default, any `object_store` backend (an
//! S3-compatible bucket) when configured.

use std::{ops::Range, path::Path, sync::Arc};

use bytes::Bytes;
use futures::stream::BoxStream;
use object_store::{
    GetOptions, GetRange, ObjectStore, ObjectStoreExt, WriteMultipart, local::LocalFileSystem,
    path::Path as ObjectPath,
};
use omw_storage::{FileKey, file_seal};
use tokio::io::AsyncReadExt;

/// Parts of at most this size are buffered while copying a file into storage (memory stays
/// flat however large the file and however many uploads run at once). A whole number of
/// sealed segments.
const CHUNK: usize = 4 * file_seal::SEGMENT;

fn generic(
    store: &'static str,
    e: impl std::error::Error + Send + Sync + 'static,
) -> object_store::Error {
    object_store::Error::Generic {
        store,
        source: Box::new(e),
    }
}

#[derive(Clone)]
pub struct Files {
    store: Arc<dyn ObjectStore>,
}

/// A stored file being read back.
pub struct Download {
    pub size: u64,
    pub range: Range<u64>,
    pub body: BoxStream<'static, Result<Bytes, object_store::Error>>,
}

impl Files {
    /// Files under a local folder (created if missing), outside any served directory.
    pub fn local(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let fs = LocalFileSystem::new_with_prefix(dir).map_err(std::io::Error::other)?;
        Ok(Files {
            store: Arc::new(fs),
        })
    }

    /// An S3-compatible bucket: `s3://bucket[/prefix]?endpoint=…&region=…`. Credentials come
    /// from the usual `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` variables.
    pub fn s3(url: &str) -> Result<Self, String> {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let rest = base.strip_prefix("s3://").ok_or("must start with s3://")?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err("names no bucket".into());
        }
        let mut builder = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| format!("bad parameter {pair:?}"))?;
            builder = match k {
                "endpoint" => builder
                    .with_endpoint(v)
                    .with_allow_http(v.starts_with("http://")),
                "region" => builder.with_region(v),
                _ => return Err(format!("unknown parameter {k:?} (endpoint, region)")),
            };
        }
        let s3 = builder.build().map_err(|e| e.to_string())?;
        let store: Arc<dyn ObjectStore> = if prefix.trim_matches('/').is_empty() {
            Arc::new(s3)
        } else {
            Arc::new(object_store::prefix::PrefixStore::new(
                s3,
                prefix.trim_matches('/'),
            ))
        };
        Ok(Files { store })
    }

    /// Copy a local file into storage, streaming; sealed segment by segment with `seal`.
    pub async fn put_file(
        &self,
        key: &str,
        path: &Path,
        seal: Option<&FileKey>,
    ) -> Result<(), object_store::Error> {
        let upload = self.store.put_multipart(&ObjectPath::from(key)).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, CHUNK);
        let mut sealer = seal
            .map(|k| k.sealer())
            .transpose()
            .map_err(|e| generic("seal", e))?;
        if let Some(s) = &sealer {
            writer.write(&s.header());
        }
        let mut f = tokio::fs::File::open(path)
            .await
            .map_err(|e| generic("upload", e))?;
        let size = f.metadata().await.map_err(|e| generic("upload", e))?.len();
        let mut buf = vec![0u8; file_seal::SEGMENT];
        let mut done: u64 = 0;
        loop {
            // Whole segments: a short read is topped up, so only the last one is short.
            let mut n = 0;
            while n < buf.len() {
                let got = f
                    .read(&mut buf[n..])
                    .await
                    .map_err(|e| generic("upload", e))?;
                if got == 0 {
                    break;
                }
                n += got;
            }
            done += n as u64;
            let last = done >= size || n < buf.len();
            writer.wait_for_capacity(2).await?;
            match sealer.as_mut() {
                Some(s) => writer.write(&s.seal(&buf[..n], last).map_err(|e| generic("seal", e))?),
                None => writer.write(&buf[..n]),
            }
            if last {
                break;
            }
        }
        writer.finish().await?;
        Ok(())
    }

    pub async fn put_bytes(
        &self,
        key: &str,
        bytes: Vec<u8>,
        seal: Option<&FileKey>,
    ) -> Result<(), object_store::Error> {
        let bytes = match seal {
            Some(k) => k
                .sealer()
                .and_then(|s| s.seal_all(&bytes))
                .map_err(|e| generic("seal", e))?,
            None => bytes,
        };
        self.store
            .put(&ObjectPath::from(key), bytes.into())
            .await
            .map(|_| ())
    }

    /// Read a file back, whole or a byte range of it; opened with `seal` when it was stored
    /// sealed.
    pub async fn get(
        &self,
        key: &str,
        range: Option<GetRange>,
        seal: Option<&FileKey>,
    ) -> Result<Download, object_store::Error> {
        if let Some(k) = seal {
            return self.get_sealed(key, range, k).await;
        }
        let opts = GetOptions {
            range,
            ..Default::default()
        };
        let res = self.store.get_opts(&ObjectPath::from(key), opts).await?;
        Ok(Download {
            size: res.meta.size,
            range: res.range.clone(),
            body: res.into_stream(),
        })
    }

    /// A sealed file: its header (and stored size) first, then only the segments the range
    /// covers, each opened as it arrives.
    async fn get_sealed(
        &self,
        key: &str,
        range: Option<GetRange>,
        seal: &FileKey,
    ) -> Result<Download, object_store::Error> {
        let path = ObjectPath::from(key);
        let head = self
            .store
            .get_opts(
                &path,
                GetOptions {
                    range: Some(GetRange::Bounded(0..file_seal::HEADER as u64)),
                    ..Default::default()
                },
            )
            .await?;
        let stored = head.meta.size;
        let header = head.bytes().await?;
        let opener = seal.opener(&header).map_err(|e| generic("seal", e))?;
        let (size, segments) = file_seal::plain_size(stored)
            .ok_or_else(|| generic("seal", BadFile("a sealed file of impossible size")))?;
        let want = plain_range(range, size)
            .ok_or_else(|| generic("range", BadFile("the range is outside the file")))?;
        if want.is_empty() {
            return Ok(Download {
                size,
                range: want,
                body: Box::pin(futures::stream::empty()),
            });
        }
        let (segs, span) = file_seal::span(&want);
        let span = span.start..span.end.min(stored);
        let body = self
            .store
            .get_opts(
                &path,
                GetOptions {
                    range: Some(GetRange::Bounded(span)),
                    ..Default::default()
                },
            )
            .await?
            .into_stream();
        Ok(Download {
            size,
            range: want.clone(),
            body: Box::pin(open_segments(body, opener, segs, segments, want)),
        })
    }

    /// Delete every file under `prefix` (a folder: `files/<chat>`). Catches files whose upload
    /// never recorded them (a crash between writing a file and its row).
    pub async fn delete_under(&self, prefix: &str) -> Result<(), object_store::Error> {
        use futures::TryStreamExt;
        let listed: Vec<_> = match self
            .store
            .list(Some(&ObjectPath::from(prefix)))
            .try_collect()
            .await
        {
            Ok(l) => l,
            Err(object_store::Error::NotFound { .. }) => return Ok(()),
            Err(e) => return Err(e),
        };
        for meta in listed {
            self.delete(meta.location.as_ref()).await?;
        }
        Ok(())
    }

    /// Delete a file; one that is already gone counts as deleted (a resumed purge).
    pub async fn delete(&self, key: &str) -> Result<(), object_store::Error> {
        match self.store.delete(&ObjectPath::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct BadFile(&'static str);

/// The plaintext bytes a request wants of a file of `size` bytes; `None` when unsatisfiable.
fn plain_range(range: Option<GetRange>, size: u64) -> Option<Range<u64>> {
    match range {
        None => Some(0..size),
        Some(GetRange::Bounded(r)) => {
            (r.start < size && r.start < r.end).then(|| r.start..r.end.min(size))
        }
        Some(GetRange::Offset(a)) => (a < size).then_some(a..size),
        Some(GetRange::Suffix(n)) => (n > 0 && size > 0).then(|| size - n.min(size)..size),
    }
}

/// The stored bytes of segments `segs` (of `segments` in all) as they stream in, opened one
/// segment at a time and cut to `want`.
fn open_segments(
    body: BoxStream<'static, Result<Bytes, object_store::Error>>,
    opener: file_seal::SegmentOpener,
    segs: Range<u32>,
    segments: u32,
    want: Range<u64>,
) -> impl futures::Stream<Item = Result<Bytes, object_store::Error>> + Send + 'static {
    use futures::StreamExt;
    struct State {
        body: BoxStream<'static, Result<Bytes, object_store::Error>>,
        opener: file_seal::SegmentOpener,
        buf: Vec<u8>,
        next: u32,
        end: u32,
        segments: u32,
        want: Range<u64>,
        ended: bool,
    }
    let state = State {
        body,
        opener,
        buf: Vec::with_capacity(file_seal::SEGMENT + file_seal::TAG),
        next: segs.start,
        end: segs.end,
        segments,
        want,
        ended: false,
    };
    futures::stream::try_unfold(state, |mut st| async move {
        if st.next >= st.end {
            return Ok(None);
        }
        let full = file_seal::SEGMENT + file_seal::TAG;
        while st.buf.len() < full && !st.ended {
            match st.body.next().await {
                Some(chunk) => st.buf.extend_from_slice(&chunk?),
                None => st.ended = true,
            }
        }
        let take = st.buf.len().min(full);
        if take <= file_seal::TAG {
            return Err(generic("seal", BadFile("a sealed file is cut short")));
        }
        let sealed: Vec<u8> = st.buf.drain(..take).collect();
        let plain = st
            .opener
            .open(st.next, st.segments, &sealed)
            .map_err(|e| generic("seal", e))?;
        // Where this segment sits in the file, cut to what was asked for.
        let at = u64::from(st.next) * file_seal::SEGMENT as u64;
        let from = usize::try_from(st.want.start.saturating_sub(at)).unwrap_or(usize::MAX);
        let to = usize::try_from((st.want.end - at).min(plain.len() as u64)).unwrap_or(0);
        let part = Bytes::copy_from_slice(plain.get(from..to).unwrap_or_default());
        st.next += 1;
        Ok(Some((part, st)))
    })
}
