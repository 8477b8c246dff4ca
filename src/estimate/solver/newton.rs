//! Newton's method with step halving, for smooth concave log-likelihoods.
//!
//! argmin's own `Newton` takes full steps and has no gradient-based stopping
//! rule; maximum likelihood needs both: a step is halved until the objective
//! does not get worse (so the fit cannot diverge from a far start), and the
//! solver stops when the gradient norm falls below a tolerance, or when the
//! Newton decrement `g' H^{-1} g` (the squared distance to the optimum in
//! standard-error units) is below `decrement_tol`: on large samples with
//! regressors of large scale (peace years cubed) the gradient has a
//! floating-point floor above any fixed tolerance, while the decrement
//! still says the estimates are within `1e-8` standard errors of the optimum.

use argmin::core::{
    CostFunction, Error, Gradient, Hessian, IterState, Problem, Solver, State as _, TerminationReason,
    TerminationStatus, KV,
};
use nalgebra::{DMatrix, DVector};

type State = IterState<DVector<f64>, DVector<f64>, (), DMatrix<f64>, (), f64>;

/// Damped Newton: `b - s H^{-1} g`, with `s` halved (up to `max_halvings` times)
/// until the cost does not increase. Converged when `|g|_inf < tol` or the
/// Newton decrement is below `decrement_tol`.
#[derive(Debug, Clone)]
pub struct DampedNewton {
    pub tol: f64,
    pub max_halvings: u32,
    pub decrement_tol: f64,
    /// With an exact Hessian (quadratic convergence), a full step taken from
    /// a point whose decrement is below this lands within about its square:
    /// stop there instead of paying one more evaluation to confirm (0 = off).
    pub finish_below: f64,
    /// Set when the last full Newton step was below `decrement_tol`.
    pub decrement_reached: bool,
}

impl Default for DampedNewton {
    fn default() -> Self {
        DampedNewton { tol: 1e-8, max_halvings: 30, decrement_tol: 1e-16, finish_below: 0.0, decrement_reached: false }
    }
}

/// A step where the Hessian is not positive definite (far from the optimum,
/// where some fitted probabilities are 0 or 1): the Newton step of the
/// Hessian with its diagonal raised by `lambda` times itself (Levenberg-
/// Marquardt), the smallest `lambda` from 1e-10 up that makes it positive
/// definite. The step still descends; the stopping rule is unchanged, so a
/// fit ends only where the gradient vanishes. None when no `lambda` up to
/// 1e10 does.
fn levenberg_step(hess: &DMatrix<f64>, grad: &DVector<f64>) -> Option<DVector<f64>> {
    let scale = hess.diagonal().iter().fold(0.0f64, |m, v| m.max(v.abs())).max(f64::MIN_POSITIVE);
    let mut lambda = 1e-10;
    while lambda <= 1e10 {
        let mut h = hess.clone();
        for i in 0..h.nrows() {
            h[(i, i)] += lambda * h[(i, i)].abs().max(1e-12 * scale);
        }
        if let Some(ch) = h.cholesky() {
            return Some(ch.solve(grad));
        }
        lambda *= 10.0;
    }
    None
}

/// Largest absolute entry (the convergence criterion).
pub fn inf_norm(v: &DVector<f64>) -> f64 {
    v.iter().fold(0.0f64, |m, x| m.max(x.abs()))
}

