//! The report's two charts, drawn with plotters into SVG text: the
//! requests per week (a line per kind, each with its own marker shape, so
//! colour is never the only cue) and the approval rate per channel
//! (horizontal bars). Text is real `<text>` in a dark ink on white; the
//! lines' colours keep at least 4.5:1 against white. The page gives each
//! SVG its accessible name and the same numbers in a table.
//!
//! Each chart is drawn twice: [`Layout::Wide`] for a screen and
//! [`Layout::Narrow`] for a phone, where the wide one's text would shrink
//! too small; the page's style shows one of them.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{ChannelRate, ReportTexts, WeekCounts};

const INK: RGBColor = RGBColor(0x1b, 0x1f, 0x23);
const GRID: RGBColor = RGBColor(0xdd, 0xe3, 0xe9);
const SENT: RGBColor = RGBColor(0x0b, 0x53, 0x94);
const APPROVED: RGBColor = RGBColor(0x1b, 0x6e, 0x2e);
const DENIED: RGBColor = RGBColor(0xa8, 0x1f, 0x16);
const EXPIRED: RGBColor = RGBColor(0x73, 0x4c, 0x00);
const EMAIL: RGBColor = SENT;
const SMS: RGBColor = RGBColor(0x5b, 0x2a, 0x86);

const FONT: FontFamily<'static> = FontFamily::SansSerif;
/// plotters writes a font size of this / 1.24 into the SVG (about 19
/// units: 13 px on a 360 px phone, 19 px on a wide screen).
const TEXT_SIZE: f64 = 24.0;

/// Which screen a drawing is for; the page scales it to its width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Wide,
    Narrow,
}

impl Layout {
    /// The class the page's style shows or hides the drawing by.
    pub fn class(self) -> &'static str {
        match self {
            Layout::Wide => "chart-wide",
            Layout::Narrow => "chart-narrow",
        }
    }

    fn weekly_size(self) -> (u32, u32) {
        match self {
            Layout::Wide => (880, 480),
            Layout::Narrow => (480, 540),
        }
    }

    fn channel_size(self) -> (u32, u32) {
        match self {
            Layout::Wide => (880, 240),
            Layout::Narrow => (480, 240),
        }
    }

    /// How many legend entries share a row.
    fn legend_columns(self) -> usize {
        match self {
            Layout::Wide => 4,
            Layout::Narrow => 2,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("drawing the {chart} chart: {message}")]
pub struct ChartError {
    pub chart: &'static str,
    pub message: String,
}

fn failed<E: std::fmt::Debug>(chart: &'static str) -> impl Fn(E) -> ChartError {
    move |e| ChartError {
        chart,
        message: format!("{e:?}"),
    }
}

/// A round top for a count axis, above `max` with some room.
fn count_top(max: i64) -> i64 {
    let want = (max + max / 8).max(4);
    let step = match want {
        0..=10 => 1,
        11..=50 => 5,
        51..=100 => 10,
        101..=500 => 50,
        501..=1000 => 100,
        _ => 10_i64.pow((want as f64).log10().floor() as u32 - 1) * 5,
    };
    (want + step - 1) / step * step
}

/// The requests sent, approved, denied and expired per week, as SVG.
pub fn weekly(weeks: &[WeekCounts], t: &ReportTexts, layout: Layout) -> Result<String, ChartError> {
    let mut svg = String::new();
    draw_weekly(
        SVGBackend::with_string(&mut svg, layout.weekly_size()).into_drawing_area(),
        weeks,
        t,
        layout,
    )
    .map_err(failed("weekly"))?;
    Ok(svg)
}

type Drawn = Result<(), DrawingAreaErrorKind<std::io::Error>>;

/// A line of the weekly chart: its name, colour and value in a week.
type Series<'a> = (&'a str, RGBColor, fn(&WeekCounts) -> i64);

fn text_style(color: &RGBColor) -> TextStyle<'static> {
    (FONT, TEXT_SIZE).into_font().color(color)
}

