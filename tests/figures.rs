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
use concord::report::tables::{regression_table, FitSummary, Format};

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
    check_png(&png(fig).unwrap(), (w, h), &fig.name());
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
            title: "Mean full IGO memberships".into(),
            y_label: "IGOs per state".into(),
            values: (0..69).map(|i| Some(20.0 + f64::from(i) * 0.6)).collect(),
        }],
        right: vec![TrendsPanel {
            title: "MID onsets".into(),
            y_label: "disputes per year".into(),
            values: (0..69).map(|i| if i == 30 { None } else { Some(f64::from(i % 7) * 3.0) }).collect(),
        }],
        mark: Some((1989.5, "end of Cold War".into())),
    };
    check(&trends, &["Mean full IGO memberships", "IGOs per state", "disputes per year", "Year", "end of Cold War"]);
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
            })
            .collect(),
        width: TWO_COLUMN,
    };
    check(&coef, &["l(dyadigos,1)", "Estimate (log-odds)", "unit fixed effects"]);
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
    };
    check(&med, &["consensus", "enforcement", "a = 0.100 [0.050, 0.150]", "indirect effect through consensus"]);
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

#[test]
fn regression_tables_match_golden_files() {
    let df = read_table(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sim_panel.csv").as_ref()).unwrap();
    let a = fit(&df, "ybin ~ x1 + x2", Family::Logit, &FitOptions::default()).unwrap();
    let opts = FitOptions { vcov: "cluster:unit".parse().unwrap(), ..Default::default() };
    let b = fit(&df, "y ~ x1 + x2 + d | unit + time", Family::Gaussian, &opts).unwrap();
    let fits = [FitSummary::from(&a), FitSummary::from(&b)];
    let titles = ["Logit".to_string(), "Two-way FE".to_string()];
    for (fmt, file) in [(Format::Markdown, "table.md"), (Format::Latex, "table.tex"), (Format::Html, "table.html")] {
        let got = regression_table(&titles, &fits, true, fmt);
        if std::env::var_os("CONCORD_BLESS").is_some() {
            std::fs::write(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(file), &got).unwrap();
        }
        assert_eq!(got, golden(file), "{file} (set CONCORD_BLESS=1 to rewrite after checking the change)");
    }
    // The same table from the fits' JSON.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.json");
    std::fs::write(&p, a.to_json()).unwrap();
    let back = FitSummary::from_file(&p).unwrap();
    assert_eq!(
        regression_table(&titles[..1], &[back], true, Format::Markdown),
        regression_table(&titles[..1], &fits[..1], true, Format::Markdown)
    );
    std::fs::write(&p, "{\"family\": 1}").unwrap();
    assert!(FitSummary::from_file(&p).unwrap_err().contains("not a concord fit (line 1"));
}
