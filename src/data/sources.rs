//! Loaders for the registered source files: each returns a tidy frame keyed by
//! state-year `(ccode, year)` or non-directed dyad-year `(ccode1, ccode2, year)`,
//! with the coding rules of the panel stated where they are applied.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::error::{DataError, Result};
use super::read::{read_csv, Kind};
use super::registry::Registry;
use crate::panel::{PanelError, PanelIndex};

/// File paths (relative to the data dir) of every source the builders read.
pub mod files {
    pub const STATES: &str = "cow_states/cow_states.csv";
    pub const MAJORS: &str = "cow_states/cow_majors.csv";
    pub const COW_GW: &str = "cow_states/cow_gw_years.csv";
    pub const IGO_SY: &str = "cow_igo/cow_igo_sy.csv";
    pub const IGO_NDY: &str = "cow_igo/cow_igo_ndy.csv";
    pub const TREATIES: &str = "un_treaties/treaty_participation.csv";
    pub const CODELIST: &str = "country_codes/codelist.csv";
    pub const UNGA: &str = "unga_votes/unga_votes_1946_2015.csv.gz";
    pub const MIDA: &str = "cow_mid/mida_5_0.csv";
    pub const MIDB: &str = "cow_mid/midb_5_0.csv";
    pub const MID_DDY: &str = "cow_mid/cow_mid_ddydisps.csv";
    pub const GML_PART: &str = "gml_mid/gml_part.csv";
    pub const GML_DDY: &str = "gml_mid/gml_mid_ddydisps.csv";
    pub const GML_DISPS: &str = "gml_mid/gml_mid_disps.csv";
    pub const WAR_INTER: &str = "cow_war/cow_war_inter.csv";
    pub const UCDP_ONSETS: &str = "ucdp/ucdp_onsets.csv";
    pub const UCDP_ACD: &str = "ucdp/ucdp_acd.csv";
    pub const MID_DIRDISPS: &str = "cow_mid/cow_mid_dirdisps.csv";
    pub const NMC: &str = "cow_nmc/cow_nmc.csv";
    pub const TRADE_SY: &str = "cow_trade/cow_trade_sy.csv";
    pub const POLITY: &str = "democracy/polity5.csv";
    pub const BMR: &str = "democracy/bmr_democracy.csv";
    pub const ATOP: &str = "atop/atop_alliance.csv";
    pub const DDY: &str = "cow_dyads/cow_ddy.csv.gz";
    pub const CONTDIR: &str = "cow_dyads/cow_contdir.csv";
    pub const MINDIST: &str = "cow_dyads/cow_mindist.csv.gz";
    pub const VETOES: &str = "unsc_vetoes/unsc_vetoes_1946_2022.csv";
}

/// First and last year of the COW state system data (states2016).
pub const SYSTEM_YEARS: (i64, i64) = (1816, 2016);

/// Where the sources are, and notes on how they were combined.
#[derive(Debug)]
pub struct Sources {
    dir: PathBuf,
    registry: Registry,
    /// Human-readable notes (resolved duplicates, unmatched names) for the build report.
    pub notes: Vec<String>,
}

/// Key columns of a state-year frame.
pub const SY_KEYS: [&str; 2] = ["ccode", "year"];
/// Key columns of a non-directed dyad-year frame.
pub const DY_KEYS: [&str; 3] = ["ccode1", "ccode2", "year"];

fn keys(names: &[&str]) -> Vec<Expr> {
    names.iter().map(|n| col(*n)).collect()
}

/// The left join of [`Sources::join_unique`] with `args` (its row order).
fn join_unique_with(
    frame: LazyFrame,
    other: DataFrame,
    on: &[&str],
    source: &str,
    args: JoinArgs,
) -> Result<LazyFrame> {
    check_unique(&other, on, source)?;
    if !fusable(&other, on, source)? {
        return Ok(frame.join(other.lazy(), keys(on), keys(on), args));
    }
    // Joining on one fused integer key is several times faster than on two or
    // three columns; the fused key is exact for codes < 1000 and years < 10000.
    let right = other
        .lazy()
        .with_columns([fused_key(on)])
        .drop(Selector::ByName { names: on.iter().map(|n| PlSmallStr::from(*n)).collect(), strict: true });
    Ok(frame
        .with_columns([fused_key(on)])
        .join(right, [col(FUSED)], [col(FUSED)], args)
        .drop(Selector::ByName { names: [PlSmallStr::from(FUSED)].into(), strict: true }))
}

/// Collect a lazy frame, naming the step in the error.
pub fn collect(lf: LazyFrame, what: &str) -> Result<DataFrame> {
    lf.collect().map_err(DataError::polars(what.to_string()))
}

impl Sources {
    /// Sources in `dir`, checked against the registry for the given files.
    pub fn open(dir: &Path, needed: &[&str]) -> Result<Sources> {
        let registry = Registry::builtin()?;
        registry.require(dir, needed)?;
        Ok(Sources { dir: dir.to_path_buf(), registry, notes: Vec::new() })
    }

    /// The data dir.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The registry the sources were checked against.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Absolute path of a source file.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    /// Read columns of a source file with types.
    pub fn read(&self, rel: &str, columns: &[(&str, Kind)]) -> Result<DataFrame> {
        read_csv(&self.path(rel), columns)
    }

    /// Left-join `other` onto `frame` by `on`, after checking that `other` has one
    /// row per key (a duplicated key would silently multiply rows).
    pub fn join_unique(&self, frame: LazyFrame, other: DataFrame, on: &[&str], source: &str) -> Result<LazyFrame> {
        join_unique_with(frame, other, on, source, JoinArgs::new(JoinType::Left))
    }

