//! Model formulas in fixest syntax: `y ~ x1 + x2 + x1:x2 + l(x3, 1) + d(x4) | fe1 + fe2`.
//!
//! Supported on the right-hand side: `+` to add terms, `:` for interactions,
//! `a*b` for `a + b + a:b`, `1` / `0` / `-1` to keep or drop the intercept,
//! `l(x, k)` lags and `f(x, k)` leads within the panel unit, `d(x)` first
//! differences, `i(x)` dummies for a categorical, `poly(x, p)` orthogonal
//! polynomials as R's `poly()` (`poly(x, p, raw = TRUE)` for raw powers),
//! `ns(x, df)` natural cubic splines as R's `splines::ns` (for peace years in
//! binary time-series cross-section models, Beck, Katz & Tucker 1998); both
//! are fitted on the estimation rows and reused for predictions.
//! After `|`, any number of fixed-effect columns joined by `+`.

pub mod basis;
pub mod design;
pub mod surv;

use std::fmt;

/// One variable transformation inside a term.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Factor {
    /// A column used as it is.
    Var(String),
    /// `l(x, k)`: the value `k` periods earlier in the same unit.
    Lag(String, i64),
    /// `f(x, k)`: the value `k` periods later in the same unit.
    Lead(String, i64),
    /// `d(x)`: `x - l(x, 1)`.
    Diff(String),
    /// `i(x)`: one dummy per level of `x` (the first level is the reference).
    Dummies(String),
    /// `poly(x, p)`: orthogonal polynomials of degree 1..p, R's `poly()`.
    Poly(String, u32),
    /// `poly(x, p, raw = TRUE)`: `x, x^2, ..., x^p`.
    RawPoly(String, u32),
    /// `ns(x, df)`: R's `splines::ns` natural cubic spline with `df` columns:
    /// boundary knots at the minimum and maximum of `x`, `df - 1` interior
    /// knots at its quantiles `j / df`, on the estimation rows.
    Spline(String, u32),
}

impl Factor {
    /// The data column the factor reads.
    pub fn column(&self) -> &str {
        match self {
            Factor::Var(v) | Factor::Lag(v, _) | Factor::Lead(v, _) | Factor::Diff(v) | Factor::Dummies(v) => v,
            Factor::Poly(v, _) | Factor::RawPoly(v, _) | Factor::Spline(v, _) => v,
        }
    }

    /// Whether the factor needs the panel structure (unit and time).
    pub fn needs_panel(&self) -> bool {
        matches!(self, Factor::Lag(..) | Factor::Lead(..) | Factor::Diff(_))
    }
}

impl fmt::Display for Factor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Factor::Var(v) => write!(f, "{v}"),
            Factor::Lag(v, k) => write!(f, "l({v},{k})"),
            Factor::Lead(v, k) => write!(f, "f({v},{k})"),
            Factor::Diff(v) => write!(f, "d({v})"),
            Factor::Dummies(v) => write!(f, "i({v})"),
            Factor::Poly(v, p) => write!(f, "poly({v},{p})"),
            Factor::RawPoly(v, p) => write!(f, "poly({v},{p},raw=TRUE)"),
            Factor::Spline(v, p) => write!(f, "ns({v},{p})"),
        }
    }
}

/// A term: one factor, or an interaction of several (`a:b`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Term(pub Vec<Factor>);

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|x| x.to_string()).collect();
        f.write_str(&parts.join(":"))
    }
}

/// A parsed formula.
#[derive(Debug, Clone, PartialEq)]
pub struct Formula {
    /// The outcome (a plain column, or a transformation such as `d(y)`).
    pub lhs: Factor,
    pub terms: Vec<Term>,
    pub intercept: bool,
    pub fixed_effects: Vec<String>,
    /// The text as the user wrote it.
    pub text: String,
}

