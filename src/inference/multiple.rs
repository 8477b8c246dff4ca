//! Multiple testing: adjusted p-values for a family of hypotheses.

/// Holm's step-down adjusted p-values (controls the family-wise error rate),
/// in the order of `p`.
///
/// ```
/// use concord::inference::multiple::holm;
/// assert_eq!(holm(&[0.01, 0.04, 0.03]), vec![0.03, 0.06, 0.06]);
/// ```
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]).then(a.cmp(&b)));
    let mut out = vec![0.0; m];
    let mut running: f64 = 0.0;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(((m - rank) as f64 * p[i]).min(1.0));
        out[i] = running;
    }
    out
}

/// Benjamini-Hochberg step-up adjusted p-values (controls the false discovery
/// rate), in the order of `p`.
///
/// ```
/// use concord::inference::multiple::benjamini_hochberg;
/// assert_eq!(benjamini_hochberg(&[0.01, 0.04, 0.03]), vec![0.03, 0.04, 0.04]);
/// ```
pub fn benjamini_hochberg(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[b].total_cmp(&p[a]).then(b.cmp(&a)));
    let mut out = vec![0.0; m];
    let mut running: f64 = 1.0;
    for (k, &i) in order.iter().enumerate() {
        let rank = (m - k) as f64;
        running = running.min((m as f64 / rank * p[i]).min(1.0));
        out[i] = running;
    }
    out
}
