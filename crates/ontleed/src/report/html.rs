//! The HTML report: one self-contained page (inline CSS, inline SVG charts, a few lines of
//! vanilla JS, no network access: a Content-Security-Policy forbids loading anything).
//!
//! Every piece of text that comes from the data goes through [`esc`]; the script reads names
//! only from the DOM (`textContent`), never from strings pasted into the script.

use super::aggregate::{EntityStats, Week, week_label};
use super::{Report, ReportOptions};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Entities drawn in the mentions-per-week chart.
const LINE_SERIES: usize = 8;
/// Entities in the co-occurrence matrix.
const MATRIX_SIZE: usize = 15;
/// Topics drawn in the topics-per-week chart (the rest are stacked as "other").
const TOPIC_SERIES: usize = 8;
/// The time charts show at most this many weeks (about five years), the most recent ones, so
/// that a stray old date (1970-01-01) cannot blow the charts up.
const MAX_WEEKS: usize = 261;

const PALETTE: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];
const OTHER_COLOR: &str = "#b8bec6";

/// Escapes text for HTML element content and attribute values (also inside inline SVG).
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters other than tab/newline are not allowed in HTML text.
            c if c.is_control() && c != '\t' && c != '\n' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Shortens a name for a chart label (the full name goes into a tooltip).
fn short(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// Groups digits with thin spaces: 100000 → "100 000".
fn num(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push('\u{2009}');
        }
        out.push(c);
    }
    out
}

/// A "nice" tick step (1, 2 or 5 times a power of ten, at least 1) for a scale up to `max`.
fn nice_step(max: f64, ticks: f64) -> f64 {
    if !max.is_finite() || max <= 0.0 {
        return 1.0;
    }
    let raw = max / ticks;
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let step = if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    } * mag;
    step.max(1.0)
}

/// The weeks from the first to the last dated article (at most the last [`MAX_WEEKS`]).
fn week_range(report: &Report) -> Vec<Week> {
    match report.agg.dates {
        Some((a, b)) => {
            let (a, b) = (super::aggregate::week_of(a), super::aggregate::week_of(b));
            let first = a.max(b - 7 * (MAX_WEEKS as i32 - 1));
            (0..)
                .map(|i| first + 7 * i)
                .take_while(|&w| w <= b)
                .collect()
        }
        None => Vec::new(),
    }
}

/// A note for the time charts when they do not show the whole period.
fn clipped_note(report: &Report, weeks: &[Week]) -> String {
    match (report.agg.dates, weeks.first()) {
        (Some((a, _)), Some(&w)) if super::aggregate::week_of(a) < w => format!(
            " Only the last {} weeks are drawn (the data start in {}).",
            weeks.len(),
            week_label(super::aggregate::week_of(a))
        ),
        _ => String::new(),
    }
}

fn label_class(label: &str) -> &'static str {
    match label {
        "PER" => "per",
        "ORG" => "org",
        "LOC" => "loc",
        "MISC" => "misc",
        _ => "other",
    }
}

fn empty_chart(message: &str) -> String {
    format!("<div class=\"empty\">{}</div>", esc(message))
}

/// Plot geometry shared by the time charts.
struct Frame {
    width: f64,
    height: f64,
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
}

impl Frame {
    fn time() -> Self {
        Self {
            width: 1100.0,
            height: 360.0,
            left: 56.0,
            right: 230.0,
            top: 14.0,
            bottom: 46.0,
        }
    }
    fn plot_w(&self) -> f64 {
        self.width - self.left - self.right
    }
    fn plot_h(&self) -> f64 {
        self.height - self.top - self.bottom
    }
    fn y(&self, v: f64, ymax: f64) -> f64 {
        self.top + self.plot_h() * (1.0 - v / ymax)
    }
}

