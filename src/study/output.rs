//! Writing a study's results: every fit as tidy JSON, `verdicts.json`,
//! `verdicts.md` and `manifest.json` (the only file with timings, so the
//! others are byte-identical between runs with the same input and seed).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::run::{SpecResult, StudyResult};
use super::spec::Kind;
use super::StudyError;
use crate::data::registry::sha256_file;
use crate::data::write::write_text;
use crate::report::tables::md_row;

fn num(v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(v) if !v.is_finite() => "–".into(),
        Some(v) if v != 0.0 && v.abs() < 1e-3 => format!("{v:.2e}"),
        Some(v) => format!("{v:.4}"),
    }
}

fn pval(v: Option<f64>) -> String {
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
        "A hypothesis is **supported** when its adjusted one-sided p-value in the stated direction is below alpha, **contradicted** when the adjusted one-sided p-value in the opposite direction is, and **not supported** otherwise. Robustness specifications are judged at alpha without adjustment. Regressors are lagged as the study file states.\n"
    );
    let _ = writeln!(md, "## Verdicts (main specification of each hypothesis)\n");
    let _ = writeln!(
        md,
        "| hypothesis | claim | level | term | estimate | {lvl}% CI | N | p (one-sided) | Holm p | BH p | verdict | robustness agreeing |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|---|---|---|");
    for h in &r.hypotheses {
        let agree = h.robustness.iter().filter(|s| s.verdict == h.main.verdict).count();
        let cells = [
            h.id.clone(),
            h.claim.clone(),
            h.level.to_string(),
            format!("`{}`", h.main.spec.term),
            num(h.main.estimate),
            ci(&h.main),
            h.main.nobs.map_or("–".into(), |n| n.to_string()),
            pval(h.main.p_one_sided),
            pval(h.p_holm),
            pval(h.p_bh),
            format!("**{}**", h.verdict.label()),
            format!("{agree}/{}", h.robustness.len()),
        ];
        let _ = writeln!(md, "{}", md_row(&cells));
    }
    for h in &r.hypotheses {
        let _ = writeln!(md, "\n## {}: {}\n", h.id, h.claim);
        let _ = writeln!(
            md,
            "Level: {}; expected direction: {:?}; main model: `{}` ({}, vcov {}).\n",
            h.level, h.direction, h.main.spec.formula, h.main.spec.family, h.main.spec.vcov
        );
        if let Some(m) = &h.mediation {
            let b = &m.bootstrap;
            let _ = writeln!(
                md,
                "Mediation: a = {} (`{}`), b = {} (`{}`), indirect a x b = {}, direct = {}, proportion mediated = {}; cluster bootstrap {lvl}% percentile CI {} from {} replicates ({} failed), bootstrap SE {}; share of replicates against the stated direction {} (the one-sided p in the table is the normal p from the bootstrap SE).\n",
                num(Some(m.a)),
                m.path_a.spec.formula,
                num(Some(m.b)),
                m.path_b.spec.formula,
                num(Some(m.indirect)),
                num(Some(m.direct)),
                num(Some(m.proportion_mediated)),
                ci(&h.main),
                b.replicates,
                b.failed,
                num(Some(b.std_error)),
                pval(Some(b.p_share))
            );
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
