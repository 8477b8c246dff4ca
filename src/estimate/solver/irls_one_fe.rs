//! IRLS with one absorbed fixed effect, in increment form, by the partitioned
//! inverse: the fixed effect's block of the information is diagonal, so a
//! step needs one pass over the rows and no demeaning (the general
//! `IrlsHdfe` demeans a copy of the regressors at every step).
//!
//! Each pass at `(beta, alpha)` forms every observation's working weight `w`
//! and residual `r`, and sums per group `W_g = sum w`, `R_g = sum w r`,
//! `S_g = sum w x` and overall `X'WX`, `X'Wr`. The weighted least-squares
//! increment of `r` on `[X, D]` is then
//! `(X'WX - sum_g S_g S_g' / W_g) d_beta = X'Wr - sum_g S_g R_g / W_g` and
//! `d_alpha_g = (R_g - S_g' d_beta) / W_g`: the step of `IrlsHdfe` with one
//! fixed effect, whose fixed point is where the score `X'Wr` and the group
//! sums `R_g` vanish, whatever the rounding in the information.
//! The regressors enter centred on their unweighted group means (the fixed
//! effect absorbs the shift), so `X'WX` and `sum_g S_g S_g' / W_g` stay of
//! the size of the within variation and their difference keeps its digits.
//!
//! The parameter is `[beta; alpha]` (`alpha` for the centred regressors);
//! [`IrlsOneFe::eta`] gives the linear predictor. It starts where it is
//! told: [`IrlsOneFe::start`] is the model of the fixed effect alone
//! (`beta = 0`, `alpha_g` the link of the group mean). A step is halved while
//! the deviance rises; it stops when the relative change in deviance is
//! below `tol`, as `IrlsHdfe`.

use argmin::core::{Error, IterState, Problem, Solver, State as _, TerminationStatus, KV};
use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;

use super::irls::WorkingModel;
use crate::estimate::{dot, wdot};
use crate::formula::design::Groups;

type State = IterState<DVector<f64>, (), (), (), (), f64>;

/// Rows per chunk of a pass; the chunks are fixed, and summed in order, so
/// the bits do not depend on the number of threads.
const CHUNK: usize = 1 << 14;

/// The sums of one pass.
#[derive(Debug, Clone)]
struct Sums {
    dev: f64,
    /// Per group: `W_g`, `R_g`, then `S_g` (`k` values).
    groups: Vec<f64>,
    xtwx: DMatrix<f64>,
    xtwr: DVector<f64>,
}

impl Sums {
    fn zeros(levels: usize, k: usize) -> Sums {
        Sums { dev: 0.0, groups: vec![0.0; levels * (k + 2)], xtwx: DMatrix::zeros(k, k), xtwr: DVector::zeros(k) }
    }

    fn add(&mut self, o: &Sums) {
        self.dev += o.dev;
        self.groups.iter_mut().zip(&o.groups).for_each(|(a, b)| *a += b);
        self.xtwx += &o.xtwx;
        self.xtwr += &o.xtwr;
    }
}

/// IRLS for a model with exactly one fixed effect.
#[derive(Debug, Clone)]
pub struct IrlsOneFe {
    pub tol: f64,
    /// The unweighted group means of the regressors (`levels x k`,
    /// row-major), given or made at the start.
    centre: Option<Vec<f64>>,
    /// The regressors centred on their group means, `n x k` column-major
    /// (made once, read by every pass).
    xc: Vec<f64>,
    /// The sums at the current parameter.
    sums: Option<Sums>,
    prev_dev: f64,
    /// Stop with an error when no step length lowers the deviance (see
    /// [`IrlsOneFe::strict`]).
    strict: bool,
}

impl IrlsOneFe {
    pub fn new(tol: f64) -> Self {
        IrlsOneFe { tol, centre: None, xc: Vec::new(), sums: None, prev_dev: f64::INFINITY, strict: false }
    }

    /// Give up (an error) when a step halved 30 times still raises the
    /// deviance beyond rounding, instead of taking it: for a fit whose
    /// failure costs nothing, such as a warm start's subsample, where a
    /// near-singular information can otherwise send the iterates off for
    /// every remaining iteration.
    pub fn strict(self) -> Self {
        IrlsOneFe { strict: true, ..self }
    }

    /// With the group means already known ([`group_means`]).
    pub fn with_centre(tol: f64, centre: Vec<f64>) -> Self {
        IrlsOneFe { centre: Some(centre), ..Self::new(tol) }
    }

