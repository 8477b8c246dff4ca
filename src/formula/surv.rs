//! Survival formulas, as R's `survival`: `Surv(start, stop, event) ~ x1 + x2 +
//! strata(s)` (counting-process form, time-varying covariates) or
//! `Surv(time, event) ~ x`. `strata(a, b)` stratifies the baseline hazard by
//! the combinations of `a` and `b`; the rest of the right-hand side is an
//! ordinary formula (interactions, `i()`, `poly()`, lags).

use std::fmt;

use super::{tokenize, Formula, FormulaError, Tok};

/// A parsed survival formula.
#[derive(Debug, Clone, PartialEq)]
pub struct SurvFormula {
    /// Entry time (start of the risk interval); `None` in `Surv(time, event)`,
    /// where every row is at risk from time 0.
    pub start: Option<String>,
    /// Exit time (end of the risk interval).
    pub stop: String,
    /// 1 when the interval ends in the event, 0 when it is censored.
    pub event: String,
    /// Stratum columns (`strata(a, b)`: one baseline hazard per combination).
    pub strata: Vec<String>,
    /// The right-hand side, with `stop` as a stand-in outcome.
    pub rhs: Formula,
}

impl fmt::Display for SurvFormula {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.start {
            Some(s) => write!(f, "Surv({s}, {}, {}) ~ ", self.stop, self.event)?,
            None => write!(f, "Surv({}, {}) ~ ", self.stop, self.event)?,
        }
        let mut parts: Vec<String> = self.rhs.terms.iter().map(|t| t.to_string()).collect();
        if !self.strata.is_empty() {
            parts.push(format!("strata({})", self.strata.join(", ")));
        }
        if parts.is_empty() {
            parts.push("1".into());
        }
        f.write_str(&parts.join(" + "))
    }
}

