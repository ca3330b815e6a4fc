//! Hostile bytes into the content sniffer, the header readers and the GIF copier: random,
//! truncated and mutated inputs from a fixed seed (reproducible on stable Rust) must never
//! panic.

use super::{audio, image, sniff};

/// xorshift64*: small, seeded, good enough to mutate inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn png() -> Vec<u8> {
    let img = ::image::RgbaImage::from_fn(6, 4, |x, y| {
        ::image::Rgba([x as u8 * 40, y as u8 * 60, 9, 200])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, ::image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn jpeg() -> Vec<u8> {
    let img =
        ::image::RgbImage::from_fn(8, 8, |x, y| ::image::Rgb([x as u8 * 30, y as u8 * 30, 7]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, ::image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

fn gif() -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = gif::Encoder::new(&mut out, 8, 6, &[0, 0, 0, 255, 0, 0, 0, 255, 0]).unwrap();
        enc.set_repeat(gif::Repeat::Infinite).unwrap();
        for i in 0..3u16 {
            let frame = gif::Frame {
                left: i,
                top: i,
                width: 4,
                height: 3,
                transparent: Some(0),
                buffer: vec![(i % 3) as u8; 12].into(),
                ..Default::default()
            };
            enc.write_frame(&frame).unwrap();
        }
    }
    out
}

fn wav() -> Vec<u8> {
    let mut v = b"RIFF\x24\x10\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00data\x00\x10\x00\x00".to_vec();
    v.extend(vec![0u8; 64]);
    v
}

fn ogg() -> Vec<u8> {
    let mut v = b"OggS\x00\x02".to_vec();
    v.extend([0u8; 8]);
    v.extend(b"\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x13OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00\x00\x00\x00");
    v.extend(b"OggS\x00\x04\x80\xbb\x00\x00\x00\x00\x00\x00");
    v
}

fn seeds() -> Vec<Vec<u8>> {
    vec![
        png(),
        jpeg(),
        gif(),
        wav(),
        ogg(),
        b"RIFF\x10\x00\x00\x00WEBPVP8L".to_vec(),
        b"%PDF-1.4\n%\xe2\xe3\n".to_vec(),
        b"PK\x03\x04\x14\x00".to_vec(),
        b"ID3\x04\x00\x00\x00\x00\x00\x00".to_vec(),
        b"\x1aE\xdf\xa3\x9fB\x86\x81\x01".to_vec(),
        Vec::new(),
    ]
}

/// Truncate, flip, insert, overwrite with extreme values, or start from noise.
fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    match rng.below(6) {
        0 => v.truncate(rng.below(v.len() + 1)),
        1 => {
            for _ in 0..1 + rng.below(8) {
                if !v.is_empty() {
                    let i = rng.below(v.len());
                    v[i] ^= 1 << rng.below(8);
                }
            }
        }
        2 => {
            let at = rng.below(v.len() + 1);
            let n = rng.below(64);
            let noise: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
            v.splice(at..at, noise);
        }
        3 => {
            for _ in 0..1 + rng.below(4) {
                if v.len() >= 4 {
                    let i = rng.below(v.len() - 3);
                    let x = [0x00, 0xFF, 0x7F, 0x80][rng.below(4)];
                    v[i..i + 4].fill(x);
                }
            }
        }
        4 => v = (0..rng.below(600)).map(|_| rng.next() as u8).collect(),
        _ => {
            let cut = rng.below(v.len() + 1);
            v.truncate(cut);
            v.extend((0..rng.below(32)).map(|_| rng.next() as u8));
        }
    }
    v
}

#[test]
fn sniffer_and_header_readers_never_panic() {
    let seeds = seeds();
    let mut rng = Rng(0x0dd_5eed);
    for _ in 0..20_000 {
        let seed = rng.below(seeds.len());
        let input = mutate(&mut rng, &seeds[seed]);
        let _ = sniff::by_magic(&input);
        let _ = audio::wav(&input);
        let half = rng.below(input.len() + 1);
        let _ = audio::ogg(&input[..half], &input[half..]);
        let _ = image::probe_bytes(&input);
    }
    // Fields at their extremes.
    let mut w = wav();
    w[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(audio::wav(&w).is_some());
    w[28..32].copy_from_slice(&0u32.to_le_bytes());
    assert_eq!(audio::wav(&w), None);
    let mut o = ogg();
    let n = o.len();
    o[n - 8..].copy_from_slice(&(u64::MAX - 1).to_le_bytes());
    assert_eq!(
        audio::ogg(&o, &o),
        None,
        "a granule past i64 is no duration"
    );
}

#[test]
fn image_sanitizing_never_panics_on_mutated_images() {
    let seeds = [png(), jpeg(), gif()];
    let mut rng = Rng(0xbad_1ace);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("input");
    for _ in 0..1_500 {
        let seed = rng.below(seeds.len());
        let input = mutate(&mut rng, &seeds[seed]);
        std::fs::write(&path, &input).unwrap();
        let Ok((w, h)) = image::probe(&path) else {
            continue;
        };
        if u64::from(w) * u64::from(h) > 1_000_000 {
            continue;
        }
        let format = [
            sniff::ImageFormat::Png,
            sniff::ImageFormat::Jpeg,
            sniff::ImageFormat::Gif,
        ][seed];
        let _ = image::sanitize(&path, format, 64 << 20, 1_000_000);
    }
}