impl<O> Solver<O, State> for DampedNewton
where
    O: CostFunction<Param = DVector<f64>, Output = f64>
        + Gradient<Param = DVector<f64>, Gradient = DVector<f64>>
        + Hessian<Param = DVector<f64>, Hessian = DMatrix<f64>>,
{
    fn name(&self) -> &str {
        "damped Newton"
    }

    fn init(&mut self, problem: &mut Problem<O>, state: State) -> Result<(State, Option<KV>), Error> {
        let param = state.get_param().cloned().ok_or_else(|| Error::msg("DampedNewton needs a start"))?;
        let cost = problem.cost(&param)?;
        let grad = problem.gradient(&param)?;
        Ok((state.param(param).cost(cost).gradient(grad), None))
    }

    fn next_iter(&mut self, problem: &mut Problem<O>, mut state: State) -> Result<(State, Option<KV>), Error> {
        let param = state.take_param().ok_or_else(|| Error::msg("no parameter"))?;
        let grad = match state.take_gradient() {
            Some(g) => g,
            None => problem.gradient(&param)?,
        };
        let cost = state.get_cost();
        let hess = problem.hessian(&param)?;
        let step = match hess.clone().cholesky() {
            Some(ch) => ch.solve(&grad),
            None => levenberg_step(&hess, &grad).ok_or_else(|| Error::msg("singular Hessian"))?,
        };
        let decrement = grad.dot(&step);
        if decrement.is_finite() && decrement >= 0.0 && decrement < self.decrement_tol {
            self.decrement_reached = true;
        }
        let mut s = 1.0;
        let mut next = &param - &step * s;
        let mut next_cost = problem.cost(&next)?;
        let mut halvings = 0;
        let limit = cost + 1e-12 * cost.abs().max(1.0);
        // NaN (overflow) counts as worse.
        while (next_cost.is_nan() || next_cost > limit) && halvings < self.max_halvings {
            s *= 0.5;
            halvings += 1;
            next = &param - &step * s;
            next_cost = problem.cost(&next)?;
        }
        if halvings == 0 && decrement.is_finite() && decrement >= 0.0 && decrement < self.finish_below {
            self.decrement_reached = true;
        }
        let next_grad = problem.gradient(&next)?;
        let kv =
            argmin::kv!("step" => s; "gradient_inf_norm" => inf_norm(&next_grad); "newton_decrement" => decrement;);
        Ok((state.param(next).cost(next_cost).gradient(next_grad).hessian(hess), Some(kv)))
    }

    fn terminate(&mut self, state: &State) -> TerminationStatus {
        if self.decrement_reached {
            return TerminationStatus::Terminated(TerminationReason::SolverConverged);
        }
        match state.get_gradient() {
            Some(g) if inf_norm(g) < self.tol => TerminationStatus::Terminated(TerminationReason::SolverConverged),
            _ => TerminationStatus::NotTerminated,
        }
    }
}

/// Log-likelihood, score and information at a point: what a partial or
/// conditional likelihood (Cox, conditional logit) gives Newton.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub loglik: f64,
    pub score: DVector<f64>,
    pub information: DMatrix<f64>,
}

/// The maximum [`maximise`] reached: the problem back, the estimate, how the
/// search ended, the evaluation there and the log-likelihood at zero.
pub(crate) struct Maximum<P> {
    pub problem: P,
    pub beta: DVector<f64>,
    pub converged: bool,
    pub iterations: u64,
    pub at: Evaluation,
    pub loglik0: f64,
}

/// Maximise a likelihood of `k` coefficients from zero with [`DampedNewton`]
/// (gradient tolerance `tol`, stopping at a Newton decrement below 1e-12).
pub(crate) fn maximise<P>(
    problem: P,
    k: usize,
    tol: f64,
    max_iter: u64,
    evaluate: impl Fn(&P, &DVector<f64>) -> Evaluation,
) -> Result<Maximum<P>, Error>
where
    P: CostFunction<Param = DVector<f64>, Output = f64>
        + Gradient<Param = DVector<f64>, Gradient = DVector<f64>>
        + Hessian<Param = DVector<f64>, Hessian = DMatrix<f64>>,
{
    let loglik0 = evaluate(&problem, &DVector::zeros(k)).loglik;
    let solver = DampedNewton { tol, finish_below: 1e-12, ..Default::default() };
    let mut res = argmin::core::Executor::new(problem, solver)
        .configure(|s| s.param(DVector::zeros(k)).max_iters(max_iter))
        .run()?;
    let state = res.state();
    let converged = state.get_termination_reason() == Some(&TerminationReason::SolverConverged);
    let iterations = state.get_iter();
    let beta = state.get_param().cloned().unwrap_or_else(|| DVector::zeros(k));
    let problem = res.problem.take_problem().ok_or_else(|| Error::msg("the solver kept the problem"))?;
    let at = evaluate(&problem, &beta);
    Ok(Maximum { problem, beta, converged, iterations, at, loglik0 })
}

