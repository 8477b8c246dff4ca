//! Figures are valid SVG and PNG of the stated size with their text; PNGs are
//! not blank and have text pixels; tables match golden files for a fixed fit;
//! a study's index.html points at every figure it shows.

use std::path::Path;

use concord::data::read::read_table;
use concord::estimate::{fit, Family, FitOptions};
use concord::plot::{
    png, save, svg, BandPlot, BinnedScatter, CoefPlot, CoefRow, Figure, MediationDiagram, MediatorPath, Trends,
    TrendsPanel, DPI, ONE_COLUMN, TWO_COLUMN,
};
use concord::report::tables::{regression_table, regression_table_with, FitSummary, Format, TableOptions};

/// Decode a PNG; check its size against the figure's inches at 300 dpi, the
/// pHYs chunk, that it is not blank and that it has dark (text) pixels.
fn check_png(bytes: &[u8], inches: (f64, f64), what: &str) {
    let img = image::load_from_memory(bytes).unwrap_or_else(|e| panic!("{what}: not a PNG: {e}")).to_rgb8();
    assert_eq!(img.width(), (inches.0 * DPI).round() as u32, "{what}: width");
    assert_eq!(img.height(), (inches.1 * DPI).round() as u32, "{what}: height");
    let phys = bytes.windows(4).position(|w| w == b"pHYs").unwrap_or_else(|| panic!("{what}: no pHYs chunk"));
    let ppm = u32::from_be_bytes(bytes[phys + 4..phys + 8].try_into().unwrap());
    assert_eq!(ppm, 11811, "{what}: 300 dpi is 11811 pixels per metre");
    let lum: Vec<f64> = img.pixels().map(|p| (f64::from(p[0]) + f64::from(p[1]) + f64::from(p[2])) / 3.0).collect();
    let mean = lum.iter().sum::<f64>() / lum.len() as f64;
    let var = lum.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / lum.len() as f64;
    assert!(var > 100.0, "{what}: blank (pixel variance {var:.1})");
    let dark = lum.iter().filter(|l| **l < 60.0).count();
    assert!(dark > 500, "{what}: only {dark} dark pixels: is the text drawn?");
}

fn check(fig: &impl Figure, texts: &[&str]) {
    let s = svg(fig).unwrap();
    assert!(s.starts_with("<svg"), "{}: not an SVG", fig.name());
    let (w, h) = fig.size();
    assert!(s.contains(&format!("width=\"{w}in\" height=\"{h}in\"")), "{}: physical size", fig.name());
    assert!(s.contains("DejaVu Sans"), "{}: font", fig.name());
    for t in texts {
        assert!(s.contains(t), "{}: `{t}` missing from the SVG", fig.name());
    }
    check_type_sizes(&s, w, &fig.name());
    check_png(&png(fig).unwrap(), (w, h), &fig.name());
}

/// Every text element's font size, in points at the figure's physical
/// width: the SVG's user units are pixels of the viewBox, and the figure is
/// `width` inches (72 pt each) wide. All are the house sizes (7, 8 or 8.5
/// pt), so figures side by side match and none is below 7 pt.
fn check_type_sizes(svg: &str, width_in: f64, what: &str) {
    let attr = |name: &str| -> Option<&str> { svg.split(&format!("{name}=\"")).nth(1)?.split('"').next() };
    let view: Vec<f64> = attr("viewBox").unwrap().split_whitespace().map(|v| v.parse().unwrap()).collect();
    let pt_per_unit = width_in * 72.0 / view[2];
    let sizes: Vec<f64> = svg
        .split("font-size=\"")
        .skip(1)
        .map(|t| t.split('"').next().unwrap().parse::<f64>().unwrap() * pt_per_unit)
        .collect();
    assert!(!sizes.is_empty(), "{what}: no text");
    for s in &sizes {
        assert!(
            [7.0, 8.0, 8.5].iter().any(|want| (s - want).abs() < 0.01),
            "{what}: text at {s:.2} pt (want 7, 8 or 8.5 pt at {width_in} in wide)"
        );
    }
}

fn band(zero: bool) -> BandPlot {
    BandPlot {
        title: "P(onset) over joint IGOs".into(),
        x_label: "l(dyadigos,1)".into(),
        y_label: "Pr(mid_onset = 1)".into(),
        points: (0..20).map(|i| (f64::from(i), 0.02 - 0.0005 * f64::from(i), 0.01, 0.03)).collect(),
        observed: (0..500).map(|i| f64::from(i % 20)).collect(),
        zero_line: zero,
        width: ONE_COLUMN,
    }
}

