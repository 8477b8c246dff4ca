//! Gaussian family: least squares, with any number of fixed effects absorbed by
//! demeaning (Frisch-Waugh-Lovell), the estimator of fixest's `feols`.

use super::demean::{cluster_k, demean_with_slopes, fe_dof};
use super::{collinear_columns, scale_rows, EstimateError, Estimates, FitOptions};
use crate::formula::design::Design;
use crate::inference::dyadic::{dyadic, members_of};
use crate::inference::{cr1, default_dk_lags, driscoll_kraay, hc_leverage, sandwich, Dist, VcovSpec};

/// Fit by least squares; `design` loses any collinear columns.
pub(crate) fn fit_ols(design: &mut Design, opts: &FitOptions) -> Result<Estimates, EstimateError> {
    let y_raw = design.y.clone();
    let mut y = design.y.clone();
    let mut x = design.x.clone();
    let weights = design.weights.clone();
    let w = weights.as_deref();
    let info = demean_with_slopes(&mut y, &mut x, &design.fixed_effects, &design.slopes, w, 1e-13, 100_000);
    if !info.converged {
        return Err(EstimateError::DemeanNotConverged(info.iterations));
    }
    // Weighted least squares is least squares on rows scaled by sqrt(w):
    // the residuals, scores and every vcov below follow (as fixest).
    let sqrt_w: Option<Vec<f64>> = w.map(|w| w.iter().map(|v| v.sqrt()).collect());
    if let Some(s) = &sqrt_w {
        x = super::scale_rows_in_place(x, s);
        y.iter_mut().zip(s).for_each(|(v, s)| *v *= s);
    }
    let drop = if design.fixed_effects.is_empty() && design.slopes.is_empty() {
        collinear_columns(&super::gram(&x), super::COLLIN_TOL)
    } else {
        // Absorbed by the fixed effects: what is left after demeaning, against
        // the column before, both on the scale of the weighted rows.
        match &sqrt_w {
            Some(s) => super::fe_collinear_columns(&super::scale_rows_in_place(design.x.clone(), s), &x),
            None => super::fe_collinear_columns(&design.x, &x),
        }
    };
    if !drop.is_empty() {
        design.drop_columns(&drop);
        x = x.remove_columns_at(&drop);
    }
    if x.ncols() == 0 {
        return Err(EstimateError::NoRegressors(design.dropped.collinear.join(", ")));
    }
    let xtx = x.tr_mul(&x);
    let ch =
        xtx.clone().cholesky().ok_or_else(|| EstimateError::NoRegressors("X'X is not positive definite".into()))?;
    let bread = ch.inverse();
    let beta = ch.solve(&x.tr_mul(&y));
    let e = &y - &x * &beta;
    if !design.fixed_effects.is_empty() || !design.slopes.is_empty() {
        // The fixed effects' (and absorbed slopes') sum on each row, for
        // predictions and margins.
        let mut e_raw = e.clone();
        if let Some(s) = &sqrt_w {
            e_raw.iter_mut().zip(s).for_each(|(v, s)| *v /= s);
        }
        design.fe_eta = Some(&y_raw - &design.x * &beta - &e_raw);
    }
    let n = y.len() as f64;
    let k = x.ncols();
    // Each varying slope is one parameter per group (as fixest counts them).
    let n_slopes: usize = design.slopes.iter().map(|s| s.groups.levels).sum();
    let fe_all = fe_dof(&design.fixed_effects) + n_slopes;
    let big_k = (k + fe_all) as f64;
    let rss = e.norm_squared();
    // Weighted: the weighted mean and sum of squares (fixest's weighted R2).
    let ones = vec![1.0; y_raw.len()];
    let wt = w.unwrap_or(&ones);
    let sw: f64 = wt.iter().sum();
    let mean = y_raw.iter().zip(wt).map(|(y, w)| y * w).sum::<f64>() / sw;
    let tss = y_raw.iter().zip(wt).map(|(v, w)| w * (v - mean).powi(2)).sum::<f64>();
    let y2_raw = y_raw.iter().zip(wt).map(|(v, w)| w * v * v).sum::<f64>();
    let has_fe = !design.fixed_effects.is_empty() || !design.slopes.is_empty();
    let has_intercept = design.names.first().is_some_and(|n| n == "(Intercept)");
    // Without an intercept or fixed effects, R2 is uncentred (as statsmodels).
    let centred = has_intercept || has_fe;
    let r2 = 1.0 - rss / if centred { tss } else { y2_raw };
    let adj_r2 = 1.0 - (1.0 - r2) * (n - f64::from(u8::from(centred))) / (n - big_k);
    let within_r2 = has_fe.then(|| 1.0 - rss / y.norm_squared());
    // Weighted: the normal likelihood with variance sigma^2 / w_i, as R's lm
    // (the residual sum of squares is the weighted one).
    let loglik = -n / 2.0 * ((2.0 * std::f64::consts::PI * rss / n).ln() + 1.0)
        + w.map_or(0.0, |w| 0.5 * w.iter().map(|v| v.ln()).sum::<f64>());

    let scores = scale_rows(&x, e.as_slice());
    let (cov, dist, df_resid) = match &opts.vcov {
        VcovSpec::Iid => {
            let s2 = rss / (n - big_k);
            (&bread * s2, Dist::T(n - big_k), n - big_k)
        }
        VcovSpec::Hc(h) => {
            if *h >= 2 && has_fe {
                return Err(EstimateError::NotYet("hc2/hc3 with fixed effects".into()));
            }
            let v = match h {
                0 => sandwich(&bread, &scores, None),
                1 => sandwich(&bread, &scores, None) * (n / (n - big_k)),
                _ => hc_leverage(&bread, &x, &scores, None, *h),
            };
            (v, Dist::T(n - big_k), n - big_k)
        }
        VcovSpec::DriscollKraay { lags, .. } => {
            let periods = design.periods.as_deref().unwrap_or_default();
            let t = periods.iter().max().map_or(0, |m| *m as usize + 1);
            let l = lags.unwrap_or_else(|| default_dk_lags(t));
            // linearmodels' kernel covariance: scaled by n / (n - K).
            let v = driscoll_kraay(&bread, &scores, periods, l) * (n / (n - big_k));
            (v, Dist::T((t - 1) as f64), (t - 1) as f64)
        }
        VcovSpec::Cluster(_) => {
            let kk = cluster_k(k, &design.fixed_effects, &design.clusters) + n_slopes as f64;
            let (v, g) = cr1(&bread, &scores, &design.clusters, kk);
            (v, Dist::T(g - 1.0), g - 1.0)
        }
        VcovSpec::Dyadic(..) => {
            // K and the t(G - 1) reference as for cluster:A,B.
            let kk = cluster_k(k, &design.fixed_effects, &design.clusters) + n_slopes as f64;
            let (v, g) = dyadic(&bread, &scores, members_of(design.members.as_ref())?, kk)?;
            (v, Dist::T(g - 1.0), g - 1.0)
        }
    };
    Ok(Estimates {
        beta,
        cov,
        dist,
        df_resid,
        loglik: Some(loglik),
        r2: Some(r2),
        adj_r2: Some(adj_r2),
        within_r2,
        pseudo_r2: None,
        converged: true,
        iterations: info.iterations as u64,
        gradient_norm: x.tr_mul(&e).iter().fold(0.0f64, |m, v| m.max(v.abs())),
        identification: crate::inference::least_identified(&bread),
        notes: Vec::new(),
    })
}
