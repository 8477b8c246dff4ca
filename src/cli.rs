//! Command-line interface: maps `concord` commands onto the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use serde::Serialize;

use crate::data::describe::describe;
use crate::data::read::read_table;
use crate::data::registry::{resolve_data_dir, FileState, Registry};
use crate::data::write::{refuse_inputs, write_table, write_text};
use crate::data::{self, DataError, Unit};
use crate::estimate::{self, EstimateError, Family, FitOptions};
use crate::formula::design::PanelSpec;
use crate::inference::hypothesis::Direction;

/// Errors of the command line, with the exit code they map to.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Estimate(#[from] EstimateError),
    #[error(transparent)]
    Study(#[from] crate::study::StudyError),
    #[error("{0}")]
    Usage(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl CliError {
    /// 1 for errors in what the user gave, 2 for internal errors.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Data(DataError::Polars { .. })
            | CliError::Internal(_)
            | CliError::Study(crate::study::StudyError::Output(_))
            | CliError::Study(crate::study::StudyError::Data(DataError::Polars { .. }))
            | CliError::Estimate(EstimateError::Design(crate::formula::design::DesignError::Polars(_))) => 2,
            _ => 1,
        }
    }
}

#[derive(Parser, Debug)]
#[command(
    name = "concord",
    version,
    about = "Quantitative international relations: panels of states, estimators, studies"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Build, describe and check data.
    Data {
        #[command(subcommand)]
        command: DataCommand,
    },
    /// Fit a model: `concord fit DATA --formula "y ~ x | fe" --family logit --vcov cluster:dyad`.
    Fit {
        /// Data file (.csv, .tsv, .csv.gz, .parquet, .arrow/.feather or .dta).
        data: PathBuf,
        /// fixest-style formula: `y ~ x1 + x2 + x1:x2 + l(x3, 1) + d(x4) + i(cat) + poly(x, 2) | fe1 + fe2`;
        /// also log(x), I(x^2), i(f, ref = v), i(f, x), fe1^fe2, l(x, 0:2), and several fits at once
        /// with sw(), csw(), sw0(), csw0() and c(y1, y2).
        #[arg(long)]
        formula: String,
        /// Observation weights (least squares, logit, Poisson; fixest's `weights`): the column of weights.
        #[arg(long)]
        weights: Option<String>,
        /// Estimate on the rows where a condition holds, in R's syntax, e.g. "year >= 1990 & prd == 1".
        #[arg(long)]
        subset: Option<String>,
        /// One fit per level of a column (fixest's `split`).
        #[arg(long)]
        split: Option<String>,
        /// gaussian, logit, probit, poisson, negbin (NB2), firth (penalised logit),
        /// cox (formula `Surv(start, stop, event) ~ x + strata(s)`) or clogit (`y ~ x | group`).
        #[arg(long, default_value = "gaussian")]
        family: String,
        /// Tied event times in Cox models: efron (as R's coxph) or breslow.
        #[arg(long, default_value = "efron")]
        ties: String,
        /// iid, hc0, hc1, hc2, hc3, cluster:COL, cluster:COL1,COL2, dyadic:COL1,COL2 (dyadic-robust),
        /// dk[:TIME[:LAGS]]. Default: iid; with fixed effects, clustered by the first one (as fixest).
        #[arg(long)]
        vcov: Option<String>,
        /// Panel structure for l(), f() and d(): UNIT[,UNIT2],TIME (the last column is time).
        /// Inferred for a table keyed as concord's panels (ccode[1,2], year); `none` for no panel.
        #[arg(long)]
        panel: Option<String>,
        /// Confidence level of the intervals.
        #[arg(long, default_value_t = 0.95)]
        level: f64,
        /// Most iterations of an iterative fit.
        #[arg(long, default_value_t = 100)]
        max_iter: u64,
        /// Report the last iterate of a fit that did not converge (flagged).
        #[arg(long)]
        allow_nonconverged: bool,
        /// Also write the fit as tidy JSON.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Wald test of linear restrictions, e.g. "x1 = 0, x2 - x3 = 0".
        #[arg(long)]
        wald: Option<String>,
        /// One-sided test of a directional hypothesis: TERM:positive or TERM:negative.
        #[arg(long)]
        one_sided: Vec<String>,
        /// Average marginal effects with delta-method standard errors.
        #[arg(long)]
        margins: bool,
        /// Average prediction with the named variables set to the values given
        /// in every row, every term built from them rebuilt, others as
        /// observed (a counterfactual prediction), e.g. "x1=1.5".
        #[arg(long)]
        predict: Vec<String>,
    },
    /// Figures (SVG and PNG at 300 dpi): trends, coefficient plot, predicted values.
    Plot {
        #[command(subcommand)]
        command: PlotCommand,
    },
    /// A regression table of fits side by side: `concord table fits/*.json --format latex --out table1.tex`.
    ///
    /// Terms print as labels (built-in dictionary; `--labels`, `--rename`);
    /// numbers in one fixed format per column; LaTeX is a standalone document
    /// (booktabs) and an .html file a page Word opens, unless `--fragment`.
    Table {
        /// Fit JSON files (`concord fit --json`, a study's fits/).
        #[arg(required = true)]
        fits: Vec<PathBuf>,
        /// md, latex or html; by default from the extension of --out (.md, .tex, .html), else md.
        #[arg(long)]
        format: Option<String>,
        /// A title per model (comma-separated), printed above the dependent variable.
        #[arg(long)]
        titles: Option<String>,
        /// Significance stars (two-sided, unadjusted): * p < 0.05, ** p < 0.01, *** p < 0.001.
        #[arg(long)]
        stars: bool,
        /// No stars (the default; kept for old scripts).
        #[arg(long, hide = true)]
        no_stars: bool,
        /// A TOML file of labels: `column = "Label"` or `"term" = "Label"` (top level or under [labels]).
        #[arg(long)]
        labels: Option<PathBuf>,
        /// Rename a term or column: `--rename "l(igo_full,1)=IGO memberships (t-1)"` (repeatable).
        #[arg(long)]
        rename: Vec<String>,
        /// Keep only terms matching this (raw name or label, `*` wildcard; repeatable).
        #[arg(long)]
        keep: Vec<String>,
        /// Leave out terms matching this (repeatable).
        #[arg(long)]
        drop: Vec<String>,
        /// Put terms matching this first, in the order given (repeatable).
        #[arg(long)]
        order: Vec<String>,
        /// Decimals of estimates and standard errors (default: per column, enough for the smallest standard error).
        #[arg(long)]
        digits: Option<usize>,
        /// Add a row: `--add-row "Controls: Yes, No"` (one cell per model; repeatable).
        #[arg(long)]
        add_row: Vec<String>,
        /// A note printed under the table (repeatable).
        #[arg(long)]
        notes: Vec<String>,
        /// Caption (LaTeX \caption, HTML <caption>, a Markdown line).
        #[arg(long)]
        caption: Option<String>,
        /// LaTeX \label, e.g. tab:main.
        #[arg(long)]
        label: Option<String>,
        /// The table only: LaTeX's tabular (a comment names the packages it
        /// needs), HTML's table without a page around it.
        #[arg(long)]
        fragment: bool,
        /// Print the peace-years polynomial / spline terms instead of one yes/no row.
        #[arg(long)]
        show_peace_years: bool,
        /// Output file (else standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Survival curves: `concord surv km spells.parquet --time stop --event event --by region --out km.csv`.
    Surv {
        #[command(subcommand)]
        command: SurvCommand,
    },
    /// Run a study file: `concord study run studies/socialization.toml --out reports/socialization`.
    Study {
        #[command(subcommand)]
        command: StudyCommand,
    },
    /// The main job: the flagship study (studies/socialization.toml) on the
    /// default data, written to `--out`/socialization, and its panels with
    /// their descriptions to `--out`/panels.
    Run {
        /// Directory with the source datasets (else $CONCORD_DATA, else data/raw).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        #[arg(long, default_value_t = 1946)]
        from: i64,
        #[arg(long, default_value_t = 2014)]
        to: i64,
        #[arg(long, default_value = "reports")]
        out: PathBuf,
    },
    /// Shell completions: `concord completions bash > ~/.local/share/bash-completion/completions/concord`.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
}

