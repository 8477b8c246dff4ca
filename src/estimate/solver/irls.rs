//! Iteratively reweighted least squares with high-dimensional fixed effects
//! (the algorithm of fixest's `feglm` / `fepois` and Stata's `ppmlhdfe`).
//!
//! The state's parameter is the linear predictor `eta` (one value per
//! observation, fixed effects included); each iteration forms the working
//! response and weights, demeans them with the weights, solves the weighted
//! least-squares problem and halves the step while the deviance rises. It stops
//! when the relative change in deviance is below `tol`.

use argmin::core::{Error, IterState, Problem, Solver, State as _, TerminationReason, TerminationStatus, KV};
use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;

use crate::estimate::demean::demean;
use crate::estimate::{wdot, weighted_gram};
use crate::formula::design::Groups;

type State = IterState<DVector<f64>, (), (), (), (), f64>;

/// A GLM with fixed effects: what IRLS needs from the model.
pub trait WorkingModel: Sync {
    fn x(&self) -> &DMatrix<f64>;
    fn fixed_effects(&self) -> &[Groups];
    /// Mean from the linear predictor.
    fn mean(&self, eta: f64) -> f64;
    /// Working weight (variance function times link derivative squared).
    fn weight(&self, mu: f64) -> f64;
    /// Deviance contribution of one observation with mean `mu`.
    fn unit_deviance(&self, y: f64, mu: f64) -> f64;
    fn y(&self) -> &DVector<f64>;
    /// Working weight and working residual `z - eta` of an observation at
    /// `eta`. The default is the canonical link's, `(V(mu), (y - mu) / V(mu))`;
    /// other links (probit) override it.
    fn working(&self, y: f64, eta: f64) -> (f64, f64) {
        let mu = self.mean(eta);
        let w = self.weight(mu);
        (w, (y - mu) / w.max(1e-300))
    }
    /// Working weight `w`, score factor `w (z - eta)` and deviance
    /// contribution at `eta` in one evaluation, so that a family can share
    /// its exponentials between them (the hot loop of [`super::IrlsOneFe`]).
    fn working_deviance(&self, y: f64, eta: f64) -> (f64, f64, f64) {
        let (w, r) = self.working(y, eta);
        (w, w * r, self.unit_deviance(y, self.mean(eta)))
    }
    /// Prior (observation) weights: each row's deviance, working weight and
    /// score count this many times. None: all 1.
    fn prior(&self) -> Option<&[f64]> {
        None
    }
}

/// The model's deviance at linear predictor `eta`: summed in parallel over
/// fixed chunks, in a fixed order (the bits do not depend on the threads).
fn deviance<O: WorkingModel>(m: &O, eta: &DVector<f64>) -> f64 {
    let y = m.y().as_slice();
    let parts: Vec<f64> = match m.prior() {
        None => eta
            .as_slice()
            .par_chunks(1 << 14)
            .zip(y.par_chunks(1 << 14))
            .map(|(e, y)| e.iter().zip(y).map(|(e, y)| m.unit_deviance(*y, m.mean(*e))).sum::<f64>())
            .collect(),
        Some(p) => eta
            .as_slice()
            .par_chunks(1 << 14)
            .zip(y.par_chunks(1 << 14))
            .zip(p.par_chunks(1 << 14))
            .map(|((e, y), p)| {
                e.iter().zip(y).zip(p).map(|((e, y), p)| p * m.unit_deviance(*y, m.mean(*e))).sum::<f64>()
            })
            .collect(),
    };
    2.0 * parts.iter().sum::<f64>()
}

/// IRLS with fixed effects absorbed by weighted demeaning.
#[derive(Debug, Clone)]
pub struct IrlsHdfe {
    pub tol: f64,
    pub demean_tol: f64,
    /// The coefficients of the last weighted least-squares step.
    pub beta: Option<DVector<f64>>,
    /// The demeaned regressors, kept across iterations: the next step's
    /// demeaning starts from them (a warm start, as ppmlhdfe and fixest do:
    /// `x - D a` for the last weights' group effects `a` lies in the same
    /// affine space `x + span(D)` as `x`, and the weighted alternating
    /// projections converge to the same point from anywhere in it, in fewer
    /// sweeps from nearby). Allocating `n x k` afresh each time also cost
    /// more in page faults than the arithmetic.
    xt: Option<DMatrix<f64>>,
    /// The working outcome's absorbed part `z - z~` of the last step: the
    /// next working outcome's demeaning starts from `z - (z_prev - z~_prev)`.
    z_fe: Option<DVector<f64>>,
    prev_dev: f64,
}

