//! fixest's multiple estimation: one formula that stands for several.
//! `sw(a, b)` fits each of `a` and `b` in turn, `csw(a, b)` adds them
//! cumulatively (`a`, then `a + b`), `sw0()` and `csw0()` start with neither,
//! and `c(y1, y2)` on the left-hand side fits each outcome. One operator per
//! part of the formula (outcome, regressors, fixed effects); parts combine.

use super::{tokenize, FormulaError, Tok};

/// The formulas a formula stands for, in fixest's order (the outcomes
/// outermost, then the regressors, then the fixed effects); the formula
/// itself when it has no multiple-estimation operator.
///
/// ```
/// use concord::formula::multi::expand;
/// assert_eq!(expand("y ~ x1 + csw(x2, x3)").unwrap(), ["y ~ x1 + x2", "y ~ x1 + x2 + x3"]);
/// assert_eq!(expand("c(y, z) ~ x | sw0(fe)").unwrap(), ["y ~ x", "y ~ x | fe", "z ~ x", "z ~ x | fe"]);
/// ```
pub fn expand(text: &str) -> Result<Vec<String>, FormulaError> {
    let mut toks = tokenize(text)?;
    // Token positions count characters; the text is sliced by bytes.
    let bytes: Vec<usize> = text.char_indices().map(|(b, _)| b).chain([text.len()]).collect();
    for t in &mut toks {
        t.1 = bytes[t.1];
    }
    let err = |byte: usize, message: String| FormulaError {
        text: text.into(),
        position: bytes.iter().position(|&b| b == byte).unwrap_or(0),
        message,
    };
    // Part of each token: 0 outcome, 1 regressors, 2 fixed effects.
    let mut part = 0;
    let mut depth = 0i32;
    let mut ops: [Option<Op>; 3] = [None, None, None];
    let mut i = 0;
    while i < toks.len() {
        match &toks[i].0 {
            Tok::LParen => depth += 1,
            Tok::RParen => depth -= 1,
            Tok::Tilde if depth == 0 => part = 1,
            Tok::Bar if depth == 0 => part = 2,
            Tok::Ident(name) if depth == 0 && toks.get(i + 1).is_some_and(|t| t.0 == Tok::LParen) => {
                let kind = match name.as_str() {
                    "sw" => Some(Kind::Sw),
                    "csw" => Some(Kind::Csw),
                    "sw0" => Some(Kind::Sw0),
                    "csw0" => Some(Kind::Csw0),
                    "c" if part == 0 => Some(Kind::Sw),
                    _ => None,
                };
                if let Some(kind) = kind {
                    if part == 0 && name != "c" {
                        return Err(err(
                            toks[i].1,
                            format!("`{name}()` goes on the right-hand side; use c() for several outcomes"),
                        ));
                    }
                    if ops[part].is_some() {
                        return Err(err(
                            toks[i].1,
                            format!("one multiple-estimation operator per part of the formula (a second `{name}()`)"),
                        ));
                    }
                    let op = Op::read(text, &toks, i, kind).map_err(|(p, m)| err(p, m))?;
                    i = op.close;
                    ops[part] = Some(op);
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    let ops: Vec<(usize, Op)> = ops.into_iter().enumerate().filter_map(|(p, o)| o.map(|o| (p, o))).collect();
    if ops.is_empty() {
        return Ok(vec![text.to_string()]);
    }
    // Every combination, the first operator outermost.
    let mut combos: Vec<Vec<usize>> = vec![vec![]];
    for (_, op) in &ops {
        combos = combos
            .into_iter()
            .flat_map(|c| (0..op.alternatives.len()).map(move |k| [c.clone(), vec![k]].concat()))
            .collect();
    }
    let out = combos
        .into_iter()
        .map(|choice| {
            let mut s = text.to_string();
            // Right to left, so the earlier spans keep their offsets.
            for ((p, op), &k) in ops.iter().zip(&choice).rev() {
                let alt = &op.alternatives[k];
                let (from, to, with) = if alt.is_empty() { op.removal(*p) } else { (op.start, op.end, alt.clone()) };
                s.replace_range(from..to, &with);
            }
            s.split_whitespace().collect::<Vec<_>>().join(" ")
        })
        .collect();
    Ok(out)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Sw,
    Csw,
    Sw0,
    Csw0,
}

/// One operator: its span in the text, the spans of the neighbouring `+`
/// or `|` (to remove with an empty alternative), and the alternatives.
#[derive(Debug)]
struct Op {
    start: usize,
    end: usize,
    /// Index of the closing parenthesis token.
    close: usize,
    before: Option<(Tok, usize)>,
    after: Option<(Tok, usize)>,
    alternatives: Vec<String>,
}

impl Op {
    fn read(text: &str, toks: &[(Tok, usize)], at: usize, kind: Kind) -> Result<Op, (usize, String)> {
        let mut depth = 0;
        let mut args = Vec::new();
        let mut arg_start = toks[at + 1].1 + 1;
        let mut j = at + 1;
        loop {
            match &toks[j].0 {
                Tok::LParen => depth += 1,
                Tok::RParen => {
                    depth -= 1;
                    if depth == 0 {
                        args.push(text[arg_start..toks[j].1].trim().to_string());
                        break;
                    }
                }
                Tok::Comma if depth == 1 => {
                    args.push(text[arg_start..toks[j].1].trim().to_string());
                    arg_start = toks[j].1 + 1;
                }
                Tok::End => return Err((toks[at].1, "unclosed parenthesis".into())),
                _ => {}
            }
            j += 1;
        }
        if let Some(k) = args.iter().position(String::is_empty) {
            return Err((toks[at].1, format!("argument {} of this multiple-estimation operator is empty", k + 1)));
        }
        let mut alternatives: Vec<String> = match kind {
            Kind::Sw | Kind::Sw0 => args.clone(),
            Kind::Csw | Kind::Csw0 => (1..=args.len()).map(|k| args[..k].join(" + ")).collect(),
        };
        if matches!(kind, Kind::Sw0 | Kind::Csw0) {
            alternatives.insert(0, String::new());
        }
        let neighbour = |k: usize| match &toks[k].0 {
            t @ (Tok::Plus | Tok::Bar | Tok::Tilde) => Some((t.clone(), toks[k].1)),
            _ => None,
        };
        Ok(Op {
            start: toks[at].1,
            end: toks[j].1 + 1,
            close: j + 1,
            before: at.checked_sub(1).and_then(neighbour),
            after: neighbour(j + 1),
            alternatives,
        })
    }

    /// The span to cut and its replacement when the operator stands for
    /// nothing (the first fit of `sw0()` / `csw0()`).
    fn removal(&self, part: usize) -> (usize, usize, String) {
        match (&self.before, &self.after) {
            (Some((Tok::Plus, b)), _) => (*b, self.end, String::new()),
            (_, Some((Tok::Plus, a))) => (self.start, a + 1, String::new()),
            (Some((Tok::Bar, b)), _) if part == 2 => (*b, self.end, String::new()),
            // The only regressor: the intercept alone.
            _ => (self.start, self.end, "1".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stepwise_operators_as_fixest() {
        assert_eq!(expand("y ~ x1 + csw0(x2, d)").unwrap(), ["y ~ x1", "y ~ x1 + x2", "y ~ x1 + x2 + d"]);
        assert_eq!(expand("y ~ sw(x2, d) + x1").unwrap(), ["y ~ x2 + x1", "y ~ d + x1"]);
        assert_eq!(expand("y ~ sw0(x2) + x1").unwrap(), ["y ~ x1", "y ~ x2 + x1"]);
        assert_eq!(expand("y ~ csw0(a)").unwrap(), ["y ~ 1", "y ~ a"]);
        assert_eq!(expand("y ~ x | csw(unit, time)").unwrap(), ["y ~ x | unit", "y ~ x | unit + time"]);
        assert_eq!(expand("y ~ x1 + i(r, ref = 2)").unwrap(), ["y ~ x1 + i(r, ref = 2)"]);
        assert_eq!(expand("y ~ sw(log(x), I(x^2))").unwrap(), ["y ~ log(x)", "y ~ I(x^2)"]);
    }

    #[test]
    fn misplaced_operators_are_named() {
        let e = expand("y ~ sw(a, b) + csw(c)").unwrap_err();
        assert!(e.message.contains("one multiple-estimation operator per part"), "{e}");
        let e = expand("sw(y, z) ~ x").unwrap_err();
        assert!(e.message.contains("use c() for several outcomes"), "{e}");
        let e = expand("y ~ sw(a, )").unwrap_err();
        assert!(e.message.contains("argument 2"), "{e}");
    }
}