#[derive(Subcommand, Debug)]
pub enum PlotCommand {
    /// Small multiples of a system-year series over years (means with their
    /// interquartile band, counts as bars, events marked). A state- or
    /// dyad-year panel is refused unless --aggregate summarises it by year.
    Trends {
        /// System-year panel (concord data build --unit system-year), or a
        /// unit-year panel with --aggregate.
        data: PathBuf,
        /// Output stem: writes STEM.svg and STEM.png.
        #[arg(long)]
        out: PathBuf,
        /// The columns to draw (comma-separated; default: the report's panels).
        #[arg(long, value_delimiter = ',')]
        vars: Vec<String>,
        /// Summarise a unit-year panel by year: each variable's mean with its
        /// interquartile range across units, and the units per year.
        #[arg(long)]
        aggregate: bool,
        /// Dashed break line at this year, e.g. 1989.5 for the end of the Cold War.
        #[arg(long, default_value_t = 1989.5)]
        mark: f64,
        /// Events to mark: `1989-1991=End of Cold War,1993=CWC,2001=9/11`
        /// (the default), or `none`.
        #[arg(long)]
        events: Option<String>,
        /// A TOML file of labels (as for `concord table`).
        #[arg(long)]
        labels: Option<PathBuf>,
        /// Rename a column: `--rename "mean_igo_full=IGO memberships"` (repeatable).
        #[arg(long)]
        rename: Vec<String>,
    },
    /// Terms across fits: estimates with 90% (thick) and 95% (thin) intervals.
    /// Rows of different terms estimate different quantities: the plot
    /// refuses them unless `--label-estimands` prints each row's term.
    Coef {
        #[arg(required = true)]
        fits: Vec<PathBuf>,
        /// The term (repeatable: several terms need --label-estimands).
        #[arg(long, required = true)]
        term: Vec<String>,
        /// Row labels, one per fit (comma-separated; default: the file names).
        #[arg(long)]
        titles: Option<String>,
        /// Label every row with its term, allowing different terms on one axis.
        #[arg(long)]
        label_estimands: bool,
        /// Axis title (default: "Coefficient").
        #[arg(long)]
        x_label: Option<String>,
        /// A TOML file of labels (as for `concord table`).
        #[arg(long)]
        labels: Option<PathBuf>,
        /// Rename a term or column: `--rename "l(igo_full,1)=IGO memberships"` (repeatable).
        #[arg(long)]
        rename: Vec<String>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Specification curve of one hypothesis from a study's spec_curve.json,
    /// with the grid of each specification's choices: only specifications on
    /// the main one's scale and regressor unless `--label-estimands`.
    SpecCurve {
        /// spec_curve.json of `concord study run` (a verdicts.json beside it gives the interval level).
        curve: PathBuf,
        /// The hypothesis (e.g. H2a-d).
        #[arg(long)]
        hypothesis: String,
        /// Draw every specification, with a grid row per estimand saying which column estimates what.
        #[arg(long)]
        label_estimands: bool,
        /// The study file: its labels and the years of its periods.
        #[arg(long)]
        study: Option<PathBuf>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Sensitivity of a mediation path's ACME to the correlation rho of the
    /// mediator and outcome models' errors, from a study's verdicts.json.
    Sensitivity {
        /// verdicts.json of `concord study run`.
        verdicts: PathBuf,
        /// The path: its hypothesis (H3a) or its name (ccode_igo_full_unga_agree_majority).
        #[arg(long)]
        path: String,
        /// The study file (for its labels).
        #[arg(long)]
        study: Option<PathBuf>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Average predicted probability (or mean) over one variable set in every
    /// row (counterfactual), every term built from it rebuilt, others as
    /// observed; `--by` draws one series per value of a second variable; a
    /// 0/1 (or few-valued) variable is drawn as points with intervals.
    Predict {
        data: PathBuf,
        /// The model, fitted on DATA (or give a saved fit with --fit).
        #[arg(long, required_unless_present = "fit", conflicts_with = "fit")]
        formula: Option<String>,
        /// A fit saved by `concord fit --json` on DATA (no fixed effects:
        /// a saved fit does not keep them).
        #[arg(long)]
        fit: Option<PathBuf>,
        /// The family of --formula (a saved fit has its own).
        #[arg(long, default_value = "logit", conflicts_with = "fit")]
        family: String,
        /// The variable to vary (a column of the formula, or a lag as written
        /// in it, e.g. `peace_years`, `l(dyadigos,1)`).
        #[arg(long)]
        vary: String,
        /// A second variable: one series per value (at most 4 values), else
        /// at its 10th, 50th and 90th percentiles.
        #[arg(long)]
        by: Option<String>,
        /// The vcov of --formula (a saved fit has its own).
        #[arg(long, default_value = "iid", conflicts_with = "fit")]
        vcov: String,
        #[arg(long)]
        panel: Option<String>,
        /// A TOML file of labels (as for `concord table`).
        #[arg(long)]
        labels: Option<PathBuf>,
        /// Rename a variable or term: `--rename "l(dyadigos,1)=Joint IGOs (t-1)"` (repeatable).
        #[arg(long)]
        rename: Vec<String>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Predicted probabilities (or means) for named scenarios with simulation
    /// intervals (King, Tomz and Wittenberg 2000), observed-value approach,
    /// and first differences against the first scenario.
    Scenarios {
        data: PathBuf,
        #[arg(long)]
        formula: String,
        /// logit, probit, poisson or ols (gaussian).
        #[arg(long, default_value = "logit")]
        family: String,
        /// "NAME: VARIABLE=VALUE[, VARIABLE=VALUE]", repeatable; the first is
        /// the baseline of the differences. A variable's lags in the formula
        /// are set with it.
        #[arg(long, required = true)]
        scenario: Vec<String>,
        #[arg(long, default_value = "iid")]
        vcov: String,
        #[arg(long)]
        panel: Option<String>,
        /// Coefficient draws from N(b, V).
        #[arg(long, default_value_t = 1000)]
        draws: usize,
        #[arg(long, default_value_t = 20261201)]
        seed: u64,
        /// Level of the percentile intervals.
        #[arg(long, default_value_t = 0.95)]
        level: f64,
        #[arg(long)]
        out: PathBuf,
        /// Also write the numbers as CSV.
        #[arg(long)]
        csv: Option<PathBuf>,
    },
    /// The conditional marginal effect of X across a moderator Z (Brambor,
    /// Clark and Golder 2006) for a formula with X*Z, on the model's linear
    /// scale, with a 95% delta-method band.
    Cme {
        data: PathBuf,
        #[arg(long)]
        formula: String,
        #[arg(long, default_value = "logit")]
        family: String,
        /// The variable whose effect is drawn.
        #[arg(long)]
        x: String,
        /// The moderator.
        #[arg(long)]
        by: String,
        #[arg(long, default_value = "iid")]
        vcov: String,
        #[arg(long)]
        panel: Option<String>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Kaplan-Meier curves by group as `concord surv km` computes them:
    /// steps with shaded pointwise bands, a legend with the numbers at risk.
    Km {
        #[command(flatten)]
        km: KmArgs,
        /// Mark censoring times with small + ticks (data of one row per spell, no --start).
        #[arg(long)]
        censor_ticks: bool,
        /// Axis title (default: the time column's name).
        #[arg(long)]
        x_label: Option<String>,
        /// Axis title (default: "Survival probability").
        #[arg(long)]
        y_label: Option<String>,
        /// Figure title (default: none).
        #[arg(long)]
        title: Option<String>,
        /// Output stem: writes STEM.svg and STEM.png.
        #[arg(long)]
        out: PathBuf,
    },
    /// Event study from a fit (`concord fit --json`) with an
    /// `i(rel_year, ref = -1)` term: estimates with 90% (thick) and 95%
    /// (thin) intervals against relative time, the reference period at 0.
    Event {
        /// A fit's JSON (`concord fit --json`, a study's fits/).
        fit: PathBuf,
        /// The i() factor (needed when the fit has several).
        #[arg(long)]
        term: Option<String>,
        /// The reference period (default: the formula's `ref =`, else -1).
        #[arg(long = "ref", allow_negative_numbers = true)]
        reference: Option<f64>,
        /// Axis title (default: "Periods relative to treatment (TERM)").
        #[arg(long)]
        x_label: Option<String>,
        /// Axis title (default: "Estimate relative to period REF").
        #[arg(long)]
        y_label: Option<String>,
        /// Figure title (default: none).
        #[arg(long)]
        title: Option<String>,
        /// Output stem: writes STEM.svg and STEM.png.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum SurvCommand {
    /// Kaplan-Meier curves with Greenwood standard errors and pointwise bands, by group.
    Km {
        #[command(flatten)]
        km: KmArgs,
        /// Output: .csv or .parquet (one row per group and time), or .json (curves with medians).
        #[arg(long)]
        out: PathBuf,
    },
}

/// What `surv km` and `plot km` take to compute Kaplan-Meier curves.
#[derive(clap::Args, Debug)]
pub struct KmArgs {
    /// Data file (.csv, .csv.gz or .parquet).
    data: PathBuf,
    /// Exit time (or duration).
    #[arg(long)]
    time: String,
    /// Event indicator (1 event, 0 censored).
    #[arg(long)]
    event: String,
    /// Entry time, for counting-process rows `(start, time]`.
    #[arg(long)]
    start: Option<String>,
    /// Group columns (comma-separated): one curve per combination.
    #[arg(long)]
    by: Option<String>,
    #[arg(long, default_value_t = 0.95)]
    level: f64,
    /// log (R's default), log-log or plain.
    #[arg(long, alias = "conf", default_value = "log")]
    conf_type: String,
}

/// The Kaplan-Meier curves `args` ask for (read, parsed, estimated).
fn km_curves(args: &KmArgs) -> Result<Vec<crate::estimate::km::KmCurve>, CliError> {
    use crate::estimate::km;
    let conf: km::ConfType = args.conf_type.parse()?;
    let by: Vec<String> = args
        .by
        .as_deref()
        .map(|b| b.split(',').map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect())
        .unwrap_or_default();
    let df = read_table(&args.data)?;
    Ok(km::km_frame(&df, args.start.as_deref(), &args.time, &args.event, &by, args.level, conf)?)
}

#[derive(Subcommand, Debug)]
pub enum StudyCommand {
    /// Fit every hypothesis's main specification and robustness battery, bootstrap
    /// the indirect effects, adjust for multiple testing, write verdicts.
    Run {
        /// The study file (TOML).
        study: PathBuf,
        /// Output directory (verdicts.json, verdicts.md, fits/, manifest.json).
        #[arg(long)]
        out: PathBuf,
        /// Directory with the source datasets (else $CONCORD_DATA, else data/raw).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Run on concord's simulator: a TOML file of simulator parameters (see `concord::data::simulate::SimParams`).
        #[arg(long)]
        simulate: Option<PathBuf>,
        /// Override the study's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Override the number of bootstrap replicates.
        #[arg(long)]
        replicates: Option<usize>,
    },
    /// Check a study file against its panels without fitting: every column,
    /// control term, fixed effect, covariance and generated formula.
    Check {
        /// The study file (TOML).
        study: PathBuf,
        /// Directory with the source datasets (else $CONCORD_DATA, else data/raw).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Check against concord's simulator: a TOML file of simulator parameters.
        #[arg(long)]
        simulate: Option<PathBuf>,
    },
    /// Write a commented study-file template with every key (never over an existing file).
    Init {
        /// Where to write it.
        #[arg(default_value = "study.toml")]
        path: PathBuf,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum UnitArg {
    StateYear,
    DyadYear,
    SystemYear,
}

impl From<UnitArg> for Unit {
    fn from(u: UnitArg) -> Unit {
        match u {
            UnitArg::StateYear => Unit::StateYear,
            UnitArg::DyadYear => Unit::DyadYear,
            UnitArg::SystemYear => Unit::SystemYear,
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum DataCommand {
    /// Build a panel (state-year, dyad-year or system-year) from the source datasets.
    Build {
        #[arg(long, value_enum)]
        unit: UnitArg,
        #[arg(long, default_value_t = 1946)]
        from: i64,
        #[arg(long, default_value_t = 2014)]
        to: i64,
        /// Directory with the source datasets (else $CONCORD_DATA, else data/raw).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Output file; the format follows the extension (.parquet, .csv or Stata .dta).
        #[arg(long)]
        out: PathBuf,
        /// Sources to add to today's columns, comma-separated (see `concord data vars`).
        #[arg(long, value_delimiter = ',')]
        add: Vec<String>,
        /// Directed dyad-years (dyad-year only): both orders of every pair, a
        /// non-directed `pair` id, and directional columns for the row's first
        /// state (mid_init, mid_sidea, mid_target, mid_revisionist,
        /// mid_revisionist_terr, atop_*_dir).
        #[arg(long)]
        directed: bool,
        /// Only politically relevant dyad-years (dyad-year only): contiguous by
        /// land or up to 400 miles of water, or with a major power (the
        /// `relevant` column every dyad-year panel has).
        #[arg(long)]
        relevant: bool,
        /// State-year columns to add for each side of a dyad (dyad-year only),
        /// comma-separated, as `name1` and `name2`: NMC's cinc, milex, milper,
        /// tpop or any state-year variable of `concord data vars` (aeuds, gdppc...).
        #[arg(long, value_delimiter = ',')]
        sides: Vec<String>,
        /// Your own CSV, Parquet or Stata file joined on the unit's keys
        /// (ccode, year; ccode1, ccode2, year; year); duplicated keys, keys
        /// outside the panel, non-integer keys and clashing column names are errors.
        #[arg(long)]
        join: Option<PathBuf>,
    },
    /// Every variable `data build --add` can add: source, unit, years, definition, citation.
    Vars {
        /// Only the variables of this unit.
        #[arg(long, value_enum)]
        unit: Option<UnitArg>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// A panel from concord's simulator (known effects; see README).
    Simulate {
        #[arg(long, value_enum)]
        unit: UnitArg,
        /// Simulator parameters (TOML; every key optional).
        #[arg(long)]
        params: Option<PathBuf>,
        /// States (state-year, system-year) or states whose pairs form the dyads (dyad-year).
        #[arg(long)]
        states: Option<usize>,
        /// Directed dyads (dyad-year): each pair as (a, b) and (b, a).
        #[arg(long)]
        directed: bool,
        #[arg(long)]
        from: Option<i64>,
        #[arg(long)]
        to: Option<i64>,
        #[arg(long)]
        seed: Option<u64>,
        /// Output file (.parquet or .csv).
        #[arg(long)]
        out: PathBuf,
    },
    /// Peace spells in counting-process form (one row per unit-spell-year: spell,
    /// start, stop, event, duration, left_censored), like peacesciencer's add_spells.
    Spells {
        /// State-year or dyad-year panel.
        panel: PathBuf,
        /// Onset indicator (0/1) that ends a spell.
        #[arg(long)]
        event: String,
        /// Unit columns (comma-separated); default ccode1,ccode2 when present, else ccode.
        #[arg(long)]
        unit: Option<String>,
        #[arg(long, default_value = "year")]
        time: String,
        /// Output file (.parquet or .csv).
        #[arg(long)]
        out: PathBuf,
    },
    /// Columns, types, N, missing, min/mean/max, years and units of a table.
    Describe {
        file: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Each registered dataset: version, citation, licence, and whether its files are found.
    Sources {
        #[arg(long)]
        data_dir: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

/// Run the command line; returns the process exit code.
pub fn main() -> ExitCode {
    data::read::quiet_guarded_panics();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    // A reader that closes the pipe (`concord fit ... | head -1`) ends the
    // output: print! then panics with a broken pipe, which is caught here
    // (temporary files are removed as it unwinds) and ends the program
    // quietly with 141, the shell's code for SIGPIPE.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !is_broken_pipe(info.payload()) {
            hook(info);
        }
    }));
    match std::panic::catch_unwind(|| run(cli)) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
        Err(p) if is_broken_pipe(p.as_ref()) => ExitCode::from(141),
        Err(p) => std::panic::resume_unwind(p),
    }
}

/// Whether a panic is print!'s on a closed stdout.
fn is_broken_pipe(payload: &(dyn std::any::Any + Send)) -> bool {
    let msg = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or_default();
    msg.starts_with("failed printing to stdout") && msg.contains("Broken pipe")
}

/// Execute a parsed command.
pub fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Data { command } => match command {
            DataCommand::Build { unit, from, to, data_dir, out, add, directed, relevant, sides, join } => {
                let dir = resolve_data_dir(data_dir);
                let add = data::measures::resolve(&add)?;
                let unit: Unit = unit.into();
                for (asked, flag) in
                    [(directed, "--directed"), (relevant, "--relevant"), (!sides.is_empty(), "--sides")]
                {
                    if asked && unit != Unit::DyadYear {
                        return Err(CliError::Usage(format!("{flag} is for dyad-year panels, not {unit}")));
                    }
                }
                let shape = Shape { directed, relevant, sides: &sides, join: join.as_deref() };
                build_one(unit, shape, &dir, from, to, &out, &add)?;
                Ok(())
            }
            DataCommand::Vars { unit, json } => vars(unit.map(Into::into), json),
            DataCommand::Describe { file, json } => {
                let df = read_table(&file)?;
                let d = describe(&df)?;
                if json {
                    println!("{}", to_json(&d)?);
                } else {
                    print!("{}: {d}", file.display());
                }
                Ok(())
            }
            DataCommand::Sources { data_dir, json } => sources(&resolve_data_dir(data_dir), json),
            DataCommand::Spells { panel, event, unit, time, out } => spells(&panel, &event, unit, &time, &out),
            DataCommand::Simulate { unit, params, states, directed, from, to, seed, out } => {
                let mut p = params.map(|f| read_sim_params(&f)).transpose()?.unwrap_or_default();
                let unit: Unit = unit.into();
                if let Some(n) = states {
                    if unit == Unit::DyadYear {
                        p.n_dyad_states = n;
                    } else {
                        p.n_states = n;
                    }
                }
                p.from = from.unwrap_or(p.from);
                p.to = to.unwrap_or(p.to);
                p.seed = seed.unwrap_or(p.seed);
                p.directed |= directed;
                let t = std::time::Instant::now();
                let mut df = match unit {
                    Unit::StateYear => data::simulate::state_year(&p)?,
                    Unit::DyadYear => data::simulate::dyad_year(&p)?,
                    Unit::SystemYear => data::simulate::system_year(&p, &data::simulate::state_year(&p)?)?,
                };
                write_table(&mut df, &out)?;
                println!(
                    "simulated {unit} panel (seed {}): {} rows x {} columns -> {} ({:.2} s)",
                    p.seed,
                    df.height(),
                    df.width(),
                    out.display(),
                    t.elapsed().as_secs_f64()
                );
                Ok(())
            }
        },
        Command::Run { data_dir, from, to, out } => main_job(&resolve_data_dir(data_dir), from, to, &out),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "concord", &mut out);
            write_stdout(&out)
        }
        Command::Plot { command } => plot(command),
        Command::Surv { command } => surv(command),
        Command::Table {
            fits,
            format,
            titles,
            stars,
            no_stars,
            labels,
            rename,
            keep,
            drop,
            order,
            digits,
            add_row,
            notes,
            caption,
            label,
            fragment,
            show_peace_years,
            out,
        } => {
            let format =
                crate::report::tables::Format::choose(format.as_deref(), out.as_deref()).map_err(CliError::Usage)?;
            let summaries = fits
                .iter()
                .map(|f| crate::report::tables::FitSummary::from_file(f).map_err(CliError::Usage))
                .collect::<Result<Vec<_>, _>>()?;
            let titles: Vec<String> = match titles {
                Some(t) => t.split(',').map(|s| s.trim().to_string()).collect(),
                None => Vec::new(),
            };
            if !titles.is_empty() && titles.len() != fits.len() {
                return Err(CliError::Usage(format!("--titles has {} titles for {} fits", titles.len(), fits.len())));
            }
            let opts = crate::report::tables::TableOptions {
                titles,
                labels: read_labels(labels.as_deref(), &rename)?,
                stars: stars && !no_stars,
                digits,
                keep,
                drop,
                order,
                add_rows: add_row
                    .iter()
                    .map(|r| crate::report::tables::TableOptions::parse_row(r))
                    .collect::<Result<_, _>>()
                    .map_err(CliError::Usage)?,
                notes,
                caption,
                label,
                fragment,
                peace_years_row: !show_peace_years,
            };
            let text =
                crate::report::tables::regression_table_with(&summaries, &opts, format).map_err(CliError::Usage)?;
            match out {
                Some(p) => {
                    refuse_inputs(&p, &fits)?;
                    // A file of its own is a page Word and browsers open as it is.
                    let text = if format == crate::report::tables::Format::Html && !opts.fragment {
                        crate::report::tables::html_document(
                            &text,
                            opts.caption.as_deref().unwrap_or("Regression table"),
                        )
                    } else {
                        text
                    };
                    write_text(&p, &text)?;
                    println!("wrote {}", p.display());
                }
                None => print!("{text}"),
            }
            Ok(())
        }
        Command::Study { command: StudyCommand::Run { study, out, data_dir, simulate, seed, replicates } } => {
            let simulate = simulate.map(|p| read_sim_params(&p)).transpose()?;
            let opts = crate::study::RunOptions {
                data_dir: resolve_data_dir(data_dir),
                seed,
                replicates,
                simulate,
                progress: true,
                verbose: true,
            };
            run_study(&study, &out, &opts)
        }
        Command::Study { command: StudyCommand::Check { study, data_dir, simulate } } => {
            let simulate = simulate.map(|p| read_sim_params(&p)).transpose()?;
            let opts =
                crate::study::RunOptions { data_dir: resolve_data_dir(data_dir), simulate, ..Default::default() };
            let c = crate::study::validate::check(&crate::study::Study::from_file(&study)?, &opts)?;
            println!(
                "ok: {}, {} ({} model formulas; every column found)",
                count(c.hypotheses, "hypothesis", "hypotheses"),
                count(c.checks, "check", "checks"),
                c.specifications
            );
            Ok(())
        }
        Command::Study { command: StudyCommand::Init { path } } => {
            crate::study::template::write_template(&path)?;
            println!("wrote {}; check it with `concord study check {}`", path.display(), path.display());
            Ok(())
        }
        Command::Fit {
            data,
            formula,
            weights,
            subset,
            split,
            family,
            ties,
            vcov,
            panel,
            level,
            max_iter,
            allow_nonconverged,
            json,
            wald,
            one_sided,
            margins,
            predict,
        } => {
            let family: Family = family.parse()?;
            // `--panel none`: no panel, not even the inferred one.
            let no_panel = panel.as_deref().is_some_and(|p| p.eq_ignore_ascii_case("none"));
            let panel = panel.filter(|_| !no_panel).map(|p| parse_panel(&p)).transpose()?;
            if let Some(out) = &json {
                refuse_inputs(out, std::slice::from_ref(&data))?;
            }
            let df = match fit_columns(&formula, vcov.as_deref(), &weights, &subset, &split, panel.as_ref()) {
                // The columns the fits read, and the keys a panel may have.
                Some(cols) => data::read::read_table_columns(&data, &cols, &["ccode", "ccode1", "ccode2", "year"])?,
                None => read_table(&data)?,
            };
            let ties = ties.parse()?;
            // A table keyed as concord's panels are (ccode[1,2], year): its
            // keys must be unique, and they serve l(), f() and d().
            let panel = match panel {
                Some(p) => Some(p),
                None if no_panel => None,
                None => match crate::panel::inferred_keys(&df) {
                    Some((unit, time)) => {
                        let units: Vec<&str> = unit.iter().map(String::as_str).collect();
                        crate::panel::PanelIndex::from_frame(&df, &units, &time).map_err(|e| {
                            CliError::Usage(format!(
                                "{}: {e}\n(the columns {}, {time} look like panel keys; give --panel to name others, or --panel none)",
                                data.display(),
                                unit.join(", ")
                            ))
                        })?;
                        println!("panel: {}, {time} (the key columns; --panel to name others)", unit.join(", "));
                        Some(crate::formula::design::PanelSpec { unit, time })
                    }
                    None => None,
                },
            };
            // Several fits: each formula of a multiple estimation, on each
            // level of --split, within --subset.
            let formulas = crate::formula::multi::expand(&formula).map_err(EstimateError::from)?;
            let sample = match &subset {
                Some(c) => {
                    let cond = crate::formula::subset::Cond::parse(c).map_err(EstimateError::from)?;
                    let rows = cond.rows(&df).map_err(EstimateError::from)?;
                    let n = rows.iter().filter(|r| **r).count();
                    println!("--subset {c}: {n} of {} rows", df.height());
                    Some(rows)
                }
                None => None,
            };
            let samples: Vec<Sample> = match &split {
                Some(col) => split_samples(&df, col, sample.as_deref())?,
                None => vec![(None, sample)],
            };
            let runs: Vec<(&String, &Sample)> =
                formulas.iter().flat_map(|f| samples.iter().map(move |s| (f, s))).collect();
            let many = runs.len() > 1;
            let mut summaries = Vec::new();
            let mut titles = Vec::new();
            for (i, (formula, (label, sample))) in runs.iter().enumerate() {
                if many {
                    let on = label.as_ref().map(|l| format!(" [{l}]")).unwrap_or_default();
                    println!("\n== fit {} of {}: {formula}{on} ==", i + 1, runs.len());
                }
                let one = FitRequest {
                    formula,
                    family,
                    vcov: vcov.as_deref(),
                    opts: FitOptions {
                        level,
                        panel: panel.clone(),
                        max_iter,
                        allow_nonconverged,
                        ties,
                        sample: sample.clone(),
                        weights: weights.clone(),
                        ..Default::default()
                    },
                    wald: wald.as_deref(),
                    one_sided: &one_sided,
                    margins,
                    predict: &predict,
                };
                let json_out = json.as_ref().map(|p| if many { numbered(p, i + 1) } else { p.clone() });
                let fit = fit_one(&df, &one, json_out.as_deref())?;
                summaries.push(
                    serde_json::from_value::<crate::report::tables::FitSummary>(
                        serde_json::to_value(&fit).map_err(|e| CliError::Internal(e.to_string()))?,
                    )
                    .map_err(|e| CliError::Internal(e.to_string()))?,
                );
                titles.extend(label.clone());
            }
            if many {
                let opts = crate::report::tables::TableOptions { titles, stars: true, ..Default::default() };
                let text = crate::report::tables::regression_table_with(
                    &summaries,
                    &opts,
                    crate::report::tables::Format::Markdown,
                )
                .map_err(CliError::Usage)?;
                println!("\n{text}");
            }
            Ok(())
        }
    }
}

/// Every column the fits of `concord fit` read: the formulas' (each of a
/// multiple estimation), the vcov's, the weights, the subset condition's, the
/// split column and the panel's. None when a formula does not parse as an
/// ordinary one (a survival formula): then the whole table is read.
fn fit_columns(
    formula: &str,
    vcov: Option<&str>,
    weights: &Option<String>,
    subset: &Option<String>,
    split: &Option<String>,
    panel: Option<&crate::formula::design::PanelSpec>,
) -> Option<Vec<String>> {
    let mut cols = Vec::new();
    for f in crate::formula::multi::expand(formula).ok()? {
        cols.extend(crate::formula::Formula::parse(&f).ok()?.columns());
    }
    if let Some(v) = vcov {
        let v: crate::inference::VcovSpec = v.parse().ok()?;
        cols.extend(v.cluster_columns().iter().flat_map(|c| c.split('^').map(String::from)));
    }
    cols.extend(weights.iter().cloned());
    cols.extend(split.iter().cloned());
    if let Some(c) = subset {
        cols.extend(crate::formula::subset::Cond::parse(c).ok()?.columns());
    }
    if let Some(p) = panel {
        cols.extend(p.unit.iter().cloned());
        cols.push(p.time.clone());
    }
    Some(cols)
}

/// The rows of one fit: its label (`region = 3` under --split) and mask.
type Sample = (Option<String>, Option<Vec<bool>>);

/// One fit of `concord fit` and what to report with it.
struct FitRequest<'a> {
    formula: &'a str,
    family: Family,
    vcov: Option<&'a str>,
    opts: FitOptions,
    wald: Option<&'a str>,
    one_sided: &'a [String],
    margins: bool,
    predict: &'a [String],
}

/// `1 hypothesis`, `2 hypotheses`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `out.json` -> `out-2.json`: the file of the second fit of several.
fn numbered(p: &Path, i: usize) -> PathBuf {
    let stem = p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let ext = p.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
    p.with_file_name(format!("{stem}-{i}{ext}"))
}

/// The rows of each level of `col` (sorted), within `sample`, labelled `col = level`.
fn split_samples(df: &polars::prelude::DataFrame, col: &str, sample: Option<&[bool]>) -> Result<Vec<Sample>, CliError> {
    let c = df.column(col).map_err(|_| {
        CliError::Usage(format!(
            "--split {col}: no such column{}",
            data::read::nearest_name(col, df.get_column_names().iter().map(|s| s.as_str()))
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default()
        ))
    })?;
    let text = c.cast(&polars::prelude::DataType::String).map_err(|e| CliError::Internal(e.to_string()))?;
    let keys: Vec<Option<String>> =
        text.str().map_err(|e| CliError::Internal(e.to_string()))?.iter().map(|v| v.map(String::from)).collect();
    let mut levels: Vec<&String> = keys.iter().flatten().collect();
    // Numbers first in numeric order, then text in text order (a total order).
    levels.sort_by(|a, b| {
        let key = |s: &str| s.parse::<f64>().ok();
        match (key(a), key(b)) {
            (Some(x), Some(y)) => x.total_cmp(&y).then_with(|| a.cmp(b)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.cmp(b),
        }
    });
    levels.dedup();
    if levels.len() > 200 {
        return Err(CliError::Usage(format!("--split {col}: {} levels (at most 200)", levels.len())));
    }
    Ok(levels
        .into_iter()
        .map(|l| {
            let rows =
                keys.iter().enumerate().map(|(i, k)| k.as_ref() == Some(l) && sample.is_none_or(|s| s[i])).collect();
            (Some(format!("{col} = {l}")), Some(rows))
        })
        .collect())
}

/// Fit one model, print it with its tests, margins and predictions, and
/// write its JSON to `json` when given.
fn fit_one(
    df: &polars::prelude::DataFrame,
    r: &FitRequest,
    json: Option<&Path>,
) -> Result<crate::estimate::Fit, CliError> {
    let (family, formula) = (r.family, r.formula);
    // fixest's default: with fixed effects, cluster by the first one
    // (not for Cox, whose formula is a `Surv()` one, nor for the
    // conditional logit, whose group is conditioned out).
    let first_fe = if matches!(family, Family::Cox | Family::Clogit) || r.vcov.is_some() {
        None
    } else {
        crate::formula::Formula::parse(formula)
            .map_err(EstimateError::from)?
            .fixed_effects
            .first()
            .map(|fe| crate::formula::design::fe_parts(fe).0.to_string())
    };
    let vcov = match (&r.vcov, &first_fe) {
        (Some(v), _) => v.parse().map_err(EstimateError::from)?,
        (None, Some(fe)) => crate::inference::VcovSpec::Cluster(vec![fe.clone()]),
        (None, None) => crate::inference::VcovSpec::Iid,
    };
    let opts = FitOptions { vcov, ..r.opts.clone() };
    let (mut fit, design) = estimate::fit_with_design(df, formula, family, &opts)?;
    if let Some(fe) = first_fe {
        fit.notes.push(format!(
            "standard errors clustered by `{fe}`, the first fixed effect (fixest's default); --vcov iid for iid ones"
        ));
    }
    print!("{}", crate::report::summary(&fit));
    let mut extra = serde_json::Map::new();
    if let Some(w) = r.wald {
        let t = fit.wald(w).map_err(EstimateError::from)?;
        let df2 = t.df.1.map(|d| format!(", {d}")).unwrap_or_default();
        println!(
            "Wald test of {w}: {} = {:.4} on ({}{df2}) df, p = {:.4e}",
            t.distribution, t.statistic, t.df.0, t.p_value
        );
        extra.insert("wald".into(), serde_json::to_value(&t).map_err(|e| CliError::Internal(e.to_string()))?);
    }
    let mut sided = Vec::new();
    for spec in r.one_sided {
        let (term, dir) = spec.rsplit_once(':').unwrap_or((spec.as_str(), "positive"));
        let direction = match dir {
            "positive" | ">" => Direction::Positive,
            "negative" | "<" => Direction::Negative,
            other => {
                return Err(CliError::Usage(format!(
                    "--one-sided {spec}: direction `{other}` is not positive or negative"
                )))
            }
        };
        let p = fit
            .one_sided_p(term, direction)
            .ok_or_else(|| CliError::Usage(format!("--one-sided {spec}: no term `{term}` in the model")))?;
        println!(
            "one-sided test of H1: {term} {} 0: p = {p:.4e}",
            if direction == Direction::Positive { ">" } else { "<" }
        );
        sided.push(serde_json::json!({"term": term, "direction": direction, "p_value": p}));
    }
    if !sided.is_empty() {
        extra.insert("one_sided".into(), serde_json::Value::Array(sided));
    }
    let m =
        if r.margins || !r.predict.is_empty() { Some(fit.margins(df, &design, opts.panel.as_ref())?) } else { None };
    if let (true, Some(m)) = (r.margins, &m) {
        let ame = m.slopes().map_err(EstimateError::from)?;
        println!("\naverage marginal effects per variable (through every term of the formula; delta method):");
        for c in &ame {
            let label = if m.is_binary(&c.term) { format!("{} (1 vs 0)", c.term) } else { c.term.clone() };
            println!(
                "  {:<24} {:>12.6} ({:.6})  [{:.6}, {:.6}]",
                label, c.estimate, c.std_error, c.conf_low, c.conf_high
            );
        }
        extra.insert("margins".into(), serde_json::to_value(&ame).map_err(|e| CliError::Internal(e.to_string()))?);
    }
    let mut preds = Vec::new();
    for spec in r.predict {
        let mut set = Vec::new();
        for part in crate::inference::hypothesis::split_top_level(spec) {
            let (t, v) = part
                .split_once('=')
                .and_then(|(t, v)| Some((t.trim(), v.trim().parse::<f64>().ok()?)))
                .ok_or_else(|| CliError::Usage(format!("--predict {spec}: use VARIABLE=VALUE[,VARIABLE=VALUE]")))?;
            set.push((t, v));
        }
        let Some(m) = &m else { break };
        let p = m.predict(&set).map_err(EstimateError::from)?;
        println!(
            "average prediction with {spec} in every row (others as observed): {:.6} (se {:.6}) [{:.6}, {:.6}]",
            p.estimate, p.std_error, p.conf_low, p.conf_high
        );
        preds.push(serde_json::json!({"at": spec, "prediction": p}));
    }
    if !preds.is_empty() {
        extra.insert("predictions".into(), serde_json::Value::Array(preds));
    }
    if let Some(out) = json {
        let mut v = serde_json::to_value(&fit).map_err(|e| CliError::Internal(e.to_string()))?;
        if let Some(obj) = v.as_object_mut() {
            obj.extend(extra);
        }
        write_text(out, &to_json(&v)?)?;
        println!("wrote {}", out.display());
    }
    Ok(fit)
}

/// `concord data spells`.
fn spells(panel: &Path, event: &str, unit: Option<String>, time: &str, out: &Path) -> Result<(), CliError> {
    refuse_inputs(out, &[panel.to_path_buf()])?;
    data::write::Format::of(out)?;
    let df = read_table(panel)?;
    let units: Vec<String> = match unit {
        Some(u) => u.split(',').map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect(),
        None if df.column("ccode1").is_ok() && df.column("ccode2").is_ok() => vec!["ccode1".into(), "ccode2".into()],
        None => vec!["ccode".into()],
    };
    let units: Vec<&str> = units.iter().map(String::as_str).collect();
    let (mut sp, r) = crate::panel::spells::spells(&df, &units, time, event)
        .map_err(|e| CliError::Usage(format!("{}: {e}", panel.display())))?;
    write_table(&mut sp, out)?;
    println!(
        "{} spells of {} units ({} rows, {} end in `{event}`, {} left-censored; {} rows with a missing event left out) -> {}",
        r.spells,
        r.units,
        r.rows,
        r.events,
        r.left_censored,
        r.missing_event,
        out.display()
    );
    Ok(())
}

/// `concord surv ...`.
fn surv(command: SurvCommand) -> Result<(), CliError> {
    match command {
        SurvCommand::Km { km: args, out } => {
            use crate::estimate::km;
            refuse_inputs(&out, std::slice::from_ref(&args.data))?;
            let json = out.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
            if !json {
                data::write::Format::of(&out)?;
            }
            let curves = km_curves(&args)?;
            for c in &curves {
                let median = c.median.map_or("not reached".to_string(), |m| format!("{m}"));
                let name = if c.group.is_empty() { "all" } else { c.group.as_str() };
                println!("{name}: n = {}, events = {}, median = {median}", c.n, c.events);
            }
            if json {
                write_text(&out, &to_json(&curves)?)?;
            } else {
                let mut t = km::km_table(&curves).map_err(|e| CliError::Internal(e.to_string()))?;
                write_table(&mut t, &out)?;
            }
            println!("wrote {}", out.display());
            Ok(())
        }
    }
}

fn parse_panel(s: &str) -> Result<PanelSpec, CliError> {
    let cols: Vec<String> = s.split(',').map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect();
    if cols.len() < 2 {
        return Err(CliError::Usage(format!("--panel {s}: give UNIT,TIME (for dyads UNIT1,UNIT2,TIME)")));
    }
    let (unit, time) = cols.split_at(cols.len() - 1);
    Ok(PanelSpec { unit: unit.to_vec(), time: time[0].clone() })
}

/// Write bytes to standard output; a reader that went away (`| head`) ends
/// the output quietly instead of failing.
fn write_stdout(bytes: &[u8]) -> Result<(), CliError> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(CliError::Data(DataError::Io { path: PathBuf::from("<stdout>"), source: e }))
        }
        _ => Ok(()),
    }
}

fn to_json<T: Serialize>(v: &T) -> Result<String, CliError> {
    serde_json::to_string_pretty(v).map_err(|e| CliError::Internal(e.to_string()))
}

/// What `data build` does beyond the unit's panel: directed and politically
/// relevant dyad-years, the user's own file joined.
#[derive(Debug, Clone, Copy, Default)]
struct Shape<'a> {
    directed: bool,
    relevant: bool,
    sides: &'a [String],
    join: Option<&'a Path>,
}

fn build_one(
    unit: Unit,
    shape: Shape<'_>,
    dir: &Path,
    from: i64,
    to: i64,
    out: &Path,
    add: &[&data::measures::Measure],
) -> Result<data::BuildReport, CliError> {
    // Every registered source, not only the ones this unit reads, and the
    // user's own file.
    let inputs: Vec<PathBuf> = Registry::builtin()?
        .datasets
        .iter()
        .flat_map(|d| d.files.iter().map(|f| dir.join(&f.path)))
        .chain(shape.join.map(Path::to_path_buf))
        .collect();
    data::write::Format::of(out)?;
    refuse_inputs(out, &inputs)?;
    let (df, mut report) = if shape.directed {
        data::panels::build_directed(dir, from, to, add)?
    } else {
        data::panels::build_with(unit, dir, from, to, add)?
    };
    let df = data::panels::add_sides(df, dir, shape.sides)?;
    // The user's file is joined before --relevant filters the rows: a file
    // of every dyad-year is not refused for covering the irrelevant ones.
    let df = match shape.join {
        Some(file) => {
            let (df, j) = data::join::join_file(df, file, unit.keys())?;
            report.notes.push(format!(
                "--join {}: {} column(s) ({}); {} of {} panel rows found a match",
                file.display(),
                j.columns.len(),
                j.columns.join(", "),
                j.matched,
                j.rows
            ));
            df
        }
        None => df,
    };
    let mut df = if shape.relevant { data::panels::only_relevant(df)? } else { df };
    report.rows = df.height();
    report.columns = df.width();
    write_table(&mut df, out)?;
    println!(
        "{}{}{unit} panel {from}-{to}: {} rows x {} columns -> {} ({:.2} s)",
        if shape.relevant { "politically relevant " } else { "" },
        if shape.directed { "directed " } else { "" },
        report.rows,
        report.columns,
        out.display(),
        report.seconds
    );
    for n in &report.notes {
        println!("note: {n}");
    }
    Ok(report)
}

#[derive(Serialize)]
struct VarRow<'a> {
    source: &'a str,
    unit: String,
    #[serde(flatten)]
    variable: &'a data::measures::Variable,
    citation: String,
}

/// `concord data vars`: every variable `--add` can add, with its source and citation.
fn vars(unit: Option<Unit>, json: bool) -> Result<(), CliError> {
    let reg = Registry::builtin()?;
    let directed = match unit {
        None | Some(Unit::DyadYear) => data::measures::directed_variables(),
        Some(_) => Vec::new(),
    };
    let all = data::measures::variables(unit).into_iter().map(|(m, v)| (m, v, false));
    let rows: Vec<VarRow> = all
        .chain(directed.into_iter().map(|(m, v)| (m, v, true)))
        .map(|(m, v, directed)| VarRow {
            source: m.name,
            unit: if directed { "dyad-year, --directed".into() } else { v.unit.to_string() },
            variable: v,
            citation: m
                .datasets
                .iter()
                .filter_map(|d| reg.dataset(d).map(|d| d.citation.clone()))
                .collect::<Vec<_>>()
                .join(" "),
        })
        .collect();
    if json {
        println!("{}", to_json(&rows)?);
        return Ok(());
    }
    let mut last = ("", false);
    for r in &rows {
        let directed = r.unit.ends_with("--directed");
        if (r.source, directed) != last {
            let how = if directed { "--unit dyad-year --directed --add" } else { "--add" };
            println!("\n{} (concord data build {how} {})", r.source, r.source);
            println!("  citation: {}", r.citation);
            last = (r.source, directed);
        }
        let v = r.variable;
        println!("  {:<26} {:<12} {}-{}  {} [{}]", v.name, r.unit, v.years.0, v.years.1, v.label, v.measure);
        println!("  {:<26} {}", "", v.definition);
    }
    println!("\n{} variable(s); outside its years a variable is missing, never 0", rows.len());
    Ok(())
}

#[derive(Serialize)]
struct SourceRow<'a> {
    id: &'a str,
    name: &'a str,
    version: &'a str,
    url: &'a str,
    citation: &'a str,
    licence: &'a str,
    file: &'a str,
    state: FileState,
}

