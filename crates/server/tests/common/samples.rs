//! Real sample files of every kind, made by the tests themselves.
#![allow(dead_code)]

use std::io::{Cursor, Write};

use image::{ImageEncoder, RgbImage, RgbaImage};

fn rgb(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 4) as u8, (y * 4) as u8, 128]))
}

pub fn png() -> Vec<u8> {
    let mut out = Vec::new();
    let img = RgbaImage::from_fn(40, 30, |x, _| image::Rgba([x as u8 * 6, 10, 200, 255]));
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(img.as_raw(), 40, 30, image::ExtendedColorType::Rgba8)
        .unwrap();
    out
}

pub fn gif() -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = image::codecs::gif::GifEncoder::new(&mut out);
        for i in 0..3u8 {
            let img = RgbaImage::from_fn(20, 20, |_, _| image::Rgba([i * 80, 0, 0, 255]));
            enc.encode_frame(image::Frame::new(img)).unwrap();
        }
    }
    out
}

pub fn webp() -> Vec<u8> {
    let mut out = Vec::new();
    let img = RgbaImage::from_fn(16, 16, |_, _| image::Rgba([1, 2, 3, 255]));
    image::codecs::webp::WebPEncoder::new_lossless(&mut out)
        .write_image(img.as_raw(), 16, 16, image::ExtendedColorType::Rgba8)
        .unwrap();
    out
}

/// EXIF (TIFF, little endian) with Orientation = 6 (rotate 90° clockwise) and a GPS IFD.
fn exif_with_gps() -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(b"II*\0");
    t.extend_from_slice(&8u32.to_le_bytes());
    // IFD0 at 8: two entries.
    t.extend_from_slice(&2u16.to_le_bytes());
    t.extend_from_slice(&0x0112u16.to_le_bytes()); // Orientation, SHORT, 1
    t.extend_from_slice(&3u16.to_le_bytes());
    t.extend_from_slice(&1u32.to_le_bytes());
    t.extend_from_slice(&6u16.to_le_bytes());
    t.extend_from_slice(&0u16.to_le_bytes());
    t.extend_from_slice(&0x8825u16.to_le_bytes()); // GPSInfo IFD pointer, LONG
    t.extend_from_slice(&4u16.to_le_bytes());
    t.extend_from_slice(&1u32.to_le_bytes());
    let gps_at = 8 + 2 + 2 * 12 + 4;
    t.extend_from_slice(&(gps_at as u32).to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
    // GPS IFD: GPSLatitudeRef 'N', GPSLatitude 48/1 51/1 30/1.
    t.extend_from_slice(&2u16.to_le_bytes());
    t.extend_from_slice(&1u16.to_le_bytes());
    t.extend_from_slice(&2u16.to_le_bytes()); // ASCII
    t.extend_from_slice(&2u32.to_le_bytes());
    t.extend_from_slice(b"N\0\0\0");
    t.extend_from_slice(&2u16.to_le_bytes());
    t.extend_from_slice(&5u16.to_le_bytes()); // RATIONAL
    t.extend_from_slice(&3u32.to_le_bytes());
    let rationals_at = gps_at + 2 + 2 * 12 + 4;
    t.extend_from_slice(&(rationals_at as u32).to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    for (n, d) in [(48u32, 1u32), (51, 1), (30, 1)] {
        t.extend_from_slice(&n.to_le_bytes());
        t.extend_from_slice(&d.to_le_bytes());
    }
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(t);
    app1
}

/// A 64×48 JPEG whose EXIF says "rotate 90°" and carries a GPS position.
pub fn jpeg_with_gps() -> Vec<u8> {
    let img = rgb(64, 48);
    let mut plain = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 90)
        .write_image(img.as_raw(), 64, 48, image::ExtendedColorType::Rgb8)
        .unwrap();
    let app1 = exif_with_gps();
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend(app1);
    out.extend_from_slice(&plain[2..]);
    out
}

pub fn pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec()
}

fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, data) in entries {
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

const CT: &[u8] = b"<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"/>";

pub fn docx() -> Vec<u8> {
    zip(&[
        ("[Content_Types].xml", CT),
        ("_rels/.rels", b"<Relationships/>"),
        ("word/document.xml", b"<w:document/>"),
    ])
}

pub fn xlsx() -> Vec<u8> {
    zip(&[
        ("[Content_Types].xml", CT),
        ("_rels/.rels", b"<Relationships/>"),
        ("xl/workbook.xml", b"<workbook/>"),
    ])
}

pub fn pptx() -> Vec<u8> {
    zip(&[
        ("[Content_Types].xml", CT),
        ("_rels/.rels", b"<Relationships/>"),
        ("ppt/presentation.xml", b"<p:presentation/>"),
    ])
}

pub fn odt() -> Vec<u8> {
    zip(&[
        ("mimetype", b"application/vnd.oasis.opendocument.text"),
        ("content.xml", b"<office:document-content/>"),
    ])
}

pub fn plain_zip() -> Vec<u8> {
    zip(&[("readme.md", b"hello"), ("bin/tool", b"\x7fELF")])
}

/// One second of 8 kHz, 8-bit mono silence.
pub fn wav() -> Vec<u8> {
    let data = vec![128u8; 8000];
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&8000u32.to_le_bytes()); // sample rate
    out.extend_from_slice(&8000u32.to_le_bytes()); // byte rate
    out.extend_from_slice(&1u16.to_le_bytes()); // block align
    out.extend_from_slice(&8u16.to_le_bytes()); // bits
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend(data);
    out
}

fn ogg_page(header_type: u8, granule: u64, seq: u32, packet: &[u8]) -> Vec<u8> {
    let mut p = b"OggS".to_vec();
    p.push(0);
    p.push(header_type);
    p.extend_from_slice(&granule.to_le_bytes());
    p.extend_from_slice(&7u32.to_le_bytes());
    p.extend_from_slice(&seq.to_le_bytes());
    p.extend_from_slice(&0u32.to_le_bytes()); // CRC (not checked)
    p.push(1);
    p.push(packet.len() as u8);
    p.extend_from_slice(packet);
    p
}

/// An Ogg/Opus voice note of one second (pre-skip 312).
pub fn ogg_opus() -> Vec<u8> {
    let mut head = b"OpusHead".to_vec();
    head.push(1);
    head.push(1);
    head.extend_from_slice(&312u16.to_le_bytes());
    head.extend_from_slice(&48000u32.to_le_bytes());
    head.extend_from_slice(&0u16.to_le_bytes());
    head.push(0);
    let mut out = ogg_page(2, 0, 0, &head);
    out.extend(ogg_page(0, 0, 1, b"OpusTags\0\0\0\0\0\0\0\0"));
    out.extend(ogg_page(4, 48_000 + 312, 2, &[0xFC, 0xFF, 0xFE]));
    out
}

pub fn mp3() -> Vec<u8> {
    let mut out = b"ID3\x03\x00\x00\x00\x00\x00\x00".to_vec();
    for _ in 0..4 {
        out.extend_from_slice(&[0xFF, 0xFB, 0x90, 0x64]);
        out.extend(vec![0u8; 413]);
    }
    out
}

pub fn m4a() -> Vec<u8> {
    let mut out = vec![0, 0, 0, 0x20];
    out.extend_from_slice(b"ftypM4A \0\0\0\0M4A mp42isom\0\0\0\0");
    out.extend(vec![0u8; 64]);
    out
}

/// The start of a WebM file as a browser's MediaRecorder writes it.
pub fn webm() -> Vec<u8> {
    let mut out = vec![0x1A, 0x45, 0xDF, 0xA3, 0x9F];
    out.extend_from_slice(&[
        0x42, 0x86, 0x81, 0x01, 0x42, 0xF7, 0x81, 0x01, 0x42, 0xF2, 0x81, 0x04, 0x42, 0xF3, 0x81,
        0x08,
    ]);
    out.extend_from_slice(&[0x42, 0x82, 0x84]);
    out.extend_from_slice(b"webm");
    out.extend_from_slice(&[0x42, 0x87, 0x81, 0x04, 0x42, 0x85, 0x81, 0x02]);
    out.extend(vec![0u8; 512]);
    out
}
