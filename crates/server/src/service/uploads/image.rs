//! Images are decoded within limits (no pixel bombs), turned upright, and re-encoded without
//! any metadata (no EXIF, no GPS), with a thumbnail.

use std::{
    io::{BufRead, BufReader, Read, Seek},
    path::Path,
};

use image::{
    DynamicImage, ImageDecoder, ImageEncoder, ImageReader, Limits,
    codecs::{jpeg::JpegEncoder, png::PngEncoder, webp::WebPEncoder},
};

use super::sniff::ImageFormat;

/// Largest side and pixel count accepted (checked from the header, before decoding).
const MAX_SIDE: u32 = 12_000;
const MAX_PIXELS: u64 = 50_000_000;
const MAX_GIF_FRAMES: usize = 300;
const THUMB: u32 = 320;

pub struct Sanitized {
    pub bytes: Vec<u8>,
    pub mime: &'static str,
    pub width: u32,
    pub height: u32,
    pub thumb: Vec<u8>,
}

/// Why an image was not taken.
#[derive(Debug)]
pub enum Refusal {
    /// Not a readable image of its type (`unsupported_media_type`).
    Unreadable(String),
    /// Readable, but decoding it would take more than we give one upload
    /// (`payload_too_large`).
    TooLarge(String),
}

fn unreadable(e: impl std::fmt::Display) -> Refusal {
    Refusal::Unreadable(e.to_string())
}

/// An image's size from its header, refused past the side and pixel limits.
pub fn probe(path: &Path) -> Result<(u32, u32), Refusal> {
    dimensions(ImageReader::open(path).map_err(unreadable)?)
}

/// [`probe`] on bytes in memory (the same checks; never panics, whatever the bytes).
pub fn probe_bytes(bytes: &[u8]) -> Result<(u32, u32), Refusal> {
    dimensions(ImageReader::new(std::io::Cursor::new(bytes)))
}

fn dimensions<R: std::io::BufRead + std::io::Seek>(
    reader: ImageReader<R>,
) -> Result<(u32, u32), Refusal> {
    let (w, h) = reader
        .with_guessed_format()
        .map_err(unreadable)?
        .into_dimensions()
        .map_err(unreadable)?;
    if w > MAX_SIDE || h > MAX_SIDE || u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(unreadable(format!("{w}×{h} pixels is too large")));
    }
    Ok((w, h))
}

/// About how much memory sanitizing a `w`×`h` image takes at most: still images are decoded
/// (up to 8 bytes a pixel for 16-bit PNG), turned upright (a copy) and converted for the
/// encoder (another); a GIF holds one indexed frame and its re-encoding.
pub fn memory_estimate(format: ImageFormat, w: u32, h: u32) -> u64 {
    let pixels = u64::from(w) * u64::from(h);
    match format {
        ImageFormat::Gif => pixels * 2 + (1 << 20),
        _ => pixels * 16 + (1 << 20),
    }
}

fn limits(max_alloc: u64) -> Limits {
    let mut l = Limits::default();
    l.max_image_width = Some(MAX_SIDE);
    l.max_image_height = Some(MAX_SIDE);
    l.max_alloc = Some(max_alloc);
    l
}

/// Decode and re-encode an image already probed. `max_alloc` bounds any single allocation of
/// the decoder; `gif_budget` the pixels of all a GIF's frames together.
pub fn sanitize(
    path: &Path,
    format: ImageFormat,
    max_alloc: u64,
    gif_budget: u64,
) -> Result<Sanitized, Refusal> {
    let file = BufReader::new(std::fs::File::open(path).map_err(unreadable)?);
    sanitize_from(file, format, max_alloc, gif_budget)
}

/// [`sanitize`] on bytes in memory (the same work; the fuzz targets call it).
pub fn sanitize_bytes(
    bytes: &[u8],
    format: ImageFormat,
    max_alloc: u64,
    gif_budget: u64,
) -> Result<Sanitized, Refusal> {
    sanitize_from(std::io::Cursor::new(bytes), format, max_alloc, gif_budget)
}

fn sanitize_from<R: BufRead + Seek>(
    input: R,
    format: ImageFormat,
    max_alloc: u64,
    gif_budget: u64,
) -> Result<Sanitized, Refusal> {
    if format == ImageFormat::Gif {
        return gif(input, gif_budget);
    }
    let mut reader = ImageReader::new(input)
        .with_guessed_format()
        .map_err(unreadable)?;
    reader.limits(limits(max_alloc));
    let mut decoder = reader.into_decoder().map_err(unreadable)?;
    let orientation = decoder.orientation().map_err(unreadable)?;
    let mut img = DynamicImage::from_decoder(decoder).map_err(unreadable)?;
    img.apply_orientation(orientation);
    let (width, height) = (img.width(), img.height());
    let (bytes, mime) = match format {
        ImageFormat::Jpeg => (jpeg(&img).map_err(unreadable)?, "image/jpeg"),
        ImageFormat::Png => (png(&img).map_err(unreadable)?, "image/png"),
        _ => {
            let rgba = img.to_rgba8();
            let mut out = Vec::new();
            WebPEncoder::new_lossless(&mut out)
                .write_image(
                    rgba.as_raw(),
                    width,
                    height,
                    image::ExtendedColorType::Rgba8,
                )
                .map_err(unreadable)?;
            (out, "image/webp")
        }
    };
    Ok(Sanitized {
        bytes,
        mime,
        width,
        height,
        thumb: thumbnail(&img).map_err(unreadable)?,
    })
}

fn jpeg(img: &DynamicImage) -> Result<Vec<u8>, String> {
    let rgb = img.to_rgb8();
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 88)
        .write_image(
            rgb.as_raw(),
            rgb.width(),
            rgb.height(),
            image::ExtendedColorType::Rgb8,
        )
        .map_err(|e| e.to_string())?;
    Ok(out)
}

