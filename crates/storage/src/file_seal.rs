//! Files and thumbnails under their chat's data key (SPEC §9.6), sealed in segments so that a
//! byte range (a voice note scrubbed, a video seeked) is read and opened without the rest, and
//! memory stays at one segment however large the file.
//!
//! Layout: a 16-byte header (`OMWF`, version 1, three zero bytes, a random 8-byte nonce
//! prefix), then the file in segments of [`SEGMENT`] bytes, the last one shorter, each sealed
//! with AES-256-GCM and followed by its 16-byte tag. A segment's nonce is the prefix, its index
//! (32 bits) and whether it is the last (so a file cut short, or extended, does not open); its
//! associated data binds the chat and the item it belongs to (an attachment's file or its
//! thumbnail), so a sealed file copied to another attachment or chat does not open either.

use std::{ops::Range, sync::Arc};

use aws_lc_rs::{
    aead::{Aad, LessSafeKey, NONCE_LEN, Nonce},
    rand::{SecureRandom, SystemRandom},
};

use crate::error::StoreError;

/// Plaintext bytes per segment.
pub const SEGMENT: usize = 64 * 1024;
/// The AEAD tag after each segment.
pub const TAG: usize = 16;
/// The header before the first segment.
pub const HEADER: usize = 16;
const MAGIC: &[u8; 5] = b"OMWF\x01";
const PREFIX: usize = 8;

/// A chat's key, for one of its files.
#[derive(Clone)]
pub struct FileKey {
    key: Arc<LessSafeKey>,
    chat_id: String,
    /// What the file is (`<attachment id>/file`, `<attachment id>/thumb`).
    item: String,
}

impl std::fmt::Debug for FileKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileKey")
            .field("chat_id", &self.chat_id)
            .field("item", &self.item)
            .finish_non_exhaustive()
    }
}

fn corrupt(object: &str) -> StoreError {
    StoreError::Corrupt(format!("sealed file {object}"))
}

impl FileKey {
    pub(crate) fn new(key: Arc<LessSafeKey>, chat_id: &str) -> FileKey {
        FileKey {
            key,
            chat_id: chat_id.to_owned(),
            item: String::new(),
        }
    }

    /// The key for one item of the chat: what its sealed bytes are bound to.
    pub fn for_item(&self, item: &str) -> FileKey {
        FileKey {
            item: item.to_owned(),
            ..self.clone()
        }
    }

    fn aad(&self) -> String {
        format!("omw-chat/1|{}|{}|file", self.chat_id, self.item)
    }

    /// A sealer for a new object (`object` names it in errors).
    pub fn sealer(&self) -> Result<SegmentSealer, StoreError> {
        let mut prefix = [0u8; PREFIX];
        SystemRandom::new()
            .fill(&mut prefix)
            .map_err(|_| StoreError::Key("no randomness for a file nonce".into()))?;
        Ok(SegmentSealer {
            key: self.key.clone(),
            aad: self.aad(),
            prefix,
            next: 0,
        })
    }

    /// An opener for the object, from its header.
    pub fn opener(&self, header: &[u8]) -> Result<SegmentOpener, StoreError> {
        let object = &self.item;
        if header.len() != HEADER || &header[..MAGIC.len()] != MAGIC || header[5..8] != [0; 3] {
            return Err(corrupt(object));
        }
        let mut prefix = [0u8; PREFIX];
        prefix.copy_from_slice(&header[HEADER - PREFIX..]);
        Ok(SegmentOpener {
            key: self.key.clone(),
            aad: self.aad(),
            object: object.clone(),
            prefix,
        })
    }
}

fn nonce(prefix: &[u8; PREFIX], index: u32, last: bool) -> Nonce {
    // 8 + 4 bytes: the last flag takes the top bit of the index (files stay far below 2^31
    // segments: 128 TiB).
    let mut n = [0u8; NONCE_LEN];
    n[..PREFIX].copy_from_slice(prefix);
    let tagged = index | if last { 1 << 31 } else { 0 };
    n[PREFIX..].copy_from_slice(&tagged.to_be_bytes());
    Nonce::assume_unique_for_key(n)
}

