//! The bodies of the fuzz targets (`fuzz/fuzz_targets/`), here so that the stable replay of
//! their corpora (`tests/fuzz_corpus.rs`) runs exactly the same code. Each takes arbitrary
//! bytes and drives one parser the way the server drives it with a client's input; none may
//! panic, hang or allocate without bound, whatever the bytes. Not an API.

use axum::{body::Bytes, http::HeaderValue};
use socketioxide_core::{
    Str, Value as WireValue,
    packet::PacketData,
    parser::{Parse, ParseConfig, ParseError, ParserState},
};
use socketioxide_parser_common::CommonParser;

use crate::service::uploads::{audio, image, sniff};

/// A target's body: one input, any bytes.
pub type Body = fn(&[u8]);

/// Every target: its name (the folder of its corpus, the file of its fuzz target) and body.
pub const TARGETS: &[(&str, Body)] = &[
    ("sniff", sniff),
    ("image_probe", image_probe),
    ("image_sanitize", image_sanitize),
    ("audio_duration", audio_duration),
    ("event_payload", event_payload),
    ("multipart_upload", multipart_upload),
];

/// The content sniffer: the type named by a file's first bytes, and for a zip container
/// which office document it holds.
pub fn sniff(data: &[u8]) {
    let head = data.get(..8192).unwrap_or(data);
    let _ = sniff::by_magic(head);
    if data.starts_with(b"PK\x03\x04") {
        let _ = sniff::office_in(std::io::Cursor::new(data));
    }
}

/// The image header reader: an image's size, refused past the side and pixel limits.
pub fn image_probe(data: &[u8]) {
    let _ = image::probe_bytes(data);
}

/// Pixels an image may have here for the fuzzer to decode it: the server takes up to
/// 50 million, but a legitimately large image decodes for longer than the fuzzer's timeout
/// allows. Smaller images reach the same decoding and copying code.
const SANITIZE_MAX_PIXELS: u64 = 4_000_000;
/// A GIF's pixels over all its frames (the server's default is 100 million).
const SANITIZE_GIF_BUDGET: u64 = 8_000_000;

/// An image upload as the server takes it: typed by its first bytes, probed, then decoded and
/// re-encoded (GIFs copied frame by frame) within the memory the decode gate would grant.
pub fn image_sanitize(data: &[u8]) {
    let Some(Ok(sniff::Kind::Image(format))) = sniff::by_magic(data.get(..8192).unwrap_or(data))
    else {
        return;
    };
    let Ok((w, h)) = image::probe_bytes(data) else {
        return;
    };
    if u64::from(w) * u64::from(h) > SANITIZE_MAX_PIXELS {
        return;
    }
    let max_alloc = image::memory_estimate(format, w, h);
    let _ = image::sanitize_bytes(data, format, max_alloc, SANITIZE_GIF_BUDGET);
}

/// The voice note duration readers (WAV, Ogg), on the head and tail the server reads.
pub fn audio_duration(data: &[u8]) {
    let _ = audio::duration_ms_of(data, "audio/wav");
    let _ = audio::duration_ms_of(data, "audio/ogg");
}

/// The largest Socket.IO message the server accepts (`MAX_SOCKET_PAYLOAD_BYTES`' default).
const SOCKET_PAYLOAD: usize = 64 * 1024;

/// A Socket.IO event from the wire to its handler's typed payload: the text packet (and, after
/// the first NUL byte, one binary attachment) decoded by the parser the server uses with its
/// limits, the event name read, the data extracted as the fallback handler extracts it, then
/// decoded as every event's payload. Anything but a JSON object must be refused: a positional
/// array (`["chat-1", 5]`) never becomes a struct.
pub fn event_payload(data: &[u8]) {
    let (text, binary) = match data.iter().position(|&b| b == 0) {
        Some(i) => {
            let (text, rest) = data.split_at(i);
            (text, rest.get(1..))
        }
        None => (data, None),
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let config = ParseConfig {
        max_incoming_binary_buf_size: SOCKET_PAYLOAD,
        max_incoming_binaries: crate::realtime::MAX_INCOMING_BINARIES,
        ..ParseConfig::default()
    };
    let state = ParserState::default();
    let parser = CommonParser;
    let packet = match parser.decode_str(&config, &state, Str::from(text.to_string())) {
        Ok(p) => p,
        Err(ParseError::NeedsMoreBinaryData) => {
            let Some(bin) = binary else {
                return;
            };
            match parser.decode_bin(&config, &state, Bytes::copy_from_slice(bin)) {
                Ok(p) => p,
                Err(_) => return,
            }
        }
        Err(_) => return,
    };
    let mut value: WireValue = match packet.inner {
        PacketData::Event(v, _) | PacketData::BinaryEvent(v, _) => v,
        _ => return,
    };
    if parser.read_event(&value).is_err() {
        return;
    }
    let data: Result<serde_json::Value, String> = parser
        .decode_value(&mut value, true)
        .map_err(|e| e.to_string());
    // Every event's payload decoded as the server decodes it.
    let accepted = crate::realtime::events::NAMES
        .map(|name| crate::realtime::events::ClientEvent::parse(name, data.clone()).is_ok());
    let object = matches!(data, Ok(serde_json::Value::Object(_)));
    assert!(
        object || !accepted.contains(&true),
        "a payload that is not a JSON object was accepted: {data:?}"
    );
}

/// A multipart upload body read as the upload route reads it. The first byte chooses the
/// file size limit (so the fuzzer reaches it) and how the body is cut into chunks (so
/// boundaries fall across them); the next byte the boundary's length, then the boundary, then
/// the body.
pub fn multipart_upload(data: &[u8]) {
    let [control, boundary_len, rest @ ..] = data else {
        return;
    };
    let Some((boundary, body)) = rest.split_at_checked(usize::from(boundary_len % 80)) else {
        return;
    };
    let Ok(content_type) =
        HeaderValue::from_bytes(&[b"multipart/form-data; boundary=".as_slice(), boundary].concat())
    else {
        return;
    };
    let max = [0u64, 1, 16, 100, 1024, 4096, 65_536, 1 << 20][usize::from(control & 7)];
    let chunk = [1usize, 2, 3, 7, 16, 64, 512, 8192][usize::from(control >> 3 & 7)];
    let chunks = body.chunks(chunk).map(Bytes::copy_from_slice).collect();
    let read = crate::http::upload_form::read_form_discarding(content_type, chunks, max);
    if let Ok((size, hint)) = futures::executor::block_on(read) {
        assert!(
            size <= max,
            "{size} bytes of file kept past a {max}-byte limit"
        );
        assert!(hint.is_none_or(|d| (0..=3_600_000).contains(&d)));
    }
}