impl fmt::Display for Formula {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ~ ", self.lhs)?;
        let mut parts: Vec<String> = self.terms.iter().map(|t| t.to_string()).collect();
        if !self.intercept {
            parts.insert(0, "0".into());
        }
        if parts.is_empty() {
            parts.push("1".into());
        }
        f.write_str(&parts.join(" + "))?;
        if !self.fixed_effects.is_empty() {
            write!(f, " | {}", self.fixed_effects.join(" + "))?;
        }
        Ok(())
    }
}

/// A formula that does not parse, with the position (0-based character) of the problem.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("formula error at character {}: {message}\n  {text}\n  {}^", .position + 1, " ".repeat(*.position))]
pub struct FormulaError {
    pub text: String,
    pub position: usize,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Num(i64),
    Tilde,
    Plus,
    Minus,
    Colon,
    Star,
    Bar,
    LParen,
    RParen,
    Comma,
    Eq,
    End,
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Ident(s) => format!("`{s}`"),
        Tok::Num(n) => format!("`{n}`"),
        Tok::Tilde => "`~`".into(),
        Tok::Plus => "`+`".into(),
        Tok::Minus => "`-`".into(),
        Tok::Colon => "`:`".into(),
        Tok::Star => "`*`".into(),
        Tok::Bar => "`|`".into(),
        Tok::LParen => "`(`".into(),
        Tok::RParen => "`)`".into(),
        Tok::Comma => "`,`".into(),
        Tok::Eq => "`=`".into(),
        Tok::End => "the end of the formula".into(),
    }
}

fn tokenize(text: &str) -> Result<Vec<(Tok, usize)>, FormulaError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let err = |position: usize, message: String| FormulaError { text: text.into(), position, message };
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        let tok = match c {
            ' ' | '\t' | '\n' => {
                i += 1;
                continue;
            }
            '~' => Tok::Tilde,
            '+' => Tok::Plus,
            '-' => Tok::Minus,
            ':' => Tok::Colon,
            '*' => Tok::Star,
            '|' => Tok::Bar,
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            ',' => Tok::Comma,
            '=' => Tok::Eq,
            '`' => {
                // Back-quoted names may hold any character but a back quote.
                let end = chars[i + 1..]
                    .iter()
                    .position(|&c| c == '`')
                    .ok_or_else(|| err(i, "unclosed back quote".into()))?;
                let name: String = chars[i + 1..i + 1 + end].iter().collect();
                i += end + 2;
                out.push((Tok::Ident(name), start));
                continue;
            }
            c if c.is_ascii_digit() => {
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
                let s: String = chars[start..i].iter().collect();
                let n = s.parse().map_err(|_| err(start, format!("number `{s}` is too large")))?;
                out.push((Tok::Num(n), start));
                continue;
            }
            c if c.is_alphabetic() || c == '_' || c == '.' => {
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '.') {
                    i += 1;
                }
                out.push((Tok::Ident(chars[start..i].iter().collect()), start));
                continue;
            }
            other => return Err(err(i, format!("unexpected character `{other}`"))),
        };
        out.push((tok, start));
        i += 1;
    }
    out.push((Tok::End, chars.len()));
    Ok(out)
}

