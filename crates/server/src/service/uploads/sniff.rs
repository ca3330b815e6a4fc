//! Deciding a file's type from its content (magic bytes), never from its name or the client's
//! MIME type, against an allowlist.

use std::path::Path;

use tokio::io::AsyncReadExt;

use super::unsupported;
use crate::service::error::ServiceError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Jpeg,
    Png,
    Gif,
    WebP,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Image(ImageFormat),
    Audio(&'static str),
    Document(&'static str),
}

const HEAD: usize = 8192;

/// Classify a received file.
pub async fn classify(path: &Path) -> Result<Kind, ServiceError> {
    let mut f = tokio::fs::File::open(path)
        .await
        .map_err(|_| ServiceError::internal())?;
    let mut head = vec![0u8; HEAD];
    let mut n = 0;
    while n < HEAD {
        let read = f
            .read(&mut head[n..])
            .await
            .map_err(|_| ServiceError::internal())?;
        if read == 0 {
            break;
        }
        n += read;
    }
    head.truncate(n);
    if head.starts_with(b"PK\x03\x04") {
        // Office documents are zip containers: decide by what is inside, not by the first
        // bytes (any zip is refused).
        let path = path.to_path_buf();
        return tokio::task::spawn_blocking(move || office(&path))
            .await
            .map_err(|_| ServiceError::internal())?
            .ok_or_else(|| {
                unsupported("an archive that is not a DOCX, XLSX, PPTX or ODT document")
            });
    }
    if let Some(kind) = by_magic(&head) {
        return kind;
    }
    if is_plain_text(path).await? {
        return Ok(Kind::Document("text/plain; charset=utf-8"));
    }
    Err(unsupported("this type of file"))
}

/// The type named by a file's first bytes, if they name one (allowed or refused). Never
/// panics, whatever the bytes.
pub fn by_magic(head: &[u8]) -> Option<Result<Kind, ServiceError>> {
    let t = infer::get(head)?;
    let kind = match t.mime_type() {
        "image/jpeg" => Kind::Image(ImageFormat::Jpeg),
        "image/png" => Kind::Image(ImageFormat::Png),
        "image/gif" => Kind::Image(ImageFormat::Gif),
        "image/webp" => Kind::Image(ImageFormat::WebP),
        "application/pdf" => Kind::Document("application/pdf"),
        "video/webm" | "audio/webm" => Kind::Audio("audio/webm"),
        "audio/ogg" | "audio/opus" => Kind::Audio("audio/ogg"),
        "audio/mpeg" => Kind::Audio("audio/mpeg"),
        "audio/m4a" | "audio/mp4" | "audio/x-m4a" => Kind::Audio("audio/mp4"),
        "audio/aac" => Kind::Audio("audio/aac"),
        "audio/x-wav" | "audio/wav" => Kind::Audio("audio/wav"),
        other => return Some(Err(unsupported(other))),
    };
    Some(Ok(kind))
}

const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const PPTX: &str = "application/vnd.openxmlformats-officedocument.presentationml.presentation";
const ODT: &str = "application/vnd.oasis.opendocument.text";

/// Which office document a zip container is, from its central directory.
fn office(path: &Path) -> Option<Kind> {
    office_in(std::io::BufReader::new(std::fs::File::open(path).ok()?))
}

/// [`office`] on any seekable input (the fuzz targets give it bytes in memory). Never panics,
/// whatever the bytes.
pub fn office_in<R: std::io::Read + std::io::Seek>(input: R) -> Option<Kind> {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(input).ok()?;
    let has = |zip: &zip::ZipArchive<R>, name: &str| zip.index_for_name(name).is_some();
    if has(&zip, "[Content_Types].xml") {
        for (part, mime) in [
            ("word/document.xml", DOCX),
            ("xl/workbook.xml", XLSX),
            ("ppt/presentation.xml", PPTX),
        ] {
            if has(&zip, part) {
                return Some(Kind::Document(mime));
            }
        }
        return None;
    }
    // ODF: an uncompressed `mimetype` entry naming the type.
    let mut entry = zip.by_name("mimetype").ok()?;
    let mut mimetype = String::new();
    entry
        .by_ref()
        .take(128)
        .read_to_string(&mut mimetype)
        .ok()?;
    (mimetype.trim() == ODT).then_some(Kind::Document(ODT))
}

/// UTF-8 without NUL or unusual control characters, and not markup (HTML, SVG, XML): a page
/// served from our origin must never be able to run script.
async fn is_plain_text(path: &Path) -> Result<bool, ServiceError> {
    let mut f = tokio::fs::File::open(path)
        .await
        .map_err(|_| ServiceError::internal())?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut carry: Vec<u8> = Vec::new();
    let mut first = true;
    loop {
        let n = f
            .read(&mut buf)
            .await
            .map_err(|_| ServiceError::internal())?;
        if n == 0 {
            return Ok(carry.is_empty());
        }
        carry.extend_from_slice(&buf[..n]);
        let valid = match std::str::from_utf8(&carry) {
            Ok(s) => s.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => return Ok(false),
        };
        let text = std::str::from_utf8(&carry[..valid]).unwrap_or_default();
        if text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{c}'))
        {
            return Ok(false);
        }
        if first && !text.trim_start().is_empty() {
            if text
                .trim_start_matches('\u{feff}')
                .trim_start()
                .starts_with('<')
            {
                return Ok(false);
            }
            first = false;
        }
        carry.drain(..valid);
    }
}