fn sources(dir: &Path, json: bool) -> Result<(), CliError> {
    let reg = Registry::builtin()?;
    let checked = reg.check(dir);
    if json {
        let rows: Vec<SourceRow> = checked
            .iter()
            .map(|(d, f, s)| SourceRow {
                id: &d.id,
                name: &d.name,
                version: &d.version,
                url: &d.url,
                citation: &d.citation,
                licence: &d.licence,
                file: &f.path,
                state: s.clone(),
            })
            .collect();
        println!("{}", to_json(&rows)?);
        return Ok(());
    }
    println!("data dir: {}", dir.display());
    let (mut ok, mut missing, mut changed) = (0, 0, 0);
    for d in &reg.datasets {
        println!("\n{} — {} (version {})", d.id, d.name, d.version);
        println!("  citation: {}", d.citation);
        println!("  licence:  {}", d.licence);
        println!("  get it:   {}", d.url);
        for (_, f, s) in checked.iter().filter(|(dd, _, _)| dd.id == d.id) {
            let state = match s {
                FileState::Ok => {
                    ok += 1;
                    "found, checksum ok".to_string()
                }
                FileState::Missing => {
                    missing += 1;
                    "MISSING".to_string()
                }
                FileState::ChecksumMismatch { found } => {
                    changed += 1;
                    format!("found, but differs from the registered version (sha256 {}...)", &found[..12])
                }
            };
            println!("  {:<45} {state}", f.path);
        }
    }
    println!("\n{ok} file(s) found, {changed} differ from the registered version, {missing} missing");
    Ok(())
}