/// Y grid lines with labels, the x axis with week labels, and the opening `<svg>` tag.
fn axes(
    out: &mut String,
    f: &Frame,
    weeks: &[Week],
    ymax: f64,
    step: f64,
    x_of: &dyn Fn(usize) -> f64,
    title: &str,
) {
    let _ = write!(
        out,
        "<svg class=\"chart\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">",
        f.width,
        f.height,
        esc(title)
    );
    let mut v = 0.0;
    while v <= ymax + 1e-9 {
        let y = f.y(v, ymax);
        let _ = write!(
            out,
            "<line class=\"grid\" x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/><text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            f.left,
            f.left + f.plot_w(),
            f.left - 8.0,
            y + 4.0,
            num(v as u64)
        );
        v += step;
    }
    let stride = weeks.len().div_ceil(10).max(1);
    for (i, &w) in weeks.iter().enumerate() {
        if i % stride != 0 {
            continue;
        }
        let x = x_of(i);
        let y = f.top + f.plot_h();
        let _ = write!(
            out,
            "<line class=\"axis\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{y:.1}\" y2=\"{:.1}\"/><text class=\"tick\" x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            y + 5.0,
            y + 20.0,
            esc(&week_label(w))
        );
    }
    let y = f.top + f.plot_h();
    let _ = write!(
        out,
        "<line class=\"axis\" x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/>",
        f.left,
        f.left + f.plot_w()
    );
}

/// A legend on the right of a time chart.
fn legend(out: &mut String, f: &Frame, items: &[(String, &str)]) {
    let x = f.width - f.right + 20.0;
    for (i, (name, color)) in items.iter().enumerate() {
        let y = f.top + 6.0 + 22.0 * i as f64;
        let _ = write!(
            out,
            "<g class=\"legend\"><title>{}</title><rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"12\" height=\"12\" rx=\"2\" fill=\"{color}\"/><text x=\"{:.1}\" y=\"{:.1}\">{}</text></g>",
            esc(name),
            x + 18.0,
            y + 10.5,
            esc(&short(name, 26))
        );
    }
}

/// Mentions per week for the top entities, as lines.
fn mentions_chart(report: &Report, weeks: &[Week]) -> String {
    if weeks.is_empty() {
        return empty_chart("No dated articles: there is nothing to draw over time.");
    }
    let series: Vec<&EntityStats> = report.ranked().take(LINE_SERIES).collect();
    if series.is_empty() {
        return empty_chart("No entities.");
    }
    let f = Frame::time();
    let n = weeks.len();
    let ymax_raw = series
        .iter()
        .flat_map(|e| e.weeks.values().copied())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let step = nice_step(ymax_raw, 4.0);
    let ymax = (ymax_raw / step).ceil() * step;
    let x_of = |i: usize| {
        if n == 1 {
            f.left + f.plot_w() / 2.0
        } else {
            f.left + f.plot_w() * i as f64 / (n - 1) as f64
        }
    };
    let mut out = String::new();
    axes(
        &mut out,
        &f,
        weeks,
        ymax,
        step,
        &x_of,
        "Mentions per week of the most frequent entities",
    );
    let radius = if n > 60 { 2.0 } else { 3.5 };
    for (s, e) in series.iter().enumerate() {
        let color = PALETTE[s % PALETTE.len()];
        let values: Vec<u64> = weeks
            .iter()
            .map(|w| e.weeks.get(w).copied().unwrap_or(0))
            .collect();
        let points: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, &v)| format!("{:.1},{:.1}", x_of(i), f.y(v as f64, ymax)))
            .collect();
        let _ = write!(
            out,
            "<g class=\"series\"><title>{}</title>",
            esc(&e.canonical)
        );
        if n > 1 {
            let _ = write!(
                out,
                "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" stroke-linejoin=\"round\" points=\"{}\"/>",
                points.join(" ")
            );
        }
        for (i, &v) in values.iter().enumerate() {
            let _ = write!(
                out,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"{radius}\" fill=\"{color}\"><title>{} — {}: {} mentions</title></circle>",
                x_of(i),
                f.y(v as f64, ymax),
                esc(&e.canonical),
                esc(&week_label(weeks[i])),
                v
            );
        }
        out.push_str("</g>");
    }
    let items: Vec<(String, &str)> = series
        .iter()
        .enumerate()
        .map(|(i, e)| (e.canonical.clone(), PALETTE[i % PALETTE.len()]))
        .collect();
    legend(&mut out, &f, &items);
    out.push_str("</svg>");
    out
}

