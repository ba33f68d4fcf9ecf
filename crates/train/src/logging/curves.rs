//! `curves.png`: a run's history at a glance, in three panels: loss, accuracy (train and
//! validation, per epoch) and the learning rate, with the selected epoch (lowest validation
//! loss) marked.
//!
//! Drawn with `plotters` into a pixel buffer and encoded with `png`. The text uses the DejaVu
//! Sans font compiled into the binary (`fonts/`), so the picture looks the same on every machine
//! and needs no system font.

use std::path::Path;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{CurvesError, io};
use crate::logging::history::{EpochRecord, read_history};

/// Width of `curves.png`, in pixels: three panels side by side.
pub const WIDTH: u32 = 1500;
/// Height of `curves.png`, in pixels.
pub const HEIGHT: u32 = 480;

const FONT: &[u8] = include_bytes!("../../fonts/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";
const TRAIN: RGBColor = RGBColor(0x1f, 0x5f, 0xbf);
const VALID: RGBColor = RGBColor(0xe0, 0x6c, 0x00);
const LR: RGBColor = RGBColor(0x2a, 0x9d, 0x3f);
const SELECTED: RGBColor = RGBColor(0x70, 0x70, 0x70);

fn draw_error<E: std::error::Error + Send + Sync + 'static>(error: E) -> CurvesError {
    CurvesError::Draw(Box::new(error))
}

/// Reads the history at `history` and writes its curves to `out` with the project's atomic
/// writer (`atomic_write.rs`: replaced whole, nothing left behind when it fails). Refuses an
/// `out` that is the history itself (compared as canonical paths, so links and `./` count).
/// Returns the number of epochs drawn.
pub fn redraw(history: &Path, out: &Path) -> Result<usize, CurvesError> {
    // `read_history` takes a missing file for a run that has not finished an epoch yet; here it
    // is a wrong path.
    std::fs::metadata(history).map_err(io(history))?;
    if let (Ok(input), Ok(output)) = (history.canonicalize(), out.canonicalize())
        && input == output
    {
        return Err(CurvesError::OutIsInput(out.into()));
    }
    let epochs = latest_per_epoch(read_history(history)?);
    if epochs.is_empty() {
        return Err(CurvesError::Empty(history.into()));
    }
    let png = render(&epochs)?;
    crate::atomic_write::write(out, &png, crate::atomic_write::Replace::Yes).map_err(io(out))?;
    Ok(epochs.len())
}

/// [`redraw`] on a thread of its own, waited for at most `deadline`: a drawing that takes
/// longer is left to finish (or not) on its own and [`CurvesError::Timeout`] returned, so that
/// no picture can stop training. While such a drawing still runs, later calls draw nothing and
/// return [`CurvesError::Busy`].
pub fn redraw_within(history: &Path, out: &Path, deadline: Duration) -> Result<usize, CurvesError> {
    let (history, out) = (history.to_path_buf(), out.to_path_buf());
    within(deadline, move || redraw(&history, &out))
}

/// Whether a drawing started by [`within`] is still running.
static DRAWING: AtomicBool = AtomicBool::new(false);

/// Runs `draw` on its own thread and waits for it at most `deadline` (see [`redraw_within`]).
fn within<F>(deadline: Duration, draw: F) -> Result<usize, CurvesError>
where
    F: FnOnce() -> Result<usize, CurvesError> + Send + 'static,
{
    if DRAWING.swap(true, Ordering::AcqRel) {
        return Err(CurvesError::Busy);
    }
    let (sender, receiver) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("curves".into())
        .spawn(move || {
            let result = draw();
            DRAWING.store(false, Ordering::Release);
            let _ = sender.send(result);
        });
    if let Err(error) = spawned {
        DRAWING.store(false, Ordering::Release);
        return Err(CurvesError::Draw(Box::new(error)));
    }
    receiver
        .recv_timeout(deadline)
        .unwrap_or(Err(CurvesError::Timeout(deadline)))
}

/// The history in epoch order, one record per epoch: the last line wins, as a resumed run
/// appends again the epochs it retrains after its checkpoint.
pub fn latest_per_epoch(mut history: Vec<EpochRecord>) -> Vec<EpochRecord> {
    history.reverse();
    let mut seen = std::collections::HashSet::new();
    history.retain(|r| seen.insert(r.epoch));
    history.sort_by_key(|r| r.epoch);
    history
}