#[derive(Serialize)]
struct Manifest {
    concord_version: &'static str,
    command: String,
    data_dir: String,
    from: i64,
    to: i64,
    seed: Option<u64>,
    inputs: Vec<(String, String)>,
    outputs: Vec<(String, String)>,
    builds: Vec<data::BuildReport>,
}

/// Simulator parameters from a TOML file (every key optional).
fn read_sim_params(path: &Path) -> Result<data::simulate::SimParams, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?;
    toml::from_str(&text).map_err(|e| CliError::Usage(format!("{}: {}", path.display(), e.message())))
}

/// Labels: the built-in dictionary, a `--labels` TOML file, then `--rename a=b` pairs.
fn read_labels(file: Option<&Path>, rename: &[String]) -> Result<crate::report::labels::Labels, CliError> {
    let mut labels = match file {
        Some(f) => crate::report::labels::Labels::from_file(f).map_err(|e| CliError::Usage(e.to_string()))?,
        None => crate::report::labels::Labels::default(),
    };
    let mut pairs = std::collections::BTreeMap::new();
    for r in rename {
        // Terms never contain `=`; a label may.
        let (a, b) =
            r.split_once('=').ok_or_else(|| CliError::Usage(format!("--rename `{r}`: write it as term=label")))?;
        pairs.insert(a.trim().to_string(), b.trim().to_string());
    }
    labels.extend(&pairs);
    Ok(labels)
}