/// Articles per week per topic, as stacked bars.
fn topics_chart(report: &Report, weeks: &[Week]) -> String {
    if report.topic_order.is_empty() {
        return empty_chart("No topics in the input.");
    }
    if weeks.is_empty() {
        return empty_chart("No dated articles: there is nothing to draw over time.");
    }
    let shown: Vec<u32> = report
        .topic_order
        .iter()
        .copied()
        .take(TOPIC_SERIES)
        .collect();
    let rest: Vec<u32> = report
        .topic_order
        .iter()
        .copied()
        .skip(TOPIC_SERIES)
        .collect();
    // Per week: the shown topics' counts, then "other".
    let mut other: BTreeMap<Week, u64> = BTreeMap::new();
    for &t in &rest {
        for (&w, &c) in &report.agg.topics[t as usize].weeks {
            *other.entry(w).or_insert(0) += c;
        }
    }
    let mut layers: Vec<(String, &str, Vec<u64>)> = shown
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            let t = &report.agg.topics[t as usize];
            let v = weeks
                .iter()
                .map(|w| t.weeks.get(w).copied().unwrap_or(0))
                .collect();
            (t.label.clone(), PALETTE[i % PALETTE.len()], v)
        })
        .collect();
    if !rest.is_empty() {
        let v = weeks
            .iter()
            .map(|w| other.get(w).copied().unwrap_or(0))
            .collect();
        layers.push((format!("other topics ({})", rest.len()), OTHER_COLOR, v));
    }
    let n = weeks.len();
    let totals: Vec<u64> = (0..n)
        .map(|i| layers.iter().map(|l| l.2[i]).sum())
        .collect();
    let ymax_raw = totals.iter().copied().max().unwrap_or(0).max(1) as f64;
    let step = nice_step(ymax_raw, 4.0);
    let ymax = (ymax_raw / step).ceil() * step;
    let f = Frame::time();
    let slot = f.plot_w() / n as f64;
    let bar = (slot * 0.8).min(60.0);
    let x_of = |i: usize| f.left + slot * (i as f64 + 0.5);
    let mut out = String::new();
    axes(
        &mut out,
        &f,
        weeks,
        ymax,
        step,
        &x_of,
        "Articles per week per topic",
    );
    for i in 0..n {
        let mut acc = 0u64;
        for (name, color, v) in &layers {
            let c = v[i];
            if c == 0 {
                continue;
            }
            let y0 = f.y(acc as f64, ymax);
            acc += c;
            let y1 = f.y(acc as f64, ymax);
            let _ = write!(
                out,
                "<rect x=\"{:.1}\" y=\"{y1:.1}\" width=\"{bar:.1}\" height=\"{:.1}\" fill=\"{color}\"><title>{} — {}: {} articles</title></rect>",
                x_of(i) - bar / 2.0,
                (y0 - y1).max(0.5),
                esc(name),
                esc(&week_label(weeks[i])),
                c
            );
        }
    }
    let items: Vec<(String, &str)> = layers.iter().map(|(n, c, _)| (n.clone(), *c)).collect();
    legend(&mut out, &f, &items);
    out.push_str("</svg>");
    out
}