    /// [`Sources::join_unique`] on a materialised frame, keeping its rows and
    /// their order: the join runs on the key columns alone and `other`'s
    /// columns are appended, so a wide panel is not copied once per source.
    pub fn attach_unique(&self, df: DataFrame, other: DataFrame, on: &[&str], source: &str) -> Result<DataFrame> {
        let keys = df.select(on.iter().copied()).map_err(DataError::polars(source.to_string()))?;
        let mut args = JoinArgs::new(JoinType::Left);
        args.maintain_order = MaintainOrderJoin::Left;
        let joined = collect(join_unique_with(keys.lazy(), other, on, source, args)?, source)?;
        if joined.height() != df.height() {
            return Err(DataError::Invalid {
                path: source.into(),
                message: format!("{} rows after the join, {} before", joined.height(), df.height()),
            });
        }
        let added: Vec<Column> =
            joined.columns().iter().filter(|c| !on.contains(&c.name().as_str())).cloned().collect();
        df.hstack(&added).map_err(DataError::polars(source.to_string()))
    }

    /// Resolve duplicated keys of a source by keeping the last listed row, and
    /// note how many were resolved (for sources with documented duplicates).
    pub fn keep_last(&mut self, df: DataFrame, on: &[&str], source: &str, why: &str) -> Result<DataFrame> {
        let before = df.height();
        let out = collect(df.lazy().unique_stable_generic(Some(keys(on)), UniqueKeepStrategy::Last), source)?;
        let dropped = before - out.height();
        if dropped > 0 {
            self.notes.push(format!("{source}: {dropped} duplicated ({}) row(s) resolved: {why}", on.join(", ")));
        }
        Ok(out)
    }

    // ---------------------------------------------------------------- states

    /// COW system membership expanded to state-years `[from, to]`: `ccode, year, stateabb`.
    pub fn state_years(&self, from: i64, to: i64) -> Result<DataFrame> {
        let df = self.read(
            files::STATES,
            &[("stateabb", Kind::Str), ("ccode", Kind::Int), ("styear", Kind::Int), ("endyear", Kind::Int)],
        )?;
        let abb = df.column("stateabb").and_then(|c| c.str().cloned()).map_err(DataError::polars(files::STATES))?;
        let cc = ints(&df, "ccode", files::STATES)?;
        let st = ints(&df, "styear", files::STATES)?;
        let en = ints(&df, "endyear", files::STATES)?;
        let mut seen = HashSet::new();
        let (mut c_out, mut y_out, mut a_out) = (Vec::new(), Vec::new(), Vec::<String>::new());
        for i in 0..df.height() {
            let (Some(c), Some(s), Some(e)) = (cc[i], st[i], en[i]) else {
                return Err(DataError::Invalid {
                    path: self.path(files::STATES),
                    message: format!("row {}: ccode, styear and endyear are required", i + 1),
                });
            };
            for y in s.max(from)..=e.min(to) {
                // A state that leaves and re-enters within one year has two spells
                // covering that year: it is one state-year.
                if seen.insert((c, y)) {
                    c_out.push(c);
                    y_out.push(y);
                    a_out.push(abb.get(i).unwrap_or_default().to_string());
                }
            }
        }
        let out =
            df!("ccode" => c_out, "year" => y_out, "stateabb" => a_out).map_err(DataError::polars("state-years"))?;
        collect(out.lazy().sort(["ccode", "year"], Default::default()), "state-years")
    }

    /// COW major-power status as state-year rows with `major_power = 1`.
    pub fn majors(&self) -> Result<DataFrame> {
        let df = self.read(files::MAJORS, &[("ccode", Kind::Int), ("styear", Kind::Int), ("endyear", Kind::Int)])?;
        let cc = ints(&df, "ccode", files::MAJORS)?;
        let st = ints(&df, "styear", files::MAJORS)?;
        let en = ints(&df, "endyear", files::MAJORS)?;
        let mut set = std::collections::BTreeSet::new();
        for i in 0..df.height() {
            if let (Some(c), Some(s), Some(e)) = (cc[i], st[i], en[i]) {
                set.extend((s..=e).map(|y| (c, y)));
            }
        }
        let (c, y): (Vec<i64>, Vec<i64>) = set.into_iter().unzip();
        let n = c.len();
        df!("ccode" => c, "year" => y, "major_power" => vec![1i64; n]).map_err(DataError::polars("major powers"))
    }

    // ------------------------------------------------------- state attributes

    /// COW IGO v3 state-year counts: `igo_full`, `igo_any`.
    pub fn igo_sy(&self) -> Result<DataFrame> {
        let df = self.read(
            files::IGO_SY,
            &[("ccode", Kind::Int), ("year", Kind::Int), ("sum_igo_full", Kind::Int), ("sum_igo_anytype", Kind::Int)],
        )?;
        collect(
            df.lazy().select([
                col("ccode"),
                col("year"),
                col("sum_igo_full").alias("igo_full"),
                col("sum_igo_anytype").alias("igo_any"),
            ]),
            files::IGO_SY,
        )
    }

    /// NMC 7.0: `cinc`, `milex`, `milper`, `tpop`.
    pub fn nmc(&self) -> Result<DataFrame> {
        self.read(
            files::NMC,
            &[
                ("ccode", Kind::Int),
                ("year", Kind::Int),
                ("cinc", Kind::Float),
                ("milex", Kind::Float),
                ("milper", Kind::Float),
                ("tpop", Kind::Float),
            ],
        )
    }

