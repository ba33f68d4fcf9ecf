//! `robustness.png`: accuracy against strength, one panel per perturbation family, one line
//! per model (several reports can share the picture, e.g. a plain and an augmented model).
//!
//! Drawn with `plotters` into a pixel buffer, as `train` draws `curves.png`, with the same
//! DejaVu Sans font compiled in (from `crates/train/fonts/`), so the picture looks the same on
//! every machine and needs no system font.

use std::sync::OnceLock;

use image::RgbImage;
use plotters::prelude::*;

use crate::InferError;
use crate::robustness::Robustness;

/// Width of `robustness.png`, in pixels: three panels a row.
pub const WIDTH: u32 = 1500;
/// Height of `robustness.png`, in pixels: two rows of panels.
pub const HEIGHT: u32 = 900;
/// File name of the plot in `infer eval --report DIR`.
pub const PNG_FILE: &str = "robustness.png";

const FONT: &[u8] = include_bytes!("../../train/fonts/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";
/// One colour per model, in the order the reports are given.
const COLORS: [RGBColor; 4] = [
    RGBColor(0x1f, 0x5f, 0xbf),
    RGBColor(0xe0, 0x6c, 0x00),
    RGBColor(0x2a, 0x9d, 0x3f),
    RGBColor(0xb0, 0x2a, 0x8f),
];

fn draw_error<E: std::fmt::Display>(error: E) -> InferError {
    InferError::Plot(error.to_string())
}

/// The plot of `reports` (at most four models; each must hold the same families), as an RGB
/// picture of [`WIDTH`] x [`HEIGHT`].
pub fn render(reports: &[&Robustness]) -> Result<RgbImage, InferError> {
    register_font()?;
    let first = reports
        .first()
        .ok_or_else(|| InferError::Plot("no report to draw".into()))?;
    if reports.len() > COLORS.len() {
        return Err(InferError::Plot(format!(
            "at most {} models in one plot, got {}",
            COLORS.len(),
            reports.len()
        )));
    }
    let mut families: Vec<(&str, &str)> = Vec::new();
    for row in &first.rows {
        if !families.iter().any(|(f, _)| *f == row.family) {
            families.push((&row.family, &row.unit));
        }
    }
    let mut rgb = vec![0u8; WIDTH as usize * HEIGHT as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_error)?;
        let rows = families.len().div_ceil(3);
        for (area, &(family, unit)) in root.split_evenly((rows, 3)).iter().zip(&families) {
            draw_panel(area, reports, family, unit)?;
        }
        root.present().map_err(draw_error)?;
    }
    RgbImage::from_raw(WIDTH, HEIGHT, rgb)
        .ok_or_else(|| InferError::Plot("the pixel buffer has the wrong size".into()))
}

/// One family: accuracy (%) against strength, a line with dots per model, and a legend.
fn draw_panel(
    area: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    reports: &[&Robustness],
    family: &str,
    unit: &str,
) -> Result<(), InferError> {
    let series: Vec<Vec<(f64, f64)>> = reports
        .iter()
        .map(|r| {
            r.family(family)
                .iter()
                .map(|row| (f64::from(row.strength), 100.0 * row.accuracy))
                .collect()
        })
        .collect();
    let points = || series.iter().flatten();
    let (x_lo, x_hi) = points().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
        (lo.min(p.0), hi.max(p.0))
    });
    let y_min = points().fold(100.0f64, |lo, p| lo.min(p.1));
    if !x_lo.is_finite() {
        return Err(InferError::Plot(format!("no points for {family}")));
    }
    let pad = ((100.0 - y_min) * 0.08).max(0.5);
    let (y_lo, y_hi) = ((y_min - pad).max(0.0), 100.0);
    let x_pad = ((x_hi - x_lo) * 0.04).max(0.01);
    let mut chart = ChartBuilder::on(area)
        .caption(family, (FAMILY, 24))
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d((x_lo - x_pad)..(x_hi + x_pad), y_lo..y_hi)
        .map_err(draw_error)?;
    let label = |v: &f64| {
        format!("{v:.2}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    };
    chart
        .configure_mesh()
        .x_desc(unit)
        .y_desc("accuracy (%)")
        .x_labels(8)
        .y_labels(8)
        .x_label_formatter(&label)
        .y_label_formatter(&label)
        .label_style((FAMILY, 14))
        .axis_desc_style((FAMILY, 16))
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.08))
        .draw()
        .map_err(draw_error)?;
    for ((report, points), &color) in reports.iter().zip(&series).zip(&COLORS) {
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                color.stroke_width(2),
            ))
            .map_err(draw_error)?
            .label(report.model.as_str())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 22, y)], color.stroke_width(2)));
        chart
            .draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))
            .map_err(draw_error)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerMiddle)
        .label_font((FAMILY, 13))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .draw()
        .map_err(draw_error)
}

fn register_font() -> Result<(), InferError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED
        .get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    ok.then_some(())
        .ok_or_else(|| InferError::Plot("the embedded DejaVu Sans font is not a valid font".into()))
}