/// `curves.png` of `history` (epoch order), as PNG bytes of `WIDTH` x `HEIGHT`.
pub fn render(history: &[EpochRecord]) -> Result<Vec<u8>, CurvesError> {
    register_font()?;
    let mut rgb = vec![0u8; WIDTH as usize * HEIGHT as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_error)?;
        let selected = crate::learner::selection::best_epoch(history).map(|r| r.epoch);

        let line = |name, color, value: fn(&EpochRecord) -> f64| Line {
            name,
            color,
            points: history
                .iter()
                .map(|r| (epoch_axis(r.epoch), value(r)))
                .filter(|(_, v)| v.is_finite())
                .map(|(epoch, v)| (epoch, v.clamp(-AXIS_LIMIT, AXIS_LIMIT)))
                .collect(),
        };
        let panels = [
            Panel {
                title: "Loss",
                unit: "cross-entropy",
                scale: Scale::Loss,
                lines: vec![
                    line("train", TRAIN, |r| r.train_loss),
                    line("validation", VALID, |r| r.valid_loss),
                ],
            },
            Panel {
                title: "Accuracy",
                unit: "accuracy (%)",
                scale: Scale::Percent,
                lines: vec![
                    line("train", TRAIN, |r| r.train_accuracy),
                    line("validation", VALID, |r| r.valid_accuracy),
                ],
            },
            Panel {
                title: "Learning rate",
                unit: "learning rate (last step of the epoch)",
                scale: Scale::Rate,
                lines: vec![line("learning rate", LR, |r| r.lr)],
            },
        ];
        for (area, panel) in root.split_evenly((1, panels.len())).iter().zip(&panels) {
            draw_panel(area, history, selected, panel)?;
        }
        root.present().map_err(draw_error)?;
    }
    encode(&rgb)
}

/// One panel of the picture: what it shows and how its y axis fits the values.
struct Panel {
    title: &'static str,
    unit: &'static str,
    scale: Scale,
    lines: Vec<Line>,
}

/// One series: its legend, its colour, its `(epoch, value)` points (finite values only).
struct Line {
    name: &'static str,
    color: RGBColor,
    points: Vec<(u32, f64)>,
}

/// One panel: a line with dots per series (a one-epoch run still shows its values), a dashed
/// vertical line at the selected epoch, labelled axes and a legend.
fn draw_panel(
    area: &DrawingArea<BitMapBackend<'_>, Shift>,
    history: &[EpochRecord],
    selected: Option<usize>,
    panel: &Panel,
) -> Result<(), CurvesError> {
    let Panel {
        title,
        unit,
        scale,
        ref lines,
    } = *panel;
    let first = history.first().map_or(1, |r| epoch_axis(r.epoch));
    let last = history
        .last()
        .map_or(1, |r| epoch_axis(r.epoch))
        .max(first + 1);
    let (lo, hi) = scale.range(lines.iter().flat_map(|line| &line.points));
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FAMILY, 24))
        .margin(14)
        .x_label_area_size(48)
        .y_label_area_size(78)
        .build_cartesian_2d(first..last, lo..hi)
        .map_err(draw_error)?;
    let scientific = !(0.01..1e5).contains(&hi);
    let y_label = |v: &f64| {
        if *v == 0.0 {
            "0".to_string()
        } else if scientific {
            format!("{v:.1e}")
        } else {
            format!("{v:.3}")
                .trim_end_matches('0')
                .trim_end_matches('.')
                .to_string()
        }
    };
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(unit)
        .x_labels(((last - first) as usize + 1).min(12))
        .y_labels(8)
        .y_label_formatter(&y_label)
        .label_style((FAMILY, 14))
        .axis_desc_style((FAMILY, 16))
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.08))
        .draw()
        .map_err(draw_error)?;
    if let Some(epoch) = selected {
        let epoch = epoch_axis(epoch);
        chart
            .draw_series(DashedLineSeries::new(
                [(epoch, lo), (epoch, hi)],
                6,
                4,
                SELECTED.stroke_width(1),
            ))
            .map_err(draw_error)?
            .label(format!("selected: epoch {epoch}"))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 22, y)], SELECTED.stroke_width(1)));
    }
    for &Line {
        name,
        color,
        ref points,
    } in lines
    {
        // Within the axis: plotters maps a point far outside it to a pixel offset that
        // overflows `i32` (an accuracy of 1e300 on the 0-100 axis).
        let points: Vec<(u32, f64)> = points.iter().map(|&(e, v)| (e, v.clamp(lo, hi))).collect();
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                color.stroke_width(2),
            ))
            .map_err(draw_error)?
            .label(name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 22, y)], color.stroke_width(2)));
        chart
            .draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))
            .map_err(draw_error)?;
    }
    chart
        .configure_series_labels()
        .position(scale.legend())
        .label_font((FAMILY, 14))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .draw()
        .map_err(draw_error)
}