    /// COW trade 4.0: `trade_total` = imports + exports (million current USD).
    pub fn trade_sy(&self) -> Result<DataFrame> {
        let df = self.read(
            files::TRADE_SY,
            &[("ccode", Kind::Int), ("year", Kind::Int), ("imports", Kind::Float), ("exports", Kind::Float)],
        )?;
        collect(
            df.lazy().select([col("ccode"), col("year"), (col("imports") + col("exports")).alias("trade_total")]),
            files::TRADE_SY,
        )
    }

    /// Polity5 `polity2`. Polity lists seven (ccode, year) keys twice, the entity
    /// before and after a transition (Vietnam 1976, Ethiopia 1993, Italy 1861,
    /// USSR 1922, Sudan 2011, Serbia 2006, Yugoslavia 1991): the row of the entity
    /// that continues into the next year is kept (see [`post_transition_rows`]).
    pub fn polity(&mut self) -> Result<DataFrame> {
        let df = self.read(
            files::POLITY,
            &[("ccode", Kind::Int), ("country", Kind::Str), ("year", Kind::Int), ("polity2", Kind::Float)],
        )?;
        let df = collect(df.lazy().filter(col("ccode").is_not_null()), files::POLITY)?;
        let (keep, notes) = post_transition_rows(&df, files::POLITY)?;
        self.notes.extend(notes);
        let mask = BooleanChunked::from_slice("keep".into(), &keep);
        let df = df.filter(&mask).map_err(DataError::polars(files::POLITY))?;
        collect(df.lazy().select([col("ccode"), col("year"), col("polity2")]), files::POLITY)
    }

    /// Boix-Miller-Rosato dichotomous `democracy` (later row kept on duplicates).
    pub fn bmr(&mut self) -> Result<DataFrame> {
        let df = self.read(files::BMR, &[("ccode", Kind::Int), ("year", Kind::Int), ("democracy", Kind::Int)])?;
        let df = collect(df.lazy().filter(col("ccode").is_not_null()), files::BMR)?;
        self.keep_last(
            df,
            &SY_KEYS,
            files::BMR,
            "BMR lists the entity before and after a transition; the later row is kept",
        )
    }

    // ------------------------------------------------------------- conflict

    /// COW MID 5.0 participant onsets: `mid_count` (disputes the state entered in the
    /// year, first spell per dispute), `mid_onset`, `fatal_mid_onset` (a dispute with
    /// dispute-level fatality >= 1 among them).
    pub fn mid_state_onsets(&self) -> Result<DataFrame> {
        let b = self.read(files::MIDB, &[("dispnum", Kind::Int), ("ccode", Kind::Int), ("styear", Kind::Int)])?;
        let a = self.read(files::MIDA, &[("dispnum", Kind::Int), ("fatality", Kind::Int)])?;
        check_unique(&a, &["dispnum"], files::MIDA)?;
        collect(
            b.lazy()
                .group_by([col("dispnum"), col("ccode")])
                .agg([col("styear").min().alias("year")])
                .join(a.lazy(), [col("dispnum")], [col("dispnum")], JoinArgs::new(JoinType::Left))
                .group_by([col("ccode"), col("year")])
                .agg([
                    col("dispnum").n_unique().cast(DataType::Int64).alias("mid_count"),
                    col("fatality").gt_eq(lit(1)).any(true).cast(DataType::Int64).alias("fatal_mid_onset"),
                ])
                .with_columns([lit(1i64).cast(DataType::Int64).alias("mid_onset")]),
            "MID participant onsets",
        )
    }

    /// GML MID 2.2.1 participant onsets: `gml_mid_onset`.
    pub fn gml_state_onsets(&self) -> Result<DataFrame> {
        let p = self.read(files::GML_PART, &[("dispnum", Kind::Int), ("ccode", Kind::Int), ("styear", Kind::Int)])?;
        collect(
            p.lazy()
                .group_by([col("dispnum"), col("ccode")])
                .agg([col("styear").min().alias("year")])
                .group_by([col("ccode"), col("year")])
                .agg([lit(1i64).first().cast(DataType::Int64).alias("gml_mid_onset")]),
            "GML participant onsets",
        )
    }

    /// COW inter-state war onsets by participant: `war_onset` = 1 in the first year
    /// the state appears in a war (`warnum`), i.e. the year it enters that war.
    ///
    /// The dyad rows' `cowinteronset` is not used: it marks the first year of each
    /// *pair*, so a state already at war would get a second onset when a new enemy
    /// joins the same war (Korean War 1951 for China and North Korea).
    pub fn war_state_onsets(&self) -> Result<DataFrame> {
        let w = self.read(files::WAR_INTER, &[("warnum", Kind::Int), ("ccode1", Kind::Int), ("year", Kind::Int)])?;
        collect(
            w.lazy()
                .group_by([col("warnum"), col("ccode1").alias("ccode")])
                .agg([col("year").min()])
                .group_by([col("ccode"), col("year")])
                .agg([lit(1i64).first().cast(DataType::Int64).alias("war_onset")]),
            "war onsets",
        )
    }

    /// Number of inter-state wars that begin in each year (distinct `warnum`).
    pub fn war_onsets_by_year(&self) -> Result<DataFrame> {
        let w =
            self.read(files::WAR_INTER, &[("warnum", Kind::Int), ("year", Kind::Int), ("cowinteronset", Kind::Int)])?;
        let first = collect(w.lazy().group_by([col("warnum")]).agg([col("year").min()]), "war start years")?;
        collect(first.lazy().group_by([col("year")]).agg([len().cast(DataType::Int64).alias("wars")]), "wars per year")
    }

