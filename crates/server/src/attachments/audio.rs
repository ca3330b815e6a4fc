//! Reading a voice note's duration where the container says it cheaply (WAV, Ogg).

use std::{
    io::{Read, Seek, SeekFrom},
    path::Path,
};

pub fn duration_ms(path: &Path, mime: &str) -> Option<i64> {
    let mut f = std::fs::File::open(path).ok()?;
    match mime {
        "audio/wav" => wav(&mut f),
        "audio/ogg" => ogg(&mut f),
        _ => None,
    }
}

fn wav(f: &mut std::fs::File) -> Option<i64> {
    let mut head = vec![0u8; 4096];
    let n = f.read(&mut head).ok()?;
    head.truncate(n);
    let mut pos = 12;
    let mut byte_rate = None;
    while pos + 8 <= head.len() {
        let id = &head[pos..pos + 4];
        let len = u32::from_le_bytes(head[pos + 4..pos + 8].try_into().ok()?) as u64;
        if id == b"fmt " && pos + 20 <= head.len() {
            byte_rate = Some(u32::from_le_bytes(head[pos + 16..pos + 20].try_into().ok()?) as u64);
        } else if id == b"data" {
            let rate = byte_rate.filter(|r| *r > 0)?;
            return i64::try_from(len * 1000 / rate).ok();
        }
        pos += 8 + len as usize + (len as usize & 1);
    }
    None
}

fn ogg(f: &mut std::fs::File) -> Option<i64> {
    let mut head = vec![0u8; 512];
    let n = f.read(&mut head).ok()?;
    head.truncate(n);
    let (rate, pre_skip) = if let Some(i) = find(&head, b"OpusHead") {
        (
            48_000u64,
            u16::from_le_bytes(head.get(i + 10..i + 12)?.try_into().ok()?) as u64,
        )
    } else if let Some(i) = find(&head, b"\x01vorbis") {
        (
            u32::from_le_bytes(head.get(i + 12..i + 16)?.try_into().ok()?) as u64,
            0,
        )
    } else {
        return None;
    };
    let len = f.seek(SeekFrom::End(0)).ok()?;
    let tail_len = len.min(64 * 1024);
    f.seek(SeekFrom::Start(len - tail_len)).ok()?;
    let mut tail = vec![0u8; tail_len as usize];
    f.read_exact(&mut tail).ok()?;
    let last = tail.windows(4).rposition(|w| w == b"OggS")?;
    let granule = u64::from_le_bytes(tail.get(last + 6..last + 14)?.try_into().ok()?);
    if rate == 0 || granule == u64::MAX {
        return None;
    }
    i64::try_from(granule.saturating_sub(pre_skip) * 1000 / rate).ok()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
