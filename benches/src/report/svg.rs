//! Small hand-written SVG charts: lines over a (log) x axis, or bars.

use std::fmt::Write;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 360.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 170.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 50.0;
const COLORS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
];

/// One line of a chart: named points `(x, y)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The legend entry.
    pub name: String,
    /// The points, in x order.
    pub points: Vec<(f64, f64)>,
}

/// A chart: lines (x numeric) or, with `bars`, one bar per label.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    /// The title.
    pub title: String,
    /// The x axis label.
    pub x_label: String,
    /// The y axis label.
    pub y_label: String,
    /// Whether x is on a log scale.
    pub log_x: bool,
    /// Whether y is on a log scale.
    pub log_y: bool,
    /// The lines.
    pub series: Vec<Series>,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Maps data values to pixels on one axis.
struct Axis {
    min: f64,
    max: f64,
    log: bool,
    from: f64,
    to: f64,
}

impl Axis {
    fn new(values: impl Iterator<Item = f64>, log: bool, from: f64, to: f64, zero: bool) -> Self {
        let (mut min, mut max) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        if !min.is_finite() {
            (min, max) = (1.0, 10.0);
        }
        if log {
            min = 10f64.powf(min.max(1e-3).log10().floor());
            max = 10f64.powf(max.max(1e-3).log10().ceil());
            if max <= min {
                max = min * 10.0;
            }
        } else {
            if zero {
                min = min.min(0.0);
            }
            if max <= min {
                max = min + 1.0;
            }
            max *= 1.1;
        }
        Self {
            min,
            max,
            log,
            from,
            to,
        }
    }

    fn pixel(&self, v: f64) -> f64 {
        let t = if self.log {
            (v.max(self.min).log10() - self.min.log10()) / (self.max.log10() - self.min.log10())
        } else {
            (v - self.min) / (self.max - self.min)
        };
        self.from + t * (self.to - self.from)
    }

    fn ticks(&self) -> Vec<f64> {
        if self.log {
            let (lo, hi) = (
                self.min.log10().round() as i32,
                self.max.log10().round() as i32,
            );
            (lo..=hi).map(|e| 10f64.powi(e)).collect()
        } else {
            let step = nice_step((self.max - self.min) / 5.0);
            let first = (self.min / step).ceil() as i64;
            let last = (self.max / step).floor() as i64;
            (first..=last).map(|i| i as f64 * step).collect()
        }
    }
}

fn nice_step(raw: f64) -> f64 {
    let magnitude = 10f64.powf(raw.log10().floor());
    let fraction = raw / magnitude;
    let nice = if fraction <= 1.0 {
        1.0
    } else if fraction <= 2.0 {
        2.0
    } else if fraction <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * magnitude
}

fn label(v: f64) -> String {
    if v >= 1000.0 || v == v.trunc() {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

impl Chart {
    /// The chart as an SVG document.
    #[must_use]
    pub fn to_svg(&self) -> String {
        let points = || self.series.iter().flat_map(|s| s.points.iter());
        let x = Axis::new(
            points().map(|p| p.0),
            self.log_x,
            LEFT,
            WIDTH - RIGHT,
            false,
        );
        let y = Axis::new(
            points().map(|p| p.1),
            self.log_y,
            HEIGHT - BOTTOM,
            TOP,
            true,
        );
        let mut svg = String::new();
        let _ = writeln!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
        );
        let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="22" text-anchor="middle" font-size="15">{}</text>"#,
            (LEFT + WIDTH - RIGHT) / 2.0,
            escape(&self.title)
        );
        for t in y.ticks() {
            let py = y.pixel(t);
            let _ = writeln!(
                svg,
                r##"<line x1="{LEFT}" y1="{py:.1}" x2="{:.1}" y2="{py:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
                WIDTH - RIGHT,
                LEFT - 6.0,
                py + 4.0,
                label(t)
            );
        }
        for t in x.ticks() {
            let px = x.pixel(t);
            let _ = writeln!(
                svg,
                r#"<text x="{px:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                HEIGHT - BOTTOM + 18.0,
                label(t)
            );
        }
        let _ = writeln!(
            svg,
            r#"<line x1="{LEFT}" y1="{b}" x2="{r}" y2="{b}" stroke="black"/><line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{b}" stroke="black"/>"#,
            b = HEIGHT - BOTTOM,
            r = WIDTH - RIGHT
        );
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            (LEFT + WIDTH - RIGHT) / 2.0,
            HEIGHT - 12.0,
            escape(&self.x_label)
        );
        let _ = writeln!(
            svg,
            r#"<text x="16" y="{:.1}" text-anchor="middle" transform="rotate(-90 16 {:.1})">{}</text>"#,
            (TOP + HEIGHT - BOTTOM) / 2.0,
            (TOP + HEIGHT - BOTTOM) / 2.0,
            escape(&self.y_label)
        );
        for (i, s) in self.series.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            let path: Vec<String> = s
                .points
                .iter()
                .map(|&(px, py)| format!("{:.1},{:.1}", x.pixel(px), y.pixel(py)))
                .collect();
            let _ = writeln!(
                svg,
                r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
                path.join(" ")
            );
            for &(px, py) in &s.points {
                let _ = writeln!(
                    svg,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="{color}"><title>{}: {}</title></circle>"#,
                    x.pixel(px),
                    y.pixel(py),
                    escape(&s.name),
                    label(py)
                );
            }
            let ly = TOP + 10.0 + 18.0 * i as f64;
            let lx = WIDTH - RIGHT + 12.0;
            let _ = writeln!(
                svg,
                r#"<rect x="{lx}" y="{:.1}" width="12" height="12" fill="{color}"/><text x="{:.1}" y="{:.1}">{}</text>"#,
                ly - 10.0,
                lx + 18.0,
                ly,
                escape(&s.name)
            );
        }
        svg.push_str("</svg>\n");
        svg
    }
}