    /// Number of MID 5.0 disputes that begin in each year (MIDA `styear`).
    pub fn mid_onsets_by_year(&self) -> Result<DataFrame> {
        let a = self.read(files::MIDA, &[("dispnum", Kind::Int), ("styear", Kind::Int)])?;
        collect(
            a.lazy()
                .group_by([col("styear").alias("year")])
                .agg([col("dispnum").n_unique().cast(DataType::Int64).alias("mid_onsets")]),
            "MID onsets per year",
        )
    }

    /// UCDP onsets (19.1) on COW codes: `ucdp_onsets` (new conflicts or episodes
    /// after at least one year of inactivity, `sumonset1`) and `ucdp_onset`.
    /// GW codes are mapped with the COW-GW state-year crosswalk.
    pub fn ucdp_state_onsets(&self) -> Result<DataFrame> {
        let u =
            self.read(files::UCDP_ONSETS, &[("gwcode", Kind::Int), ("year", Kind::Int), ("sumonset1", Kind::Int)])?;
        let cw = self.read(files::COW_GW, &[("gwcode", Kind::Int), ("ccode", Kind::Int), ("year", Kind::Int)])?;
        let cw = collect(cw.lazy().filter(col("ccode").is_not_null().and(col("gwcode").is_not_null())), files::COW_GW)?;
        // One GW state-year can be two COW state-years (GW 260 is both COW 260
        // and 255 in 1990); the result is checked to be unique on the COW side.
        check_unique(&u, &["gwcode", "year"], files::UCDP_ONSETS)?;
        let out = collect(
            u.lazy()
                .join(
                    cw.lazy(),
                    [col("gwcode"), col("year")],
                    [col("gwcode"), col("year")],
                    JoinArgs::new(JoinType::Inner),
                )
                .select([
                    col("ccode"),
                    col("year"),
                    col("sumonset1").alias("ucdp_onsets"),
                    col("sumonset1").gt(lit(0)).cast(DataType::Int64).alias("ucdp_onset"),
                ]),
            "UCDP onsets on COW codes",
        )?;
        check_unique(&out, &SY_KEYS, "UCDP onsets mapped to COW codes")?;
        Ok(out)
    }

    /// UCDP/PRIO ACD 25.1 onsets by type on COW codes: `ucdp_onset_interstate`
    /// (1 if the state becomes a primary party, side A or B, to an interstate
    /// conflict, type 2, in the year) and `ucdp_onset_intrastate` (the government,
    /// side A, of an intrastate or internationalised intrastate conflict, types 3
    /// and 4). A state's onset of a conflict is a year in which it is a primary
    /// party to the conflict and was not in the year before (so an episode after a
    /// year or more of inactivity is a new onset, as in `sumonset1`; every conflict
    /// active in 1946, the first year, is an onset, as UCDP's episode start dates
    /// are). Rows: every COW state-year 1946-2024 with a GW code (crosswalk), zero
    /// when no onset.
    pub fn ucdp_type_onsets(&self) -> Result<DataFrame> {
        let a = self.read(
            files::UCDP_ACD,
            &[
                ("conflict_id", Kind::Int),
                ("year", Kind::Int),
                ("gwno_a", Kind::Int),
                ("gwno_b", Kind::Int),
                ("type_of_conflict", Kind::Str),
            ],
        )?;
        let id = ints(&a, "conflict_id", files::UCDP_ACD)?;
        let yr = ints(&a, "year", files::UCDP_ACD)?;
        let ga = ints(&a, "gwno_a", files::UCDP_ACD)?;
        let gb = ints(&a, "gwno_b", files::UCDP_ACD)?;
        let ty =
            a.column("type_of_conflict").and_then(|c| c.str().cloned()).map_err(DataError::polars(files::UCDP_ACD))?;
        // (gw, conflict, year) -> is interstate; a state is a primary party via
        // gwno_a (government of side A) or gwno_b (side B, interstate only).
        let mut active: HashMap<(i64, i64, i64), bool> = HashMap::new();
        for i in 0..a.height() {
            let (Some(c), Some(y)) = (id[i], yr[i]) else {
                return Err(DataError::Invalid {
                    path: self.path(files::UCDP_ACD),
                    message: format!("row {}: conflict_id and year are required", i + 1),
                });
            };
            let inter = match ty.get(i) {
                Some("interstate") => true,
                Some("intrastate") | Some("II") => false,
                Some("extrasystemic") => continue,
                other => {
                    return Err(DataError::BadValue {
                        path: self.path(files::UCDP_ACD),
                        column: "type_of_conflict".into(),
                        row: i + 1,
                        value: other.unwrap_or("").into(),
                        expected: "extrasystemic, interstate, intrastate or II",
                    })
                }
            };
            for g in [ga[i], if inter { gb[i] } else { None }].into_iter().flatten() {
                active.insert((g, c, y), inter);
            }
        }
        let mut onset: HashMap<(i64, i64), (bool, bool)> = HashMap::new();
        for (&(g, c, y), &inter) in &active {
            if !active.contains_key(&(g, c, y - 1)) {
                let e = onset.entry((g, y)).or_default();
                if inter {
                    e.0 = true;
                } else {
                    e.1 = true;
                }
            }
        }
        let cw = self.read(files::COW_GW, &[("gwcode", Kind::Int), ("ccode", Kind::Int), ("year", Kind::Int)])?;
        let (first, last) = Self::ucdp_acd_years();
        let cw = collect(
            cw.lazy().filter(
                col("ccode")
                    .is_not_null()
                    .and(col("gwcode").is_not_null())
                    .and(col("year").gt_eq(lit(first)))
                    .and(col("year").lt_eq(lit(last))),
            ),
            files::COW_GW,
        )?;
        let gw = ints(&cw, "gwcode", files::COW_GW)?;
        let cc = ints(&cw, "ccode", files::COW_GW)?;
        let cy = ints(&cw, "year", files::COW_GW)?;
        let (mut inter, mut intra) = (Vec::with_capacity(cw.height()), Vec::with_capacity(cw.height()));
        for (g, y) in gw.iter().zip(&cy) {
            let o = g.zip(*y).and_then(|k| onset.get(&k)).copied().unwrap_or_default();
            inter.push(o.0 as i64);
            intra.push(o.1 as i64);
        }
        let out = df!(
            "ccode" => cc,
            "year" => cy,
            "ucdp_onset_interstate" => inter,
            "ucdp_onset_intrastate" => intra,
        )
        .map_err(DataError::polars("UCDP onsets by type"))?;
        check_unique(&out, &SY_KEYS, "UCDP ACD onsets mapped to COW codes")?;
        Ok(out)
    }