fn plot(command: PlotCommand) -> Result<(), CliError> {
    use crate::plot::{save, CoefPlot, CoefRow, TWO_COLUMN};
    let files = match command {
        PlotCommand::Trends { data, out, vars, aggregate, mark, events, labels, rename } => {
            refuse_inputs(&out.with_extension("svg"), std::slice::from_ref(&data))?;
            let labels = read_labels(labels.as_deref(), &rename)?;
            let events = match events {
                Some(e) => crate::plot::Event::parse_list(&e).map_err(|e| CliError::Usage(format!("--events: {e}")))?,
                None => crate::plot::Event::defaults(),
            };
            let df = read_table(&data)?;
            let fig =
                crate::report::trends::trends_of(&df, &vars, aggregate, Some((mark, String::new())), events, &labels)
                    .map_err(|e| CliError::Usage(format!("{}: {e}", data.display())))?;
            save(&fig, &out).map_err(|e| CliError::Usage(e.to_string()))?
        }
        PlotCommand::Coef { fits, term, titles, label_estimands, x_label, labels, rename, out } => {
            let labels = read_labels(labels.as_deref(), &rename)?;
            let titles: Vec<String> = match titles {
                Some(t) => t.split(',').map(|s| s.trim().to_string()).collect(),
                None => fits.iter().map(|f| f.file_stem().unwrap_or_default().to_string_lossy().to_string()).collect(),
            };
            if titles.len() != fits.len() {
                return Err(CliError::Usage(format!("--titles has {} titles for {} fits", titles.len(), fits.len())));
            }
            let mut rows = Vec::new();
            for (f, title) in fits.iter().zip(&titles) {
                let s = crate::report::tables::FitSummary::from_file(f).map_err(CliError::Usage)?;
                for t in &term {
                    let (e, lo95, hi95) = s
                        .interval(t, 0.95)
                        .ok_or_else(|| CliError::Usage(format!("{}: no term `{t}`", f.display())))?;
                    let (_, lo90, hi90) = s.interval(t, 0.90).unwrap_or((e, lo95, hi95));
                    rows.push(CoefRow {
                        label: title.clone(),
                        estimate: e,
                        lo90,
                        hi90,
                        lo95,
                        hi95,
                        highlight: rows.is_empty(),
                        estimand: labels.term(t),
                        n: Some(crate::report::tables::thousands(&s.nobs.to_string())),
                    });
                }
            }
            let title = term.iter().map(|t| labels.term(t)).collect::<Vec<_>>().join("; ");
            let fig = CoefPlot {
                title,
                x_label: x_label.unwrap_or_else(|| "Coefficient".into()),
                rows,
                width: TWO_COLUMN,
                label_estimands,
                note: None,
            };
            save(&fig, &out).map_err(|e| CliError::Usage(e.to_string()))?
        }
        PlotCommand::Predict { data, formula, fit, family, vary, by, vcov, panel, labels, rename, out } => {
            let labels = read_labels(labels.as_deref(), &rename)?;
            let mut inputs = vec![data.clone()];
            inputs.extend(fit.clone());
            for ext in ["svg", "png"] {
                refuse_inputs(&out.with_extension(ext), &inputs)?;
            }
            let panel = panel.map(|p| parse_panel(&p)).transpose()?;
            let df = read_table(&data)?;
            let (m, outcome) = match (fit, formula) {
                (Some(f), _) => {
                    let saved = crate::estimate::saved::SavedFit::from_file(&f)?;
                    let outcome = saved.formula.split('~').next().unwrap_or("").trim().to_string();
                    (saved.margins(&df, panel.as_ref())?, outcome)
                }
                (None, Some(formula)) => {
                    let family: Family = family.parse()?;
                    let vcov = vcov.parse().map_err(EstimateError::from)?;
                    let opts = FitOptions { vcov, panel: panel.clone(), ..Default::default() };
                    let (fit, design) = crate::estimate::fit_with_design(&df, &formula, family, &opts)?;
                    (fit.margins(&df, &design, panel.as_ref())?, design.outcome.clone())
                }
                (None, None) => return Err(CliError::Usage("give --formula or --fit".into())),
            };
            let req =
                crate::report::predict::PredictRequest { vary: &vary, by: by.as_deref(), outcome: &outcome, title: "" };
            let fig = crate::report::predict::prediction_plot(&m, &req, &labels).map_err(CliError::Usage)?;
            save(&fig, &out).map_err(|e| CliError::Usage(e.to_string()))?
        }
        PlotCommand::Scenarios { data, formula, family, scenario, vcov, panel, draws, seed, level, out, csv } => {
            use crate::inference::simulate::{simulate_scenarios, Scenario, SimOptions};
            let outputs: Vec<PathBuf> =
                [out.with_extension("svg"), out.with_extension("png")].into_iter().chain(csv.clone()).collect();
            for o in &outputs {
                refuse_inputs(o, std::slice::from_ref(&data))?;
            }
            let family: Family = family.parse()?;
            let scenarios = scenario
                .iter()
                .map(|s| s.parse::<Scenario>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(EstimateError::from)?;
            let opts = FitOptions {
                vcov: vcov.parse().map_err(EstimateError::from)?,
                panel: panel.map(|p| parse_panel(&p)).transpose()?,
                ..Default::default()
            };
            let df = read_table(&data)?;
            let (fit, design) = estimate::fit_with_design(&df, &formula, family, &opts)?;
            let m = fit.margins(&df, &design, opts.panel.as_ref())?;
            let sim = simulate_scenarios(&m, &design.recipe, &scenarios, SimOptions { draws, seed, level })
                .map_err(EstimateError::from)?;
            println!("{family} fit of `{formula}` ({} rows, vcov {})", fit.nobs, fit.vcov);
            print!("{}", sim.table());
            if let Some(c) = &csv {
                write_text(c, &sim.csv())?;
                println!("wrote {}", c.display());
            }
            use crate::inference::margins::MeanFunction;
            let probability = matches!(m.mean, MeanFunction::Logistic | MeanFunction::NormalCdf);
            let fig = crate::plot::ScenarioPlot::from_simulation(&sim, &design.outcome, probability);
            save(&fig, &out).map_err(|e| CliError::Usage(e.to_string()))?
        }
        PlotCommand::Cme { data, formula, family, x, by, vcov, panel, out } => {
            refuse_inputs(&out.with_extension("svg"), std::slice::from_ref(&data))?;
            let family: Family = family.parse()?;
            let opts = FitOptions {
                vcov: vcov.parse().map_err(EstimateError::from)?,
                panel: panel.map(|p| parse_panel(&p)).transpose()?,
                ..Default::default()
            };
            let df = read_table(&data)?;
            let (fit, design) = estimate::fit_with_design(&df, &formula, family, &opts)?;
            let ce = crate::inference::conditional::conditional_effect(
                &fit,
                &design,
                &df,
                opts.panel.as_ref(),
                &x,
                &by,
                None,
            )
            .map_err(EstimateError::from)?;
            println!("{family} fit of `{formula}` ({} rows, vcov {})", fit.nobs, fit.vcov);
            print!("{}", ce.table());
            let fig = crate::plot::CmeFigure::new(&ce, family, &design.outcome)
                .map_err(|e| CliError::Usage(e.to_string()))?;
            fig.save(&out).map_err(|e| CliError::Usage(e.to_string()))?
        }
        PlotCommand::Km { km: args, censor_ticks, x_label, y_label, title, out } => {
            refuse_inputs(&out.with_extension("svg"), std::slice::from_ref(&args.data))?;
            if censor_ticks && args.start.is_some() {
                return Err(CliError::Usage(
                    "--censor-ticks needs one row per spell: with --start every row's end counts as a censoring".into(),
                ));
            }
            let mut fig =
                crate::plot::SurvivalPlot::new(km_curves(&args)?, x_label.as_ref().unwrap_or(&args.time), args.level);
            fig.y_label = y_label.unwrap_or(fig.y_label);
            (fig.title, fig.censor_ticks) = (title.unwrap_or_default(), censor_ticks);
            save(&fig, &out).map_err(|e| CliError::Usage(e.to_string()))?
        }
        PlotCommand::Event { fit, term, reference, x_label, y_label, title, out } => {
            refuse_inputs(&out.with_extension("svg"), std::slice::from_ref(&fit))?;
            let s = crate::report::tables::FitSummary::from_file(&fit).map_err(CliError::Usage)?;
            let mut fig = crate::plot::EventStudyPlot::from_fit(&s, term.as_deref(), reference)
                .map_err(|e| CliError::Usage(format!("{}: {e}", fit.display())))?;
            (fig.x_label, fig.y_label) = (x_label.unwrap_or(fig.x_label), y_label.unwrap_or(fig.y_label));
            fig.title = title.unwrap_or_default();
            save(&fig, &out).map_err(|e| CliError::Usage(e.to_string()))?
        }
        PlotCommand::SpecCurve { curve, hypothesis, label_estimands, study, out } => {
            refuse_inputs(&out.with_extension("svg"), std::slice::from_ref(&curve))?;
            let (labels, periods) = study_labels(study.as_deref())?;
            let text =
                std::fs::read_to_string(&curve).map_err(|e| CliError::Usage(format!("{}: {e}", curve.display())))?;
            let rows: Vec<crate::study::curve::CurveRow> = serde_json::from_str(&text).map_err(|e| {
                CliError::Usage(format!("{}: not a spec_curve.json of concord study run: {e}", curve.display()))
            })?;
            // The intervals' level from the verdicts.json beside it, if any.
            let level = curve
                .parent()
                .and_then(|d| std::fs::read_to_string(d.join("verdicts.json")).ok())
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok()?.get("level")?.as_f64());
            let c =
                crate::report::study::spec_curve_figure(&rows, &hypothesis, &labels, &periods, label_estimands, level)
                    .map_err(|e| CliError::Usage(format!("{}: {e}", curve.display())))?;
            if !c.left_out.is_empty() {
                eprintln!(
                    "left out {} specification(s) on another scale or of another regressor ({}); --label-estimands draws them",
                    c.left_out.len(),
                    c.left_out.join("; ")
                );
            }
            save(&c.figure, &out).map_err(|e| CliError::Usage(e.to_string()))?
        }
        PlotCommand::Sensitivity { verdicts, path, study, out } => {
            refuse_inputs(&out.with_extension("svg"), std::slice::from_ref(&verdicts))?;
            let (labels, _) = study_labels(study.as_deref())?;
            let text = std::fs::read_to_string(&verdicts)
                .map_err(|e| CliError::Usage(format!("{}: {e}", verdicts.display())))?;
            let paths = crate::report::study::sensitivity_paths_json(&text)
                .map_err(|e| CliError::Usage(format!("{}: {e}", verdicts.display())))?;
            let p = paths.iter().find(|p| p.id == path || p.name == path).ok_or_else(|| {
                let have: Vec<String> = paths.iter().map(|p| format!("{} ({})", p.id, p.name)).collect();
                CliError::Usage(format!(
                    "{}: no mediation path `{path}` with a sensitivity (paths: {})",
                    verdicts.display(),
                    if have.is_empty() { "none".to_string() } else { have.join(", ") }
                ))
            })?;
            save(&crate::report::study::sensitivity_figure(p, &labels), &out)
                .map_err(|e| CliError::Usage(e.to_string()))?
        }
    };
    for f in files {
        println!("wrote {}", f.display());
    }
    Ok(())
}