#[test]
fn every_figure_type_renders_with_its_text() {
    let trends = Trends {
        years: (1946..=2014).map(f64::from).collect(),
        left: vec![TrendsPanel {
            band: Some((0..69).map(|i| Some((10.0 + f64::from(i) * 0.5, 30.0 + f64::from(i) * 0.7))).collect()),
            ..TrendsPanel::new(
                "Mean full IGO memberships",
                "IGOs per state",
                (0..69).map(|i| Some(20.0 + f64::from(i) * 0.6)).collect(),
            )
        }],
        right: vec![TrendsPanel::new(
            "Inter-state war onsets",
            "wars per year",
            (0..69).map(|i| if i > 61 { None } else { Some(f64::from(i % 3)) }).collect(),
        )],
        mark: Some((1989.5, "end of Cold War".into())),
        events: concord::plot::Event::defaults(),
        one_colour: false,
    };
    assert!(trends.right[0].counts && !trends.left[0].counts);
    // A series that ends inside the axis says so in its title; events are labelled.
    check(
        &trends,
        &["Mean full IGO memberships", "IGOs per state", "wars per year", "Year", "data 1946-2007", "CWC", "9/11"],
    );
    // Predictions: two series over a continuous variable (legend), and a 0/1
    // variable as points with intervals whose axis labels only 0 and 1.
    use concord::plot::{PredictPlot, PredictSeries};
    let series = |label: &str, shift: f64, xs: &[f64]| PredictSeries {
        label: label.into(),
        points: xs.iter().map(|x| (*x, 0.02 + shift + 0.001 * x, 0.01 + shift, 0.03 + shift + 0.001 * x)).collect(),
    };
    let grid: Vec<f64> = (0..20).map(f64::from).collect();
    let lines = PredictPlot {
        title: "Probability over joint IGOs".into(),
        x_label: "Joint IGOs (t-1)".into(),
        y_label: "Pr(MID onset)".into(),
        series: vec![series("Contiguous = 0", 0.0, &grid), series("Contiguous = 1", 0.03, &grid)],
        observed: (0..500).map(|i| f64::from(i % 20)).collect(),
        discrete: false,
        width: ONE_COLUMN,
    };
    check(&lines, &["Contiguous = 0", "Contiguous = 1", "Pr(MID onset)"]);
    let points = PredictPlot {
        series: vec![series("", 0.0, &[0.0, 1.0])],
        observed: (0..50).map(|i| f64::from(i % 2)).collect(),
        discrete: true,
        ..lines.clone()
    };
    let s = svg(&points).unwrap();
    assert!(s.matches("<circle").count() >= 2, "points, not a band");
    assert!(!s.contains(">0.5<"), "a discrete axis labels only its levels");
    check(&points, &["Pr(MID onset)"]);
    let coef = CoefPlot {
        title: "l(dyadigos,1)".into(),
        x_label: "Estimate (log-odds)".into(),
        rows: ["main specification", "unit fixed effects", "Firth"]
            .iter()
            .enumerate()
            .map(|(i, l)| CoefRow {
                label: l.to_string(),
                estimate: -0.1 * i as f64,
                lo90: -0.2,
                hi90: 0.1,
                lo95: -0.3,
                hi95: 0.2,
                highlight: i == 0,
                estimand: "l(dyadigos,1)".into(),
                n: Some(["630,469", "630,469", "27,870"][i].into()),
            })
            .collect(),
        width: TWO_COLUMN,
        label_estimands: false,
        note: Some("Verdict: supported".into()),
    };
    // Each row's N, the intervals' legend and the note; a true minus on the axis.
    check(
        &coef,
        &[
            "l(dyadigos,1)",
            "Estimate (log-odds)",
            "unit fixed effects",
            "27,870",
            "95% intervals. Verdict: supported",
            "−0.2",
        ],
    );
    check(&band(false), &["Pr(mid_onset = 1)", "l(dyadigos,1)"]);
    check(&band(true), &["Pr(mid_onset = 1)"]);
    let med = MediationDiagram {
        title: "igo_full -> pillars -> mid_onset".into(),
        cause: "igo_full".into(),
        outcome: "mid_onset".into(),
        mediators: vec![
            MediatorPath {
                label: "consensus".into(),
                a: (0.1, 0.05, 0.15),
                b: (-1.0, -2.0, 0.0),
                indirect: (-0.1, -0.2, 0.0),
            },
            MediatorPath {
                label: "enforcement".into(),
                a: (0.2, 0.1, 0.3),
                b: (-0.5, -1.0, 0.0),
                indirect: (-0.1, -0.2, 0.0),
            },
        ],
        note: "note".into(),
        indirect_name: "a x b".into(),
    };
    check(&med, &["consensus", "enforcement", "a = 0.100 [0.050, 0.150]", "indirect effect through consensus: a x b"]);
    let bins = BinnedScatter {
        title: "binned".into(),
        x_label: "l(igo_full,1), residualised".into(),
        y_label: "mid_onset, residualised".into(),
        bins: (0..20).map(|i| (f64::from(i), 0.1 - 0.002 * f64::from(i))).collect(),
        line: Some((0.1, -0.002)),
        width: ONE_COLUMN,
    };
    check(&bins, &["l(igo_full,1), residualised", "mid_onset, residualised"]);
}

#[test]
fn figures_are_written_atomically_as_svg_and_png() {
    let dir = tempfile::tempdir().unwrap();
    let files = save(&band(false), &dir.path().join("pp")).unwrap();
    assert_eq!(files[0].extension().unwrap(), "svg");
    assert!(files.iter().all(|f| f.is_file()));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2, "no temporary files left");
    let empty = BandPlot { points: vec![], ..band(false) };
    assert_eq!(svg(&empty).unwrap_err().to_string(), "band plot `P(onset) over joint IGOs`: fewer than two points");
}

fn golden(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name)).unwrap()
}

