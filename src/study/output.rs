//! Writing a study's results: every fit as tidy JSON, `verdicts.json`,
//! `sensitivity.json`, `verdicts.md` and `manifest.json` (the only file with timings, so the
//! others are byte-identical between runs with the same input and seed).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::run::{Events, SpecResult, StudyResult};
use super::spec::Kind;
use super::StudyError;
use crate::data::registry::sha256_file;
use crate::data::write::write_text;
use crate::report::tables::md_row;

/// A number in the study's Markdown: four decimals, scientific below 1e-3,
/// `–` when missing (shared by the event-study and sensitivity sections).
pub(super) fn num(v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(v) if !v.is_finite() => "–".into(),
        Some(v) if v != 0.0 && v.abs() < 1e-3 => format!("{v:.2e}"),
        Some(v) => format!("{v:.4}"),
    }
}

/// A p-value in the study's Markdown (`< 1e-16` at the floating-point floor).
pub(crate) fn pval(v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(v) if v < 1e-16 => "< 1e-16".into(),
        Some(v) if v < 1e-4 => format!("{v:.1e}"),
        Some(v) => format!("{v:.4}"),
    }
}

fn ci(r: &SpecResult) -> String {
    match (r.conf_low, r.conf_high) {
        (Some(a), Some(b)) => format!("[{}, {}]", num(Some(a)), num(Some(b))),
        _ => "–".into(),
    }
}

fn file_stem(id: &str, spec: &str) -> String {
    let clean =
        |s: &str| s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect::<String>();
    format!("{}__{}.json", clean(id), clean(spec))
}

/// What the main model's sample keeps of the outcome's events, in words
/// (the referee asked for the events lost to missing data under every model).
///
/// ```
/// use concord::study::run::Events;
/// let e = Events { outcome: "mid_onset".into(), in_sample: 79, in_panel: 100 };
/// let s = concord::study::output::events_sentence(&e);
/// assert!(s.contains("79 of the 100 events") && s.contains("21 (21.0%) are lost"));
/// ```
/// `<stem>.json` and `tables/<stem>.{md,html,tex}` in `out`: a section's
/// result as JSON and its table in each format (`table` draws it).
pub(super) fn write_json_and_tables<T: Serialize>(
    out: &Path,
    stem: &str,
    value: &T,
    table: impl Fn(crate::report::tables::Format) -> String,
) -> Result<Vec<PathBuf>, StudyError> {
    use crate::report::tables::Format;
    let json = serde_json::to_string_pretty(value).map_err(|e| StudyError::Output(e.to_string()))?;
    let p = out.join(format!("{stem}.json"));
    write_text(&p, &json)?;
    let mut written = vec![p];
    for (format, ext) in [(Format::Markdown, "md"), (Format::Html, "html"), (Format::Latex, "tex")] {
        let p = out.join("tables").join(format!("{stem}.{ext}"));
        write_text(&p, &table(format))?;
        written.push(p);
    }
    Ok(written)
}

pub fn events_sentence(e: &Events) -> String {
    let outcome = &e.outcome;
    let share = if e.in_panel > 0 { 100.0 * e.lost() as f64 / e.in_panel as f64 } else { 0.0 };
    format!(
        "Events: {} of the {} events (`{outcome}` = 1) in the panel's rows of the model's years are in the main model's sample; {} ({share:.1}%) are lost to missing values of its regressors (lags included).",
        e.in_sample,
        e.in_panel,
        e.lost()
    )
}