/// The largest magnitude drawn: a value beyond it (a loss of 1.7e308) is drawn at it, so that
/// the axis range and its margin stay finite (`1.7e308 * 1.1` is infinite, and plotters then
/// never stops placing ticks).
const AXIS_LIMIT: f64 = 1e300;

/// The largest epoch number placed on the x axis as it is: far above any real run
/// ([`crate::limits::MAX_EPOCHS`]), and far enough below `u32::MAX` that plotters' tick
/// arithmetic on the axis cannot overflow.
const MAX_EPOCH_AXIS: u32 = 1 << 30;

/// An epoch number as a point of the x axis, at most [`MAX_EPOCH_AXIS`], whatever a history
/// file says.
fn epoch_axis(epoch: usize) -> u32 {
    u32::try_from(epoch).unwrap_or(u32::MAX).min(MAX_EPOCH_AXIS)
}

/// How a panel's y axis fits its values, with a margin so that no line runs along the frame.
#[derive(Clone, Copy)]
enum Scale {
    /// A loss, from 0: a halved loss looks halved.
    Loss,
    /// A learning rate, from 0.
    Rate,
    /// Around the values, within 0..100: late epochs differ by tenths of a percent.
    Percent,
}

impl Scale {
    /// Where the legend hides no line: losses fall to the right, accuracies rise to the top, a
    /// learning rate stays high or falls from the top left.
    fn legend(self) -> SeriesLabelPosition {
        match self {
            Self::Loss => SeriesLabelPosition::UpperRight,
            Self::Percent => SeriesLabelPosition::LowerRight,
            Self::Rate => SeriesLabelPosition::LowerLeft,
        }
    }

    /// The axis range of `points`, computed without overflow: every value is within
    /// ±[`AXIS_LIMIT`], so the margins stay finite.
    fn range<'a>(self, points: impl Iterator<Item = &'a (u32, f64)>) -> (f64, f64) {
        let (min, max) = points.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &(_, v)| {
            let v = v.clamp(-AXIS_LIMIT, AXIS_LIMIT);
            (lo.min(v), hi.max(v))
        });
        if !min.is_finite() {
            return (0.0, 1.0);
        }
        match self {
            Self::Percent => {
                let pad = ((max - min) * 0.1).max(0.5);
                ((min - pad).max(0.0), (max + pad).min(100.0))
            }
            Self::Loss | Self::Rate => (min.min(0.0), if max > 0.0 { max * 1.1 } else { 1.0 }),
        }
    }
}

fn register_font() -> Result<(), CurvesError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED
        .get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    ok.then_some(()).ok_or(CurvesError::Font)
}