    /// Years of the UCDP/PRIO ACD file.
    pub fn ucdp_acd_years() -> (i64, i64) {
        (1946, 2024)
    }

    /// UN Security Council vetoes per year.
    pub fn vetoes_by_year(&self) -> Result<DataFrame> {
        let v = self.read(files::VETOES, &[("year", Kind::Int)])?;
        collect(
            v.lazy().group_by([col("year")]).agg([len().cast(DataType::Int64).alias("unsc_vetoes")]),
            "vetoes per year",
        )
    }

    // ----------------------------------------------------------------- dyads

    /// COW non-directed dyad-years `[from, to]` (both states system members).
    pub fn dyad_years(&self, from: i64, to: i64) -> Result<DataFrame> {
        let d = self.read(files::DDY, &[("ccode1", Kind::Int), ("ccode2", Kind::Int), ("year", Kind::Int)])?;
        collect(
            d.lazy()
                .filter(
                    col("ccode1").lt(col("ccode2")).and(col("year").gt_eq(lit(from))).and(col("year").lt_eq(lit(to))),
                )
                .sort(["ccode1", "ccode2", "year"], Default::default()),
            "dyad-years",
        )
    }

    /// COW IGO v3 joint full memberships: `dyadigos`.
    pub fn igo_ndy(&self) -> Result<DataFrame> {
        self.read(
            files::IGO_NDY,
            &[("ccode1", Kind::Int), ("ccode2", Kind::Int), ("year", Kind::Int), ("dyadigos", Kind::Int)],
        )
    }

    /// ATOP 5.1 obligations in either direction: `atop_defense`, `atop_offense`,
    /// `atop_neutral`, `atop_nonagg`, `atop_consul` and `atop_any`.
    pub fn atop_ndy(&self) -> Result<DataFrame> {
        let names = ["atop_defense", "atop_offense", "atop_neutral", "atop_nonagg", "atop_consul"];
        let mut cols = vec![("ccode1", Kind::Int), ("ccode2", Kind::Int), ("year", Kind::Int)];
        cols.extend(names.iter().map(|n| (*n, Kind::Int)));
        let a = self.read(files::ATOP, &cols)?;
        let lo = when(col("ccode1").lt(col("ccode2"))).then(col("ccode1")).otherwise(col("ccode2"));
        let hi = when(col("ccode1").lt(col("ccode2"))).then(col("ccode2")).otherwise(col("ccode1"));
        let any = names.iter().map(|n| col(*n).gt(lit(0))).reduce(|a, b| a.or(b)).unwrap_or(lit(false));
        collect(
            a.lazy()
                .with_columns([lo.alias("lo"), hi.alias("hi")])
                .group_by([col("lo").alias("ccode1"), col("hi").alias("ccode2"), col("year")])
                .agg(names.iter().map(|n| col(*n).max()).collect::<Vec<_>>())
                .with_columns([any.cast(DataType::Int64).alias("atop_any")]),
            "ATOP non-directed",
        )
    }

    /// Directional MID variables of directed dyad-years (`cow_mid_ddydisps`
    /// lists every dispute-dyad-year in both orders), in onset years:
    /// `mid_sidea` = 1 with `ccode1` on Side A (the side that took the first
    /// militarized action), `mid_init` = 1 with `ccode1` an originator on Side A
    /// (the initiator: states that joined later are not), `mid_target` = 1
    /// with `ccode1` on Side B, `mid_revisionist` = 1 with `ccode1` a
    /// revisionist state of the dispute (MIDB `revstate`, any of its
    /// participant rows) and `mid_revisionist_terr` = 1 when it sought to
    /// revise territory (`revtype1` or `revtype2` = 1).
    pub fn mid_ddy_directional(&self) -> Result<DataFrame> {
        let m = self.read(
            files::MID_DDY,
            &[
                ("dispnum", Kind::Int),
                ("ccode1", Kind::Int),
                ("ccode2", Kind::Int),
                ("year", Kind::Int),
                ("cowmidonset", Kind::Int),
                ("sidea1", Kind::Int),
                ("orig1", Kind::Int),
            ],
        )?;
        let b = self.read(
            files::MIDB,
            &[
                ("dispnum", Kind::Int),
                ("ccode", Kind::Int),
                ("revstate", Kind::Int),
                ("revtype1", Kind::Int),
                ("revtype2", Kind::Int),
            ],
        )?;
        let rev = col("revstate").eq(lit(1));
        let terr = rev.clone().and(col("revtype1").eq(lit(1)).or(col("revtype2").eq(lit(1))));
        let revisionists = b
            .lazy()
            .group_by([col("dispnum"), col("ccode").alias("ccode1")])
            .agg([rev.fill_null(false).max().alias("rev"), terr.fill_null(false).max().alias("rev_terr")]);
        let onset = col("cowmidonset").eq(lit(1));
        let side_a = onset.clone().and(col("sidea1").eq(lit(1)));
        let flag = |e: Expr| onset.clone().and(e.fill_null(false)).cast(DataType::Int64);
        collect(
            m.lazy()
                .join(
                    revisionists,
                    [col("dispnum"), col("ccode1")],
                    [col("dispnum"), col("ccode1")],
                    JoinArgs::new(JoinType::Left),
                )
                .select([
                    col("ccode1"),
                    col("ccode2"),
                    col("year"),
                    side_a.clone().and(col("orig1").eq(lit(1))).cast(DataType::Int64).alias("mid_init"),
                    side_a.cast(DataType::Int64).alias("mid_sidea"),
                    onset.clone().and(col("sidea1").eq(lit(0))).cast(DataType::Int64).alias("mid_target"),
                    flag(col("rev")).alias("mid_revisionist"),
                    flag(col("rev_terr")).alias("mid_revisionist_terr"),
                ]),
            "MID directed dyad-years",
        )
    }