/// Seals one object's segments in order.
pub struct SegmentSealer {
    key: Arc<LessSafeKey>,
    aad: String,
    prefix: [u8; PREFIX],
    next: u32,
}

impl SegmentSealer {
    pub fn header(&self) -> [u8; HEADER] {
        let mut h = [0u8; HEADER];
        h[..MAGIC.len()].copy_from_slice(MAGIC);
        h[HEADER - PREFIX..].copy_from_slice(&self.prefix);
        h
    }

    /// The next segment sealed: [`SEGMENT`] bytes, or fewer for the `last`.
    pub fn seal(&mut self, plain: &[u8], last: bool) -> Result<Vec<u8>, StoreError> {
        if plain.len() > SEGMENT || (!last && plain.len() != SEGMENT) || self.next >= 1 << 31 {
            return Err(StoreError::Key("a file segment out of shape".into()));
        }
        let mut buf = Vec::with_capacity(plain.len() + TAG);
        buf.extend_from_slice(plain);
        self.key
            .seal_in_place_append_tag(
                nonce(&self.prefix, self.next, last),
                Aad::from(self.aad.as_bytes()),
                &mut buf,
            )
            .map_err(|_| StoreError::Key("sealing a file failed".into()))?;
        self.next += 1;
        Ok(buf)
    }

    /// A whole small object (a thumbnail) sealed: header and segments.
    pub fn seal_all(mut self, plain: &[u8]) -> Result<Vec<u8>, StoreError> {
        let mut out = Vec::with_capacity(sealed_size(plain.len() as u64) as usize);
        out.extend_from_slice(&self.header());
        let mut chunks = plain.chunks(SEGMENT).peekable();
        if chunks.peek().is_none() {
            out.extend(self.seal(&[], true)?);
        }
        while let Some(chunk) = chunks.next() {
            out.extend(self.seal(chunk, chunks.peek().is_none())?);
        }
        Ok(out)
    }
}

/// Opens one object's segments, in any order.
pub struct SegmentOpener {
    key: Arc<LessSafeKey>,
    aad: String,
    object: String,
    prefix: [u8; PREFIX],
}

impl SegmentOpener {
    /// Segment `index` of an object of `segments` segments, opened.
    pub fn open(&self, index: u32, segments: u32, sealed: &[u8]) -> Result<Vec<u8>, StoreError> {
        let mut buf = sealed.to_vec();
        let plain = self
            .key
            .open_in_place(
                nonce(&self.prefix, index, index + 1 == segments),
                Aad::from(self.aad.as_bytes()),
                &mut buf,
            )
            .map_err(|_| corrupt(&self.object))?;
        let len = plain.len();
        buf.truncate(len);
        Ok(buf)
    }
}

/// The stored size of a file of `plain` bytes.
pub fn sealed_size(plain: u64) -> u64 {
    let segments = plain.div_ceil(SEGMENT as u64).max(1);
    HEADER as u64 + plain + segments * TAG as u64
}

/// A sealed object's plaintext size and segment count, from its stored size; `None` when no
/// file seals to that size.
pub fn plain_size(sealed: u64) -> Option<(u64, u32)> {
    let body = sealed.checked_sub(HEADER as u64)?;
    let step = (SEGMENT + TAG) as u64;
    let segments = body.div_ceil(step).max(1);
    let plain = body.checked_sub(segments * TAG as u64)?;
    let segments = u32::try_from(segments).ok()?;
    (sealed_size(plain) == sealed).then_some((plain, segments))
}