impl IrlsHdfe {
    pub fn new(tol: f64) -> Self {
        IrlsHdfe { tol, demean_tol: 1e-12, beta: None, xt: None, z_fe: None, prev_dev: f64::INFINITY }
    }
}

impl<O: WorkingModel> Solver<O, State> for IrlsHdfe {
    fn name(&self) -> &str {
        "IRLS with fixed effects"
    }

    fn init(&mut self, _problem: &mut Problem<O>, state: State) -> Result<(State, Option<KV>), Error> {
        // The start (a smoothed outcome) is not in the model's span, so its
        // deviance can lie below the model's minimum: the first step is taken
        // in full, and the deviance is compared from then on.
        let eta = state.get_param().cloned().ok_or_else(|| Error::msg("IRLS needs a start"))?;
        Ok((state.param(eta).cost(f64::INFINITY), None))
    }

    fn next_iter(&mut self, problem: &mut Problem<O>, mut state: State) -> Result<(State, Option<KV>), Error> {
        let eta = state.take_param().ok_or_else(|| Error::msg("no linear predictor"))?;
        let dev_old = state.get_cost();
        self.prev_dev = dev_old;
        let (tol, beta_slot, xt_slot, z_fe_slot) = (self.demean_tol, &mut self.beta, &mut self.xt, &mut self.z_fe);
        let (eta_new, dev, halvings) = problem.problem("irls step", |m| {
            let y = m.y();
            let prior = m.prior();
            let (w, z): (Vec<f64>, Vec<f64>) = (0..y.len())
                .into_par_iter()
                .map(|i| {
                    let (w, r) = m.working(y[i], eta[i]);
                    (prior.map_or(w, |p| w * p[i]), eta[i] + r)
                })
                .unzip();
            let z = DVector::from_vec(z);
            // Warm starts: the last step's demeaned regressors, and the
            // working outcome less the last step's absorbed part.
            let mut zt = match z_fe_slot.as_ref() {
                Some(fe) if fe.len() == z.len() => &z - fe,
                _ => z.clone(),
            };
            let xt = match xt_slot {
                Some(b) if b.shape() == m.x().shape() => b,
                slot => slot.insert(m.x().clone()),
            };
            let info = demean(&mut zt, xt, m.fixed_effects(), Some(&w), tol, 100_000);
            if !info.converged {
                return Err(Error::msg(format!("weighted demeaning did not converge in {} sweeps", info.iterations)));
            }
            *z_fe_slot = Some(&z - &zt);
            let xtwx = weighted_gram(xt, &w);
            let n = y.len();
            let xtwz = DVector::from_fn(xt.ncols(), |j, _| wdot(&xt.as_slice()[j * n..(j + 1) * n], &w, zt.as_slice()));
            let ch = xtwx.cholesky().ok_or_else(|| Error::msg("X'WX is singular"))?;
            let beta = ch.solve(&xtwz);
            let resid = &zt - &*xt * &beta;
            let target = &z - resid;
            let mut step = 1.0;
            let mut next = target.clone();
            let mut dev = deviance(m, &next);
            let mut halvings = 0;
            while (!dev.is_finite() || dev > dev_old * (1.0 + 1e-12)) && halvings < 30 {
                step *= 0.5;
                halvings += 1;
                next = &eta + (&target - &eta) * step;
                dev = deviance(m, &next);
            }
            *beta_slot = Some(beta);
            Ok((next, dev, halvings))
        })?;
        let kv = argmin::kv!("deviance" => dev; "halvings" => halvings;);
        Ok((state.param(eta_new).cost(dev), Some(kv)))
    }

    fn terminate(&mut self, state: &State) -> TerminationStatus {
        deviance_converged(state, self.prev_dev, self.tol)
    }
}

/// The IRLS stopping rule (fixest's): after the first step, the relative
/// change in deviance `|dev_old - dev| / (0.1 + |dev|)` below `tol`.
pub(super) fn deviance_converged(state: &State, prev_dev: f64, tol: f64) -> TerminationStatus {
    let dev = state.get_cost();
    if state.get_iter() > 0 && (prev_dev - dev).abs() / (0.1 + dev.abs()) < tol {
        TerminationStatus::Terminated(TerminationReason::SolverConverged)
    } else {
        TerminationStatus::NotTerminated
    }
}