/// Interpolates from a light to a dark blue; `t` in `0..=1`.
fn heat(t: f64) -> String {
    let t = t.clamp(0.0, 1.0);
    let (a, b) = ([0xee, 0xf3, 0xfb], [0x15, 0x3e, 0x7a]);
    let c: Vec<u8> = (0..3)
        .map(|i| (a[i] as f64 + (b[i] as f64 - a[i] as f64) * t).round() as u8)
        .collect();
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

/// The co-occurrence matrix of the top entities.
fn cooc_matrix(report: &Report) -> String {
    let top: Vec<u32> = report.order.iter().copied().take(MATRIX_SIZE).collect();
    if top.len() < 2 {
        return empty_chart("Fewer than two entities: no co-occurrence to show.");
    }
    let n = top.len();
    let cell = 38.0;
    let (left, head) = (210.0, 150.0);
    // Room on the right for the slanted column labels.
    let width = left + cell * n as f64 + 120.0;
    let height = head + cell * n as f64 + 10.0;
    let counts: Vec<Vec<u32>> = top
        .iter()
        .map(|&a| {
            top.iter()
                .map(|&b| if a == b { 0 } else { report.pair(a, b) })
                .collect()
        })
        .collect();
    let max = counts.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg class=\"matrix\" viewBox=\"0 0 {width} {height}\" style=\"max-width:{width}px\" role=\"img\" aria-label=\"Co-occurrence of the most frequent entities\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    for (i, &e) in top.iter().enumerate() {
        let name = &report.entity(e).canonical;
        let y = head + cell * i as f64 + cell / 2.0 + 4.0;
        let _ = write!(
            out,
            "<text class=\"rowlabel\" x=\"{:.1}\" y=\"{y:.1}\" text-anchor=\"end\"><title>{}</title>{}</text>",
            left - 8.0,
            esc(name),
            esc(&short(name, 28))
        );
        let x = left + cell * i as f64 + cell / 2.0 + 4.0;
        let _ = write!(
            out,
            "<text class=\"collabel\" transform=\"translate({x:.1},{:.1}) rotate(-50)\"><title>{}</title>{}</text>",
            head - 8.0,
            esc(name),
            esc(&short(name, 20))
        );
    }
    for (i, row) in counts.iter().enumerate() {
        for (j, &c) in row.iter().enumerate() {
            let (x, y) = (left + cell * j as f64, head + cell * i as f64);
            let (a, b) = (
                &report.entity(top[i]).canonical,
                &report.entity(top[j]).canonical,
            );
            if i == j {
                let _ = write!(
                    out,
                    "<rect class=\"diag\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{cell}\" height=\"{cell}\"><title>{}: {} articles</title></rect>",
                    esc(a),
                    report.entity(top[i]).articles
                );
                continue;
            }
            let t = (c as f64 / max).sqrt();
            let _ = write!(
                out,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{cell}\" height=\"{cell}\" fill=\"{}\" stroke=\"#fff\"><title>{} &amp; {}: {} shared articles</title></rect>",
                heat(t),
                esc(a),
                esc(b),
                c
            );
            if c > 0 {
                let class = if t > 0.55 { "cellnum light" } else { "cellnum" };
                let _ = write!(
                    out,
                    "<text class=\"{class}\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                    x + cell / 2.0,
                    y + cell / 2.0 + 4.0,
                    if c >= 10_000 {
                        format!("{}k", c / 1000)
                    } else {
                        c.to_string()
                    }
                );
            }
        }
    }
    out.push_str("</svg>");
    out
}

fn card(out: &mut String, label: &str, value: &str, note: &str) {
    let _ = write!(
        out,
        "<div class=\"card\"><div class=\"value\">{}</div><div class=\"label\">{}</div>{}</div>",
        esc(value),
        esc(label),
        if note.is_empty() {
            String::new()
        } else {
            format!("<div class=\"note\">{}</div>", esc(note))
        }
    );
}

