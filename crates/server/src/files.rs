//! Where uploaded files live: a local directory by default, any `object_store` backend (an
//! S3-compatible bucket) when configured.

use std::{ops::Range, path::Path, sync::Arc};

use bytes::Bytes;
use futures::stream::BoxStream;
use object_store::{
    GetOptions, GetRange, ObjectStore, ObjectStoreExt, WriteMultipart, local::LocalFileSystem,
    path::Path as ObjectPath,
};
use tokio::io::AsyncReadExt;

/// Parts of at most this size are buffered while copying a file into storage (memory stays
/// flat however large the file and however many uploads run at once).
const CHUNK: usize = 256 * 1024;

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

    /// Copy a local file into storage, streaming.
    pub async fn put_file(&self, key: &str, path: &Path) -> Result<(), object_store::Error> {
        let upload = self.store.put_multipart(&ObjectPath::from(key)).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, CHUNK);
        let mut f =
            tokio::fs::File::open(path)
                .await
                .map_err(|e| object_store::Error::Generic {
                    store: "upload",
                    source: Box::new(e),
                })?;
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = f
                .read(&mut buf)
                .await
                .map_err(|e| object_store::Error::Generic {
                    store: "upload",
                    source: Box::new(e),
                })?;
            if n == 0 {
                break;
            }
            writer.wait_for_capacity(2).await?;
            writer.write(&buf[..n]);
        }
        writer.finish().await?;
        Ok(())
    }

    pub async fn put_bytes(&self, key: &str, bytes: Vec<u8>) -> Result<(), object_store::Error> {
        self.store
            .put(&ObjectPath::from(key), bytes.into())
            .await
            .map(|_| ())
    }

    /// Read a file back, whole or a byte range of it.
    pub async fn get(
        &self,
        key: &str,
        range: Option<GetRange>,
    ) -> Result<Download, object_store::Error> {
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
