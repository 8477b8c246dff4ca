//! Gaussian family: least squares, with any number of fixed effects absorbed by
//! demeaning (Frisch-Waugh-Lovell), the estimator of fixest's `feols`.

use nalgebra::DVector;

use super::demean::{cluster_k, demean_with_slopes, fe_dof};
use super::{collinear_columns, scale_rows, EstimateError, Estimates, FitOptions};
use crate::formula::design::Design;
use crate::inference::dyadic::{dyadic, members_of};
use crate::inference::{cr1, cr1_from_factors, default_dk_lags, driscoll_kraay, hc_leverage, sandwich, Dist, VcovSpec};

/// Fit by least squares; `design` loses any collinear columns.
pub(crate) fn fit_ols(design: &mut Design, opts: &FitOptions) -> Result<Estimates, EstimateError> {
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
    let has_fe = !design.fixed_effects.is_empty() || !design.slopes.is_empty();
    // X'X of the (demeaned, weighted) rows, which also finds the collinear columns.
    let mut xtx = super::gram(&x);
    let drop = if has_fe {
        // Absorbed by the fixed effects: what is left after demeaning, against
        // the column before, both on the scale of the weighted rows.
        let before: Vec<f64> = design
            .x
            .column_iter()
            .map(|c| match w {
                Some(w) => super::wdot(c.as_slice(), w, c.as_slice()),
                None => super::dot(c.as_slice(), c.as_slice()),
            })
            .collect();
        super::fe_collinear_from_gram(&before, &xtx)
    } else {
        collinear_columns(&xtx, super::COLLIN_TOL)
    };
    if !drop.is_empty() {
        design.drop_columns(&drop);
        x = x.remove_columns_at(&drop);
        xtx = xtx.remove_columns_at(&drop).remove_rows_at(&drop);
    }
    if x.ncols() == 0 {
        return Err(EstimateError::NoRegressors(design.dropped.collinear.join(", ")));
    }
    let (n_rows, k) = x.shape();
    let col = |j: usize| &x.as_slice()[j * n_rows..(j + 1) * n_rows];
    let ch = xtx.cholesky().ok_or_else(|| EstimateError::NoRegressors("X'X is not positive definite".into()))?;
    let bread = ch.inverse();
    let xty = DVector::from_iterator(k, (0..k).map(|j| super::dot(col(j), y.as_slice())));
    let beta = ch.solve(&xty);
    // The residuals overwrite the (demeaned) outcome, whose sum of squares
    // the within R2 needs first.
    let yy = super::dot(y.as_slice(), y.as_slice());
    let mut e = y;
    super::sub_xb(e.as_mut_slice(), &x, beta.as_slice());
    if has_fe {
        // The fixed effects' (and absorbed slopes') sum on each row, for
        // predictions and margins: y - X b - e on the rows' own scale.
        let mut fe_eta = design.y.clone();
        super::sub_xb(fe_eta.as_mut_slice(), &design.x, beta.as_slice());
        match &sqrt_w {
            Some(s) => fe_eta.iter_mut().zip(e.iter().zip(s)).for_each(|(v, (e, s))| *v -= e / s),
            None => fe_eta.iter_mut().zip(e.iter()).for_each(|(v, e)| *v -= e),
        }
        design.fe_eta = Some(fe_eta);
    }
    let y_raw = &design.y;
    let n = e.len() as f64;
    // Each varying slope is one parameter per group (as fixest counts them).
    let n_slopes: usize = design.slopes.iter().map(|s| s.groups.levels).sum();
    let fe_all = fe_dof(&design.fixed_effects) + n_slopes;
    let big_k = (k + fe_all) as f64;
    let rss = super::dot(e.as_slice(), e.as_slice());
    // Weighted: the weighted mean and sum of squares (fixest's weighted R2).
    let (tss, y2_raw) = match w {
        Some(w) => {
            let sw: f64 = w.iter().sum();
            let mean = y_raw.iter().zip(w).map(|(y, w)| y * w).sum::<f64>() / sw;
            let tss = y_raw.iter().zip(w).map(|(v, w)| w * (v - mean).powi(2)).sum::<f64>();
            (tss, y_raw.iter().zip(w).map(|(v, w)| w * v * v).sum::<f64>())
        }
        None => {
            let mean = y_raw.iter().sum::<f64>() / n;
            (y_raw.iter().map(|v| (v - mean).powi(2)).sum::<f64>(), y_raw.iter().map(|v| v * v).sum::<f64>())
        }
    };
    let has_intercept = design.names.first().is_some_and(|n| n == "(Intercept)");
    // Without an intercept or fixed effects, R2 is uncentred (as statsmodels).
    let centred = has_intercept || has_fe;
    let r2 = 1.0 - rss / if centred { tss } else { y2_raw };
    let adj_r2 = 1.0 - (1.0 - r2) * (n - f64::from(u8::from(centred))) / (n - big_k);
    let within_r2 = has_fe.then(|| 1.0 - rss / yy);
    // Weighted: the normal likelihood with variance sigma^2 / w_i, as R's lm
    // (the residual sum of squares is the weighted one).
    let loglik = -n / 2.0 * ((2.0 * std::f64::consts::PI * rss / n).ln() + 1.0)
        + w.map_or(0.0, |w| 0.5 * w.iter().map(|v| v.ln()).sum::<f64>());
    let gradient_norm = (0..k).map(|j| super::dot(col(j), e.as_slice()).abs()).fold(0.0f64, f64::max);

    // The rows' scores, for the covariances that read them row by row.
    let scores = || scale_rows(&x, e.as_slice());
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
                0 => sandwich(&bread, &scores(), None),
                1 => sandwich(&bread, &scores(), None) * (n / (n - big_k)),
                _ => hc_leverage(&bread, &x, &scores(), None, *h),
            };
            (v, Dist::T(n - big_k), n - big_k)
        }
        VcovSpec::DriscollKraay { lags, .. } => {
            let periods = design.periods.as_deref().unwrap_or_default();
            let t = periods.iter().max().map_or(0, |m| *m as usize + 1);
            let l = lags.unwrap_or_else(|| default_dk_lags(t));
            // linearmodels' kernel covariance: scaled by n / (n - K).
            let v = driscoll_kraay(&bread, &scores(), periods, l) * (n / (n - big_k));
            (v, Dist::T((t - 1) as f64), (t - 1) as f64)
        }
        VcovSpec::Cluster(_) => {
            let kk = cluster_k(k, &design.fixed_effects, &design.clusters) + n_slopes as f64;
            let (v, g) = match &design.clusters[..] {
                // One-way: the cluster sums straight from X and the residuals.
                [g] => (cr1_from_factors(&bread, &x, e.as_slice(), g, kk), g.levels as f64),
                cl => cr1(&bread, &scores(), cl, kk),
            };
            (v, Dist::T(g - 1.0), g - 1.0)
        }
        VcovSpec::Dyadic(..) => {
            // K and the t(G - 1) reference as for cluster:A,B.
            let kk = cluster_k(k, &design.fixed_effects, &design.clusters) + n_slopes as f64;
            let (v, g) = dyadic(&bread, &scores(), members_of(design.members.as_ref())?, kk)?;
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
        gradient_norm,
        identification: crate::inference::least_identified(&bread),
        notes: Vec::new(),
    })
}