struct Parser<'a> {
    text: &'a str,
    toks: Vec<(Tok, usize)>,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos].0
    }

    fn at(&self) -> usize {
        self.toks[self.pos].1
    }

    fn next(&mut self) -> Tok {
        let t = self.toks[self.pos].0.clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    fn err<T>(&self, message: impl Into<String>) -> Result<T, FormulaError> {
        Err(FormulaError { text: self.text.into(), position: self.at(), message: message.into() })
    }

    fn expect(&mut self, t: Tok) -> Result<(), FormulaError> {
        if *self.peek() == t {
            self.next();
            Ok(())
        } else {
            self.err(format!("expected {}, found {}", describe(&t), describe(self.peek())))
        }
    }

    fn ident(&mut self) -> Result<String, FormulaError> {
        match self.peek().clone() {
            Tok::Ident(s) => {
                self.next();
                Ok(s)
            }
            other => self.err(format!("expected a variable name, found {}", describe(&other))),
        }
    }

    fn int(&mut self) -> Result<i64, FormulaError> {
        match self.peek().clone() {
            Tok::Num(n) => {
                self.next();
                Ok(n)
            }
            other => self.err(format!("expected a whole number, found {}", describe(&other))),
        }
    }

    /// factor := name | name '(' name [',' int] ')'
    fn factor(&mut self) -> Result<Factor, FormulaError> {
        let fpos = self.at();
        let name = self.ident()?;
        if *self.peek() != Tok::LParen {
            return Ok(Factor::Var(name));
        }
        self.next();
        let var = self.ident()?;
        let arg = if *self.peek() == Tok::Comma {
            self.next();
            Some((self.at(), self.int()?))
        } else {
            None
        };
        // poly(x, p, raw = TRUE): R's option for raw powers.
        let mut raw = false;
        if name == "poly" && *self.peek() == Tok::Comma {
            self.next();
            if self.ident()? != "raw" {
                return self.err("poly() takes `raw = TRUE` or `raw = FALSE` after the degree");
            }
            self.expect(Tok::Eq)?;
            raw = match self.ident()?.as_str() {
                "TRUE" | "T" | "true" => true,
                "FALSE" | "F" | "false" => false,
                _ => return self.err("raw must be TRUE or FALSE"),
            };
        }
        self.expect(Tok::RParen)?;
        let bad = |m: String| Err(FormulaError { text: self.text.into(), position: fpos, message: m });
        match (name.as_str(), arg) {
            ("l", k) => Ok(Factor::Lag(var, k.map_or(1, |k| k.1))),
            ("f", k) => Ok(Factor::Lead(var, k.map_or(1, |k| k.1))),
            ("d", None) => Ok(Factor::Diff(var)),
            ("i", None) => Ok(Factor::Dummies(var)),
            ("poly", Some((_, k))) if (1..=10).contains(&k) && raw => Ok(Factor::RawPoly(var, k as u32)),
            ("poly", Some((_, k))) if (1..=10).contains(&k) => Ok(Factor::Poly(var, k as u32)),
            ("poly", Some((p, _))) => {
                Err(FormulaError { text: self.text.into(), position: p, message: "poly degree must be 1 to 10".into() })
            }
            ("poly", None) => bad("poly(x, p) needs a degree p".into()),
            ("ns", Some((_, k))) if (1..=10).contains(&k) => Ok(Factor::Spline(var, k as u32)),
            ("ns", Some((p, _))) => Err(FormulaError {
                text: self.text.into(),
                position: p,
                message: "ns degrees of freedom must be 1 to 10".into(),
            }),
            ("ns", None) => bad("ns(x, df) needs the degrees of freedom df".into()),
            ("d" | "i", Some((p, _))) => Err(FormulaError {
                text: self.text.into(),
                position: p,
                message: format!("{name}() takes one argument"),
            }),
            _ => bad(format!("unknown function `{name}()`: use l(), f(), d(), i(), poly() or ns()")),
        }
    }

    /// term := factor (':' factor)*
    fn term(&mut self) -> Result<Term, FormulaError> {
        let mut fs = vec![self.factor()?];
        while *self.peek() == Tok::Colon {
            self.next();
            fs.push(self.factor()?);
        }
        Ok(Term(fs))
    }

    /// rhs := item (('+' | '-') item)*, item := term ('*' term)* | 0 | 1
    fn rhs(&mut self, terms: &mut Vec<Term>, intercept: &mut bool) -> Result<(), FormulaError> {
        let mut sign = 1;
        if *self.peek() == Tok::Minus {
            self.next();
            sign = -1;
        }
        loop {
            match self.peek().clone() {
                Tok::Num(n @ (0 | 1)) => {
                    self.next();
                    // `+ 0` and `- 1` drop the intercept; `+ 1` keeps it.
                    *intercept = (n == 1) == (sign == 1);
                }
                Tok::Num(n) => return self.err(format!("`{n}` is not a term: only 0 and 1 may stand alone")),
                Tok::Ident(_) => {
                    if sign == -1 {
                        return self.err("removing terms with `-` is only supported for the intercept (`- 1`)");
                    }
                    let mut group = vec![self.term()?];
                    while *self.peek() == Tok::Star {
                        self.next();
                        group.push(self.term()?);
                    }
                    // a*b*c expands to every non-empty product of the terms.
                    for mask in 1..(1usize << group.len()) {
                        let mut fs = Vec::new();
                        for (j, t) in group.iter().enumerate() {
                            if mask & (1 << j) != 0 {
                                fs.extend(t.0.iter().cloned());
                            }
                        }
                        let t = Term(fs);
                        if !terms.contains(&t) {
                            terms.push(t);
                        }
                    }
                }
                other => return self.err(format!("expected a term, found {}", describe(&other))),
            }
            match self.peek() {
                Tok::Plus => {
                    self.next();
                    sign = 1;
                }
                Tok::Minus => {
                    self.next();
                    sign = -1;
                }
                _ => return Ok(()),
            }
        }
    }
}

