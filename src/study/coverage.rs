//! Honest uncertainty: how often do concord's 95% intervals cover the true
//! value on data simulated from a known model?
//!
//! Each case draws `reps` data sets (replicate `r` from its own generator
//! seeded by `(seed, case, r)`, in parallel; the result does not depend on the
//! thread count), fits the model and counts the intervals that contain the
//! truth. With 500 replicates a 95% interval should cover 93-97% of the time
//! (about two binomial standard errors).

use polars::prelude::*;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Normal, Poisson};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::mediation::{bootstrap_product, gcomp_bootstrap, BootstrapMethod, MediationData, Path as MedPath};
use crate::estimate::{design_for, fit, fit_design, Family, FitOptions};
use crate::formula::Formula;
use crate::inference::hypothesis::Direction;

/// The cases of the coverage study.
/// (New cases go at the end: a case's position seeds its replicates.)
pub const CASES: [&str; 15] = [
    "ols_iid",
    "ols_cluster",
    "twoway_fe_ols_cluster",
    "logit",
    "poisson_fe_cluster",
    "mediation_bootstrap",
    "dyadic_ols",
    "dyadic_ols_dyad_cluster",
    "fe_logit_cluster",
    "clogit_short_panel",
    "fe_logit_short_panel",
    "cox_cluster",
    "nie_unit_bootstrap",
    "nie_vertex_bootstrap",
    "nie_vertex_bootstrap_80",
];

/// Cases shown to undercover: the vcov ignores the dependence simulated, or
/// the estimator is inconsistent for the design (unconditional FE logit in a
/// short panel, the incidental-parameter bias that the conditional logit avoids).
pub const UNDERCOVER: [&str; 2] = ["dyadic_ols_dyad_cluster", "fe_logit_short_panel"];

/// Coverage of one case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coverage {
    pub case: String,
    pub model: String,
    pub replicates: usize,
    /// Replicates whose fit failed (none expected).
    pub failed: usize,
    pub covered: usize,
    pub rate: f64,
    pub truth: f64,
    pub mean_estimate: f64,
}