fn encode(rgb: &[u8]) -> Result<Vec<u8>, CurvesError> {
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, WIDTH, HEIGHT);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(CurvesError::Encode)?;
    writer.write_image_data(rgb).map_err(CurvesError::Encode)?;
    writer.finish().map_err(CurvesError::Encode)?;
    Ok(png)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plausible run: falling losses, rising accuracies, a cosine learning rate.
    fn synthetic(epochs: usize) -> Vec<EpochRecord> {
        (1..=epochs)
            .map(|epoch| {
                let t = epoch as f64;
                EpochRecord {
                    epoch,
                    train_loss: 0.6 / t,
                    train_accuracy: 100.0 - 12.0 / t,
                    valid_loss: 0.5 / t + 0.01 * t,
                    valid_accuracy: 100.0 - 9.0 / t,
                    lr: 1e-3 * 0.5 * (1.0 + (std::f64::consts::PI * t / epochs as f64).cos()),
                }
            })
            .collect()
    }

    /// Decodes a PNG into its size and RGB pixels.
    fn decode(png: &[u8]) -> (u32, u32, Vec<[u8; 3]>) {
        let mut reader = png::Decoder::new(std::io::Cursor::new(png))
            .read_info()
            .unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!(info.color_type, png::ColorType::Rgb);
        let pixels = buf[..info.buffer_size()]
            .chunks_exact(3)
            .map(|p| [p[0], p[1], p[2]])
            .collect();
        (info.width, info.height, pixels)
    }

    #[test]
    fn curves_png_has_its_size_and_three_drawn_panels() {
        let dir = tempfile::tempdir().unwrap();
        let history = dir.path().join("history.jsonl");
        let lines: String = synthetic(6)
            .iter()
            .map(|r| serde_json::to_string(r).unwrap() + "\n")
            .collect();
        std::fs::write(&history, lines).unwrap();
        let out = dir.path().join("curves.png");
        assert_eq!(redraw(&history, &out).unwrap(), 6);

        let (width, height, pixels) = decode(&std::fs::read(&out).unwrap());
        assert_eq!((width, height), (WIDTH, HEIGHT));
        let panel_width = WIDTH / 3;
        for panel in 0..3 {
            let in_panel = pixels
                .iter()
                .enumerate()
                .filter(|(i, _)| (*i as u32 % WIDTH) / panel_width == panel);
            let colours: std::collections::HashSet<[u8; 3]> =
                in_panel.clone().map(|(_, p)| *p).collect();
            let drawn = in_panel.filter(|(_, p)| **p != [255, 255, 255]).count();
            assert!(
                colours.len() > 10,
                "panel {panel}: {} colours",
                colours.len()
            );
            let share = drawn as f64 / f64::from(panel_width * HEIGHT);
            assert!(
                share > 0.01,
                "panel {panel}: {share:.4} of its pixels drawn"
            );
        }
        // The series' own colours are there, not only black text on white.
        for colour in [TRAIN, VALID, LR] {
            let rgb = [colour.0, colour.1, colour.2];
            assert!(pixels.contains(&rgb), "no pixel of {rgb:?}");
        }
    }

    #[test]
    fn one_epoch_or_odd_values_still_draw() {
        let mut history = synthetic(1);
        history[0].valid_loss = f64::NAN;
        assert!(render(&history).is_ok());
        let flat: Vec<_> = synthetic(3)
            .into_iter()
            .map(|r| EpochRecord { lr: 0.0, ..r })
            .collect();
        assert!(render(&flat).is_ok());
    }

    /// Runs `f` on a thread and fails the test when it takes more than a minute (a debug build
    /// draws in about a second): without the axis limit, a loss of 1.7e308 never finishes.
    fn finishes<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || sender.send(f()));
        receiver
            .recv_timeout(Duration::from_secs(60))
            .expect("drawing finishes")
    }

    #[test]
    fn huge_values_draw_in_bounded_time() {
        for value in [1.7e308, f64::MAX, -1.7e308] {
            let mut history = synthetic(3);
            history[1].train_loss = value;
            history[2].lr = value;
            history[0].valid_accuracy = value;
            assert!(finishes(move || render(&history)).is_ok(), "{value}");
        }
        // Epoch numbers beyond the axis' u32.
        let mut far = synthetic(2);
        far[0].epoch = usize::MAX - 1;
        far[1].epoch = usize::MAX;
        assert!(finishes(move || render(&far)).is_ok());
        assert_eq!(
            Scale::Loss.range([(1, 1.7e308)].iter()),
            (0.0, AXIS_LIMIT * 1.1)
        );
    }

    #[test]
    fn a_drawing_past_its_deadline_does_not_hold_the_caller() {
        let start = std::time::Instant::now();
        let err = within(Duration::from_millis(100), || {
            std::thread::sleep(Duration::from_secs(3));
            Ok(1)
        })
        .unwrap_err();
        assert!(matches!(err, CurvesError::Timeout(_)), "{err:?}");
        assert!(start.elapsed() < Duration::from_secs(2));
        // The first still runs: another is skipped, not queued behind it.
        assert!(matches!(
            within(Duration::from_secs(1), || Ok(1)),
            Err(CurvesError::Busy)
        ));
        std::thread::sleep(Duration::from_secs(3));
        assert_eq!(within(Duration::from_secs(10), || Ok(2)).unwrap(), 2);
    }

    #[test]
    fn the_output_is_never_the_input_and_nothing_is_left_behind() {
        let dir = tempfile::tempdir().unwrap();
        let history = dir.path().join("history.jsonl");
        let lines: String = synthetic(2)
            .iter()
            .map(|r| serde_json::to_string(r).unwrap() + "\n")
            .collect();
        std::fs::write(&history, &lines).unwrap();
        let same = dir.path().join(".").join("history.jsonl");
        let err = redraw(&history, &same).unwrap_err();
        assert!(matches!(err, CurvesError::OutIsInput(_)), "{err:?}");
        assert_eq!(std::fs::read_to_string(&history).unwrap(), lines);
        // A directory as the output: an error, and no scratch file beside it.
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        assert!(redraw(&history, &out).is_err());
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn a_resumed_run_keeps_the_last_line_of_each_epoch() {
        let mut history = synthetic(3);
        let mut again = history[2].clone();
        again.train_loss = 0.01;
        history.push(again);
        let epochs = latest_per_epoch(history);
        assert_eq!(
            epochs.iter().map(|r| r.epoch).collect::<Vec<_>>(),
            [1, 2, 3]
        );
        assert_eq!(epochs[2].train_loss, 0.01);
    }

    #[test]
    fn an_empty_history_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let history = dir.path().join("history.jsonl");
        std::fs::write(&history, "\n").unwrap();
        let err = redraw(&history, &dir.path().join("curves.png")).unwrap_err();
        assert!(matches!(err, CurvesError::Empty(_)), "{err:?}");
    }
}
