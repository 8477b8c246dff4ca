//! Files researchers exchange: Stata `.dta` of every release pandas writes
//! (114, 117, 118, 119; tests/reference/stata.py wrote the fixtures and the
//! values pandas reads back from them), and `.dta` out of `concord data build`.

use std::path::Path;
use std::process::Command;

use concord::data::read::read_table;
use polars::prelude::*;

fn reference() -> serde_json::Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/stata.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn reads_every_release_as_pandas_does() {
    let refs = reference();
    let files = refs["files"].as_object().unwrap();
    assert_eq!(files.len(), 4);
    for (name, want) in files {
        let path = format!("{}/tests/fixtures/stata/{name}.dta", env!("CARGO_MANIFEST_DIR"));
        let df = read_table(Path::new(&path)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(df.height() as u64, want["rows"].as_u64().unwrap(), "{name}");
        let cols = want["columns"].as_object().unwrap();
        assert_eq!(df.width(), cols.len(), "{name}: columns");
        for (col, spec) in cols {
            let values = spec["values"].as_array().unwrap();
            let c = df.column(col).unwrap_or_else(|_| panic!("{name}: no column {col}"));
            match spec["type"].as_str().unwrap() {
                "int" => {
                    let got: Vec<Option<i64>> = c.i64().unwrap().iter().collect();
                    let exp: Vec<Option<i64>> = values.iter().map(|v| v.as_i64()).collect();
                    assert_eq!(got, exp, "{name}.{col}");
                }
                "float" => {
                    let got: Vec<Option<f64>> = c.f64().unwrap().iter().collect();
                    let exp: Vec<Option<f64>> = values.iter().map(|v| v.as_f64()).collect();
                    assert_eq!(got, exp, "{name}.{col} (exact: the stored float, widened)");
                }
                _ => {
                    let got: Vec<Option<&str>> = c.str().unwrap().iter().collect();
                    let exp: Vec<Option<&str>> = values.iter().map(|v| v.as_str()).collect();
                    assert_eq!(got, exp, "{name}.{col}");
                }
            }
        }
    }
}

#[test]
fn a_built_panel_written_as_dta_reads_back_identical() {
    let dir = tempfile::tempdir().unwrap();
    let data =
        std::env::var("CONCORD_DATA").unwrap_or_else(|_| format!("{}/../shared/data", env!("CARGO_MANIFEST_DIR")));
    let mut paths = Vec::new();
    for ext in ["parquet", "dta"] {
        let out = dir.path().join(format!("sy.{ext}"));
        let status = Command::new(env!("CARGO_BIN_EXE_concord"))
            .args(["data", "build", "--unit", "state-year", "--from", "2000", "--to", "2002", "--data-dir", &data])
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
        paths.push(out);
    }
    let parquet = read_table(&paths[0]).unwrap();
    let dta = read_table(&paths[1]).unwrap();
    assert_eq!(parquet.shape(), dta.shape());
    for c in parquet.columns() {
        let d = dta.column(c.name()).unwrap();
        if c.dtype().is_numeric() {
            let a = c.cast(&DataType::Float64).unwrap();
            let b = d.cast(&DataType::Float64).unwrap();
            let (a, b) = (a.f64().unwrap(), b.f64().unwrap());
            for (i, (x, y)) in a.iter().zip(b.iter()).enumerate() {
                assert_eq!(x, y, "column {} row {i}", c.name());
            }
        } else {
            // Stata's missing string is "", so a missing text cell reads back empty.
            let a: Vec<String> = c.str().unwrap().iter().map(|v| v.unwrap_or("").to_string()).collect();
            let b: Vec<String> = d.str().unwrap().iter().map(|v| v.unwrap_or("").to_string()).collect();
            assert_eq!(a, b, "column {}", c.name());
        }
    }
    // And a fit reads the .dta directly.
    let out = Command::new(env!("CARGO_BIN_EXE_concord"))
        .args(["fit"])
        .arg(&paths[1])
        .args(["--formula", "mid_onset ~ igo_full + cinc"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("igo_full"));
}

#[test]
fn arrow_ipc_feather_tsv_semicolons_and_categorical_parquet_read_as_the_csv() {
    // tests/reference/formats.py wrote the same 50 rows in each format with pandas/pyarrow.
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/formats");
    let plain = read_table(Path::new(&format!("{dir}/sim50_plain.csv"))).unwrap();
    assert_eq!(plain.shape(), (50, 11));
    for file in [
        "sim50.feather",
        "sim50.arrow",
        "sim50_cat.parquet",
        "sim50.tsv",
        "sim50_semicolon.csv",
        "sim50_decimal_comma.csv",
    ] {
        let df = read_table(Path::new(&format!("{dir}/{file}"))).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(df.shape(), plain.shape(), "{file}");
        for c in plain.columns() {
            let d = df.column(c.name()).unwrap_or_else(|_| panic!("{file}: no column {}", c.name()));
            if c.dtype().is_numeric() {
                let a = c.cast(&DataType::Float64).unwrap();
                let b = d.cast(&DataType::Float64).unwrap();
                let a: Vec<Option<f64>> = a.f64().unwrap().iter().collect();
                let b: Vec<Option<f64>> = b.f64().unwrap().iter().collect();
                assert_eq!(a, b, "{file}: {}", c.name());
            } else {
                // The pandas category reads as its labels.
                assert_eq!(d.dtype(), &DataType::String, "{file}: {}", c.name());
                let a: Vec<Option<&str>> = c.str().unwrap().iter().collect();
                let b: Vec<Option<&str>> = d.str().unwrap().iter().collect();
                assert_eq!(a, b, "{file}: {}", c.name());
            }
        }
    }
    // A fit on the factor of a Feather file: i() reads its labels.
    let df = read_table(Path::new(&format!("{dir}/sim50.feather"))).unwrap();
    let f =
        concord::estimate::fit(&df, "y ~ x1 + i(regname)", concord::estimate::Family::Gaussian, &Default::default())
            .unwrap();
    assert!(f.coefficients.iter().any(|c| c.term == "regname::r2"), "{:?}", f.coefficients);
}