/// The labels and periods of a study file (the built-in labels and no
/// periods without one).
fn study_labels(
    study: Option<&Path>,
) -> Result<(crate::report::labels::Labels, Vec<crate::study::spec::Period>), CliError> {
    match study {
        Some(f) => {
            let s = crate::study::Study::from_file(f)?;
            Ok((crate::report::labels::Labels::for_study(&s), s.periods.clone()))
        }
        None => Ok((crate::report::labels::Labels::default(), Vec::new())),
    }
}

/// Run a study file into `out`.
fn run_study(file: &Path, out: &Path, opts: &crate::study::RunOptions) -> Result<(), CliError> {
    if crate::study::replication::is_replication(file) {
        return run_replication(file, out, &opts.data_dir).map(|_| ());
    }
    let study = crate::study::Study::from_file(file)?;
    if out.exists() && !out.is_dir() {
        return Err(CliError::Usage(format!("--out {}: not a directory", out.display())));
    }
    // The files a study writes at the top of --out must not be the study file.
    for name in ["verdicts.json", "verdicts.md", "manifest.json", "index.html"] {
        refuse_inputs(&out.join(name), &[file.to_path_buf()])?;
    }
    println!("study {} ({}): {}", study.name, count(study.hypotheses.len(), "hypothesis", "hypotheses"), study.title);
    let mut result = crate::study::run(&study, opts)?;
    let mut files = crate::study::output::write(&mut result, file, out)?;
    files.extend(crate::report::study::write(&study, &result, out)?);
    println!("\nverdicts ({:?} correction, alpha {}):", result.correction, result.alpha);
    for h in &result.hypotheses {
        println!("  {:<6} {:<14} {}", h.id, h.verdict.label(), h.claim);
    }
    println!("wrote {} files to {}", files.len(), out.display());
    Ok(())
}