fn png(img: &DynamicImage) -> Result<Vec<u8>, String> {
    let rgba = img.to_rgba8();
    let mut out = Vec::new();
    PngEncoder::new(&mut out)
        .write_image(
            rgba.as_raw(),
            rgba.width(),
            rgba.height(),
            image::ExtendedColorType::Rgba8,
        )
        .map_err(|e| e.to_string())?;
    Ok(out)
}

/// A JPEG thumbnail; transparency is flattened onto white (thumbnails are always JPEG, so
/// serving one needs no second look at the file).
fn thumbnail(img: &DynamicImage) -> Result<Vec<u8>, String> {
    let t = img.thumbnail(THUMB, THUMB);
    if !t.color().has_alpha() {
        return jpeg(&t);
    }
    let rgba = t.to_rgba8();
    let flat = image::RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let over = |c: u8| ((u16::from(c) * u16::from(a) + 255 * (255 - u16::from(a))) / 255) as u8;
        image::Rgb([over(r), over(g), over(b)])
    });
    jpeg(&DynamicImage::ImageRgb8(flat))
}

/// Animated GIFs keep their frames, copied as indexed pixels: each frame's own rectangle,
/// palette, timing and disposal, one frame at a time. Nothing is composited onto the canvas and
/// nothing re-quantized, so memory is one frame (never frames × canvas) and the work is the
/// pixels actually coded, bounded by `budget` over the whole file. Extensions (comments, XMP,
/// application data) are not copied.
fn gif(input: impl Read, budget: u64) -> Result<Sanitized, Refusal> {
    let mut opts = gif::DecodeOptions::new();
    opts.set_color_output(gif::ColorOutput::Indexed);
    // A frame outside the canvas is refused rather than guessed at.
    opts.check_frame_consistency(true);
    if let Some(limit) = std::num::NonZeroU64::new(MAX_PIXELS) {
        opts.set_memory_limit(gif::MemoryLimit::Bytes(limit));
    }
    let mut dec = opts.read_info(input).map_err(unreadable)?;
    let (width, height) = (dec.width(), dec.height());
    let global = dec.global_palette().map(<[u8]>::to_vec);
    let mut out = Vec::new();
    let mut thumb = None;
    {
        let mut enc = gif::Encoder::new(&mut out, width, height, global.as_deref().unwrap_or(&[]))
            .map_err(unreadable)?;
        enc.set_repeat(dec.repeat()).map_err(unreadable)?;
        let (mut frames, mut pixels) = (0usize, 0u64);
        while let Some(info) = dec.next_frame_info().map_err(unreadable)? {
            frames += 1;
            if frames > MAX_GIF_FRAMES {
                return Err(Refusal::TooLarge(format!(
                    "an animation of more than {MAX_GIF_FRAMES} frames"
                )));
            }
            pixels += u64::from(info.width) * u64::from(info.height);
            if pixels > budget {
                return Err(Refusal::TooLarge(format!(
                    "an animation of more than {budget} pixels in all its frames"
                )));
            }
            let mut frame = gif::Frame {
                buffer: Default::default(),
                palette: info.palette.clone(),
                // The decoder hands out rows in display order.
                interlaced: false,
                needs_user_input: false,
                ..*info
            };
            let mut buf = vec![0u8; dec.buffer_size()];
            dec.read_into_buffer(&mut buf).map_err(unreadable)?;
            frame.buffer = buf.into();
            if thumb.is_none() {
                thumb = Some(gif_thumbnail(
                    &frame,
                    global.as_deref(),
                    u32::from(width),
                    u32::from(height),
                )?);
            }
            enc.write_frame(&frame).map_err(unreadable)?;
        }
    }
    Ok(Sanitized {
        bytes: out,
        mime: "image/gif",
        width: u32::from(width),
        height: u32::from(height),
        thumb: thumb.ok_or_else(|| unreadable("no frames"))?,
    })
}

/// The first frame, scaled down (nearest pixel) straight from its indices onto white: memory
/// is the thumbnail's, whatever the canvas.
fn gif_thumbnail(
    frame: &gif::Frame<'_>,
    global: Option<&[u8]>,
    width: u32,
    height: u32,
) -> Result<Vec<u8>, Refusal> {
    let palette = frame.palette.as_deref().or(global).unwrap_or(&[]);
    let scale = |side: u32| {
        let big = width.max(height).max(1);
        (u64::from(side) * u64::from(THUMB.min(big)) / u64::from(big)).max(1) as u32
    };
    let (tw, th) = (scale(width), scale(height));
    let (left, top) = (u32::from(frame.left), u32::from(frame.top));
    let (fw, fh) = (u32::from(frame.width), u32::from(frame.height));
    let img = image::RgbImage::from_fn(tw, th, |x, y| {
        let cx = (u64::from(x) * u64::from(width) / u64::from(tw)) as u32;
        let cy = (u64::from(y) * u64::from(height) / u64::from(th)) as u32;
        let white = image::Rgb([255, 255, 255]);
        if cx < left || cy < top || cx - left >= fw || cy - top >= fh {
            return white;
        }
        let i = ((cy - top) as usize) * fw as usize + (cx - left) as usize;
        match frame.buffer.get(i) {
            Some(&idx) if Some(idx) != frame.transparent => {
                let p = usize::from(idx) * 3;
                match palette.get(p..p + 3) {
                    Some(rgb) => image::Rgb([rgb[0], rgb[1], rgb[2]]),
                    None => white,
                }
            }
            _ => white,
        }
    });
    jpeg(&DynamicImage::ImageRgb8(img)).map_err(Refusal::Unreadable)
}