/// The Markdown report of the verdicts.
pub fn markdown(r: &StudyResult, study_file: &str) -> String {
    let mut md = String::new();
    let lvl = (r.level * 100.0).round();
    let _ = writeln!(md, "# {}\n", r.title);
    let _ = writeln!(
        md,
        "Study file `{study_file}`; data: {}, {}-{}; seed {}; alpha = {} (one-sided); correction across the {} hypotheses: {:?} (Holm and Benjamini-Hochberg both reported).\n",
        r.data,
        r.years.0,
        r.years.1,
        r.seed,
        r.alpha,
        r.hypotheses.len(),
        r.correction
    );
    let _ = writeln!(
        md,
        "A hypothesis is **supported** when its adjusted one-sided p-value in the stated direction is below alpha, **contradicted** when the adjusted one-sided p-value in the opposite direction is, and **not supported** otherwise. The two-sided p-value is shown beside the one-sided test. Robustness specifications are judged at alpha without adjustment; \"robustness agreeing\" counts those whose verdict equals the reported (adjusted) verdict. Regressors are lagged as the study file states. Claims state associations unless the design identifies more.\n"
    );
    let _ = writeln!(md, "## Verdicts (main specification of each hypothesis)\n");
    let _ = writeln!(
        md,
        "| hypothesis | claim | level | term | estimate | {lvl}% CI | N | p (one-sided) | p (two-sided) | Holm p | BH p | verdict | robustness agreeing |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for h in &r.hypotheses {
        let agree = h.robustness_agreeing;
        let cells = [
            h.id.clone(),
            h.claim.clone(),
            h.level.to_string(),
            format!("`{}`", h.main.spec.term),
            num(h.main.estimate),
            ci(&h.main),
            h.main.nobs.map_or("–".into(), |n| n.to_string()),
            pval(h.main.p_one_sided),
            pval(h.main.p_two_sided),
            pval(h.p_holm),
            pval(h.p_bh),
            format!("**{}**", h.verdict.label()),
            format!("{agree}/{}", h.robustness.len()),
        ];
        let _ = writeln!(md, "{}", md_row(&cells));
    }
    if let Some(v) = &r.validity {
        let _ = write!(
            md,
            "\n## Measurement validity\n\n{}\n\n{}",
            super::validity::INTRO,
            super::validity::table(v, crate::report::tables::Format::Markdown)
        );
    }
    md.push_str(&super::sensitivity::markdown(&r.sensitivity));
    if let Some(c) = &r.contrast {
        md.push_str(&super::contrast::markdown(c));
    }
    if !r.out_of_sample.is_empty() {
        let _ = writeln!(
            md,
            "\n## Out-of-sample prediction (logit fitted on the training period, scored on the test period)\n"
        );
        let _ = writeln!(md, "| check | level | train N | test N | test events | model | AUC | PR-AUC | Brier |");
        let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|");
        for o in &r.out_of_sample {
            for (name, f, s) in [("baseline", &o.base_formula, &o.base), ("with the chain", &o.chain_formula, &o.chain)]
            {
                let cells = [
                    o.name.clone(),
                    o.level.to_string(),
                    o.n_train.to_string(),
                    o.n_test.to_string(),
                    o.events_test.to_string(),
                    format!("{name}: `{f}`"),
                    format!("{:.4}", s.auc),
                    format!("{:.4}", s.pr_auc),
                    format!("{:.5}", s.brier),
                ];
                let _ = writeln!(md, "{}", md_row(&cells));
            }
        }
    }
    md.push_str(&super::event_study::markdown(&r.event_studies));
    for h in &r.hypotheses {
        let _ = writeln!(md, "\n## {}: {}\n", h.id, h.claim);
        let _ = writeln!(
            md,
            "Level: {}; expected direction: {:?}; main model: `{}` ({}, vcov {}).\n",
            h.level, h.direction, h.main.spec.formula, h.main.spec.family, h.main.spec.vcov
        );
        if let Some(m) = &h.mediation {
            mediation_md(&mut md, m, lvl);
        }
        if let Some(p) = &h.placebo {
            let _ = writeln!(
                md,
                "Placebo: with the lead `{}` added to the main model, its estimate is {} ({lvl}% CI {}, two-sided p {}, N {}){}.\n",
                p.spec.term,
                num(p.estimate),
                ci(p),
                pval(p.p_two_sided),
                p.nobs.map_or("–".into(), |n| n.to_string()),
                p.error.as_ref().map_or(String::new(), |e| format!("; not estimable: {}", e.replace('|', "\\|")))
            );
        }
        if let Some(e) = &h.main.events {
            let _ = writeln!(md, "{}\n", events_sentence(e));
        }
        if h.kind == Kind::Moderation {
            let _ = writeln!(
                md,
                "The test is the interaction `{}`: the effect in the second period minus the first.\n",
                h.main.spec.term
            );
        }
        if h.robustness.is_empty() {
            continue;
        }
        let _ =
            writeln!(md, "| specification | model | N | estimate | {lvl}% CI | p (one-sided) | verdict (unadjusted) |");
        let _ = writeln!(md, "|---|---|---|---|---|---|---|");
        for s in std::iter::once(&h.main).chain(&h.robustness) {
            let verdict = match &s.error {
                Some(e) => format!("not estimable: {e}"),
                None => s.verdict.label().to_string(),
            };
            let cells = [
                s.spec.label.clone(),
                format!("`{}` ({}, {})", s.spec.formula, s.spec.family, s.spec.vcov),
                s.nobs.map_or("–".into(), |n| n.to_string()),
                num(s.estimate),
                ci(s),
                pval(s.p_one_sided),
                verdict,
            ];
            let _ = writeln!(md, "{}", md_row(&cells));
        }
    }
    md
}

