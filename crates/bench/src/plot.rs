//! PNG plots (plotters, bitmap backend): delivery latency percentiles vs offered rate.

use std::path::Path;
use std::sync::Once;

use anyhow::{Result, anyhow, bail};
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::scenarios::MaxReport;

const FONT_PATHS: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
];

static FONT: Once = Once::new();

/// plotters' `ab_glyph` text needs a registered TTF (no fontconfig): `OMW_BENCH_FONT` or DejaVu.
fn register_font() -> Result<()> {
    let mut err = None;
    FONT.call_once(|| {
        let path = std::env::var("OMW_BENCH_FONT")
            .ok()
            .into_iter()
            .chain(FONT_PATHS.iter().map(|s| s.to_string()))
            .find(|p| Path::new(p).exists());
        let Some(path) = path else {
            err = Some(anyhow!(
                "no TTF font found (set OMW_BENCH_FONT to a .ttf file)"
            ));
            return;
        };
        match std::fs::read(&path) {
            Ok(bytes) => {
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                if plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_err() {
                    err = Some(anyhow!("{path} is not a usable font"));
                }
            }
            Err(e) => err = Some(anyhow!("read {path}: {e}")),
        }
    });
    match err {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Delivery latency p50/p95/p99/max (log scale) against the offered rate of each max step.
pub fn latency_vs_rate(path: &Path, r: &MaxReport) -> Result<()> {
    if r.steps.is_empty() {
        bail!("no steps to plot");
    }
    register_font()?;
    let xs: Vec<f64> = r.steps.iter().map(|s| s.offered_per_s).collect();
    let x_max = xs.iter().cloned().fold(0.0, f64::max) * 1.05;
    let y_max = r
        .steps
        .iter()
        .map(|s| s.delivery_latency.max_ms)
        .fold(r.p99_limit_ms, f64::max)
        * 2.0;
    let y_min = r
        .steps
        .iter()
        .map(|s| s.delivery_latency.p50_ms)
        .fold(f64::INFINITY, f64::min)
        .clamp(0.01, 1.0)
        / 2.0;
    const W: u32 = 1000;
    const H: u32 = 620;
    let mut rgb = vec![0u8; (W * H * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (W, H)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
        let title = format!(
            "omw-chat {} — delivery latency vs offered rate ({} pairs)",
            r.label, r.pairs
        );
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 22))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(65)
            .build_cartesian_2d(0.0..x_max, (y_min..y_max).log_scale())
            .map_err(|e| anyhow!("{e}"))?;
        chart
            .configure_mesh()
            .x_desc("offered messages/s (all clients)")
            .y_desc("send → counterpart delivery (ms, log)")
            .label_style(("sans-serif", 14))
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| format!("{y}"))
            .draw()
            .map_err(|e| anyhow!("{e}"))?;
        type Pick = fn(&crate::stats::Latency) -> f64;
        let series: [(&str, RGBColor, Pick); 4] = [
            ("p50", BLUE, |l| l.p50_ms),
            ("p95", GREEN, |l| l.p95_ms),
            ("p99", RGBColor(230, 120, 0), |l| l.p99_ms),
            ("max", RED, |l| l.max_ms),
        ];
        for (name, color, pick) in series {
            let pts: Vec<(f64, f64)> = r
                .steps
                .iter()
                .map(|s| (s.offered_per_s, pick(&s.delivery_latency).max(y_min)))
                .collect();
            chart
                .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
                .map_err(|e| anyhow!("{e}"))?
                .label(name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
            chart
                .draw_series(pts.into_iter().map(|p| Circle::new(p, 4, color.filled())))
                .map_err(|e| anyhow!("{e}"))?;
        }
        let limit = r.p99_limit_ms;
        chart
            .draw_series(LineSeries::new(
                vec![(0.0, limit), (x_max, limit)],
                BLACK.stroke_width(1),
            ))
            .map_err(|e| anyhow!("{e}"))?
            .label(format!("{limit} ms p99 target"))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 14))
            .draw()
            .map_err(|e| anyhow!("{e}"))?;
        root.present().map_err(|e| anyhow!("{e}"))?;
    }
    write_png(path, W, H, &rgb)
}

/// Encode an RGB buffer as PNG (the `png` crate; no `image` dependency).
fn write_png(path: &Path, w: u32, h: u32, rgb: &[u8]) -> Result<()> {
    let file =
        std::fs::File::create(path).map_err(|e| anyhow!("create {}: {e}", path.display()))?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(())
}
