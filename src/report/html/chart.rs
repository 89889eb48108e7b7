//! The bar chart of estimated image sizes: one bar per checked image and architecture, as
//! inline SVG so the report stays one file that fetches nothing.

use maud::{Markup, html};

use super::super::{Report, human::megabytes};
use super::verdict_name;

/// One bar: a checked image on one architecture.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    /// None when the image's size is not published: no bar is drawn, the label says so.
    pub bytes: Option<u64>,
    pub verdict: &'static str,
    pub recommended: bool,
}

/// Where the labels end and the bars start, how long the longest bar is, and each row's height,
/// in the SVG's own units (it is scaled to the page's width).
const LABEL_WIDTH: f64 = 300.0;
const BAR_MAX: f64 = 330.0;
const VALUE_WIDTH: f64 = 300.0;
const ROW: f64 = 30.0;
const BAR_HEIGHT: f64 = 18.0;
/// A bar this short still shows that there is one.
const BAR_MIN: f64 = 2.0;

pub fn bars(report: &Report) -> Vec<Bar> {
    let recommended = report
        .recommendation
        .as_ref()
        .and_then(|r| r.image.as_deref());
    report
        .targets
        .iter()
        .map(|target| Bar {
            label: target.label(),
            bytes: target.verdict.as_ref().and_then(|v| v.estimated_size_bytes),
            verdict: verdict_name(target),
            recommended: recommended == Some(target.image.as_str()),
        })
        .collect()
}

/// The bar's length: proportional to the largest size shown.
pub fn bar_length(bytes: u64, largest: u64) -> f64 {
    if largest == 0 {
        return BAR_MIN;
    }
    (bytes as f64 / largest as f64 * BAR_MAX).max(BAR_MIN)
}

/// `587 MB · works-with-packages`, and `★ recommended` on the recommended image's bars.
pub fn value_text(bar: &Bar) -> String {
    let size = bar
        .bytes
        .map(megabytes)
        .unwrap_or_else(|| "size unknown".into());
    let mark = if bar.recommended {
        " ★ recommended"
    } else {
        ""
    };
    format!("{size} · {}{mark}", bar.verdict)
}

pub fn svg(bars: &[Bar]) -> Markup {
    let largest = bars.iter().filter_map(|b| b.bytes).max().unwrap_or(0);
    let width = LABEL_WIDTH + BAR_MAX + VALUE_WIDTH;
    let height = ROW * bars.len() as f64 + 8.0;
    html! {
        svg.chart viewBox=(format!("0 0 {width} {height}")) role="img"
            aria-label="Estimated image size per image and architecture" {
            @for (row, bar) in bars.iter().enumerate() {
                (bar_row(bar, row, largest))
            }
        }
    }
}

fn bar_row(bar: &Bar, row: usize, largest: u64) -> Markup {
    let top = 4.0 + ROW * row as f64;
    let middle = top + ROW / 2.0;
    let length = bar.bytes.map(|b| bar_length(b, largest));
    let value_x = LABEL_WIDTH + length.unwrap_or(0.0) + 8.0;
    html! {
        g.row.recommended[bar.recommended] {
            text.label x=(LABEL_WIDTH - 10.0) y=(middle) text-anchor="end"
                dominant-baseline="central" { (bar.label) }
            @if let Some(length) = length {
                rect class=(format!("bar {}", bar.verdict)) x=(LABEL_WIDTH)
                    y=(middle - BAR_HEIGHT / 2.0) width=(format!("{length:.1}"))
                    height=(BAR_HEIGHT) rx="3" {}
            }
            text.value x=(value_x) y=(middle) dominant-baseline="central" { (value_text(bar)) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scraper::{Html, Selector};

    fn bar(label: &str, bytes: Option<u64>, verdict: &'static str, recommended: bool) -> Bar {
        Bar {
            label: label.into(),
            bytes,
            verdict,
            recommended,
        }
    }

    fn select<'a>(doc: &'a Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
        doc.select(&Selector::parse(css).unwrap()).collect()
    }

    fn text(element: &scraper::ElementRef) -> String {
        element.text().collect()
    }

    #[test]
    fn one_bar_per_known_size_proportional_to_the_largest() {
        let bars = [
            bar(
                "slim (amd64)",
                Some(200_000_000),
                "works-with-packages",
                true,
            ),
            bar("full (amd64)", Some(1_000_000_000), "works", false),
            bar("alpine (amd64)", None, "needs-build", false),
        ];
        let doc = Html::parse_fragment(&svg(&bars).into_string());
        let rects = select(&doc, "svg rect.bar");
        assert_eq!(rects.len(), 2, "no bar for an unknown size");
        let widths: Vec<f64> = rects
            .iter()
            .map(|r| r.value().attr("width").unwrap().parse().unwrap())
            .collect();
        assert_eq!(widths, [BAR_MAX / 5.0, BAR_MAX]);
        assert!(rects[0].value().has_class(
            "works-with-packages",
            scraper::CaseSensitivity::CaseSensitive
        ));
        let values: Vec<String> = select(&doc, "svg text.value").iter().map(text).collect();
        assert_eq!(
            values,
            [
                "200 MB · works-with-packages ★ recommended",
                "1.00 GB · works",
                "size unknown · needs-build",
            ]
        );
        let labels: Vec<String> = select(&doc, "svg text.label").iter().map(text).collect();
        assert_eq!(labels, ["slim (amd64)", "full (amd64)", "alpine (amd64)"]);
        assert_eq!(select(&doc, "svg g.row.recommended").len(), 1);
    }

    #[test]
    fn the_value_label_follows_its_bar() {
        let bars = [
            bar("a", Some(100), "works", false),
            bar("b", Some(50), "works", false),
        ];
        let doc = Html::parse_fragment(&svg(&bars).into_string());
        let xs: Vec<f64> = select(&doc, "svg text.value")
            .iter()
            .map(|t| t.value().attr("x").unwrap().parse().unwrap())
            .collect();
        assert_eq!(
            xs,
            [
                LABEL_WIDTH + BAR_MAX + 8.0,
                LABEL_WIDTH + BAR_MAX / 2.0 + 8.0
            ]
        );
    }

    #[test]
    fn tiny_and_zero_sizes_still_show_a_bar() {
        assert_eq!(bar_length(1, 1_000_000_000), BAR_MIN);
        assert_eq!(bar_length(0, 0), BAR_MIN);
        assert_eq!(bar_length(5, 10), BAR_MAX / 2.0);
    }

    #[test]
    fn labels_are_escaped() {
        let bars = [bar("<script>x</script> & (amd64)", Some(1), "works", false)];
        let html = svg(&bars).into_string();
        assert!(!html.contains("<script>"), "{html}");
        let doc = Html::parse_fragment(&html);
        assert!(select(&doc, "script").is_empty());
        assert_eq!(
            text(&select(&doc, "svg text.label")[0]),
            "<script>x</script> & (amd64)"
        );
    }
}