fn golden_fits() -> Vec<FitSummary> {
    let df = read_table(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sim_panel.csv").as_ref()).unwrap();
    let a = fit(&df, "ybin ~ x1 + x2", Family::Logit, &FitOptions::default()).unwrap();
    let opts = FitOptions { vcov: "cluster:unit".parse().unwrap(), ..Default::default() };
    let b = fit(&df, "y ~ x1 + x2 + d | unit + time", Family::Gaussian, &opts).unwrap();
    vec![FitSummary::from(&a), FitSummary::from(&b)]
}

/// The golden table's options: titles, stars, an added row, a note, caption and label.
fn golden_options() -> TableOptions {
    TableOptions {
        titles: vec!["Logit".into(), "Two-way FE".into()],
        stars: true,
        add_rows: vec![TableOptions::parse_row("Sample: full, full").unwrap()],
        notes: vec!["Simulated panel (tests/fixtures/sim_panel.csv).".into()],
        caption: Some("Two models of the simulated panel".into()),
        label: Some("tab:golden".into()),
        labels: concord::report::labels::Labels::from_toml("x1 = \"First regressor\"\nd = \"Treatment (0/1)\"")
            .unwrap(),
        ..Default::default()
    }
}

#[test]
fn regression_tables_match_golden_files() {
    let df = read_table(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sim_panel.csv").as_ref()).unwrap();
    let a = fit(&df, "ybin ~ x1 + x2", Family::Logit, &FitOptions::default()).unwrap();
    let fits = golden_fits();
    let o = golden_options();
    for (fmt, file) in [(Format::Markdown, "table.md"), (Format::Latex, "table.tex"), (Format::Html, "table.html")] {
        let got = regression_table_with(&fits, &o, fmt).unwrap();
        if std::env::var_os("CONCORD_BLESS").is_some() {
            std::fs::write(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(file), &got).unwrap();
        }
        assert_eq!(got, golden(file), "{file} (set CONCORD_BLESS=1 to rewrite after checking the change)");
    }
    let tex = golden("table.tex");
    // Journal conventions, in the LaTeX: standalone with booktabs, caption,
    // label, a printed note (not a % comment), true minus signs, no
    // e-notation, model numbers, dependent variable, clusters, thousands.
    for want in [
        "\\documentclass",
        "\\usepackage{booktabs}",
        "\\caption{Two models of the simulated panel}",
        "\\label{tab:golden}",
        "\\textit{Notes:} Standard errors",
        "$-$0.",
        "(1) & (2)",
        "Dependent variable & ybin & y",
        "Clusters (unit) &  & 120",
        "1,797",
        "First regressor",
        "Sample & full & full",
        "two-sided, not adjusted",
    ] {
        assert!(tex.contains(want), "`{want}` missing from table.tex:\n{tex}");
    }
    assert!(!tex.contains("\n%") || tex.lines().filter(|l| l.starts_with('%')).count() == 0, "no notes as comments");
    assert!(!tex.contains("e-0") && !tex.contains("e-1"), "no e-notation");
    // The fragment is the tabular with a comment naming what it needs.
    let frag =
        regression_table_with(&fits, &TableOptions { fragment: true, ..golden_options() }, Format::Latex).unwrap();
    assert!(frag.starts_with("% A tabular fragment: needs \\usepackage{booktabs}"), "{frag}");
    assert!(!frag.contains("\\documentclass") && frag.contains("\\begin{tabular}"));
    // Defaults: no stars; the titles row only when asked.
    let plain = regression_table_with(&fits, &TableOptions::default(), Format::Markdown).unwrap();
    assert!(!plain.contains("\\*") && !plain.contains("Two-way FE"), "{plain}");
    // The same table from the fits' JSON.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.json");
    std::fs::write(&p, a.to_json()).unwrap();
    let back = FitSummary::from_file(&p).unwrap();
    assert_eq!(
        regression_table(&["Logit".into()], &[back], true, Format::Markdown),
        regression_table(&["Logit".into()], &fits[..1], true, Format::Markdown)
    );
    std::fs::write(&p, "{\"family\": 1}").unwrap();
    assert!(FitSummary::from_file(&p).unwrap_err().contains("not a concord fit (line 1"));
}

#[test]
fn table_controls_keep_drop_order_digits_and_rows() {
    let fits = golden_fits();
    let md = |o: TableOptions| regression_table_with(&fits, &o, Format::Markdown).unwrap();
    let t = md(TableOptions { keep: vec!["x*".into()], ..Default::default() });
    assert!(t.contains("| x1 |") && t.contains("| x2 |") && !t.contains("Constant") && !t.contains("| d |"), "{t}");
    let t = md(TableOptions { drop: vec!["x2".into()], order: vec!["d".into()], ..Default::default() });
    assert!(!t.contains("| x2 |"), "{t}");
    assert!(t.find("| d |").unwrap() < t.find("| x1 |").unwrap(), "--order puts d first:\n{t}");
    assert!(t.find("| x1 |").unwrap() < t.find("| Constant |").unwrap(), "the constant is last:\n{t}");
    let t = md(TableOptions { digits: Some(2), ..Default::default() });
    assert!(t.contains("| x1 | 0.81 | 0.49 |"), "{t}");
    let e =
        regression_table_with(&fits, &TableOptions { keep: vec!["z".into()], ..Default::default() }, Format::Markdown)
            .unwrap_err();
    assert!(e.starts_with("--keep `z` matches no term (terms: x1, x2, d, (Intercept))"), "{e}");
    let bad = TableOptions { add_rows: vec![("Controls".into(), vec!["Yes".into()])], ..Default::default() };
    assert_eq!(
        regression_table_with(&fits, &bad, Format::Markdown).unwrap_err(),
        "added row `Controls` has 1 cells for 2 models"
    );
    // A dropped (collinear) term is never printed; a note says so.
    let mut f = fits.clone();
    f[1].dropped.collinear.push("d".into());
    let t = regression_table_with(&f, &TableOptions::default(), Format::Markdown).unwrap();
    assert!(!t.contains("| d |") && t.contains("Not estimable and not shown") && t.contains("d in (2)"), "{t}");
}

/// The golden LaTeX table compiles with pdflatex (Debian's
/// texlive-latex-recommended) without overfull boxes. Skipped with a notice
/// when pdflatex is absent, unless CONCORD_PDFLATEX=1 (then it must run).
#[test]
fn golden_latex_table_compiles() {
    let required = std::env::var("CONCORD_PDFLATEX").is_ok_and(|v| v == "1");
    let have = std::process::Command::new("pdflatex").arg("--version").output().is_ok_and(|o| o.status.success());
    if !have {
        assert!(
            !required,
            "CONCORD_PDFLATEX=1 but pdflatex is not installed (apt-get install texlive-latex-recommended)"
        );
        eprintln!("SKIPPED golden_latex_table_compiles: no pdflatex (apt-get install texlive-latex-recommended)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("table.tex"), golden("table.tex")).unwrap();
    let out = std::process::Command::new("pdflatex")
        .args(["-interaction=nonstopmode", "-halt-on-error", "table.tex"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let log = std::fs::read_to_string(dir.path().join("table.log")).unwrap_or_default();
    assert!(out.status.success(), "pdflatex failed:\n{}", String::from_utf8_lossy(&out.stdout));
    assert!(dir.path().join("table.pdf").is_file());
    assert!(!log.contains("Overfull \\hbox"), "the table is wider than the text:\n{log}");
}

/// A figure of one capital H at 7 pt, to measure the PNG's type size.
struct OneLetter;

impl Figure for OneLetter {
    fn name(&self) -> String {
        "one letter".into()
    }
    fn size(&self) -> (f64, f64) {
        (1.0, 0.5)
    }
    fn draw<DB: plotters::prelude::DrawingBackend>(
        &self,
        root: &plotters::prelude::DrawingArea<DB, plotters::coord::Shift>,
    ) -> Result<(), concord::plot::PlotError> {
        use plotters::prelude::*;
        root.draw(&Text::new("H", (60, 40), concord::plot::font(7.0)))
            .map_err(|e| concord::plot::PlotError::Draw { figure: self.name(), message: format!("{e:?}") })
    }
}

#[test]
fn png_type_is_the_requested_point_size() {
    // DejaVu Sans's capital H is 1493/2048 em tall: at 7 pt and 300 dpi,
    // 7 * 300 / 72 * 1493 / 2048 = 21.3 pixels.
    let img = image::load_from_memory(&png(&OneLetter).unwrap()).unwrap().to_luma8();
    let rows: Vec<u32> =
        (0..img.height()).filter(|&y| (0..img.width()).any(|x| img.get_pixel(x, y)[0] < 128)).collect();
    let height = f64::from(rows.last().unwrap() - rows.first().unwrap() + 1);
    let want = 7.0 * DPI / 72.0 * 1493.0 / 2048.0;
    assert!((height - want).abs() <= 1.0, "capital H is {height} px tall, want {want:.1} px (7 pt)");
    // The SVG asks for the same em size: 7 pt = 29.17 px at 300 dpi.
    let s = svg(&OneLetter).unwrap();
    let size: f64 = s.split("font-size=\"").nth(1).unwrap().split('"').next().unwrap().parse().unwrap();
    assert!((size - 7.0 * DPI / 72.0).abs() < 0.01, "SVG font-size {size}");
}

fn coef_rows(estimands: &[&str]) -> Vec<CoefRow> {
    estimands
        .iter()
        .enumerate()
        .map(|(i, e)| CoefRow {
            label: format!("spec {i}"),
            estimate: 0.1,
            lo90: 0.0,
            hi90: 0.2,
            lo95: -0.1,
            hi95: 0.3,
            highlight: i == 0,
            estimand: e.to_string(),
            n: None,
        })
        .collect()
}

#[test]
fn coefficient_plots_refuse_mixed_estimands_unless_labelled() {
    let mixed = CoefPlot {
        title: "H1a".into(),
        x_label: "Coefficient".into(),
        rows: coef_rows(&["Full IGO memberships (t-1)", "UN treaties ratified (t-1)", "Full IGO memberships (t-1)"]),
        width: TWO_COLUMN,
        label_estimands: false,
        note: None,
    };
    let e = svg(&mixed).unwrap_err().to_string();
    assert!(
        e.contains("different quantities (Full IGO memberships (t-1); UN treaties ratified (t-1))")
            && e.contains("split the plot"),
        "{e}"
    );
    assert!(png(&mixed).is_err());
    // Labelled: every row carries its estimand.
    let labelled = CoefPlot { label_estimands: true, ..mixed.clone() };
    check(&labelled, &["estimates: UN treaties ratified (t-1)", "estimates: Full IGO memberships (t-1)", "spec 1"]);
    // One estimand: no labels needed, none printed.
    let same = CoefPlot { rows: coef_rows(&["x", "x"]), ..mixed };
    let s = svg(&same).unwrap();
    assert!(s.contains("spec 1"), "row label");
    assert!(!s.contains("estimates: x"));
}

/// The cells of a Markdown table row: split at `|` not escaped by `\`.
fn md_cells(line: &str) -> usize {
    let b = line.trim().as_bytes();
    let mut n: usize = 0;
    for i in 0..b.len() {
        if b[i] == b'|' && (i == 0 || b[i - 1] != b'\\') {
            n += 1;
        }
    }
    n.saturating_sub(1)
}

/// Every row of every Markdown table in `md` has as many cells as its header.
fn assert_md_tables_aligned(md: &str, what: &str) -> usize {
    let lines: Vec<&str> = md.lines().collect();
    let mut tables = 0;
    let mut i = 0;
    while i < lines.len() {
        if lines[i].starts_with('|') && lines.get(i + 1).is_some_and(|l| l.starts_with("|-") || l.starts_with("| -")) {
            tables += 1;
            let want = md_cells(lines[i]);
            let mut j = i + 1;
            while j < lines.len() && lines[j].starts_with('|') {
                assert_eq!(
                    md_cells(lines[j]),
                    want,
                    "{what}: row {} has another number of cells:\n{}",
                    j + 1,
                    lines[j]
                );
                j += 1;
            }
            i = j;
        } else {
            i += 1;
        }
    }
    tables
}

#[test]
fn markdown_tables_escape_pipes_in_cells() {
    // Fixed-effect formulas contain `|`: a study's verdicts.md prints them in cells.
    let study = concord::study::Study::from_toml(
        r#"
name = "pipes"
title = "pipes"
seed = 3
[data]
from = 1990
to = 2000
[[hypotheses]]
id = "H1"
claim = "a | b claim"
level = "state-year"
outcome = "unga_agree_majority"
cause = "igo_full"
direction = "positive"
family = "gaussian"
fixed_effects = ["unit", "time"]
vcov = "cluster:unit"
[[robustness]]
name = "unit_fe"
label = "unit | FE only"
fixed_effects = ["unit"]
"#,
    )
    .unwrap();
    let params = concord::data::simulate::SimParams { seed: 3, n_states: 40, n_dyad_states: 10, ..Default::default() };
    let opts = concord::study::RunOptions { simulate: Some(params), ..Default::default() };
    let r = concord::study::run(&study, &opts).unwrap();
    let md = concord::study::output::markdown(&r, "pipes.toml");
    assert!(
        md.lines().any(|l| l.contains("unga_agree_majority ~") && l.contains(" \\| ")),
        "the formula's `|` is escaped:\n{md}"
    );
    assert!(md.contains("a \\| b claim"), "{md}");
    // The verdicts, H1's robustness table and the sensitivity of its (linear) main link.
    assert_eq!(assert_md_tables_aligned(&md, "verdicts.md"), 3, "{md}");
    // Regression and descriptive tables.
    let t = golden("table.md");
    assert_eq!(assert_md_tables_aligned(&t, "table.md"), 1);
    let renamed = TableOptions {
        labels: concord::report::labels::Labels::from_toml("x1 = \"x1 | first\"").unwrap(),
        ..Default::default()
    };
    let t = regression_table_with(&golden_fits(), &renamed, Format::Markdown).unwrap();
    assert!(t.contains("x1 \\| first"), "{t}");
    assert_md_tables_aligned(&t, "renamed table");
}

/// The figures the literature expects: Kaplan-Meier curves by group and an
/// event-study plot (tests/reference/event_study.py: pyfixest on a simulated
/// panel with a step effect of 1 from period 0; coefficients 1e-6).
mod figure_types {
    use super::check;
    use concord::data::read::read_table;
    use concord::estimate::km::{km_frame, ConfType};
    use concord::estimate::{fit, Family, FitOptions};
    use concord::plot::survival::steps;
    use concord::plot::{EventStudyPlot, Figure, SurvivalPlot};
    use concord::report::tables::FitSummary;

    fn fixture(name: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
    }

    fn concord(args: &[&str]) -> std::process::Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_concord")).args(args).output().unwrap()
    }

    #[test]
    fn survival_plot_draws_the_kaplan_meier_steps_by_group() {
        let df = read_table(&fixture("sim_surv.csv")).unwrap();
        let curves = km_frame(&df, Some("start"), "stop", "event", &["g".into()], 0.95, ConfType::Log).unwrap();
        assert!(curves.len() >= 2);
        for c in &curves {
            let s = steps(c, 0.0);
            assert_eq!(s.len(), c.rows.len() + 1, "{}", c.group);
            assert_eq!((s[0].surv, s[0].from, s[0].to), (1.0, 0.0, c.rows[0].time));
            for (piece, row) in s[1..].iter().zip(&c.rows) {
                assert_eq!((piece.from, piece.surv), (row.time, row.surv), "{}", c.group);
                assert!(piece.lower.to_bits() == row.lower.to_bits() && piece.upper.to_bits() == row.upper.to_bits());
            }
            assert!(s.windows(2).all(|w| w[0].to == w[1].from && w[1].surv <= w[0].surv));
        }
        let legend = SurvivalPlot::legend(&curves[0]);
        assert_eq!(legend, format!("g = {} (at risk: {})", &curves[0].group[2..], curves[0].rows[0].n_risk));
        let mut fig = SurvivalPlot::new(curves, "Years at peace", 0.95);
        fig.title = "Peace spells".into();
        check(&fig, &["Survival probability", "Years at peace", "Peace spells", &legend, "95% pointwise bands"]);
        // One column wide; 0.8 as tall, more when the legend goes beneath.
        let (w, h) = fig.size();
        assert!(w == 3.5 && h >= 2.8, "{w} x {h}");
        // One row per spell (durations), censoring ticks, a custom y title.
        let t: Vec<f64> = (1..=40).map(|i| f64::from(i % 13 + 1)).collect();
        let e: Vec<bool> = (1..=40).map(|i| i % 3 != 0).collect();
        let c = concord::estimate::km::kaplan_meier(None, &t, &e, 0.9, ConfType::Plain);
        let mut fig = SurvivalPlot::new(vec![c], "Duration (years)", 0.9);
        (fig.censor_ticks, fig.y_label) = (true, "Share of spells still at peace".into());
        check(&fig, &["Share of spells still at peace", "Duration (years)", "all (at risk: 40)", "90% pointwise"]);
    }

    #[test]
    fn event_study_plot_draws_the_pyfixest_coefficients_in_time_order() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/event_study.json");
        let reference: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let df = read_table(&fixture("event_study.csv")).unwrap();
        let formula = reference["formula"].as_str().unwrap();
        for vcov in ["iid", "cluster:unit"] {
            let opts = FitOptions { vcov: vcov.parse().unwrap(), ..Default::default() };
            let f = fit(&df, formula, Family::Gaussian, &opts).unwrap();
            assert_eq!(f.nobs, 400);
            let want = reference["fits"][vcov].as_object().unwrap();
            assert_eq!(f.coefficients.len(), want.len(), "{vcov}");
            for c in &f.coefficients {
                let w = &want[&c.term];
                let (e, se) = (w["estimate"].as_f64().unwrap(), w["std_error"].as_f64().unwrap());
                assert!((c.estimate - e).abs() < 1e-6, "{vcov} {}: {} vs pyfixest {e}", c.term, c.estimate);
                assert!((c.std_error - se).abs() < 1e-6 * se, "{vcov} {}: se {} vs {se}", c.term, c.std_error);
            }
            let summary = FitSummary::from(&f);
            let plot = EventStudyPlot::from_fit(&summary, None, None).unwrap();
            let periods: Vec<f64> = plot.points.iter().map(|p| p.period).collect();
            assert_eq!(periods, [-4.0, -3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0]);
            for p in &plot.points {
                if p.period == -1.0 {
                    assert!(p.reference && p.estimate == 0.0);
                    continue;
                }
                let e = want[&format!("rel_year::{}", p.period)]["estimate"].as_f64().unwrap();
                assert!(!p.reference && (p.estimate - e).abs() < 1e-6);
                assert!(p.lo95 < p.lo90 && p.lo90 < p.estimate && p.estimate < p.hi90 && p.hi90 < p.hi95);
                // The simulated step: about 0 before period 0, about 1 from it.
                let truth = if p.period >= 0.0 { 1.0 } else { 0.0 };
                assert!(p.lo95 < truth && truth < p.hi95, "{vcov} period {}: {p:?}", p.period);
            }
            assert_eq!(plot.break_at(), Some(-0.5));
            check(&plot, &["reference", "Estimate relative to period −1", "Periods relative to treatment (rel_year)"]);
        }
    }

    #[test]
    fn plot_km_and_plot_event_from_the_command_line() {
        let dir = tempfile::tempdir().unwrap();
        let d = |f: &str| dir.path().join(f).to_str().unwrap().to_string();
        let surv = fixture("sim_surv.csv");
        let surv = surv.to_str().unwrap();
        let km = ["plot", "km", surv, "--start", "start", "--time", "stop", "--event", "event", "--by", "g"];
        let out = concord(&[&km[..], &["--conf", "log-log", "--out", &d("km")]].concat());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(dir.path().join("km.svg").is_file() && dir.path().join("km.png").is_file());
        // Censoring ticks on counting-process rows would mark every row's end.
        let out = concord(&[&km[..], &["--censor-ticks", "--out", &d("km2")]].concat());
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("--censor-ticks needs one row per spell"));
        // A missing column: exit 1, the column named (as `surv km`).
        let bad = ["plot", "km", surv, "--time", "stop", "--event", "event", "--by", "region", "--out", &d("bad")];
        let out = concord(&bad);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains("no column `region`"), "{err}");
        // An event study from a saved fit; a fit without i() terms is refused
        // with its terms listed.
        let panel = fixture("event_study.csv");
        let fit_json = d("es.json");
        let f = ["fit", panel.to_str().unwrap(), "--formula", "y ~ i(rel_year, ref = -1) | unit + year"];
        let out = concord(&[&f[..], &["--json", &fit_json]].concat());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let out = concord(&["plot", "event", &fit_json, "--ref", "-1", "--title", "Step at 0", "--out", &d("es")]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(std::fs::read_to_string(dir.path().join("es.svg")).unwrap().contains("Step at 0"));
        let plain = d("plain.json");
        let out = concord(&["fit", panel.to_str().unwrap(), "--formula", "y ~ rel_year | unit", "--json", &plain]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let out = concord(&["plot", "event", &plain, "--out", &d("none")]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains("no `i(rel_time, ref = ..)` terms") && err.contains("its terms: rel_year"), "{err}");
        let out = concord(&["plot", "event", &fit_json, "--term", "year", "--out", &d("none")]);
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("no terms `year::<period>`"));
    }
}

// ---------------------------------------------------------------------------
// Specification curve and mediation sensitivity, from the committed report of
// the flagship study (reports/socialization).

fn report_file(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/socialization").join(name)).unwrap()
}

fn curve_rows() -> Vec<concord::study::curve::CurveRow> {
    serde_json::from_str(&report_file("spec_curve.json")).unwrap()
}

/// Circles of an SVG: (cx, cy, r, fill).
fn circles(svg: &str) -> Vec<(i64, i64, u32, String)> {
    svg.split("<circle ")
        .skip(1)
        .map(|c| {
            let attr = |n: &str| c.split(&format!("{n}=\"")).nth(1).unwrap().split('"').next().unwrap().to_string();
            (attr("cx").parse().unwrap(), attr("cy").parse().unwrap(), attr("r").parse().unwrap(), attr("fill"))
        })
        .collect()
}

#[test]
fn spec_curve_is_sorted_with_the_json_estimates_and_its_grid_marks_the_choices() {
    use concord::plot::spec_curve::{DOT_RADIUS, MARKER_RADIUS};
    let rows = curve_rows();
    let labels = concord::report::labels::Labels::default();
    let c = concord::report::study::spec_curve_figure(&rows, "H2a-d", &labels, &[], false, Some(0.95)).unwrap();
    let fig = &c.figure;
    // The comparable specifications: the main one's regressor on the
    // log-odds scale (the linear probability model and the other vote
    // measures are left out).
    let of: Vec<_> = rows.iter().filter(|r| r.hypothesis == "H2a-d").collect();
    let main = of.iter().find(|r| r.main).unwrap();
    let mut want: Vec<f64> =
        of.iter().filter(|r| r.family == "logit" && r.term == main.term).map(|r| r.estimate).collect();
    want.sort_by(f64::total_cmp);
    assert_eq!(want.len(), 12);
    let got: Vec<f64> = fig.columns().iter().map(|p| p.estimate).collect();
    assert_eq!(got, want, "columns sorted by estimate, equal to spec_curve.json");
    assert_eq!(c.left_out.len(), 5, "{:?}", c.left_out);
    assert!(c.left_out.iter().any(|l| l == "linear probability model"), "{:?}", c.left_out);
    // The grid: one row per value of each feature that varies; each column
    // marks one value of each, as its spec_curve.json row says.
    let (row_labels, marks) = fig.grid();
    let groups: Vec<&str> = row_labels.iter().map(|l| l.split(':').next().unwrap()).collect();
    for (p, m) in fig.columns().iter().zip(&marks) {
        let json = of.iter().find(|r| r.label == p.label).unwrap();
        let marked: Vec<&str> = m.iter().map(|&k| row_labels[k].as_str()).collect();
        let mut gs: Vec<&str> = m.iter().map(|&k| groups[k]).collect();
        gs.dedup();
        assert_eq!(gs.len(), m.len(), "{}: one row per group: {marked:?}", p.label);
        let fe = if json.fixed_effects.is_empty() { "none".to_string() } else { json.fixed_effects.clone() };
        assert!(marked.contains(&format!("Fixed effects: {fe}").as_str()), "{}: {marked:?}", p.label);
        let years = if json.period.is_empty() { "all".to_string() } else { json.period.replace('_', " ") };
        assert!(marked.contains(&format!("Years: {years}").as_str()), "{}: {marked:?}", p.label);
        let se = if json.vcov == "cluster:dyad" { "clustered by dyad" } else { "dyadic (both states)" };
        assert!(marked.contains(&format!("Standard errors: {se}").as_str()), "{}: {marked:?}", p.label);
        let outcome = labels.var(&json.outcome).label;
        assert!(marked.contains(&format!("Outcome: {outcome}").as_str()), "{}: {marked:?}", p.label);
    }
    // The same in the drawing: estimate markers rise left to right, and the
    // grid's dots sit under the columns, in the rows of the choices.
    let s = svg(fig).unwrap();
    let below_legend = |c: &(i64, i64, u32, String)| c.1 > 130;
    let mut tops: Vec<(i64, i64)> = circles(&s)
        .into_iter()
        .filter(|c| below_legend(c) && c.2 == MARKER_RADIUS && c.3 != "#FFFFFF")
        .map(|c| (c.0, c.1))
        .collect();
    tops.sort();
    tops.dedup();
    assert_eq!(tops.len(), want.len(), "{tops:?}");
    assert!(tops.windows(2).all(|w| w[0].1 >= w[1].1), "markers rise with the estimate: {tops:?}");
    let dots: Vec<(i64, i64)> =
        circles(&s).into_iter().filter(|c| below_legend(c) && c.2 == DOT_RADIUS).map(|c| (c.0, c.1)).collect();
    assert_eq!(dots.len(), marks.iter().map(Vec::len).sum::<usize>());
    let mut ys: Vec<i64> = dots.iter().map(|d| d.1).collect();
    ys.sort();
    ys.dedup();
    assert_eq!(ys.len(), row_labels.len(), "every grid row has a dot");
    for (k, (x, _)) in tops.iter().enumerate() {
        let mut rows: Vec<usize> =
            dots.iter().filter(|d| d.0 == *x).map(|d| ys.iter().position(|y| *y == d.1).unwrap()).collect();
        rows.sort();
        assert_eq!(rows, marks[k], "column {k}: the dots under the marker are its choices");
    }
    check(
        fig,
        &["H2a-d: UNGA vote affinity (t-1)", "Fixed effects: dyad + year", "main specification", "95% intervals"],
    );
}

#[test]
fn spec_curve_refuses_mixed_scales_unless_labelled() {
    let rows = curve_rows();
    let labels = concord::report::labels::Labels::default();
    let all = concord::report::study::spec_curve_figure(&rows, "H2a-d", &labels, &[], true, Some(0.95)).unwrap();
    assert!(all.left_out.is_empty());
    assert_eq!(all.figure.specs.len(), 17);
    // Labelled: a grid row per estimand says which column estimates what.
    let (row_labels, _) = all.figure.grid();
    assert!(row_labels.iter().any(|l| l == "Estimates: UNGA vote affinity (t-1), log-odds"), "{row_labels:?}");
    assert!(row_labels.iter().any(|l| l == "Estimates: UNGA vote affinity (t-1), units of MID onset (0/1)"));
    check(&all.figure, &["Estimates: UNGA vote affinity (t-1), log-odds", "Model: OLS"]);
    // Unlabelled: refused, naming the estimands.
    let mixed = concord::plot::SpecCurve { label_estimands: false, ..all.figure.clone() };
    let e = svg(&mixed).unwrap_err().to_string();
    assert!(e.contains("different quantities (") && e.contains("units of MID onset (0/1)"), "{e}");
    assert!(png(&mixed).is_err());
    // An unknown hypothesis names the ones there are.
    let e = concord::report::study::spec_curve_figure(&rows, "H9", &labels, &[], false, None).unwrap_err();
    assert!(e.starts_with("no hypothesis `H9` in the curve (hypotheses: H0, H0-d,"), "{e}");
}

#[test]
fn sensitivity_crosses_zero_where_the_closed_form_says() {
    let paths = concord::report::study::sensitivity_paths_json(&report_file("verdicts.json")).unwrap();
    let ids: Vec<&str> = paths.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["H3a", "H3a-d", "H3b", "H3c"]);
    assert_eq!(paths[0].name, "ccode_igo_full_unga_agree_majority");
    let labels = concord::report::labels::Labels::default();
    for p in &paths {
        let s = &p.sensitivity;
        // rho* = gamma sigma / sqrt(1 + gamma^2 sigma^2) (mediation.rs) ...
        let gs = s.gamma * s.sigma;
        assert!((s.rho_at_zero - gs / (1.0 + gs * gs).sqrt()).abs() < 1e-12, "{}", p.id);
        // ... is where the computed ACME curve changes sign: between the two
        // grid points around it, and within 0.01 of the linear interpolation.
        let k = s.curve.iter().position(|(r, _)| *r > s.rho_at_zero).unwrap();
        let ((r0, v0), (r1, v1)) = (s.curve[k - 1], s.curve[k]);
        assert!(v0 * v1 < 0.0, "{}: ACME {v0} at rho {r0} and {v1} at rho {r1}", p.id);
        let plot = concord::report::study::sensitivity_figure(p, &labels);
        let cross = plot.crossings();
        assert_eq!(cross.len(), 1, "{}: {cross:?}", p.id);
        assert!((cross[0] - s.rho_at_zero).abs() < 0.01, "{}: crossing {} vs rho* {}", p.id, cross[0], s.rho_at_zero);
        // The curve is on the probability scale; the point at rho = 0 is the
        // curve's own.
        assert!(s.curve.iter().all(|(_, v)| v.abs() < 1.0));
        let zero = s.curve.iter().find(|(r, _)| *r == 0.0).unwrap().1;
        assert_eq!(plot.at_zero(), Some(zero));
        check(
            &plot,
            &[
                &format!("ACME = 0 at ρ = {:.2}", s.rho_at_zero).replace('-', "−"),
                "ρ = 0: ACME = ",
                "ACME, change in Pr(MID onset)",
            ],
        );
    }
    // A zero crossing the curve contradicts is refused.
    let mut bad = concord::report::study::sensitivity_figure(&paths[0], &labels);
    let cross = bad.crossings()[0];
    bad.rho_at_zero = cross + 0.25;
    let e = svg(&bad).unwrap_err().to_string();
    let want =
        format!("zero at rho = {:.2} by the closed form, but the curve crosses zero at {cross:.2}", cross + 0.25);
    assert!(e.contains(&want), "{e}");
    // Outside the curve's range, the curve must not cross zero.
    bad.rho_at_zero = 0.95;
    assert!(svg(&bad).unwrap_err().to_string().contains("lies outside the curve, which crosses zero at"));
}

#[test]
fn plot_commands_draw_the_study_output_and_name_what_there_is() {
    let bin = env!("CARGO_BIN_EXE_concord");
    let dir = tempfile::tempdir().unwrap();
    let report = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/socialization");
    let run = |args: &[&str]| {
        let o = std::process::Command::new(bin).args(args).output().unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).to_string(),
            String::from_utf8_lossy(&o.stderr).to_string(),
        )
    };
    let curve = report.join("spec_curve.json");
    let out = dir.path().join("curve");
    let (code, stdout, err) =
        run(&["plot", "spec-curve", curve.to_str().unwrap(), "--hypothesis", "H2a-d", "--out", out.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert!(stdout.contains("curve.svg") && stdout.contains("curve.png"), "{stdout}");
    assert!(err.contains("left out 5 specification(s)"), "{err}");
    assert!(out.with_extension("png").is_file());
    let verdicts = report.join("verdicts.json");
    let out = dir.path().join("sens");
    let (code, _, err) =
        run(&["plot", "sensitivity", verdicts.to_str().unwrap(), "--path", "H3a-d", "--out", out.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.with_extension("svg").is_file());
    let (code, _, err) =
        run(&["plot", "sensitivity", verdicts.to_str().unwrap(), "--path", "H9", "--out", out.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("no mediation path `H9` with a sensitivity (paths: H3a (ccode_igo_full_unga_agree_majority), H3a-d (dyad_dyadigos_unga_affinity)"),
        "{err}"
    );
    let (code, _, err) =
        run(&["plot", "spec-curve", curve.to_str().unwrap(), "--hypothesis", "H9", "--out", out.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    assert!(err.contains("no hypothesis `H9`"), "{err}");
}

/// The texts of an SVG's `<text>` elements.
fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| Some(t.split_once('>')?.1.split("</text>").next()?.trim().to_string()))
        .collect()
}

#[test]
fn the_contrast_family_has_a_figure_per_estimable_link_with_distinct_ticks() {
    // reports/socialization as the main job writes it: a figure of each link
    // of contrast.json with estimates, none of the others; probabilities
    // that change by less than 0.01 are shown per 1,000 unit-years; the x
    // ticks never print one label twice (0.00005 and 0.0001 once printed as
    // "0.0001" both).
    let c: serde_json::Value = serde_json::from_str(&report_file("contrast.json")).unwrap();
    let index = report_file("index.html");
    let mut drawn = 0;
    for l in c["links"].as_array().unwrap() {
        let name = l["name"].as_str().unwrap();
        let stem = format!("figures/contrast_{name}");
        let sd = &l["second_difference"];
        if sd.is_null() {
            assert!(!index.contains(&format!("{stem}.svg")), "{name}: a figure without estimates");
            continue;
        }
        drawn += 1;
        assert!(index.contains(&format!("{stem}.svg")) && index.contains(&format!("{stem}.png")), "{name}");
        let svg = report_file(&format!("{stem}.svg"));
        let texts = svg_texts(&svg);
        let widest = ["first", "second", "difference"]
            .iter()
            .flat_map(|k| [sd[k]["conf_low"].as_f64().unwrap().abs(), sd[k]["conf_high"].as_f64().unwrap().abs()])
            .fold(0.0, f64::max);
        let probability = matches!(l["family"].as_str().unwrap(), "logit" | "probit" | "firth");
        assert_eq!(svg.contains("per 1,000"), probability && widest < 0.01, "{name}: widest bound {widest}");
        // The x ticks: the numbers drawn, less the N column.
        let ns: Vec<String> = {
            let (a, b) = (sd["n_first"].as_u64().unwrap(), sd["n_second"].as_u64().unwrap());
            [a, b, a + b].iter().map(|n| concord::report::tables::thousands(&n.to_string())).collect()
        };
        let ticks: Vec<&String> =
            texts.iter().filter(|t| t.replace('−', "-").parse::<f64>().is_ok() && !ns.contains(t)).collect();
        assert!(ticks.len() >= 3, "{name}: {texts:?}");
        let mut distinct = ticks.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), ticks.len(), "{name}: a tick label printed twice: {ticks:?}");
        for row in ["average marginal effect", "second difference (tested)"] {
            assert!(texts.iter().any(|t| t.ends_with(row)), "{name}: no row `{row}`");
        }
    }
    assert_eq!(drawn, c["links"].as_array().unwrap().iter().filter(|l| !l["second_difference"].is_null()).count());
    assert!(drawn >= 20, "{drawn} figures");
}
