//! Images are decoded within limits (no pixel bombs), turned upright, and re-encoded without
//! any metadata (no EXIF, no GPS), with a thumbnail.

use std::{io::BufReader, path::Path};

use image::{
    AnimationDecoder, DynamicImage, ImageDecoder, ImageEncoder, ImageReader, Limits,
    codecs::{
        gif::GifDecoder, gif::GifEncoder, jpeg::JpegEncoder, png::PngEncoder, webp::WebPEncoder,
    },
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

fn limits() -> Limits {
    let mut l = Limits::default();
    l.max_image_width = Some(MAX_SIDE);
    l.max_image_height = Some(MAX_SIDE);
    l.max_alloc = Some(512 * 1024 * 1024);
    l
}

pub fn sanitize(path: &Path, format: ImageFormat) -> Result<Sanitized, String> {
    let (w, h) = ImageReader::open(path)
        .map_err(|e| e.to_string())?
        .with_guessed_format()
        .map_err(|e| e.to_string())?
        .into_dimensions()
        .map_err(|e| e.to_string())?;
    if w > MAX_SIDE || h > MAX_SIDE || u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(format!("{w}×{h} pixels is too large"));
    }
    if format == ImageFormat::Gif {
        return gif(path);
    }
    let mut reader = ImageReader::open(path)
        .map_err(|e| e.to_string())?
        .with_guessed_format()
        .map_err(|e| e.to_string())?;
    reader.limits(limits());
    let mut decoder = reader.into_decoder().map_err(|e| e.to_string())?;
    let orientation = decoder.orientation().map_err(|e| e.to_string())?;
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| e.to_string())?;
    img.apply_orientation(orientation);
    let (width, height) = (img.width(), img.height());
    let (bytes, mime) = match format {
        ImageFormat::Jpeg => (jpeg(&img)?, "image/jpeg"),
        ImageFormat::Png => (png(&img)?, "image/png"),
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
                .map_err(|e| e.to_string())?;
            (out, "image/webp")
        }
    };
    Ok(Sanitized {
        bytes,
        mime,
        width,
        height,
        thumb: thumbnail(&img)?,
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

/// Animated GIFs keep their frames; everything else in the file is dropped.
fn gif(path: &Path) -> Result<Sanitized, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut decoder = GifDecoder::new(BufReader::new(file)).map_err(|e| e.to_string())?;
    decoder.set_limits(limits()).map_err(|e| e.to_string())?;
    let (width, height) = decoder.dimensions();
    let mut frames = Vec::new();
    for frame in decoder.into_frames() {
        frames.push(frame.map_err(|e| e.to_string())?);
        if frames.len() > MAX_GIF_FRAMES {
            return Err("too many frames".into());
        }
    }
    let first = frames.first().ok_or("no frames")?.buffer().clone();
    let mut out = Vec::new();
    {
        let mut enc = GifEncoder::new(&mut out);
        enc.set_repeat(image::codecs::gif::Repeat::Infinite)
            .map_err(|e| e.to_string())?;
        enc.encode_frames(frames).map_err(|e| e.to_string())?;
    }
    Ok(Sanitized {
        bytes: out,
        mime: "image/gif",
        width,
        height,
        thumb: thumbnail(&DynamicImage::ImageRgba8(first))?,
    })
}