/// argmin's cost, gradient and Hessian for a problem whose `evaluate(&b)`
/// returns the log-likelihood, score and information at `b` (partial and
/// conditional likelihoods: Cox, conditional logit): Newton minimises minus
/// the log-likelihood; an infinite value is a step too far, not an error.
macro_rules! maximise_evaluated {
    ($problem:ty) => {
        impl argmin::core::CostFunction for $problem {
            type Param = nalgebra::DVector<f64>;
            type Output = f64;
            fn cost(&self, b: &nalgebra::DVector<f64>) -> Result<f64, argmin::core::Error> {
                let ll = self.evaluate(b).loglik;
                Ok(if ll.is_finite() { -ll } else { f64::INFINITY })
            }
        }

        impl argmin::core::Gradient for $problem {
            type Param = nalgebra::DVector<f64>;
            type Gradient = nalgebra::DVector<f64>;
            fn gradient(&self, b: &nalgebra::DVector<f64>) -> Result<nalgebra::DVector<f64>, argmin::core::Error> {
                Ok(-self.evaluate(b).score)
            }
        }

        impl argmin::core::Hessian for $problem {
            type Param = nalgebra::DVector<f64>;
            type Hessian = nalgebra::DMatrix<f64>;
            fn hessian(&self, b: &nalgebra::DVector<f64>) -> Result<nalgebra::DMatrix<f64>, argmin::core::Error> {
                Ok(self.evaluate(b).information)
            }
        }
    };
}
pub(crate) use maximise_evaluated;

#[cfg(test)]
mod tests {
    use super::*;
    use argmin::core::Executor;

    /// f(b) = sum cosh(b_i - i): smooth, convex, minimum at b_i = i.
    struct Cosh;
    impl CostFunction for Cosh {
        type Param = DVector<f64>;
        type Output = f64;
        fn cost(&self, b: &DVector<f64>) -> Result<f64, Error> {
            Ok(b.iter().enumerate().map(|(i, x)| (x - i as f64).cosh()).sum())
        }
    }
    impl Gradient for Cosh {
        type Param = DVector<f64>;
        type Gradient = DVector<f64>;
        fn gradient(&self, b: &DVector<f64>) -> Result<DVector<f64>, Error> {
            Ok(DVector::from_iterator(b.len(), b.iter().enumerate().map(|(i, x)| (x - i as f64).sinh())))
        }
    }
    impl Hessian for Cosh {
        type Param = DVector<f64>;
        type Hessian = DMatrix<f64>;
        fn hessian(&self, b: &DVector<f64>) -> Result<DMatrix<f64>, Error> {
            Ok(DMatrix::from_diagonal(&DVector::from_iterator(
                b.len(),
                b.iter().enumerate().map(|(i, x)| (x - i as f64).cosh()),
            )))
        }
    }

    #[test]
    fn converges_from_far_with_step_halving() {
        let res = Executor::new(Cosh, DampedNewton::default())
            .configure(|s| s.param(DVector::from_element(3, 25.0)).max_iters(200))
            .run()
            .unwrap();
        let st = res.state();
        assert_eq!(st.get_termination_reason(), Some(&TerminationReason::SolverConverged));
        let b = st.get_best_param().unwrap();
        for i in 0..3 {
            assert!((b[i] - i as f64).abs() < 1e-8);
        }
    }

    #[test]
    fn the_newton_decrement_stops_at_the_floating_point_floor() {
        // An unreachable gradient tolerance: only the decrement can stop it.
        let solver = DampedNewton { tol: 0.0, ..Default::default() };
        let res =
            Executor::new(Cosh, solver).configure(|s| s.param(DVector::from_element(3, 5.0)).max_iters(200)).run();
        let res = res.unwrap();
        let st = res.state();
        assert_eq!(st.get_termination_reason(), Some(&TerminationReason::SolverConverged));
        assert!(st.get_iter() < 30, "{} iterations", st.get_iter());
        assert!((st.get_best_param().unwrap()[2] - 2.0).abs() < 1e-8);
    }

    #[test]
    fn stops_at_max_iters_without_claiming_convergence() {
        let res = Executor::new(Cosh, DampedNewton::default())
            .configure(|s| s.param(DVector::from_element(3, 25.0)).max_iters(2))
            .run()
            .unwrap();
        assert_eq!(res.state().get_termination_reason(), Some(&TerminationReason::MaxItersReached));
    }
}