impl SurvFormula {
    /// Parse a survival formula.
    ///
    /// ```
    /// use concord::formula::surv::SurvFormula;
    /// let f = SurvFormula::parse("Surv(start, stop, event) ~ x1 + strata(region) + x2").unwrap();
    /// assert_eq!((f.start.as_deref(), f.stop.as_str(), f.event.as_str()), (Some("start"), "stop", "event"));
    /// assert_eq!(f.strata, ["region"]);
    /// assert_eq!(f.to_string(), "Surv(start, stop, event) ~ x1 + x2 + strata(region)");
    /// let e = SurvFormula::parse("y ~ x").unwrap_err();
    /// assert_eq!(e.position, 0);
    /// ```
    pub fn parse(text: &str) -> Result<SurvFormula, FormulaError> {
        let err = |position: usize, message: String| FormulaError { text: text.into(), position, message };
        let mut toks = tokenize(text)?;
        let usage = "a survival outcome is Surv(start, stop, event) or Surv(time, event)";
        if !(matches!(&toks[0].0, Tok::Ident(s) if s == "Surv") && toks.get(1).is_some_and(|t| t.0 == Tok::LParen)) {
            return Err(err(toks[0].1, usage.into()));
        }
        let (args, close) = arguments(&toks, 1).map_err(|(p, m)| err(p, m))?;
        let (start, stop, event) = match args.as_slice() {
            [t, e] => (None, t.clone(), e.clone()),
            [s, t, e] => (Some(s.clone()), t.clone(), e.clone()),
            _ => return Err(err(toks[0].1, format!("{usage} (got {} arguments)", args.len()))),
        };
        let pos0 = toks[0].1;
        toks.splice(0..=close, [(Tok::Ident(stop.clone()), pos0)]);

        // strata(...) terms on the right-hand side, taken out with one `+`.
        let mut strata = Vec::new();
        let mut i = 0;
        let mut after_bar = false;
        while i < toks.len() {
            match &toks[i].0 {
                Tok::Bar => after_bar = true,
                Tok::Ident(s) if s == "strata" && toks.get(i + 1).is_some_and(|t| t.0 == Tok::LParen) => {
                    let at = toks[i].1;
                    if after_bar {
                        return Err(err(at, "strata() belongs before `|`".into()));
                    }
                    let (cols, close) = arguments(&toks, i + 1).map_err(|(p, m)| err(p, m))?;
                    let prev = toks.get(i.wrapping_sub(1)).map(|t| t.0.clone());
                    let next = toks.get(close + 1).map(|t| t.0.clone());
                    if matches!(prev, Some(Tok::Colon | Tok::Star)) || matches!(next, Some(Tok::Colon | Tok::Star)) {
                        return Err(err(at, "strata() cannot be interacted with other terms".into()));
                    }
                    for c in cols {
                        if !strata.contains(&c) {
                            strata.push(c);
                        }
                    }
                    let (lo, hi) = if prev == Some(Tok::Plus) {
                        (i - 1, close)
                    } else if next == Some(Tok::Plus) {
                        (i, close + 1)
                    } else {
                        (i, close)
                    };
                    // Alone on the right-hand side: the model without regressors.
                    let alone = prev == Some(Tok::Tilde) && next != Some(Tok::Plus);
                    if alone {
                        toks.splice(lo..=hi, [(Tok::Num(1), at)]);
                    } else {
                        toks.drain(lo..=hi);
                    }
                    i = lo;
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
        let rhs = Formula::parse_tokens(text, toks)?;
        Ok(SurvFormula { start, stop, event, strata, rhs })
    }

    /// Every data column the formula reads.
    pub fn columns(&self) -> Vec<String> {
        let mut out: Vec<String> = self.start.iter().cloned().collect();
        out.push(self.stop.clone());
        out.push(self.event.clone());
        out.extend(self.rhs.columns());
        out.extend(self.strata.iter().cloned());
        let mut seen = std::collections::HashSet::new();
        out.retain(|c| seen.insert(c.clone()));
        out
    }
}

/// The names inside `( a, b, ... )` starting at the `(` at `open`, and the
/// index of the closing `)`.
fn arguments(toks: &[(Tok, usize)], open: usize) -> Result<(Vec<String>, usize), (usize, String)> {
    let mut out = Vec::new();
    let mut i = open + 1;
    loop {
        match toks.get(i) {
            Some((Tok::Ident(s), _)) => out.push(s.clone()),
            Some((t, p)) => return Err((*p, format!("expected a column name, found {}", super::describe(t)))),
            None => return Err((0, "unclosed `(`".into())),
        }
        i += 1;
        match toks.get(i) {
            Some((Tok::Comma, _)) => i += 1,
            Some((Tok::RParen, _)) => return Ok((out, i)),
            Some((t, p)) => return Err((*p, format!("expected `,` or `)`, found {}", super::describe(t)))),
            None => return Err((0, "unclosed `(`".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surv_outcomes_and_strata() {
        let f = SurvFormula::parse("Surv(t0, t1, d) ~ strata(a, b) + x + i(g) + x:z").unwrap();
        assert_eq!(f.start.as_deref(), Some("t0"));
        assert_eq!(f.strata, ["a", "b"]);
        let names: Vec<String> = f.rhs.terms.iter().map(|t| t.to_string()).collect();
        assert_eq!(names, ["x", "i(g)", "x:z"]);
        assert_eq!(f.columns(), ["t0", "t1", "d", "x", "g", "z", "a", "b"]);
        let f = SurvFormula::parse("Surv(time, status) ~ x").unwrap();
        assert_eq!((f.start, f.stop.as_str(), f.event.as_str()), (None, "time", "status"));
        let f = SurvFormula::parse("Surv(a, b, c) ~ strata(s)").unwrap();
        assert!(f.rhs.terms.is_empty());
        assert_eq!(f.to_string(), "Surv(a, b, c) ~ strata(s)");
    }

    #[test]
    fn errors_point_at_the_problem() {
        let cases = [
            ("y ~ x", 0, "a survival outcome is Surv("),
            ("Surv(a) ~ x", 0, "(got 1 arguments)"),
            ("Surv(a, 1) ~ x", 8, "expected a column name, found `1`"),
            ("Surv(a, b ~ x", 10, "expected `,` or `)`, found `~`"),
            ("Surv(a, b) ~ x:strata(s)", 15, "cannot be interacted"),
            ("Surv(a, b) ~ x | strata(s)", 17, "before `|`"),
            ("Surv(a, b) ~ x + + strata(s)", 28, "expected a term"),
        ];
        for (text, pos, msg) in cases {
            let e = SurvFormula::parse(text).unwrap_err();
            assert_eq!(e.position, pos, "{text}: {e}");
            assert!(e.message.contains(msg), "{text}: {}", e.message);
        }
    }
}
