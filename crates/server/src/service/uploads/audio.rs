//! Reading a voice note's duration where the container says it cheaply (WAV, Ogg).
//!
//! The parsers work on byte slices (the file's head, and for Ogg its tail) and never panic,
//! whatever the bytes: they are fed attacker-controlled files.

use std::{
    io::{Read, Seek, SeekFrom},
    path::Path,
};

const WAV_HEAD: usize = 4096;
const OGG_HEAD: usize = 512;
const OGG_TAIL: u64 = 64 * 1024;

pub fn duration_ms(path: &Path, mime: &str) -> Option<i64> {
    let mut f = std::fs::File::open(path).ok()?;
    match mime {
        "audio/wav" => wav(&read_head(&mut f, WAV_HEAD)?),
        "audio/ogg" => {
            let head = read_head(&mut f, OGG_HEAD)?;
            let len = f.seek(SeekFrom::End(0)).ok()?;
            let tail_len = len.min(OGG_TAIL);
            f.seek(SeekFrom::Start(len - tail_len)).ok()?;
            let mut tail = Vec::new();
            f.take(tail_len).read_to_end(&mut tail).ok()?;
            ogg(&head, &tail)
        }
        _ => None,
    }
}

/// [`duration_ms`] on a whole file in memory: the same head and tail are read (the fuzz
/// targets call it).
pub fn duration_ms_of(bytes: &[u8], mime: &str) -> Option<i64> {
    let head = |n: usize| bytes.get(..n).unwrap_or(bytes);
    match mime {
        "audio/wav" => wav(head(WAV_HEAD)),
        "audio/ogg" => {
            let tail = bytes.len().saturating_sub(usize::try_from(OGG_TAIL).ok()?);
            ogg(head(OGG_HEAD), bytes.get(tail..)?)
        }
        _ => None,
    }
}

fn read_head(f: &mut std::fs::File, n: usize) -> Option<Vec<u8>> {
    let mut head = Vec::with_capacity(n);
    f.take(n as u64).read_to_end(&mut head).ok()?;
    Some(head)
}

fn le_u32(b: &[u8], at: usize) -> Option<u64> {
    Some(u32::from_le_bytes(b.get(at..at.checked_add(4)?)?.try_into().ok()?).into())
}

/// A WAV file's duration from its `fmt ` byte rate and its `data` chunk length.
pub fn wav(head: &[u8]) -> Option<i64> {
    let mut pos = 12usize;
    let mut byte_rate = None;
    while pos.checked_add(8)? <= head.len() {
        let id = head.get(pos..pos + 4)?;
        let len = le_u32(head, pos + 4)?;
        if id == b"fmt " {
            byte_rate = le_u32(head, pos + 16);
        } else if id == b"data" {
            let rate = byte_rate.filter(|r| *r > 0)?;
            return i64::try_from(len.checked_mul(1000)? / rate).ok();
        }
        let skip = usize::try_from(len + (len & 1)).ok()?;
        pos = pos.checked_add(8)?.checked_add(skip)?;
    }
    None
}

/// An Ogg (Opus or Vorbis) file's duration from the sample rate in its head and the granule
/// position of the last page in its tail.
pub fn ogg(head: &[u8], tail: &[u8]) -> Option<i64> {
    let (rate, pre_skip) = if let Some(i) = find(head, b"OpusHead") {
        (
            48_000u64,
            u64::from(u16::from_le_bytes(
                head.get(i.checked_add(10)?..i.checked_add(12)?)?
                    .try_into()
                    .ok()?,
            )),
        )
    } else if let Some(i) = find(head, b"\x01vorbis") {
        (le_u32(head, i.checked_add(12)?)?, 0)
    } else {
        return None;
    };
    let last = tail.windows(4).rposition(|w| w == b"OggS")?;
    let granule = u64::from_le_bytes(
        tail.get(last.checked_add(6)?..last.checked_add(14)?)?
            .try_into()
            .ok()?,
    );
    if rate == 0 || granule == u64::MAX {
        return None;
    }
    i64::try_from(granule.saturating_sub(pre_skip).checked_mul(1000)? / rate).ok()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