/// What to read of a sealed object for the plaintext bytes `want` (non-empty, within the
/// file): its segments `first..=last` and their stored bytes.
pub fn span(want: &Range<u64>) -> (Range<u32>, Range<u64>) {
    let seg = SEGMENT as u64;
    let first = want.start / seg;
    let last = (want.end.saturating_sub(1)) / seg;
    let stored = |i: u64| HEADER as u64 + i * (seg + TAG as u64);
    let first_u32 = u32::try_from(first).unwrap_or(u32::MAX);
    let end_u32 = u32::try_from(last + 1).unwrap_or(u32::MAX);
    (first_u32..end_u32, stored(first)..stored(last + 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::aead::{AES_256_GCM, UnboundKey};

    fn key(byte: u8, chat: &str) -> FileKey {
        let k = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[byte; 32]).unwrap());
        FileKey::new(Arc::new(k), chat)
    }

    /// `plain` sealed as the file of `item`.
    fn sealed(k: &FileKey, item: &str, plain: &[u8]) -> Vec<u8> {
        k.for_item(item).sealer().unwrap().seal_all(plain).unwrap()
    }

    /// Open every segment of `sealed` (as the file of `item`) and join them.
    fn open_all(k: &FileKey, item: &str, sealed: &[u8]) -> Result<Vec<u8>, StoreError> {
        let (plain, segments) = plain_size(sealed.len() as u64).ok_or_else(|| corrupt(item))?;
        let opener = k.for_item(item).opener(&sealed[..HEADER])?;
        let mut out = Vec::new();
        if plain == 0 {
            opener.open(0, 1, &sealed[HEADER..])?;
            return Ok(out);
        }
        let (segs, stored) = span(&(0..plain));
        assert!(
            stored.end >= sealed.len() as u64,
            "the span covers the file"
        );
        for i in segs {
            let start = HEADER + i as usize * (SEGMENT + TAG);
            let end = (start + SEGMENT + TAG).min(sealed.len());
            out.extend(opener.open(i, segments, &sealed[start..end])?);
        }
        Ok(out)
    }

    #[test]
    fn files_of_every_size_round_trip_and_sizes_invert() {
        let k = key(1, "c1");
        for len in [
            0,
            1,
            SEGMENT - 1,
            SEGMENT,
            SEGMENT + 1,
            3 * SEGMENT,
            3 * SEGMENT + 7,
        ] {
            let plain: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let sealed = sealed(&k, "files/c1/a", &plain);
            assert_eq!(sealed.len() as u64, sealed_size(len as u64), "{len}");
            assert_eq!(
                plain_size(sealed.len() as u64).map(|p| p.0),
                Some(len as u64)
            );
            assert_eq!(open_all(&k, "files/c1/a", &sealed).unwrap(), plain, "{len}");
            if len > 16 {
                assert!(
                    !sealed.windows(16).any(|w| w == &plain[..16]),
                    "no plaintext stored"
                );
            }
        }
        assert_eq!(plain_size(3), None);
    }

    #[test]
    fn a_moved_cut_or_altered_file_does_not_open() {
        let k = key(1, "c1");
        let plain = vec![5u8; 2 * SEGMENT + 10];
        let sealed = sealed(&k, "files/c1/a", &plain);
        // Another object key, another chat, another key.
        assert!(open_all(&k, "files/c1/b", &sealed).is_err());
        assert!(open_all(&key(1, "c2"), "files/c1/a", &sealed).is_err());
        assert!(open_all(&key(2, "c1"), "files/c1/a", &sealed).is_err());
        // The last segment dropped: the new last one was not sealed as last.
        let cut = &sealed[..HEADER + 2 * (SEGMENT + TAG)];
        assert!(open_all(&k, "files/c1/a", cut).is_err());
        // Two segments swapped.
        let mut swapped = sealed.clone();
        let (a, b) = (HEADER, HEADER + SEGMENT + TAG);
        let first = sealed[a..b].to_vec();
        swapped.copy_within(b..b + SEGMENT + TAG, a);
        swapped[b..b + SEGMENT + TAG].copy_from_slice(&first);
        assert!(open_all(&k, "files/c1/a", &swapped).is_err());
        // One bit flipped.
        let mut flipped = sealed.clone();
        flipped[HEADER + 3] ^= 1;
        assert!(open_all(&k, "files/c1/a", &flipped).is_err());
        // Not a sealed file at all.
        assert!(k.opener(b"%PDF-1.7 whatever").is_err());
    }

    #[test]
    fn a_range_reads_only_its_segments() {
        let seg = SEGMENT as u64;
        let (segs, stored) = span(&(0..1));
        assert_eq!((segs, stored.clone()), (0..1, 16..16 + seg + 16));
        let (segs, _) = span(&(seg - 1..seg + 1));
        assert_eq!(segs, 0..2);
        let (segs, stored) = span(&(2 * seg..2 * seg + 5));
        assert_eq!(segs, 2..3);
        assert_eq!(stored.start, 16 + 2 * (seg + 16));
    }
}