    /// The start: `beta = 0` and each group's intercept the link of its mean
    /// outcome (the maximum of the fixed effect alone), from `link`.
    pub fn start<O: WorkingModel>(m: &O, link: impl Fn(f64) -> f64) -> DVector<f64> {
        let g = &m.fixed_effects()[0];
        let (mut s, mut c) = (vec![0.0f64; g.levels], vec![0.0f64; g.levels]);
        for (&id, y) in g.ids.iter().zip(m.y().iter()) {
            s[id as usize] += y;
            c[id as usize] += 1.0;
        }
        let k = m.x().ncols();
        DVector::from_iterator(
            k + g.levels,
            std::iter::repeat_n(0.0, k).chain(s.iter().zip(&c).map(|(s, c)| link(s / c.max(1.0)))),
        )
    }

    /// The linear predictor at `theta = [beta; alpha]`.
    pub fn eta<O: WorkingModel>(&self, m: &O, theta: &DVector<f64>) -> DVector<f64> {
        let (n, k) = m.x().shape();
        let mut eta = DVector::zeros(n);
        eta.as_mut_slice().par_chunks_mut(CHUNK).enumerate().for_each(|(c, out)| {
            self.eta_chunk(&m.fixed_effects()[0].ids, theta.as_slice(), k, n, c * CHUNK, out);
        });
        eta
    }

    /// The linear predictor of rows `lo..lo + out.len()`, column by column.
    fn eta_chunk(&self, ids: &[u32], theta: &[f64], k: usize, n: usize, lo: usize, out: &mut [f64]) {
        let hi = lo + out.len();
        for (e, &id) in out.iter_mut().zip(&ids[lo..hi]) {
            *e = theta[k + id as usize];
        }
        for (j, b) in theta[..k].iter().enumerate() {
            for (e, v) in out.iter_mut().zip(&self.xc[j * n + lo..j * n + hi]) {
                *e += v * b;
            }
        }
    }

    /// One pass at `theta`: the deviance and the sums of the step. Each
    /// chunk forms its linear predictor, evaluates the family once per row,
    /// then sums.
    fn pass<O: WorkingModel>(&self, m: &O, theta: &DVector<f64>) -> Sums {
        let (n, k) = m.x().shape();
        let g = &m.fixed_effects()[0];
        let y = m.y().as_slice();
        let parts: Vec<Sums> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            // Scratch rows of a chunk, reused across the chunks of a task
            // (fresh megabytes each time cost more in page faults than the
            // arithmetic); every value is written before it is read.
            .map_init(
                || (vec![0.0; CHUNK], vec![0.0; CHUNK], vec![0.0; CHUNK]),
                |(eta, w, wr), c| {
                    let (lo, hi) = (c * CHUNK, ((c + 1) * CHUNK).min(n));
                    let len = hi - lo;
                    let ids = &g.ids[lo..hi];
                    let mut s = Sums::zeros(g.levels, k);
                    let (eta, w, wr) = (&mut eta[..len], &mut w[..len], &mut wr[..len]);
                    self.eta_chunk(&g.ids, theta.as_slice(), k, n, lo, eta);
                    match m.prior() {
                        None => {
                            for (t, e) in eta.iter().enumerate() {
                                let (wi, fi, dev) = m.working_deviance(y[lo + t], *e);
                                s.dev += dev;
                                w[t] = wi;
                                wr[t] = fi;
                            }
                        }
                        Some(p) => {
                            for (t, e) in eta.iter().enumerate() {
                                let (wi, fi, dev) = m.working_deviance(y[lo + t], *e);
                                let a = p[lo + t];
                                s.dev += a * dev;
                                w[t] = a * wi;
                                wr[t] = a * fi;
                            }
                        }
                    }
                    let width = k + 2;
                    let col = |j: usize| &self.xc[j * n + lo..j * n + hi];
                    for (t, &id) in ids.iter().enumerate() {
                        let row = &mut s.groups[id as usize * width..(id as usize + 1) * width];
                        row[0] += w[t];
                        row[1] += wr[t];
                        for (j, r) in row[2..].iter_mut().enumerate() {
                            *r += w[t] * self.xc[j * n + lo + t];
                        }
                    }
                    for a in 0..k {
                        for b in a..k {
                            let v = wdot(col(a), w, col(b));
                            s.xtwx[(a, b)] = v;
                            s.xtwx[(b, a)] = v;
                        }
                        s.xtwr[a] = dot(col(a), wr);
                    }
                    s
                },
            )
            .collect();
        let mut total = Sums::zeros(g.levels, k);
        for p in &parts {
            total.add(p);
        }
        total.dev *= 2.0;
        total
    }

