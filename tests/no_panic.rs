//! No panic is reachable from user input: random formulas, file bytes, study
//! files and messy tables give either a result or a clear error (property
//! tests, bounded in count; `CONCORD_FUZZ_SCALE=N` runs N times as many
//! cases, as `.ci/run` does).

use concord::data::read::read_table;
use concord::formula::Formula;
use proptest::prelude::*;

/// `base` cases times `CONCORD_FUZZ_SCALE` (default 1).
fn cases(base: u32) -> u32 {
    base * std::env::var("CONCORD_FUZZ_SCALE").ok().and_then(|v| v.parse().ok()).unwrap_or(1)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(2000), ..ProptestConfig::default() })]

    #[test]
    fn any_text_parses_or_gives_a_positioned_error(s in "\\PC{0,40}") {
        if let Err(e) = Formula::parse(&s) {
            prop_assert!(e.position <= s.chars().count());
            prop_assert!(e.to_string().starts_with("formula error at character"));
        }
        if let Err(e) = concord::formula::multi::expand(&s) {
            prop_assert!(e.position <= s.chars().count());
        }
        let _ = concord::formula::subset::Cond::parse(&s);
    }

    #[test]
    fn multiple_estimation_of_non_ascii_names(a in "[a-zé√ж]{1,6}", b in "[a-zé√ж]{1,6}") {
        let all = concord::formula::multi::expand(&format!("`{a}` ~ csw0(`{b}`, é) | sw(ж, `{a}`)")).unwrap();
        prop_assert_eq!(all.len(), 6);
        for f in all {
            prop_assert!(Formula::parse(&f).is_ok(), "{}", f);
        }
    }

    #[test]
    fn formula_like_text_never_panics(s in "[a-z_~+*:|()0-9, -]{0,30}") {
        let _ = Formula::parse(&s);
    }

    /// The newer syntax: expressions, `i(f, x, ref =)`, combined effects,
    /// varying slopes, lag ranges, multiple estimation and `--subset` conditions.
    #[test]
    fn extended_syntax_never_panics(s in "[xyfilIcsw0^~+*/:|()\\[\\]0-9., =<>!&\"-]{0,40}") {
        if let Err(e) = Formula::parse(&s) {
            prop_assert!(e.position <= s.chars().count());
        }
        if let Ok(all) = concord::formula::multi::expand(&s) {
            for f in all {
                let _ = Formula::parse(&f);
            }
        }
        if let Err(e) = concord::formula::subset::Cond::parse(&s) {
            prop_assert!(e.position <= s.chars().count());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(200), ..ProptestConfig::default() })]

    #[test]
    fn random_csv_and_parquet_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400), csv in any::<bool>()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(if csv { "t.csv" } else { "t.parquet" });
        std::fs::write(&path, &bytes).unwrap();
        let _ = read_table(&path);
    }

    #[test]
    fn study_like_text_never_panics(s in "(\\[\\[?[a-z]{0,10}\\]\\]?\n|[a-z_]{1,12} = (\"[a-z0-9 ~+|(),]{0,20}\"|[0-9.-]{1,6}|true|\\[\\])\n){0,12}") {
        let _ = concord::study::spec::Study::from_toml(&s);
    }

    /// The flagship study file with up to three lines deleted, replaced,
    /// extended or given another value.
    #[test]
    fn mutated_study_files_never_panic(
        edits in proptest::collection::vec(
            (any::<proptest::sample::Index>(), 0u8..4, "[a-z0-9_ \"=\\[\\].~+,-]{0,8}"), 1..4),
    ) {
        let text = include_str!("../studies/socialization.toml");
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        for (at, kind, frag) in edits {
            let i = at.index(lines.len());
            match kind {
                0 => {
                    lines.remove(i);
                }
                1 => lines[i] = frag,
                2 => lines[i].push_str(&frag),
                _ => {
                    if let Some((key, _)) = lines[i].split_once('=') {
                        lines[i] = format!("{key}= {frag}");
                    }
                }
            }
        }
        let _ = concord::study::spec::Study::from_toml(&lines.join("\n"));
    }

    #[test]
    fn csv_like_text_never_panics(s in "[a-c0-9,.\\n\" -]{0,200}") {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, s.as_bytes()).unwrap();
        if let Ok(df) = read_table(&path) {
            let _ = concord::data::describe::describe(&df);
        }
    }
}