/// Total, direct and indirect effects side by side, the paths, the
/// sensitivity to rho and the assumptions.
fn mediation_md(md: &mut String, m: &super::run::MediationResult, lvl: f64) {
    let g = &m.gcomp;
    let _ = writeln!(
        md,
        "Mediation (natural effects on the probability scale, g-computation; cause shifted by {} from its observed value; {} bootstrap, {}, {} replicates, {} failed; {lvl}% percentile intervals):\n",
        num(Some(g.shift)),
        g.scheme,
        match (g.method, g.extra_steps) {
            (super::mediation::BootstrapMethod::OneStep, 0) => "each replicate one Newton step from the full-sample estimates (Andrews 2002)".to_string(),
            (super::mediation::BootstrapMethod::OneStep, k) => format!("each replicate {} Newton steps from the full-sample estimates (Andrews 2002)", k + 1),
            (super::mediation::BootstrapMethod::Refit, _) => "each replicate refitted".to_string(),
        },
        g.replicates,
        g.failed
    );
    let _ = writeln!(md, "| effect | estimate | {lvl}% CI | p (two-sided) | log-odds coefficient |");
    let _ = writeln!(md, "|---|---|---|---|---|");
    let iv = |i: &super::mediation::Interval| format!("[{}, {}]", num(Some(i.conf_low)), num(Some(i.conf_high)));
    let c = &m.total_effect;
    let _ = writeln!(
        md,
        "| total c (reduced form, no mediator) | {} | – | {} | {} {} |",
        num(Some(m.total_reduced_form)),
        pval(c.p_two_sided),
        num(Some(m.total_coefficient)),
        ci(c)
    );
    for (name, i, coef) in [
        ("total (NIE(1) + NDE(0))", &g.total, "–".to_string()),
        ("direct c' (ADE)", &g.ade, format!("{} (cause in path b)", num(Some(m.direct_coefficient)))),
        ("indirect (ACME)", &g.acme, format!("a = {}, b = {}", num(Some(m.a)), num(Some(m.b)))),
        ("NIE(0) / NIE(1)", &g.nie_0, format!("NIE(1) = {} {}", num(Some(g.nie_1.estimate)), iv(&g.nie_1))),
        ("NDE(0) / NDE(1)", &g.nde_0, format!("NDE(1) = {} {}", num(Some(g.nde_1.estimate)), iv(&g.nde_1))),
    ] {
        let _ = writeln!(
            md,
            "| {name} | {} | {} | {} | {coef} |",
            num(Some(i.estimate)),
            iv(i),
            pval(Some(i.p_two_sided()))
        );
    }
    let _ = writeln!(
        md,
        "\nProportion mediated: {}.\n",
        match m.proportion_mediated {
            Some(p) => num(Some(p)),
            None =>
                "not shown: the indirect, direct and total effects do not share a sign (inconsistent mediation)".into(),
        }
    );
    let _ = writeln!(
        md,
        "Path a: `{}` ({}, {}). Path b: `{}` ({}, {}). Total: `{}` ({}, {}).\n",
        m.path_a.spec.formula,
        m.path_a.spec.family,
        m.path_a.spec.vcov,
        m.path_b.spec.formula,
        m.path_b.spec.family,
        m.path_b.spec.vcov,
        c.spec.formula,
        c.spec.family,
        c.spec.vcov
    );
    if let Some(s) = &g.sensitivity {
        let curve: Vec<String> = s.curve.iter().map(|(r, v)| format!("{r:.1}: {}", num(Some(*v)))).collect();
        let _ = writeln!(
            md,
            "Sensitivity (Imai, Keele & Yamamoto 2010; probit outcome model without the cause x mediator term, mediator coefficient {}, mediator residual SD {}): the ACME is zero at rho = {}. ACME by rho: {}.\n",
            num(Some(s.gamma)),
            num(Some(s.sigma)),
            num(Some(s.rho_at_zero)),
            curve.join(", ")
        );
    }
    let _ = writeln!(md, "Assumptions: {}\n", m.assumptions);
}