impl Formula {
    /// Parse a formula.
    ///
    /// ```
    /// use concord::formula::Formula;
    /// let f = Formula::parse("mid_onset ~ dyadigos + l(unga_affinity, 1) + a*b | dyad + year").unwrap();
    /// assert_eq!(f.to_string(), "mid_onset ~ dyadigos + l(unga_affinity,1) + a + b + a:b | dyad + year");
    /// let err = Formula::parse("y ~ x + + z").unwrap_err();
    /// assert_eq!(err.position, 8);
    /// ```
    pub fn parse(text: &str) -> Result<Formula, FormulaError> {
        Formula::parse_tokens(text, tokenize(text)?)
    }

    /// [`Formula::parse`] on tokens already read (`surv` rewrites the survival
    /// outcome and `strata()` before the ordinary parse).
    fn parse_tokens(text: &str, toks: Vec<(Tok, usize)>) -> Result<Formula, FormulaError> {
        let mut p = Parser { text, toks, pos: 0 };
        let lhs = p.factor()?;
        if matches!(lhs, Factor::Dummies(_) | Factor::Poly(..) | Factor::RawPoly(..) | Factor::Spline(..)) {
            return Err(FormulaError {
                text: text.into(),
                position: 0,
                message: "the outcome cannot be i(), poly() or ns()".into(),
            });
        }
        p.expect(Tok::Tilde)?;
        let mut terms = Vec::new();
        let mut intercept = true;
        p.rhs(&mut terms, &mut intercept)?;
        let mut fixed_effects = Vec::new();
        if *p.peek() == Tok::Bar {
            p.next();
            loop {
                let fe = p.ident()?;
                if *p.peek() == Tok::LParen {
                    return p.err("fixed effects are column names");
                }
                if !fixed_effects.contains(&fe) {
                    fixed_effects.push(fe);
                }
                if *p.peek() == Tok::Plus {
                    p.next();
                } else {
                    break;
                }
            }
        }
        if *p.peek() != Tok::End {
            return p.err(format!("unexpected {}", describe(p.peek())));
        }
        Ok(Formula { lhs, terms, intercept, fixed_effects, text: text.into() })
    }

    /// Every data column the formula reads (outcome, regressors, fixed effects).
    pub fn columns(&self) -> Vec<String> {
        let mut out = vec![self.lhs.column().to_string()];
        for t in &self.terms {
            for f in &t.0 {
                out.push(f.column().to_string());
            }
        }
        out.extend(self.fixed_effects.iter().cloned());
        let mut seen = std::collections::HashSet::new();
        out.retain(|c| seen.insert(c.clone()));
        out
    }