/// A replication (`[replication]` in the file): the published and concord's
/// estimates side by side in `out`.
fn run_replication(
    file: &Path,
    out: &Path,
    data_dir: &Path,
) -> Result<crate::study::replication::ReplicationResult, CliError> {
    use crate::study::replication::{run, Replication};
    let spec = Replication::from_file(file)?;
    if out.exists() && !out.is_dir() {
        return Err(CliError::Usage(format!("--out {}: not a directory", out.display())));
    }
    for name in ["replication.md", "replication.json", "manifest.json"] {
        refuse_inputs(&out.join(name), &[file.to_path_buf()])?;
    }
    println!("replication {}: {}", spec.replication.name, spec.replication.title);
    let r = run(&spec, data_dir)?;
    let files = crate::report::replication::write(&r, file, out)?;
    println!(
        "N = {} (published {}); signs agree on {} of {} terms; {} of {} within {} published s.e.",
        r.fit.nobs,
        spec.replication.published_n.map_or("not given".to_string(), |n| n.to_string()),
        r.signs_agree,
        r.signs_compared,
        r.within,
        r.within_compared,
        spec.replication.within_se
    );
    println!("wrote {} files to {} ({:.1} s)", files.len(), out.display(), r.seconds);
    Ok(r)
}

/// The main job: the three panels of the flagship study, their descriptions and a
/// manifest (input and output checksums, version, timings).
fn main_job(dir: &Path, from: i64, to: i64, out: &Path) -> Result<(), CliError> {
    let panels = out.join("panels");
    let targets = [
        (Unit::StateYear, panels.join("state_year.parquet")),
        (Unit::DyadYear, panels.join("dyad_year.parquet")),
        (Unit::SystemYear, panels.join("system_year.csv")),
    ];
    let mut builds = Vec::new();
    let mut md =
        String::from("# Panels of the flagship study\n\nWritten by `concord run`; see manifest.json for the inputs.\n");
    for (unit, path) in &targets {
        let report = build_one(*unit, Shape::default(), dir, from, to, path, &[])?;
        let d = describe(&read_table(path)?)?;
        md.push_str(&format!(
            "\n## {unit} ({})\n\n```\n{d}```\n",
            path.file_name().unwrap_or_default().to_string_lossy()
        ));
        builds.push(report);
    }
    let mut files: Vec<&str> = targets.iter().flat_map(|(u, _)| u.needed_files()).collect();
    files.sort_unstable();
    files.dedup();
    let inputs = files
        .iter()
        .map(|f| Ok((f.to_string(), data::registry::sha256_file(&dir.join(f))?)))
        .collect::<Result<Vec<_>, DataError>>()?;
    let outputs = targets
        .iter()
        .map(|(_, p)| Ok((p.display().to_string(), data::registry::sha256_file(p)?)))
        .collect::<Result<Vec<_>, DataError>>()?;
    let manifest = Manifest {
        concord_version: env!("CARGO_PKG_VERSION"),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        data_dir: dir.display().to_string(),
        from,
        to,
        seed: None,
        inputs,
        outputs,
        builds,
    };
    write_text(&panels.join("describe.md"), &md)?;
    write_text(&panels.join("manifest.json"), &to_json(&manifest)?)?;
    println!("wrote {}", panels.display());
    // The flagship study on the same data.
    // Relative to the repository when run from it (the report names the file).
    let study = PathBuf::from("studies/socialization.toml");
    let study = if study.is_file() { study } else { Path::new(env!("CARGO_MANIFEST_DIR")).join(&study) };
    let opts =
        crate::study::RunOptions { data_dir: dir.to_path_buf(), progress: true, verbose: true, ..Default::default() };
    run_study(&study, &out.join("socialization"), &opts)?;
    // The replications of published tables from the same panels.
    let reps = study.with_file_name("replications");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&reps)
        .map_err(|e| CliError::Usage(format!("{}: {e}", reps.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut results = Vec::new();
    for f in &files {
        let name = f.file_stem().unwrap_or_default().to_string_lossy().to_string();
        println!();
        results.push((name.clone(), run_replication(f, &out.join("replications").join(&name), dir)?));
    }
    let index = crate::report::replication::index(&results);
    write_text(&out.join("replications").join("README.md"), &index)?;
    Ok(())
}