/// The entity table.
fn table(report: &Report, opts: &ReportOptions) -> String {
    let limit = if opts.top == 0 { usize::MAX } else { opts.top };
    let mut rows = String::new();
    for (rank, e) in report.ranked().take(limit).enumerate() {
        let co: Vec<String> = report
            .cooccurring(e, opts.related)
            .iter()
            .map(|(o, c)| format!("{} <span class=\"n\">{c}</span>", esc(&o.canonical)))
            .collect();
        let topics: Vec<String> = report
            .entity_topics(e, opts.related)
            .iter()
            .map(|(t, c)| format!("{} <span class=\"n\">{c}</span>", esc(&t.label)))
            .collect();
        let id = match e.id.as_deref() {
            Some(id)
                if id.len() > 1
                    && id.starts_with('Q')
                    && id[1..].bytes().all(|b| b.is_ascii_digit()) =>
            {
                format!(
                    "<a href=\"https://www.wikidata.org/wiki/{id}\" rel=\"noreferrer\">{id}</a>"
                )
            }
            Some(id) => esc(id),
            None => String::new(),
        };
        let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
        // The names joined into this entity across the corpus, with their articles.
        let variants = if e.variants.is_empty() {
            String::new()
        } else {
            let items: Vec<String> = e
                .variants
                .iter()
                .map(|v| {
                    let label = if v.label == e.label {
                        String::new()
                    } else {
                        format!(" <span class=\"vl\">{}</span>", esc(&v.label))
                    };
                    format!(
                        "<li>{}{label} <span class=\"n\">{}</span></li>",
                        esc(&v.name),
                        v.articles
                    )
                })
                .collect();
            format!(
                "<ul class=\"variants\" title=\"Names joined into this entity (articles)\">{}</ul>",
                items.concat()
            )
        };
        let _ = write!(
            rows,
            "<tr><td class=\"num\">{}</td><td class=\"name\">{}{variants}</td><td><span class=\"badge {}\">{}</span></td><td>{id}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"date\">{}</td><td class=\"date\">{}</td><td class=\"rel\">{}</td><td class=\"rel\">{}</td></tr>",
            rank + 1,
            esc(&e.canonical),
            label_class(&e.label),
            esc(&e.label),
            e.articles,
            e.mentions,
            date(e.first),
            date(e.last),
            co.join(", "),
            topics.join(", "),
        );
    }
    let total = report.order.len();
    let shown = total.min(limit);
    let caption = if shown < total {
        format!(
            "The {} entities in most articles, of {}.",
            num(shown as u64),
            num(total as u64)
        )
    } else {
        format!("All {} entities.", num(total as u64))
    };
    let caption = format!(
        "{caption} Names that the corpus resolution joined into one entity (surnames, genitives, initials, spelling variants, acronyms) are listed under it with their articles; an alias file (--aliases) overrides what was joined."
    );
    format!(
        "<p class=\"note\">{}</p><div class=\"tools\"><input type=\"search\" id=\"q\" placeholder=\"Search names, labels, ids…\" autocomplete=\"off\" aria-label=\"Search entities\"><span id=\"shown\" aria-live=\"polite\"></span></div>\
<div class=\"scroll\"><table id=\"entities\"><thead><tr><th data-type=\"num\">#</th><th>Entity</th><th>Label</th><th>ID</th><th data-type=\"num\">Articles</th><th data-type=\"num\">Mentions</th><th>First</th><th>Last</th><th>Often with</th><th>Topics</th></tr></thead><tbody>{rows}</tbody></table></div>",
        esc(&caption)
    )
}