/// A value of a messy column: ordinary, binary, a count, missing, huge, tiny,
/// or constant.
fn cell() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![
        90 => (-3.0f64..3.0).prop_map(Some),
        30 => (0u8..2).prop_map(|v| Some(f64::from(v))),
        15 => (0u32..50).prop_map(|v| Some(f64::from(v))),
        15 => Just(None),
        1 => prop_oneof![Just(1e300), Just(-1e300), Just(1e-300), Just(1e15), Just(-1e15)].prop_map(Some),
        9 => Just(Some(1.0)),
    ]
}

/// A row of the messy table: y, x1, x2, group, period.
type Row = (Option<f64>, Option<f64>, Option<f64>, u8, u8);

/// An outcome: mostly 0/1 or counts (so most fits get past the outcome
/// checks), sometimes continuous, negative, missing or huge.
fn outcome() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![
        4 => (0u8..2).prop_map(|v| Some(f64::from(v))),
        3 => (0u32..8).prop_map(|v| Some(f64::from(v))),
        1 => (-3.0f64..3.0).prop_map(Some),
        1 => Just(None),
        1 => prop_oneof![Just(1e300), Just(1e15)].prop_map(Some),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(300), ..ProptestConfig::default() })]

    /// Any family x vcov on any small messy table: a fit with finite numbers,
    /// or an error; never a panic, never a NaN or infinite estimate reported.
    #[test]
    fn fits_on_messy_data_are_finite_or_errors(
        rows in proptest::collection::vec((outcome(), cell(), cell(), 0u8..4, 0u8..5), 0..60),
        rhs in prop_oneof![Just("x1"), Just("x1 + x2"), Just("x1 * x2"), Just("poly(x1, 2)"), Just("x1 | g"),
                           Just("x1 + x2 | g + t"), Just("i(g)"), Just("0 + x1"), Just("ns(x1, 3)")],
        family in prop_oneof![Just("gaussian"), Just("logit"), Just("probit"), Just("poisson"), Just("negbin"),
                              Just("firth")],
        vcov in prop_oneof![Just("iid"), Just("hc0"), Just("hc1"), Just("hc3"), Just("cluster:g"),
                            Just("cluster:g,t"), Just("dk:t")],
        messy_outcome in proptest::bool::weighted(0.1),
    ) {
        let family: concord::estimate::Family = family.parse().unwrap();
        // Mostly an outcome the family accepts, so most cases reach the solver.
        let y: Vec<Option<f64>> = rows
            .iter()
            .map(|r| match (messy_outcome, family.to_string().as_str()) {
                (true, _) | (_, "gaussian") => r.0,
                (_, "logit" | "probit" | "firth") => r.0.map(|v| (v.abs() % 2.0).floor()),
                _ => r.0.map(|v| (v.abs() % 8.0).floor()),
            })
            .collect();
        let col = |f: fn(&Row) -> Option<f64>| -> Vec<Option<f64>> { rows.iter().map(f).collect() };
        let df = polars::df!(
            "y" => y,
            "x1" => col(|r| r.1),
            "x2" => col(|r| r.2),
            "g" => rows.iter().map(|r| i64::from(r.3)).collect::<Vec<_>>(),
            "t" => rows.iter().map(|r| 2000 + i64::from(r.4)).collect::<Vec<_>>(),
        ).unwrap();
        let opts = concord::estimate::FitOptions { vcov: vcov.parse().unwrap(), ..Default::default() };
        let r = concord::estimate::fit(&df, &format!("y ~ {rhs}"), family, &opts);
        if let Ok(f) = r {
            for c in &f.coefficients {
                prop_assert!(c.estimate.is_finite(), "{family} {rhs} {vcov}: {} = {}", c.term, c.estimate);
                prop_assert!(c.std_error.is_finite() && c.std_error >= 0.0,
                    "{family} {rhs} {vcov}: se({}) = {}", c.term, c.std_error);
            }
        }
    }
}