#[derive(Serialize)]
struct Manifest<'a> {
    concord_version: &'static str,
    command: String,
    study: String,
    study_file: String,
    study_sha256: String,
    seed: u64,
    data: &'a str,
    panel_rows: &'a std::collections::BTreeMap<String, usize>,
    inputs: &'a [(String, String)],
    outputs: Vec<(String, String)>,
    timings_s: &'a std::collections::BTreeMap<String, f64>,
    threads: usize,
}

/// Write everything into `out`: `fits/*.json`, `verdicts.json`, `verdicts.md`,
/// `manifest.json`. Returns the files written (manifest last).
pub fn write(r: &mut StudyResult, study_file: &Path, out: &Path) -> Result<Vec<PathBuf>, StudyError> {
    let mut written = Vec::new();
    let fits = out.join("fits");
    for h in r.hypotheses.iter_mut() {
        let id = h.id.clone();
        let mut specs: Vec<&mut SpecResult> = vec![&mut h.main];
        if let Some(m) = h.mediation.as_mut() {
            specs.push(&mut m.path_a);
            specs.push(&mut m.path_b);
        }
        specs.extend(h.robustness.iter_mut());
        for s in specs {
            if let Some(fit) = &s.fit {
                let name = file_stem(&id, &s.spec.name);
                let path = fits.join(&name);
                write_text(&path, &fit.to_json())?;
                s.fit_file = Some(format!("fits/{name}"));
                written.push(path);
            }
        }
    }
    let json = serde_json::to_string_pretty(&*r).map_err(|e| StudyError::Output(e.to_string()))?;
    let vj = out.join("verdicts.json");
    write_text(&vj, &json)?;
    written.push(vj);
    written.extend(super::curve::write(r, out)?);
    if let Some(v) = &r.validity {
        written.extend(super::validity::write(v, out)?);
    }
    written.extend(super::event_study::write(&mut r.event_studies, out)?);
    written.extend(super::sensitivity::write(&r.sensitivity, out)?);
    if let Some(c) = &r.contrast {
        written.extend(super::contrast::write(c, out)?);
    }
    let vm = out.join("verdicts.md");
    write_text(&vm, &markdown(r, &study_file.display().to_string()))?;
    written.push(vm);
    let outputs = written
        .iter()
        .map(|p| {
            let rel = p.strip_prefix(out).unwrap_or(p).display().to_string();
            Ok((rel, sha256_file(p)?))
        })
        .collect::<Result<Vec<_>, crate::data::DataError>>()?;
    let manifest = Manifest {
        concord_version: env!("CARGO_PKG_VERSION"),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        study: r.study.clone(),
        study_file: study_file.display().to_string(),
        study_sha256: sha256_file(study_file)?,
        seed: r.seed,
        data: &r.data,
        panel_rows: &r.panel_rows,
        inputs: &r.inputs,
        outputs,
        timings_s: &r.timings,
        threads: rayon::current_num_threads(),
    };
    let mp = out.join("manifest.json");
    write_text(&mp, &serde_json::to_string_pretty(&manifest).map_err(|e| StudyError::Output(e.to_string()))?)?;
    written.push(mp);
    Ok(written)
}