fn draw_weekly(
    root: DrawingArea<SVGBackend<'_>, Shift>,
    weeks: &[WeekCounts],
    t: &ReportTexts,
    layout: Layout,
) -> Drawn {
    root.fill(&WHITE)?;
    let series: [Series<'_>; 4] = [
        (t.sent, SENT, |w| w.sent),
        (t.approved, APPROVED, |w| w.approved),
        (t.denied, DENIED, |w| w.denied),
        (t.expired, EXPIRED, |w| w.expired),
    ];
    let rows = series.len().div_ceil(layout.legend_columns());
    let (legend, plot) = root.split_vertically(16 + 40 * rows as i32);
    draw_legend(
        &legend,
        &series.map(|(name, color, _)| (name, color)),
        layout,
    )?;

    let last = weeks.len().saturating_sub(1) as i32;
    let max = weeks
        .iter()
        .map(|w| w.sent.max(w.approved).max(w.denied).max(w.expired))
        .max()
        .unwrap_or(0);
    let mut chart = ChartBuilder::on(&plot)
        .margin_top(12)
        .margin_left(8)
        .margin_right(24)
        .margin_bottom(8)
        .x_label_area_size(76)
        .y_label_area_size(84)
        .build_cartesian_2d((0..last).into_segmented(), 0..count_top(max))?;
    let x_label = |x: &SegmentValue<i32>| match x {
        SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => usize::try_from(*i)
            .ok()
            .and_then(|i| weeks.get(i))
            .map(|w| match layout {
                Layout::Wide => t.week_short(w.week.number),
                Layout::Narrow => w.week.number.to_string(),
            })
            .unwrap_or_default(),
        SegmentValue::Last => String::new(),
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(weeks.len() + 1)
        .y_labels(6)
        .x_label_formatter(&x_label)
        .y_label_formatter(&|v: &i64| v.to_string())
        .label_style(text_style(&INK))
        .axis_desc_style(text_style(&INK))
        .x_desc(t.week)
        .y_desc(t.requests_axis)
        .axis_style(INK.stroke_width(1))
        .bold_line_style(GRID.stroke_width(1))
        .light_line_style(TRANSPARENT)
        .draw()?;

    let at = |i: usize| SegmentValue::CenterOf(i as i32);
    for (index, (_, color, value)) in series.into_iter().enumerate() {
        let points: Vec<_> = weeks
            .iter()
            .enumerate()
            .map(|(i, w)| (at(i), value(w)))
            .collect();
        chart.draw_series(LineSeries::new(points.clone(), color.stroke_width(3)))?;
        chart.draw_series(
            points
                .into_iter()
                .map(|p| EmptyElement::at(p) + marker(index, color)),
        )?;
    }
    root.present()
}

/// The legend above a chart: each series' line and marker, then its name,
/// `layout.legend_columns()` to a row.
fn draw_legend(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    entries: &[(&str, RGBColor)],
    layout: Layout,
) -> Drawn {
    let (width, _) = area.dim_in_pixel();
    let columns = layout.legend_columns();
    let column_width = (width as i32 - 32) / columns as i32;
    for (index, (name, color)) in entries.iter().enumerate() {
        let x = 24 + (index % columns) as i32 * column_width;
        let y = 28 + (index / columns) as i32 * 40;
        area.draw(&PathElement::new(
            vec![(x, y), (x + 40, y)],
            color.stroke_width(3),
        ))?;
        area.draw(&(EmptyElement::at((x + 20, y)) + marker(index, *color)))?;
        let style = text_style(&INK).pos(Pos::new(HPos::Left, VPos::Center));
        area.draw(&Text::new(name.to_string(), (x + 52, y), style))?;
    }
    Ok(())
}

/// Series `index`'s marker, around (0, 0): a circle, a triangle, a square,
/// a diamond (all polygons, so that one type serves the four).
fn marker(index: usize, color: RGBColor) -> Polygon<(i32, i32)> {
    let points = match index {
        0 => (0..16)
            .map(|k| {
                let a = f64::from(k) * std::f64::consts::PI / 8.0;
                (
                    (7.0 * a.cos()).round() as i32,
                    (7.0 * a.sin()).round() as i32,
                )
            })
            .collect(),
        1 => vec![(0, -8), (8, 6), (-8, 6)],
        2 => vec![(-6, -6), (6, -6), (6, 6), (-6, 6)],
        _ => vec![(0, -8), (8, 0), (0, 8), (-8, 0)],
    };
    Polygon::new(points, color.filled())
}

/// The approved share of the decided requests per channel, as SVG.
pub fn channels(
    rates: &[ChannelRate],
    t: &ReportTexts,
    layout: Layout,
) -> Result<String, ChartError> {
    let mut svg = String::new();
    draw_channels(
        SVGBackend::with_string(&mut svg, layout.channel_size()).into_drawing_area(),
        rates,
        t,
        layout,
    )
    .map_err(failed("channel"))?;
    Ok(svg)
}

fn draw_channels(
    root: DrawingArea<SVGBackend<'_>, Shift>,
    rates: &[ChannelRate],
    t: &ReportTexts,
    layout: Layout,
) -> Drawn {
    root.fill(&WHITE)?;
    let last = rates.len().saturating_sub(1) as i32;
    let mut chart = ChartBuilder::on(&root)
        .margin_top(12)
        .margin_left(8)
        .margin_right(32)
        .margin_bottom(8)
        .x_label_area_size(76)
        .y_label_area_size(112)
        .build_cartesian_2d(0.0..100.0, (0..last).into_segmented())?;
    // E-mail on top: the axis counts from the bottom.
    let rate_at = |y: &SegmentValue<i32>| match y {
        SegmentValue::CenterOf(y) | SegmentValue::Exact(y) => {
            usize::try_from(last - *y).ok().and_then(|i| rates.get(i))
        }
        SegmentValue::Last => None,
    };
    let name = |y: &SegmentValue<i32>| {
        rate_at(y)
            .map(|r| t.channel_name(r.channel).to_owned())
            .unwrap_or_default()
    };
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(rates.len() + 1)
        .x_labels(6)
        .y_label_formatter(&name)
        .x_label_formatter(&|v: &f64| format!("{v:.0}"))
        .label_style(text_style(&INK))
        .axis_desc_style(text_style(&INK))
        .x_desc(t.share_axis)
        .axis_style(INK.stroke_width(1))
        .bold_line_style(GRID.stroke_width(1))
        .light_line_style(TRANSPARENT)
        .draw()?;
    let colors = [EMAIL, SMS];
    for (i, rate) in rates.iter().enumerate() {
        let y = last - i as i32;
        // The bar in pixels, a third of its band's height kept free.
        let (x0, y0) = chart.backend_coord(&(0.0, SegmentValue::Exact(y)));
        let (_, y1) = chart.backend_coord(&(0.0, SegmentValue::Exact(y + 1)));
        let (top, bottom) = (y0.min(y1), y0.max(y1));
        let inset = (bottom - top) / 6;
        let (top, bottom) = (top + inset, bottom - inset);
        let middle = (top + bottom) / 2;
        let label = match (rate.percent(), layout) {
            (Some(percent), Layout::Wide) => format!(
                "{} ({})",
                t.percent(Some(percent)),
                t.of(rate.approved, rate.decided)
            ),
            (share, _) => t.percent(share),
        };
        let end = rate
            .percent()
            .map(|percent| chart.backend_coord(&(percent, SegmentValue::Exact(y))).0)
            .unwrap_or(x0);
        let color = colors[i % colors.len()];
        if end > x0 {
            root.draw(&Rectangle::new([(x0, top), (end, bottom)], color.filled()))?;
        }
        // The number beside the bar, or inside its end when the bar is long.
        let width = (label.chars().count() as f64 * TEXT_SIZE * 0.5) as i32;
        let (right_edge, _) = chart.backend_coord(&(100.0, SegmentValue::Exact(y)));
        let (x, ink, anchor) = if end + 12 + width <= right_edge || end - x0 < width + 20 {
            (end + 10, INK, HPos::Left)
        } else {
            (end - 10, WHITE, HPos::Right)
        };
        let style = (FONT, TEXT_SIZE)
            .into_font()
            .style(FontStyle::Bold)
            .color(&ink)
            .pos(Pos::new(anchor, VPos::Center));
        root.draw(&Text::new(label, (x, middle), style))?;
    }
    root.present()
}

/// The SVG as an image with a name for a screen reader: `role="img"` and
/// `aria-label` on its root element, and the layout's class.
pub fn accessible(svg: &str, label: &str, layout: Layout) -> String {
    let escaped = label
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    svg.replacen(
        "<svg ",
        &format!(
            "<svg class=\"{}\" role=\"img\" aria-label=\"{escaped}\" ",
            layout.class()
        ),
        1,
    )
}