    /// The increment of `[beta; alpha]` from the sums at the current point.
    fn increment(s: &Sums, k: usize, levels: usize) -> Result<DVector<f64>, Error> {
        let mut h = s.xtwx.clone();
        let mut grad = s.xtwr.clone();
        for row in s.groups.chunks_exact(k + 2) {
            if row[0] > 0.0 {
                let sg = &row[2..];
                for a in 0..k {
                    grad[a] -= sg[a] * row[1] / row[0];
                    for b in 0..k {
                        h[(a, b)] -= sg[a] * sg[b] / row[0];
                    }
                }
            }
        }
        let d_beta = if k == 0 {
            DVector::zeros(0)
        } else {
            h.cholesky().ok_or_else(|| Error::msg("X'WX is singular"))?.solve(&grad)
        };
        let mut d = DVector::zeros(k + levels);
        d.rows_mut(0, k).copy_from(&d_beta);
        for (l, row) in s.groups.chunks_exact(k + 2).enumerate() {
            if row[0] > 0.0 {
                let sd: f64 = row[2..].iter().zip(d_beta.iter()).map(|(a, b)| a * b).sum();
                d[k + l] = (row[1] - sd) / row[0];
            }
        }
        Ok(d)
    }
}

/// The unweighted mean of every regressor in every group, `levels x k`
/// row-major (zero for an empty group).
pub fn group_means(x: &DMatrix<f64>, g: &Groups) -> Vec<f64> {
    let (n, k) = x.shape();
    let mut centre = vec![0.0; g.levels * k];
    let mut count = vec![0.0f64; g.levels];
    for &id in &g.ids {
        count[id as usize] += 1.0;
    }
    for (j, col) in x.as_slice().chunks(n.max(1)).enumerate().take(k) {
        for (v, &id) in col.iter().zip(&g.ids) {
            centre[id as usize * k + j] += v;
        }
    }
    for (l, c) in count.iter().enumerate() {
        centre[l * k..(l + 1) * k].iter_mut().for_each(|v| *v /= c.max(1.0));
    }
    centre
}

impl<O: WorkingModel> Solver<O, State> for IrlsOneFe {
    fn name(&self) -> &str {
        "IRLS with one fixed effect"
    }

    fn init(&mut self, problem: &mut Problem<O>, state: State) -> Result<(State, Option<KV>), Error> {
        let theta = state.get_param().cloned().ok_or_else(|| Error::msg("IRLS needs a start"))?;
        let sums = problem.problem("irls start", |m| {
            if m.fixed_effects().len() != 1 {
                return Err(Error::msg("IrlsOneFe takes exactly one fixed effect"));
            }
            let (n, k) = m.x().shape();
            let g = &m.fixed_effects()[0];
            let centre = self.centre.get_or_insert_with(|| group_means(m.x(), g));
            if centre.len() != g.levels * k {
                return Err(Error::msg("IrlsOneFe: the group means do not match the design"));
            }
            let mut xc = m.x().as_slice().to_vec();
            for (j, col) in xc.chunks_mut(n.max(1)).enumerate() {
                for (v, &id) in col.iter_mut().zip(&g.ids) {
                    *v -= centre[id as usize * k + j];
                }
            }
            self.xc = xc;
            Ok(self.pass(m, &theta))
        })?;
        let dev = sums.dev;
        self.sums = Some(sums);
        Ok((state.param(theta).cost(dev), None))
    }

    fn next_iter(&mut self, problem: &mut Problem<O>, mut state: State) -> Result<(State, Option<KV>), Error> {
        let theta = state.take_param().ok_or_else(|| Error::msg("no parameter"))?;
        let dev_old = state.get_cost();
        self.prev_dev = dev_old;
        let sums = self.sums.take().ok_or_else(|| Error::msg("no sums at the current point"))?;
        let (next, sums, halvings) = problem.problem("irls step", |m| {
            let k = m.x().ncols();
            let d = Self::increment(&sums, k, m.fixed_effects()[0].levels)?;
            let mut step = 1.0;
            let mut next = &theta + &d;
            let mut s = self.pass(m, &next);
            let mut halvings = 0;
            while (!s.dev.is_finite() || s.dev > dev_old * (1.0 + 1e-12)) && halvings < 30 {
                step *= 0.5;
                halvings += 1;
                next = &theta + &d * step;
                s = self.pass(m, &next);
            }
            // A step a billion times shorter that still raises the deviance
            // beyond rounding: the direction is wrong (a near-singular
            // information); a strict fit gives up.
            if self.strict && (!s.dev.is_finite() || s.dev > dev_old * (1.0 + 1e-9)) {
                return Err(Error::msg(format!(
                    "IRLS: the deviance rose from {dev_old} at every step length down to 2^-30"
                )));
            }
            Ok((next, s, halvings))
        })?;
        let dev = sums.dev;
        self.sums = Some(sums);
        let kv = argmin::kv!("deviance" => dev; "halvings" => halvings;);
        Ok((state.param(next).cost(dev), Some(kv)))
    }

    fn terminate(&mut self, state: &State) -> TerminationStatus {
        super::irls::deviance_converged(state, self.prev_dev, self.tol)
    }
}