fn rng(seed: u64, case: usize, r: usize) -> StdRng {
    StdRng::seed_from_u64(seed ^ ((case as u64 + 1) << 40) ^ (r as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

fn normal() -> Normal<f64> {
    Normal::new(0.0, 1.0).unwrap_or_else(|_| unreachable!("N(0, 1) is valid"))
}

fn frame(cols: Vec<(&str, Vec<f64>)>) -> DataFrame {
    let h = cols.first().map_or(0, |c| c.1.len());
    let columns = cols.into_iter().map(|(n, v)| Column::new(n.into(), v)).collect();
    DataFrame::new(h, columns).unwrap_or_default()
}

/// A panel of `units` x `periods` with unit and time ids.
fn ids(units: usize, periods: usize) -> (Vec<f64>, Vec<f64>) {
    let u = (0..units * periods).map(|i| (i / periods) as f64).collect();
    let t = (0..units * periods).map(|i| (i % periods) as f64).collect();
    (u, t)
}

/// A Bernoulli draw with log-odds `eta`, as 0.0 or 1.0.
fn bernoulli_logit(r: &mut StdRng, eta: f64) -> f64 {
    f64::from(u8::from(r.random::<f64>() < 1.0 / (1.0 + (-eta).exp())))
}

/// One replicate of `case`: (estimate, low, high) of the 95% interval, and the truth.
fn replicate(case: &str, r: &mut StdRng, seed: u64) -> Option<(f64, f64, f64)> {
    let n01 = normal();
    let opts = |v: &str| -> Option<FitOptions> { Some(FitOptions { vcov: v.parse().ok()?, ..Default::default() }) };
    let term = |f: crate::estimate::Fit, t: &str| f.coef(t).map(|c| (c.estimate, c.conf_low, c.conf_high));
    match case {
        "ols_iid" => {
            let n = 200;
            let x: Vec<f64> = (0..n).map(|_| n01.sample(r)).collect();
            let y = x.iter().map(|x| 1.0 + 0.5 * x + n01.sample(r)).collect();
            let o = opts("iid")?;
            term(fit(&frame(vec![("y", y), ("x", x)]), "y ~ x", Family::Gaussian, &o).ok()?, "x")
        }
        "ols_cluster" => {
            // 50 clusters of 10; regressor and error both have cluster components.
            let (g, _) = ids(50, 10);
            let cx: Vec<f64> = (0..50).map(|_| n01.sample(r)).collect();
            let ce: Vec<f64> = (0..50).map(|_| n01.sample(r)).collect();
            let x: Vec<f64> = g.iter().map(|g| cx[*g as usize] + n01.sample(r)).collect();
            let y = x.iter().zip(&g).map(|(x, g)| 1.0 + 0.5 * x + ce[*g as usize] + n01.sample(r)).collect();
            let o = opts("cluster:g")?;
            term(fit(&frame(vec![("y", y), ("x", x), ("g", g)]), "y ~ x", Family::Gaussian, &o).ok()?, "x")
        }
        "twoway_fe_ols_cluster" => {
            // 100 units x 10 periods; unit and time effects correlated with x;
            // AR(1) errors within unit.
            let (u, t) = ids(100, 10);
            let au: Vec<f64> = (0..100).map(|_| n01.sample(r)).collect();
            let at: Vec<f64> = (0..10).map(|_| n01.sample(r)).collect();
            let mut e = vec![0.0; 1000];
            for i in 0..1000 {
                e[i] = if i % 10 == 0 { n01.sample(r) } else { 0.5 * e[i - 1] + n01.sample(r) };
            }
            let x: Vec<f64> = (0..1000).map(|i| au[i / 10] + at[i % 10] + n01.sample(r)).collect();
            let y = (0..1000).map(|i| 0.5 * x[i] + 2.0 * au[i / 10] - at[i % 10] + e[i]).collect();
            let o = opts("cluster:u")?;
            let df = frame(vec![("y", y), ("x", x), ("u", u), ("t", t)]);
            term(fit(&df, "y ~ x | u + t", Family::Gaussian, &o).ok()?, "x")
        }
        "logit" => {
            let n = 1000;
            let x: Vec<f64> = (0..n).map(|_| n01.sample(r)).collect();
            let y = x.iter().map(|x| bernoulli_logit(r, -0.5 + 0.5 * x)).collect();
            let o = opts("iid")?;
            term(fit(&frame(vec![("y", y), ("x", x)]), "y ~ x", Family::Logit, &o).ok()?, "x")
        }
        "fe_logit_cluster" => {
            // 100 units x 20 periods, period effects in the log-odds (100
            // units per period: the incidental-parameter bias, of order 1/100,
            // is small); x has a unit component, errors clustered by unit.
            let (u, t) = ids(100, 20);
            let au: Vec<f64> = (0..100).map(|_| n01.sample(r)).collect();
            let at: Vec<f64> = (0..20).map(|_| -1.0 + 0.5 * n01.sample(r)).collect();
            let x: Vec<f64> = (0..2000).map(|i| au[i / 20] + n01.sample(r)).collect();
            let y = (0..2000).map(|i| bernoulli_logit(r, at[i % 20] + 0.5 * x[i])).collect();
            let o = opts("cluster:u")?;
            let df = frame(vec![("y", y), ("x", x), ("u", u), ("t", t)]);
            term(fit(&df, "y ~ x | t", Family::Logit, &o).ok()?, "x")
        }
        "clogit_short_panel" | "fe_logit_short_panel" => {
            // 400 units x 5 periods, unit effects in the log-odds correlated
            // with x. The conditional logit is consistent; the logit with unit
            // dummies is biased away from zero at T = 5 (Chamberlain 1980).
            let (u, _) = ids(400, 5);
            let au: Vec<f64> = (0..400).map(|_| n01.sample(r)).collect();
            let x: Vec<f64> = (0..2000).map(|i| au[i / 5] + n01.sample(r)).collect();
            let y = (0..2000).map(|i| bernoulli_logit(r, -0.5 + au[i / 5] + 0.5 * x[i])).collect();
            let df = frame(vec![("y", y), ("x", x), ("u", u)]);
            let family = if case == "clogit_short_panel" { Family::Clogit } else { Family::Logit };
            term(fit(&df, "y ~ x | u", family, &opts("iid")?).ok()?, "x")
        }
        "cox_cluster" => {
            // 100 clusters of 10 subjects. Each event time is exponential with
            // hazard 0.1 exp(0.5 x) given the subject's own x (the marginal
            // Cox model holds), but times within a cluster are dependent (a
            // Gaussian copula with correlation 0.5) and x has a cluster
            // component: Lin-Wei's cluster sandwich is needed. Censoring is
            // exponential (rate 0.05) and administrative at t = 15; follow-up
            // is split at t = 3 (counting-process rows, start < stop].
            let phi = |z: f64| 0.5 * statrs::function::erf::erfc(-z / std::f64::consts::SQRT_2);
            let (mut start, mut stop, mut event, mut x, mut g) = (vec![], vec![], vec![], vec![], vec![]);
            for c in 0..100 {
                let (xc, zc) = (n01.sample(r), n01.sample(r));
                for _ in 0..10 {
                    let xi = xc + n01.sample(r);
                    let z = 0.5_f64.sqrt() * zc + 0.5_f64.sqrt() * n01.sample(r);
                    let time = -(1.0 - phi(z)).max(1e-300).ln() / (0.1 * (0.5 * xi).exp());
                    let censor = (-(1.0 - r.random::<f64>()).ln() / 0.05).min(15.0);
                    let (end, died) = (time.min(censor), f64::from(u8::from(time <= censor)));
                    let cuts: &[(f64, f64)] = if end > 3.0 { &[(0.0, 3.0), (3.0, end)] } else { &[(0.0, end)] };
                    for (k, (a, b)) in cuts.iter().enumerate() {
                        start.push(*a);
                        stop.push(*b);
                        event.push(if k + 1 == cuts.len() { died } else { 0.0 });
                        x.push(xi);
                        g.push(c as f64);
                    }
                }
            }
            let o = opts("cluster:g")?;
            let df = frame(vec![("start", start), ("stop", stop), ("event", event), ("x", x), ("g", g)]);
            term(fit(&df, "Surv(start, stop, event) ~ x", Family::Cox, &o).ok()?, "x")
        }
        "poisson_fe_cluster" => {
            let (u, t) = ids(100, 10);
            let au: Vec<f64> = (0..100).map(|_| 0.5 * n01.sample(r)).collect();
            let x: Vec<f64> = (0..1000).map(|i| au[i / 10] + n01.sample(r)).collect();
            let y = (0..1000)
                .map(|i| {
                    let mu = (au[i / 10] + 0.3 * x[i]).exp();
                    Poisson::new(mu).map(|p| p.sample(r)).unwrap_or(0.0)
                })
                .collect();
            let o = opts("cluster:u")?;
            let df = frame(vec![("y", y), ("x", x), ("u", u), ("t", t)]);
            term(fit(&df, "y ~ x | u", Family::Poisson, &o).ok()?, "x")
        }
        "mediation_bootstrap" => {
            // m = 0.5 x + unit error + e; y ~ Bernoulli(logistic(-1 - 0.8 m + 0.2 x)):
            // the indirect effect on the log-odds is 0.5 x -0.8 = -0.4.
            // Regressor and mediator each have a unit component (independent of
            // each other), so the errors are clustered by unit.
            let (u, _) = ids(60, 20);
            let au: Vec<f64> = (0..60).map(|_| 0.5 * n01.sample(r)).collect();
            let vu: Vec<f64> = (0..60).map(|_| 0.5 * n01.sample(r)).collect();
            let x: Vec<f64> = (0..1200).map(|i| au[i / 20] + n01.sample(r)).collect();
            let m: Vec<f64> = (0..1200).map(|i| 0.5 * x[i] + vu[i / 20] + n01.sample(r)).collect();
            let y: Vec<f64> = (0..1200).map(|i| bernoulli_logit(r, -1.0 - 0.8 * m[i] + 0.2 * x[i])).collect();
            let df = frame(vec![("y", y), ("x", x), ("m", m), ("u", u.clone())]);
            let o = FitOptions::default();
            let da = design_for(&df, &Formula::parse("m ~ x").ok()?, &o).ok()?;
            let db = design_for(&df, &Formula::parse("y ~ m + x").ok()?, &o).ok()?;
            let a = fit_design(da.clone(), "", Family::Gaussian, &o).ok()?.0.coef("x")?.estimate;
            let b = fit_design(db.clone(), "", Family::Logit, &o).ok()?.0.coef("m")?.estimate;
            let units: Vec<u64> = u.iter().map(|v| *v as u64).collect();
            let paths = [
                MedPath {
                    design: &da,
                    family: Family::Gaussian,
                    term: "x",
                    unit_of_row: units.clone(),
                    unit_column: "u",
                },
                MedPath { design: &db, family: Family::Logit, term: "m", unit_of_row: units, unit_column: "u" },
            ];
            let boot = bootstrap_product(&paths, 199, seed ^ r.random::<u64>(), 0.95, Direction::Negative, false);
            Some((a * b, boot.conf_low, boot.conf_high))
        }
        "nie_unit_bootstrap" | "nie_vertex_bootstrap" | "nie_vertex_bootstrap_80" => {
            // The natural indirect effect on the probability scale (the
            // study's mediation, Imai, Keele & Tingley 2010) of x -> x + 1,
            // with the one-step bootstrap: states (unit case) or the states
            // of each dyad (vertex case) resampled, B = 199.
            let (df, vertices, n_vertices) = nie_world(case, r);
            let o = FitOptions::default();
            let da = design_for(&df, &Formula::parse("m ~ x").ok()?, &o).ok()?;
            let db = design_for(&df, &Formula::parse("y ~ m + x").ok()?, &o).ok()?;
            let pos = |d: &crate::formula::design::Design, t: &str| d.names.iter().position(|n| n == t);
            let data = MediationData {
                a: &da,
                ja: pos(&da, "x")?,
                b: &db,
                family: Family::Logit,
                jm: pos(&db, "m")?,
                jx: pos(&db, "x")?,
                jxm: None,
                vertices,
                n_vertices,
                shift: 1.0,
            };
            let g =
                gcomp_bootstrap(&data, None, 199, seed ^ r.random::<u64>(), 0.95, BootstrapMethod::OneStep, 0).ok()?;
            Some((g.acme.estimate, g.acme.conf_low, g.acme.conf_high))
        }
        "dyadic_ols" | "dyadic_ols_dyad_cluster" => {
            // 120 states, every undirected dyad, 2 years; the regressor and the
            // error each carry a shock of both member states, so dyads sharing
            // a state are correlated (Aronow, Samii and Assenova 2015).
            let states = 120;
            let v: Vec<f64> = (0..states).map(|_| n01.sample(r)).collect();
            let u: Vec<f64> = (0..states).map(|_| n01.sample(r)).collect();
            let (mut a, mut b, mut d) = (Vec::new(), Vec::new(), Vec::new());
            for _year in 0..2 {
                let mut id = 0.0;
                for i in 0..states {
                    for j in i + 1..states {
                        a.push(i as f64);
                        b.push(j as f64);
                        d.push(id);
                        id += 1.0;
                    }
                }
            }
            let x: Vec<f64> = a.iter().zip(&b).map(|(i, j)| v[*i as usize] + v[*j as usize] + n01.sample(r)).collect();
            let y = (0..x.len()).map(|k| 0.5 * x[k] + u[a[k] as usize] + u[b[k] as usize] + n01.sample(r)).collect();
            let o = opts(if case == "dyadic_ols" { "dyadic:a,b" } else { "cluster:d" })?;
            let df = frame(vec![("y", y), ("x", x), ("a", a), ("b", b), ("d", d)]);
            term(fit(&df, "y ~ x", Family::Gaussian, &o).ok()?, "x")
        }
        _ => None,
    }
}

/// One draw of the mediation worlds: x with a unit (state) component, m =
/// 0.5 x + a unit component + noise, y ~ Bernoulli(logistic(b0 - 0.8 m +
/// 0.2 x)). Unit case: 60 states x 20 years. Vertex case: 40 states, every
/// dyad, 3 years, each dyad's x and m carrying both states' components.
/// The rows' resampled units (one state, or a dyad's two) and their number.
fn nie_world(case: &str, r: &mut StdRng) -> (DataFrame, Vec<Vec<u32>>, usize) {
    let n01 = normal();
    let (mut x, mut m, mut y, mut vertices) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let states = match case {
        "nie_unit_bootstrap" => 60,
        "nie_vertex_bootstrap_80" => 80,
        _ => 40,
    };
    let s: Vec<f64> = (0..states).map(|_| 0.5 * n01.sample(r)).collect();
    let w: Vec<f64> = (0..states).map(|_| 0.5 * n01.sample(r)).collect();
    let mut push = |xi: f64, mi: f64, b0: f64, v: Vec<u32>, r: &mut StdRng| {
        x.push(xi);
        m.push(mi);
        y.push(bernoulli_logit(r, b0 - 0.8 * mi + 0.2 * xi));
        vertices.push(v);
    };
    if case == "nie_unit_bootstrap" {
        for i in 0..states {
            for _ in 0..20 {
                let xi = s[i] + n01.sample(r);
                let mi = 0.5 * xi + w[i] + n01.sample(r);
                push(xi, mi, -1.0, vec![i as u32], r);
            }
        }
    } else {
        for _ in 0..3 {
            for i in 0..states {
                for j in i + 1..states {
                    let xi = s[i] + s[j] + n01.sample(r);
                    let mi = 0.5 * xi + w[i] + w[j] + n01.sample(r);
                    push(xi, mi, -1.5, vec![i as u32, j as u32], r);
                }
            }
        }
    }
    (frame(vec![("y", y), ("x", x), ("m", m)]), vertices, states)
}

/// The population average natural indirect effect (ACME) of x -> x + 1 in
/// the worlds of [`nie_world`], by Monte Carlo over 2,000,000 draws of
/// (x, m) (fixed seed; its error is below 1e-4, a fiftieth of the
/// intervals' half-width).
fn nie_truth(case: &str) -> f64 {
    let n01 = normal();
    let mut r = StdRng::seed_from_u64(7);
    let (dyad, b0) = if case == "nie_unit_bootstrap" { (false, -1.0) } else { (true, -1.5) };
    let f = |t: f64, v: f64| 1.0 / (1.0 + (-(b0 - 0.8 * v + 0.2 * t)).exp());
    let draws = 2_000_000;
    let mut acc = 0.0;
    for _ in 0..draws {
        let comp = |r: &mut StdRng| {
            if dyad {
                0.5 * n01.sample(r) + 0.5 * n01.sample(r)
            } else {
                0.5 * n01.sample(r)
            }
        };
        let (su, wu) = (comp(&mut r), comp(&mut r));
        let x = su + n01.sample(&mut r);
        let m = 0.5 * x + wu + n01.sample(&mut r);
        let (m1, x1) = (m + 0.5, x + 1.0);
        acc += ((f(x, m1) - f(x, m)) + (f(x1, m1) - f(x1, m))) / 2.0;
    }
    acc / f64::from(draws)
}

fn describe(case: &str) -> (&'static str, f64) {
    match case {
        "nie_unit_bootstrap" => (
            "natural indirect effect (ACME, probability scale) of x -> x + 1, linear m, logit y, 60 states x 20, one-step unit bootstrap B = 199",
            nie_truth(case),
        ),
        "nie_vertex_bootstrap" => (
            "the same, 40 states, all dyads x 3 years, state shocks, one-step vertex bootstrap B = 199",
            nie_truth(case),
        ),
        // A dyad's bootstrap weight is the product of its two states'
        // multiplicities, whose variance is about 3, not 1: the vertex
        // bootstrap over-counts the dyads' own part of the variance (not
        // shared through a state), which shrinks relative to the states'
        // part as states grow (conservative at 40 states, less so at 80).
        "nie_vertex_bootstrap_80" => (
            "the same, 80 states, all dyads x 3 years, state shocks, one-step vertex bootstrap B = 199",
            nie_truth(case),
        ),
        "ols_iid" => ("OLS, n = 200, iid vcov", 0.5),
        "ols_cluster" => ("OLS, 50 clusters of 10, CR1 cluster vcov", 0.5),
        "twoway_fe_ols_cluster" => ("two-way FE OLS, 100 units x 10 periods, AR(1) errors, cluster by unit", 0.5),
        "logit" => ("logit, n = 1000, iid vcov", 0.5),
        "fe_logit_cluster" => ("logit with period FE, 100 units x 20 periods, cluster by unit", 0.5),
        "clogit_short_panel" => ("conditional logit, 400 units x 5 periods, unit effects correlated with x", 0.5),
        "fe_logit_short_panel" => {
            ("the same, logit with unit FE (incidental-parameter bias at T = 5: undercovers)", 0.5)
        }
        "poisson_fe_cluster" => ("Poisson with unit FE (PPML), 100 x 10, cluster by unit", 0.3),
        "cox_cluster" => ("Cox, 100 clusters of 10, dependent times, counting-process rows, Lin-Wei cluster vcov", 0.5),
        "mediation_bootstrap" => {
            ("indirect effect a x b (linear a, logit b), 60 units x 20, cluster bootstrap B = 199", -0.4)
        }
        "dyadic_ols" => ("OLS, 120 states x all dyads x 2 years, state shocks, dyadic-robust vcov", 0.5),
        "dyadic_ols_dyad_cluster" => {
            ("the same, clustered by dyad only (ignores dyads sharing a state: undercovers)", 0.5)
        }
        _ => ("unknown", f64::NAN),
    }
}

/// Coverage of the 95% intervals of `case` over `reps` replicates.
///
/// ```
/// let c = concord::study::coverage::coverage("ols_iid", 40, 1).unwrap();
/// assert_eq!(c.replicates, 40);
/// assert!(c.rate > 0.8);
/// ```
pub fn coverage(case: &str, reps: usize, seed: u64) -> Option<Coverage> {
    let k = CASES.iter().position(|c| *c == case)?;
    let (model, truth) = describe(case);
    let results: Vec<Option<(f64, f64, f64)>> =
        (0..reps).into_par_iter().map(|r| replicate(case, &mut rng(seed, k, r), seed)).collect();
    let ok: Vec<(f64, f64, f64)> = results.iter().flatten().copied().collect();
    let covered = ok.iter().filter(|(_, lo, hi)| *lo <= truth && truth <= *hi).count();
    Some(Coverage {
        case: case.into(),
        model: model.into(),
        replicates: reps,
        failed: reps - ok.len(),
        covered,
        rate: covered as f64 / ok.len().max(1) as f64,
        truth,
        mean_estimate: ok.iter().map(|o| o.0).sum::<f64>() / ok.len().max(1) as f64,
    })
}

/// Coverage of all cases, as a Markdown table.
pub fn markdown(rows: &[Coverage]) -> String {
    let mut s = String::from("| case | model | replicates | failed | covered | coverage | truth | mean estimate |\n|---|---|---|---|---|---|---|---|\n");
    for c in rows {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {:.3} | {} | {:.4} |\n",
            c.case, c.model, c.replicates, c.failed, c.covered, c.rate, c.truth, c.mean_estimate
        ));
    }
    s
}