    /// ATOP obligations of `ccode1` toward `ccode2` (the file's directed
    /// rows: obligations can be one-sided), as `atop_defense_dir` and so on.
    pub fn atop_ddy_directional(&self) -> Result<DataFrame> {
        let names = ["atop_defense", "atop_offense", "atop_neutral", "atop_nonagg", "atop_consul"];
        let mut cols = vec![("ccode1", Kind::Int), ("ccode2", Kind::Int), ("year", Kind::Int)];
        cols.extend(names.iter().map(|n| (*n, Kind::Int)));
        let a = self.read(files::ATOP, &cols)?;
        let out: Vec<Expr> = [col("ccode1"), col("ccode2"), col("year")]
            .into_iter()
            .chain(names.iter().map(|n| col(*n).alias(format!("{n}_dir"))))
            .collect();
        collect(a.lazy().select(out), "ATOP directed")
    }

    /// COW Direct Contiguity 3.2, per dyad-year covered by a spell (years from
    /// `stdate` to `enddate`): `conttype`, the closest contiguity in force (1
    /// land or river border; 2, 3, 4, 5 separated by up to 12, 24, 150, 400
    /// miles of water), and `land_contiguity` = 1 for type 1.
    pub fn contiguity(&self) -> Result<DataFrame> {
        let c = self.read(
            files::CONTDIR,
            &[
                ("ccode1", Kind::Int),
                ("ccode2", Kind::Int),
                ("conttype", Kind::Int),
                ("stdate", Kind::Str),
                ("enddate", Kind::Str),
            ],
        )?;
        let path = self.path(files::CONTDIR);
        let c1 = ints(&c, "ccode1", files::CONTDIR)?;
        let c2 = ints(&c, "ccode2", files::CONTDIR)?;
        let ty = ints(&c, "conttype", files::CONTDIR)?;
        let sd = c.column("stdate").and_then(|s| s.str().cloned()).map_err(DataError::polars(files::CONTDIR))?;
        let ed = c.column("enddate").and_then(|s| s.str().cloned()).map_err(DataError::polars(files::CONTDIR))?;
        let mut closest: BTreeMap<(i64, i64, i64), i64> = BTreeMap::new();
        for i in 0..c.height() {
            let Some(t) = ty[i].filter(|t| (1..=5).contains(t)) else { continue };
            let year = |s: Option<&str>, col: &str| -> Result<i64> {
                s.and_then(|s| s.get(..4)).and_then(|y| y.parse().ok()).ok_or_else(|| DataError::BadValue {
                    path: path.clone(),
                    column: col.into(),
                    row: i + 1,
                    value: s.unwrap_or("").into(),
                    expected: "a date YYYY-MM-DD",
                })
            };
            let (s, e) = (year(sd.get(i), "stdate")?, year(ed.get(i), "enddate")?);
            let (Some(a), Some(b)) = (c1[i], c2[i]) else { continue };
            for y in s..=e {
                let v = closest.entry((a.min(b), a.max(b), y)).or_insert(t);
                *v = (*v).min(t);
            }
        }
        let n = closest.len();
        let (mut a, mut b, mut y, mut ct) =
            (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
        for ((p, q, t), k) in closest {
            a.push(p);
            b.push(q);
            y.push(t);
            ct.push(k);
        }
        let land: Vec<i64> = ct.iter().map(|k| i64::from(*k == 1)).collect();
        df!("ccode1" => a, "ccode2" => b, "year" => y, "land_contiguity" => land, "conttype" => ct)
            .map_err(DataError::polars("contiguity"))
    }

    /// Cshapes 2.0 minimum distance (km): `mindist`.
    pub fn mindist(&self) -> Result<DataFrame> {
        self.read(
            files::MINDIST,
            &[("ccode1", Kind::Int), ("ccode2", Kind::Int), ("year", Kind::Int), ("mindist", Kind::Float)],
        )
    }

    /// COW MID 5.0 non-directed dyad-years: `mid_onset`, `mid_ongoing`,
    /// `fatal_mid_onset` (onset of a dispute with fatality level >= 1).
    pub fn mid_ndy(&self) -> Result<DataFrame> {
        let m = self.read(
            files::MID_DDY,
            &[
                ("ccode1", Kind::Int),
                ("ccode2", Kind::Int),
                ("year", Kind::Int),
                ("cowmidonset", Kind::Int),
                ("cowmidongoing", Kind::Int),
                ("fatality", Kind::Int),
            ],
        )?;
        collect(
            m.lazy().filter(col("ccode1").lt(col("ccode2"))).select([
                col("ccode1"),
                col("ccode2"),
                col("year"),
                col("cowmidonset").alias("mid_onset"),
                col("cowmidongoing").alias("mid_ongoing"),
                (col("cowmidonset").eq(lit(1)).and(col("fatality").gt_eq(lit(1))))
                    .cast(DataType::Int64)
                    .alias("fatal_mid_onset"),
            ]),
            "MID dyad-years",
        )
    }

    /// `mid_ongoing_prior`: 1 for a non-directed dyad-year in which the pair is in a
    /// COW MID that it was already in the year before (a dispute-dyad listed in
    /// both years in the all-disputes file `cow_mid_dirdisps`). These are the
    /// years most studies drop from the risk set of dyadic onsets: a new onset in
    /// such a year happens while the pair is already in a dispute.
    pub fn mid_ongoing_prior_ndy(&self) -> Result<DataFrame> {
        let m = self.read(
            files::MID_DIRDISPS,
            &[("dispnum", Kind::Int), ("ccode1", Kind::Int), ("ccode2", Kind::Int), ("year", Kind::Int)],
        )?;
        let d = ints(&m, "dispnum", files::MID_DIRDISPS)?;
        let a = ints(&m, "ccode1", files::MID_DIRDISPS)?;
        let b = ints(&m, "ccode2", files::MID_DIRDISPS)?;
        let y = ints(&m, "year", files::MID_DIRDISPS)?;
        let mut listed: HashSet<(i64, i64, i64, i64)> = HashSet::new();
        for i in 0..m.height() {
            if let (Some(d), Some(a), Some(b), Some(y)) = (d[i], a[i], b[i], y[i]) {
                listed.insert((d, a.min(b), a.max(b), y));
            }
        }
        let prior: std::collections::BTreeSet<(i64, i64, i64)> = listed
            .iter()
            .filter(|&&(d, a, b, y)| listed.contains(&(d, a, b, y - 1)))
            .map(|&(_, a, b, y)| (a, b, y))
            .collect();
        let n = prior.len();
        let (mut a, mut b, mut y) = (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
        for (p, q, t) in prior {
            a.push(p);
            b.push(q);
            y.push(t);
        }
        df!("ccode1" => a, "ccode2" => b, "year" => y, "mid_ongoing_prior" => vec![1i64; n])
            .map_err(DataError::polars("MID ongoing from the year before"))
    }

    /// GML MID 2.2.1 non-directed dyad-years: `gml_mid_onset`.
    pub fn gml_ndy(&self) -> Result<DataFrame> {
        let m = self.read(
            files::GML_DDY,
            &[("ccode1", Kind::Int), ("ccode2", Kind::Int), ("year", Kind::Int), ("gmlmidonset", Kind::Int)],
        )?;
        collect(
            m.lazy().filter(col("ccode1").lt(col("ccode2"))).select([
                col("ccode1"),
                col("ccode2"),
                col("year"),
                col("gmlmidonset").alias("gml_mid_onset"),
            ]),
            "GML dyad-years",
        )
    }

    /// Last year each source covers; values after it are missing, not zero.
    pub fn coverage() -> BTreeMap<&'static str, i64> {
        BTreeMap::from([
            ("igo", 2014),
            ("mid", 2014),
            ("gml", 2010),
            ("war", 2007),
            ("ucdp", 2017),
            ("atop", 2018),
            ("contiguity", 2016),
            ("unga", 2015),
        ])
    }
}

const FUSED: &str = "__concord_key";

/// One integer key from unit codes (each < 1000) and a year (< 10000).
pub(crate) fn fused_key(on: &[&str]) -> Expr {
    on.iter()
        .enumerate()
        .map(|(i, n)| {
            let scale = if i + 1 == on.len() { 1 } else { 10_000 * 1000i64.pow((on.len() - 2 - i) as u32) };
            col(*n).cast(DataType::Int64) * lit(scale)
        })
        .reduce(|a, b| a + b)
        .unwrap_or(lit(0i64))
        .alias(FUSED)
}

/// Whether the keys of `df` fit the fused key (unit codes 0-999, years 0-9999).
pub(crate) fn fusable(df: &DataFrame, on: &[&str], source: &str) -> Result<bool> {
    for (i, n) in on.iter().enumerate() {
        let limit = if i + 1 == on.len() { 10_000 } else { 1000 };
        let v = ints(df, n, source)?;
        if v.iter().any(|x| x.is_none_or(|x| !(0..limit).contains(&x))) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// An integer column as options (for row-wise loops over small sources).
pub fn ints(df: &DataFrame, name: &str, source: &str) -> Result<Vec<Option<i64>>> {
    let c = df
        .column(name)
        .and_then(|c| c.cast(&DataType::Int64))
        .map_err(DataError::polars(format!("{source}: column `{name}`")))?;
    let ca = c.i64().map_err(DataError::polars(format!("{source}: column `{name}`")))?;
    Ok(ca.iter().collect())
}

/// Rows to keep of a state-year source that lists a `(ccode, year)` twice, once
/// for the entity before a transition and once for the entity after it (column
/// `country`): the row whose `country` also appears for the same `ccode` in the
/// next year is kept (the post-transition entity, e.g. "Sudan-North" over
/// "Sudan" in 2011, "Serbia" over "Serbia and Montenegro" in 2006). When that
/// does not decide (both or neither continue, e.g. two "Ethiopia" rows in 1993),
/// the later row in file order is kept. One note per resolved key.
pub fn post_transition_rows(df: &DataFrame, source: &str) -> Result<(Vec<bool>, Vec<String>)> {
    let cc = ints(df, "ccode", source)?;
    let yr = ints(df, "year", source)?;
    let name = df.column("country").and_then(|c| c.str().cloned()).map_err(DataError::polars(source.to_string()))?;
    let mut rows: BTreeMap<(i64, i64), Vec<usize>> = BTreeMap::new();
    let mut names: HashSet<(i64, i64, String)> = HashSet::new();
    for i in 0..df.height() {
        if let (Some(c), Some(y)) = (cc[i], yr[i]) {
            rows.entry((c, y)).or_default().push(i);
            names.insert((c, y, name.get(i).unwrap_or_default().to_string()));
        }
    }
    let mut keep = vec![true; df.height()];
    let mut notes = Vec::new();
    for ((c, y), rs) in rows.iter().filter(|(_, rs)| rs.len() > 1) {
        let label = |r: usize| name.get(r).unwrap_or_default().to_string();
        let continuing: Vec<usize> = rs.iter().copied().filter(|&r| names.contains(&(*c, y + 1, label(r)))).collect();
        let (kept, why) = match continuing.as_slice() {
            [one] => (*one, "the entity that continues into the next year"),
            _ => (*rs.last().unwrap_or(&rs[0]), "no single entity continues: the later row"),
        };
        for &r in rs {
            keep[r] = r == kept;
        }
        let dropped: Vec<String> = rs.iter().filter(|&&r| r != kept).map(|&r| format!("\"{}\"", label(r))).collect();
        notes.push(format!(
            "{source}: ccode {c}, {y} listed {} times; kept \"{}\" ({why}) over {}",
            rs.len(),
            label(kept),
            dropped.join(", ")
        ));
    }
    Ok((keep, notes))
}

/// Fail when `df` has more than one row for a key of `on` (last column = time).
pub fn check_unique(df: &DataFrame, on: &[&str], context: &str) -> Result<()> {
    let (units, time) = on.split_at(on.len() - 1);
    if units.is_empty() {
        // A single key column: treat it as the unit with a constant time.
        let vals = ints(df, on[0], context)?;
        let mut seen = HashMap::new();
        let mut dups = 0;
        let mut first = None;
        for (r, v) in vals.iter().enumerate() {
            if let Some(prev) = seen.insert(*v, r) {
                dups += 1;
                first.get_or_insert(format!("{}={} in rows {} and {}", on[0], v.unwrap_or_default(), prev + 1, r + 1));
            }
        }
        return match first {
            None => Ok(()),
            Some(first) => {
                Err(DataError::DuplicateKeys { context: context.into(), keys: on[0].into(), count: dups, first })
            }
        };
    }
    match PanelIndex::from_frame(df, units, time[0]) {
        Ok(_) => Ok(()),
        Err(PanelError::DuplicateKey { count, first, rows, .. }) => Err(DataError::DuplicateKeys {
            context: context.into(),
            keys: on.join(", "),
            count,
            first: format!("{first} (rows {} and {})", rows[0], rows[1]),
        }),
        Err(PanelError::MissingKey { column, row }) => Err(DataError::Invalid {
            path: context.into(),
            message: format!("key column `{column}` is missing in row {row}"),
        }),
        Err(e) => Err(DataError::Invalid { path: context.into(), message: e.to_string() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicated_keys_are_an_error_naming_the_source() {
        let df = df!("ccode" => [2i64, 2], "year" => [1950i64, 1950], "x" => [1.0, 2.0]).unwrap();
        let err = check_unique(&df, &SY_KEYS, "cow_nmc/cow_nmc.csv").unwrap_err().to_string();
        assert_eq!(
            err,
            "cow_nmc/cow_nmc.csv: 1 duplicated key(s) (ccode, year), first: ccode=2, year=1950 (rows 1 and 2)"
        );
    }

    #[test]
    fn duplicates_keep_the_entity_that_continues() {
        let df = df!(
            "ccode" => [625i64, 625, 625, 625, 530, 530, 530],
            "country" => ["Sudan", "Sudan-North", "Sudan", "Sudan-North", "Ethiopia", "Ethiopia", "Ethiopia"],
            "year" => [2010i64, 2011, 2011, 2012, 1993, 1993, 1994],
            "polity2" => [-2.0, -4.0, -2.0, -4.0, 0.0, 1.0, 1.0],
        )
        .unwrap();
        let (keep, notes) = post_transition_rows(&df, "polity5.csv").unwrap();
        // Sudan-North continues into 2012, so the "Sudan" row of 2011 (file order
        // later) is dropped; the two Ethiopia rows tie: the later is kept.
        assert_eq!(keep, vec![true, true, false, true, false, true, true]);
        assert_eq!(notes.len(), 2);
        assert!(notes.iter().any(|n| n.contains("ccode 625, 2011") && n.contains("kept \"Sudan-North\"")), "{notes:?}");
    }

    #[test]
    fn single_key_duplicates() {
        let df = df!("dispnum" => [3i64, 4, 3]).unwrap();
        let err = check_unique(&df, &["dispnum"], "mida").unwrap_err().to_string();
        assert_eq!(err, "mida: 1 duplicated key(s) (dispnum), first: dispnum=3 in rows 1 and 3");
    }
}