    /// Whether any term needs the panel structure.
    pub fn needs_panel(&self) -> bool {
        self.lhs.needs_panel() || self.terms.iter().any(|t| t.0.iter().any(Factor::needs_panel))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Formula {
        Formula::parse(s).unwrap()
    }

    #[test]
    fn terms_interactions_and_fixed_effects() {
        let f = parse("y ~ x1 + x2 + x1:x2 + l(x3, 2) + f(x3) + d(x4) + i(region) + poly(age, 3) | fe1 + fe2");
        assert_eq!(f.lhs, Factor::Var("y".into()));
        let names: Vec<String> = f.terms.iter().map(|t| t.to_string()).collect();
        assert_eq!(names, ["x1", "x2", "x1:x2", "l(x3,2)", "f(x3,1)", "d(x4)", "i(region)", "poly(age,3)"]);
        assert!(f.intercept);
        assert_eq!(f.fixed_effects, ["fe1", "fe2"]);
        assert!(f.needs_panel());
        assert_eq!(f.columns(), ["y", "x1", "x2", "x3", "x4", "region", "age", "fe1", "fe2"]);
    }

    #[test]
    fn poly_is_orthogonal_unless_raw() {
        assert_eq!(parse("y ~ poly(x, 3)").terms[0].0[0], Factor::Poly("x".into(), 3));
        let f = parse("y ~ poly(x, 2, raw = TRUE) + poly(z, 2, raw=FALSE)");
        assert_eq!(f.terms[0].0[0], Factor::RawPoly("x".into(), 2));
        assert_eq!(f.terms[1].0[0], Factor::Poly("z".into(), 2));
        assert_eq!(f.terms[0].to_string(), "poly(x,2,raw=TRUE)");
        assert_eq!(Formula::parse(&f.to_string()).unwrap(), Formula { text: f.to_string(), ..f });
        let e = Formula::parse("y ~ poly(x, 2, raw = maybe)").unwrap_err();
        assert!(e.message.contains("raw must be TRUE or FALSE"), "{e}");
    }

    #[test]
    fn intercept_control() {
        assert!(!parse("y ~ x - 1").intercept);
        assert!(!parse("y ~ 0 + x").intercept);
        assert!(!parse("y ~ -1 + x").intercept);
        assert!(parse("y ~ 1 + x").intercept);
        let f = parse("y ~ 1");
        assert!(f.terms.is_empty() && f.intercept);
    }

    #[test]
    fn star_expands_without_duplicates() {
        let f = parse("y ~ a*b + a");
        let names: Vec<String> = f.terms.iter().map(|t| t.to_string()).collect();
        assert_eq!(names, ["a", "b", "a:b"]);
    }

    #[test]
    fn errors_point_at_the_problem() {
        let cases = [
            ("y ~ x + + z", 8, "expected a term, found `+`"),
            ("y x", 2, "expected `~`, found `x`"),
            ("y ~ x | ", 8, "expected a variable name, found the end of the formula"),
            ("y ~ sqrt(x)", 4, "unknown function `sqrt()`"),
            ("y ~ l(x, a)", 9, "expected a whole number, found `a`"),
            ("y ~ x $ z", 6, "unexpected character `$`"),
            ("y ~ x - z", 8, "removing terms with `-`"),
            ("y ~ poly(x)", 4, "poly(x, p) needs a degree p"),
            ("y ~ (x", 4, "expected a term, found `(`"),
            ("y ~ x)", 5, "unexpected `)`"),
        ];
        for (text, pos, msg) in cases {
            let e = Formula::parse(text).unwrap_err();
            assert_eq!(e.position, pos, "{text}: {e}");
            assert!(e.message.contains(msg), "{text}: {}", e.message);
        }
        let e = Formula::parse("y ~ x + + z").unwrap_err().to_string();
        assert_eq!(e, "formula error at character 9: expected a term, found `+`\n  y ~ x + + z\n          ^");
    }

    #[test]
    fn back_quoted_names() {
        let f = parse("`QO%All` ~ `x y`");
        assert_eq!(f.lhs, Factor::Var("QO%All".into()));
        assert_eq!(f.terms[0].to_string(), "x y");
    }
}
