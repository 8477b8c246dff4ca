//! `concord plot` on small tables: what each command draws, and what it refuses
//! (exit 1 with the reason, no figure written).

mod common;

use common::concord;
use std::path::Path;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

/// A state-year-like table: three states over six years.
fn unit_year(dir: &Path) -> String {
    let mut csv = String::from("ccode,year,igo_full,mid_onset\n");
    for y in 1988..=1993 {
        for (c, base) in [(2, 40), (200, 50), (365, 20)] {
            csv.push_str(&format!("{c},{y},{},{}\n", base + (y - 1988) * 2, (c + y) % 2));
        }
    }
    write(dir, "sy.csv", &csv)
}

#[test]
fn trends_refuse_a_unit_year_panel_unless_aggregated() {
    let dir = tempfile::tempdir().unwrap();
    let data = unit_year(dir.path());
    let out = dir.path().join("t");
    let (code, _, err) = concord(&["plot", "trends", &data, "--vars", "igo_full", "--out", out.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("3 rows have year 1988") && err.contains("--aggregate"), "{err}");
    assert!(!out.with_extension("svg").exists());
    // Aggregated: yearly means with their interquartile range, units per year.
    let (code, stdout, err) = concord(&[
        "plot",
        "trends",
        &data,
        "--aggregate",
        "--vars",
        "igo_full,mid_onset",
        "--events",
        "1989-1991=End of Cold War",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("t.svg") && stdout.contains("t.png"), "{stdout}");
    let svg = std::fs::read_to_string(out.with_extension("svg")).unwrap();
    for text in ["(IQR across units)", "Units per year", "End of Cold War"] {
        assert!(svg.contains(text), "`{text}` missing");
    }
    // --aggregate needs the variables it summarises.
    let (code, _, err) = concord(&["plot", "trends", &data, "--aggregate", "--out", out.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("--aggregate needs --vars"), "{err}");
}

#[test]
fn trends_draw_the_columns_named_and_name_the_ones_missing() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("year,mean_igo_full,q25_igo_full,q75_igo_full,wars\n");
    for y in 1946..=2014 {
        let m = 20.0 + f64::from(y - 1946) * 0.6;
        let wars = if y > 2007 { String::new() } else { ((y % 3) as i64).to_string() };
        csv.push_str(&format!("{y},{m},{},{},{wars}\n", m - 8.0, m + 9.0));
    }
    let data = write(dir.path(), "system.csv", &csv);
    let out = dir.path().join("t");
    let o = out.to_str().unwrap();
    let (code, _, err) = concord(&["plot", "trends", &data, "--vars", "mean_igo_full,wars", "--out", o]);
    assert_eq!(code, 0, "{err}");
    let svg = std::fs::read_to_string(out.with_extension("svg")).unwrap();
    // The default events, the label from the dictionary, the data span of wars.
    for text in ["End of Cold War", "CWC", "9/11", "Mean full IGO memberships", "data 1946-2007"] {
        assert!(svg.contains(text), "`{text}` missing");
    }
    let (code, _, err) = concord(&["plot", "trends", &data, "--vars", "warz", "--out", o]);
    assert_eq!(code, 1);
    assert!(err.contains("no column `warz` (did you mean `wars`?)"), "{err}");
    let (code, _, err) = concord(&["plot", "trends", &data, "--events", "1993", "--out", o]);
    assert_eq!(code, 1);
    assert!(err.contains("--events: event `1993`: write YEAR=label"), "{err}");
}