/// A horizontal bar chart: one bar per label, its value written beside it.
#[must_use]
pub fn bar_chart(title: &str, unit: &str, bars: &[(String, f64)]) -> String {
    let row = 28.0;
    let height = TOP + row * bars.len() as f64 + 20.0;
    let left = 130.0;
    let right = WIDTH - 90.0;
    let max = bars
        .iter()
        .map(|b| b.1)
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE);
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="22" text-anchor="middle" font-size="15">{}</text>"#,
        WIDTH / 2.0,
        escape(title)
    );
    for (i, (name, value)) in bars.iter().enumerate() {
        let y = TOP + row * i as f64;
        let w = (right - left) * value / max;
        let color = COLORS[i % COLORS.len()];
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text><rect x="{left}" y="{:.1}" width="{w:.1}" height="{:.1}" fill="{color}"/><text x="{:.1}" y="{:.1}">{} {}</text>"#,
            left - 8.0,
            y + row / 2.0 + 4.0,
            escape(name),
            y + 4.0,
            row - 8.0,
            left + w + 6.0,
            y + row / 2.0 + 4.0,
            label(*value),
            escape(unit)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(log: bool) -> Chart {
        Chart {
            title: "lookup <ns>".to_owned(),
            x_label: "tasks".to_owned(),
            y_label: "ns".to_owned(),
            log_x: log,
            log_y: log,
            series: vec![
                Series {
                    name: "vps".to_owned(),
                    points: vec![(1000.0, 4.0), (32000.0, 6.0)],
                },
                Series {
                    name: "pidns".to_owned(),
                    points: vec![(1000.0, 9.0), (32000.0, 14.0)],
                },
            ],
        }
    }

    #[test]
    fn draws_every_series_inside_the_plot() {
        for log in [false, true] {
            let svg = chart(log).to_svg();
            assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
            assert_eq!(svg.matches("<polyline").count(), 2);
            assert_eq!(svg.matches("<circle").count(), 4);
            assert!(svg.contains("lookup &lt;ns&gt;"));
            for cap in svg.split("cx=\"").skip(1) {
                let cx: f64 = cap.split('"').next().unwrap().parse().unwrap();
                assert!((LEFT..=WIDTH - RIGHT).contains(&cx), "{cx}");
            }
        }
    }

    #[test]
    fn bars_scale_to_the_largest() {
        let svg = bar_chart(
            "fork",
            "ns",
            &[("a".to_owned(), 50.0), ("b".to_owned(), 100.0)],
        );
        assert_eq!(svg.matches("<rect x=").count(), 2);
        assert!(svg.contains(r#"width="420.0""#), "{svg}");
        assert!(svg.contains("50 ns"));
    }

    #[test]
    fn axes_and_steps() {
        assert_eq!(nice_step(0.3), 0.5);
        assert_eq!(nice_step(13.0), 20.0);
        let a = Axis::new([3.0, 700.0].into_iter(), true, 0.0, 100.0, false);
        assert_eq!(a.ticks(), vec![1.0, 10.0, 100.0, 1000.0]);
        assert!((a.pixel(1.0) - 0.0).abs() < 1e-9 && (a.pixel(1000.0) - 100.0).abs() < 1e-9);
        assert_eq!(label(0.25), "0.25");
        assert_eq!(label(2.5), "2.5");
        assert_eq!(label(32000.0), "32000");
    }
}
