//! No panic is reachable from user input: random formulas and random file bytes
//! give either a result or a clear error (property tests, bounded in count).

use concord::data::read::read_table;
use concord::formula::Formula;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn any_text_parses_or_gives_a_positioned_error(s in "\\PC{0,40}") {
        if let Err(e) = Formula::parse(&s) {
            prop_assert!(e.position <= s.chars().count());
            prop_assert!(e.to_string().starts_with("formula error at character"));
        }
    }

    #[test]
    fn formula_like_text_never_panics(s in "[a-z_~+*:|()0-9, -]{0,30}") {
        let _ = Formula::parse(&s);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn random_csv_and_parquet_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400), csv in any::<bool>()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(if csv { "t.csv" } else { "t.parquet" });
        std::fs::write(&path, &bytes).unwrap();
        let _ = read_table(&path);
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