const STYLE: &str = r#"
:root{--fg:#1b2733;--muted:#5b6b7b;--line:#dde3ea;--bg:#f5f7fa;--card:#fff;--accent:#1f5fa8}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
header{background:#13263d;color:#fff;padding:28px 40px 24px}
header h1{margin:0 0 4px;font-size:26px;font-weight:650}
header .sub{margin:0 0 18px;color:#b9c6d6;font-size:13px;overflow-wrap:anywhere}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{background:rgba(255,255,255,.08);border:1px solid rgba(255,255,255,.14);border-radius:8px;padding:10px 16px;min-width:120px}
.card .value{font-size:22px;font-weight:650;font-variant-numeric:tabular-nums}
.card .label{font-size:12px;color:#c7d3e0;text-transform:uppercase;letter-spacing:.04em}
.card .note{font-size:11px;color:#9fb0c3}
main{padding:8px 40px 40px;max-width:1400px}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:18px 22px;margin:18px 0}
section h2{margin:0 0 2px;font-size:18px}
.note{margin:0 0 12px;color:var(--muted);font-size:13px}
svg{display:block;width:100%;height:auto;font-family:inherit}
svg text{font-size:12px;fill:#33414f}
svg .tick{font-size:11px;fill:var(--muted)}
svg .grid{stroke:#e8edf2}
svg .axis{stroke:#9aa7b4}
svg .legend text{font-size:12.5px}
svg .diag{fill:#f3f4f6;stroke:#fff}
svg .cellnum{font-size:11px;font-variant-numeric:tabular-nums;fill:#1b2733}
svg .cellnum.light{fill:#fff}
svg .collabel,svg .rowlabel{font-size:12px}
svg circle:hover,svg rect:hover{opacity:.75}
.empty{padding:30px;text-align:center;color:var(--muted);background:var(--bg);border-radius:8px}
.tools{display:flex;align-items:center;gap:12px;margin-bottom:10px}
#q{width:340px;max-width:100%;padding:7px 10px;border:1px solid #b9c3ce;border-radius:6px;font:inherit}
#shown{color:var(--muted);font-size:13px}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:13.5px}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{position:sticky;top:0;background:#eef2f6;cursor:pointer;user-select:none;white-space:nowrap}
th[aria-sort=ascending]::after{content:" \25B2";font-size:10px}
th[aria-sort=descending]::after{content:" \25BC";font-size:10px}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.date{white-space:nowrap;font-variant-numeric:tabular-nums}
td.name{font-weight:600;overflow-wrap:anywhere;max-width:320px}
td.rel{color:#3b4a59;font-size:12.5px;max-width:300px}
td.rel .n,.variants .n{color:#8896a4;font-size:11px}
.variants{margin:2px 0 0;padding:0;list-style:none;font-weight:400;font-size:12px;color:#3b4a59}
.variants li{display:inline}
.variants li+li::before{content:" \00B7  "}
.variants .vl{font-size:10.5px;color:#6b3fa0}
tr:hover td{background:#f7fafc}
.badge{display:inline-block;padding:1px 7px;border-radius:10px;font-size:11px;font-weight:650;background:#eceff3;color:#444}
.badge.per{background:#e3efff;color:#1f5fa8}.badge.org{background:#fde8e3;color:#a83a1f}
.badge.loc{background:#e2f5e5;color:#1f7a33}.badge.misc{background:#f2e8fb;color:#6b3fa0}
a{color:var(--accent)}
footer{color:var(--muted);font-size:12px;padding:0 40px 30px}
"#;

const SCRIPT: &str = r#"
(function () {
  "use strict";
  var input = document.getElementById("q");
  var table = document.getElementById("entities");
  var shown = document.getElementById("shown");
  if (!input || !table) { return; }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  // Search the name, label and id cells.
  var texts = rows.map(function (r) {
    return [1, 2, 3].map(function (c) { return r.cells[c].textContent; }).join("\n").toLowerCase();
  });
  function filter() {
    var q = input.value.trim().toLowerCase();
    var n = 0;
    rows.forEach(function (r, i) {
      var hit = q === "" || texts[i].indexOf(q) !== -1;
      r.hidden = !hit;
      if (hit) { n += 1; }
    });
    shown.textContent = n + " of " + rows.length + " shown";
  }
  input.addEventListener("input", filter);
  var heads = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(heads, function (th, col) {
    th.addEventListener("click", function () {
      var numeric = th.getAttribute("data-type") === "num";
      var asc = th.getAttribute("aria-sort") !== "ascending";
      Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      var order = rows.map(function (r, i) { return i; });
      order.sort(function (a, b) {
        var x = rows[a].cells[col].textContent, y = rows[b].cells[col].textContent;
        var c = numeric ? (parseFloat(x) || 0) - (parseFloat(y) || 0) : x.localeCompare(y);
        return asc ? c : -c;
      });
      order.forEach(function (i) { body.appendChild(rows[i]); });
    });
  });
  var m = /^#q=(.*)$/.exec(window.location.hash);
  if (m) {
    try { input.value = decodeURIComponent(m[1]); } catch (e) { input.value = m[1]; }
  }
  filter();
  document.body.setAttribute("data-ready", "true");
})();
"#;

/// Renders the whole page.
pub(crate) fn render(report: &Report, opts: &ReportOptions, inputs: &[String]) -> String {
    let s = &report.agg.summary;
    let weeks = week_range(report);
    let mut cards = String::new();
    card(&mut cards, "records", &num(s.records), "");
    card(
        &mut cards,
        "annotated",
        &num(s.annotated),
        &if s.undated > 0 {
            format!("{} undated", num(s.undated))
        } else {
            String::new()
        },
    );
    card(
        &mut cards,
        "skipped",
        &num(s.skipped),
        "not Dutch / not annotated",
    );
    card(
        &mut cards,
        "errors",
        &num(s.errors + s.invalid),
        &if s.invalid > 0 {
            format!("{} unreadable lines", num(s.invalid))
        } else {
            String::new()
        },
    );
    card(
        &mut cards,
        "entities",
        &num(s.entities),
        &format!("{} mentions", num(s.mentions)),
    );
    card(&mut cards, "topics", &num(s.topics), "");
    let period = match (&s.first_date, &s.last_date) {
        (Some(a), Some(b)) if a == b => a.clone(),
        (Some(a), Some(b)) => format!("{a} – {b}"),
        _ => "no dates".to_string(),
    };
    let span = report.agg.dates.map_or(0, |(a, b)| {
        (super::aggregate::week_of(b) - super::aggregate::week_of(a)) / 7 + 1
    });
    let span_note = format!("{} weeks, field “{}”", num(span as u64), opts.date_field);
    card(&mut cards, "period", &period, &span_note);

    let mut page = String::with_capacity(64 * 1024);
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'\">\
<meta name=\"generator\" content=\"ontleed {}\">\
<title>{}</title><style>{STYLE}</style></head><body>\
<header><h1>{}</h1><p class=\"sub\">ontleed {} · input: {}</p><div class=\"cards\">{cards}</div></header><main>",
        env!("CARGO_PKG_VERSION"),
        esc(&opts.title),
        esc(&opts.title),
        env!("CARGO_PKG_VERSION"),
        esc(&inputs.join(", ")),
    );
    let _ = write!(
        page,
        "<section id=\"mentions\"><h2>Mentions per week</h2><p class=\"note\">The {} entities found in most articles; ISO weeks. Hover a point for its count.{}</p>{}</section>",
        LINE_SERIES.min(report.order.len()),
        esc(&clipped_note(report, &weeks)),
        mentions_chart(report, &weeks)
    );
    let _ = write!(
        page,
        "<section id=\"cooccurrence\"><h2>Entity co-occurrence</h2><p class=\"note\">Number of articles in which both entities occur, for the {} entities found in most articles.</p>{}</section>",
        MATRIX_SIZE.min(report.order.len()),
        cooc_matrix(report)
    );
    let _ = write!(
        page,
        "<section id=\"topics\"><h2>Topics per week</h2><p class=\"note\">Articles per topic and ISO week, stacked.{}</p>{}</section>",
        esc(&clipped_note(report, &weeks)),
        topics_chart(report, &weeks)
    );
    let _ = writeln!(
        page,
        "<section id=\"table\"><h2>Entities</h2>{}</section></main><footer>Generated by ontleed {}. Self-contained page: it loads nothing from the network.</footer><script>{SCRIPT}</script></body></html>",
        table(report, opts),
        env!("CARGO_PKG_VERSION")
    );
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_dangerous() {
        assert_eq!(
            esc(r#"<script>"a" & 'b'</script>"#),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
        assert_eq!(esc("a\u{0}b"), "a\u{FFFD}b");
    }

    #[test]
    fn helpers() {
        assert_eq!(num(100000), "100\u{2009}000");
        assert_eq!(num(999), "999");
        assert_eq!(nice_step(0.0, 4.0), 1.0);
        assert_eq!(nice_step(37.0, 4.0), 10.0);
        assert_eq!(nice_step(3.0, 4.0), 1.0);
        assert_eq!(short("abcdef", 4), "abc…");
        assert_eq!(heat(0.0), "#eef3fb");
        assert_eq!(heat(2.0), "#153e7a");
    }
}
