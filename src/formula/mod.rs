//! Model formulas in fixest syntax: `y ~ x1 + x2 + x1:x2 + l(x3, 1) + d(x4) | fe1 + fe2`.
//!
//! Supported on the right-hand side: `+` to add terms, `:` for interactions,
//! `a*b` for `a + b + a:b`, `1` / `0` / `-1` to keep or drop the intercept,
//! `l(x, k)` lags and `f(x, k)` leads within the panel unit, `d(x)` first
//! differences, `i(x)` dummies for a categorical, `poly(x, p)` orthogonal
//! polynomials as R's `poly()` (`poly(x, p, raw = TRUE)` for raw powers),
//! `ns(x, df)` natural cubic splines as R's `splines::ns` (for peace years in
//! binary time-series cross-section models, Beck, Katz & Tucker 1998); both
//! are fitted on every row of the sample where their variable is present
//! (as R's model frame and fixest) and reused for predictions.
//! After `|`, any number of fixed effects joined by `+`: columns, their
//! combinations `a^b`, and varying slopes `g[x]` (with the group's intercept)
//! or `g[[x]]` (the slope alone).

pub mod basis;
pub mod design;
pub mod expr;
pub mod multi;
pub mod subset;
pub mod surv;

pub use expr::Expr;

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
    /// `i(x)`: one dummy per level of `x`; `i(x, ref = v)` leaves out level
    /// `v`, `i(x)` the first level when the model has an intercept or fixed
    /// effects (a full set would be collinear with them).
    Dummies(String, Option<String>),
    /// `i(f, x)`: a slope of `x` for each level of `f` (fixest's interacted
    /// slopes, columns `f::level:x`); `i(f, x, ref = v)` leaves out level `v`.
    Slopes(String, String, Option<String>),
    /// `poly(x, p)`: orthogonal polynomials of degree 1..p, R's `poly()`.
    Poly(String, u32),
    /// `poly(x, p, raw = TRUE)`: `x, x^2, ..., x^p`.
    RawPoly(String, u32),
    /// `ns(x, df)`: R's `splines::ns` natural cubic spline with `df` columns:
    /// boundary knots at the minimum and maximum of `x`, `df - 1` interior
    /// knots at its quantiles `j / df`, on the sample's rows with `x` present.
    Spline(String, u32),
    /// `log(x)`, `exp(x)`, `sqrt(x)`, `abs(x)`, `log1p(x)`, `I(expr)`, `x^k`.
    Expr(Expr),
}

/// A level named in `ref = ...`, shown as written (`2`, `"USA"`).
fn show_ref(r: &Option<String>) -> String {
    match r {
        None => String::new(),
        Some(r) if r.parse::<f64>().is_ok() => format!(",ref={r}"),
        Some(r) => format!(",ref=\"{r}\""),
    }
}

impl Factor {
    /// The data columns the factor reads.
    pub fn columns(&self) -> Vec<String> {
        match self {
            Factor::Var(v) | Factor::Lag(v, _) | Factor::Lead(v, _) | Factor::Diff(v) | Factor::Dummies(v, _) => {
                vec![v.clone()]
            }
            Factor::Poly(v, _) | Factor::RawPoly(v, _) | Factor::Spline(v, _) => vec![v.clone()],
            Factor::Slopes(f, x, _) => vec![f.clone(), x.clone()],
            Factor::Expr(e) => e.variables(),
        }
    }

    /// The outcome's column (a column, a lag, lead or difference of it); empty
    /// for an expression outcome (`log(y)`), whose columns are [`Factor::columns`].
    pub fn column(&self) -> &str {
        match self {
            Factor::Var(v) | Factor::Lag(v, _) | Factor::Lead(v, _) | Factor::Diff(v) | Factor::Dummies(v, _) => v,
            Factor::Poly(v, _) | Factor::RawPoly(v, _) | Factor::Spline(v, _) | Factor::Slopes(_, v, _) => v,
            Factor::Expr(_) => "",
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
            Factor::Dummies(v, r) => write!(f, "i({v}{})", show_ref(r)),
            Factor::Slopes(g, x, r) => write!(f, "i({g},{x}{})", show_ref(r)),
            Factor::Expr(e) => write!(f, "{e}"),
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
    Caret,
    Slash,
    LBracket,
    RBracket,
    /// A number with a decimal point or exponent, as written.
    Real(String),
    /// A quoted text (`ref = "USA"`).
    Str(String),
    /// Comparisons and logic (in `--subset` conditions): `==`, `!=`, `<`,
    /// `<=`, `>`, `>=`, `!`, `&`.
    Cmp(&'static str),
    Not,
    And,
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
        Tok::Caret => "`^`".into(),
        Tok::Slash => "`/`".into(),
        Tok::LBracket => "`[`".into(),
        Tok::RBracket => "`]`".into(),
        Tok::Real(s) => format!("`{s}`"),
        Tok::Str(s) => format!("`\"{s}\"`"),
        Tok::Cmp(c) => format!("`{c}`"),
        Tok::Not => "`!`".into(),
        Tok::And => "`&`".into(),
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
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            ',' => Tok::Comma,
            '=' | '!' | '<' | '>' => {
                let two = chars.get(i + 1) == Some(&'=');
                i += 1 + usize::from(two);
                let tok = match (c, two) {
                    ('=', false) => Tok::Eq,
                    ('=', true) => Tok::Cmp("=="),
                    ('!', false) => Tok::Not,
                    ('!', true) => Tok::Cmp("!="),
                    ('<', false) => Tok::Cmp("<"),
                    ('<', true) => Tok::Cmp("<="),
                    ('>', false) => Tok::Cmp(">"),
                    _ => Tok::Cmp(">="),
                };
                out.push((tok, start));
                continue;
            }
            '&' | '|' => {
                // `&&` and `||` as `&` and `|`.
                i += 1 + usize::from(chars.get(i + 1) == Some(&c));
                out.push((if c == '&' { Tok::And } else { Tok::Bar }, start));
                continue;
            }
            '^' => Tok::Caret,
            '/' => Tok::Slash,
            '[' => Tok::LBracket,
            ']' => Tok::RBracket,
            '"' | '\'' => {
                let end = chars[i + 1..].iter().position(|&q| q == c).ok_or_else(|| err(i, "unclosed quote".into()))?;
                let text: String = chars[i + 1..i + 1 + end].iter().collect();
                i += end + 2;
                out.push((Tok::Str(text), start));
                continue;
            }
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
                // A decimal point or an exponent makes a real number (`0.5`, `1e3`).
                let mut real = false;
                if i + 1 < chars.len() && chars[i] == '.' && chars[i + 1].is_ascii_digit() {
                    real = true;
                    i += 1;
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        i += 1;
                    }
                }
                if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                    let mut j = i + 1;
                    if j < chars.len() && (chars[j] == '+' || chars[j] == '-') {
                        j += 1;
                    }
                    if j < chars.len() && chars[j].is_ascii_digit() {
                        real = true;
                        i = j;
                        while i < chars.len() && chars[i].is_ascii_digit() {
                            i += 1;
                        }
                    }
                }
                let s: String = chars[start..i].iter().collect();
                if real {
                    out.push((Tok::Real(s), start));
                } else {
                    let n = s.parse().map_err(|_| err(start, format!("number `{s}` is too large")))?;
                    out.push((Tok::Num(n), start));
                }
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

    /// A whole number, possibly negative (`-1`).
    fn signed_int(&mut self) -> Result<i64, FormulaError> {
        if *self.peek() == Tok::Minus {
            self.next();
            return Ok(-self.int()?);
        }
        self.int()
    }

    /// The level after `ref =`: a number, a name or a quoted text.
    fn level(&mut self) -> Result<String, FormulaError> {
        let neg = *self.peek() == Tok::Minus;
        if neg {
            self.next();
        }
        let sign = if neg { "-" } else { "" };
        match self.peek().clone() {
            Tok::Num(n) => {
                self.next();
                Ok(format!("{sign}{n}"))
            }
            Tok::Real(s) => {
                self.next();
                Ok(format!("{sign}{s}"))
            }
            Tok::Str(s) | Tok::Ident(s) if !neg => {
                self.next();
                Ok(s)
            }
            other => self.err(format!("expected a level after `ref =`, found {}", describe(&other))),
        }
    }

    /// factor := name | name '(' args ')' | factor '^' number. A lag range
    /// `l(x, 0:2)` gives one factor per lag.
    fn factor(&mut self) -> Result<Vec<Factor>, FormulaError> {
        let fpos = self.at();
        let name = self.ident()?;
        let mut f = if *self.peek() != Tok::LParen {
            Factor::Var(name)
        } else {
            self.next();
            match name.as_str() {
                "l" | "f" => return self.lags(&name),
                "i" => self.dummies()?,
                "I" => self.call("I", fpos)?,
                n if expr::FUNCTIONS.contains(&n) => self.call(n, fpos)?,
                n if expr::FUNCTIONS2.contains(&n) => Factor::Expr(self.call2(n)?),
                _ => self.column_function(name, fpos)?,
            }
        };
        // fixest reads `x^2` as `I(x^2)`.
        if *self.peek() == Tok::Caret {
            self.next();
            let p = match self.next() {
                Tok::Num(n) => n.to_string(),
                Tok::Real(s) => s,
                other => return self.err(format!("expected a power after `^`, found {}", describe(&other))),
            };
            let base = match f {
                Factor::Var(v) => Expr::Var(v),
                Factor::Expr(e) => e,
                other => {
                    return Err(FormulaError {
                        text: self.text.into(),
                        position: fpos,
                        message: format!("`^` raises a column or an expression to a power, not `{other}`"),
                    })
                }
            };
            let pow = Expr::Bin(expr::Op::Pow, Box::new(base), Box::new(Expr::Num(p)));
            f = Factor::Expr(Expr::Call("I".into(), Box::new(pow)));
        }
        Ok(vec![f])
    }

    /// `l(x)`, `l(x, k)`, `l(x, a:b)` (after the opening parenthesis); `f()`
    /// the same for leads. Lag 0 is the column itself, a negative lag a lead.
    fn lags(&mut self, name: &str) -> Result<Vec<Factor>, FormulaError> {
        let var = self.ident()?;
        let (mut a, mut b) = (1, 1);
        let mut rpos = self.at();
        if *self.peek() == Tok::Comma {
            self.next();
            rpos = self.at();
            a = self.signed_int()?;
            b = a;
            if *self.peek() == Tok::Colon {
                self.next();
                b = self.signed_int()?;
            }
        }
        self.expect(Tok::RParen)?;
        if b.checked_sub(a).is_none_or(|d| !(0..=100).contains(&d)) {
            return Err(FormulaError {
                text: self.text.into(),
                position: rpos,
                message: format!("the range {a}:{b} of {name}() must go up, by at most 100"),
            });
        }
        let sign = if name == "l" { 1 } else { -1 };
        Ok((a..=b)
            .map(|k| match (sign * k).cmp(&0) {
                std::cmp::Ordering::Equal => Factor::Var(var.clone()),
                std::cmp::Ordering::Greater => Factor::Lag(var.clone(), sign * k),
                std::cmp::Ordering::Less => Factor::Lead(var.clone(), -sign * k),
            })
            .collect())
    }

    /// `i(f)`, `i(f, ref = v)`, `i(f, x)`, `i(f, x, ref = v)` (after the
    /// opening parenthesis).
    fn dummies(&mut self) -> Result<Factor, FormulaError> {
        let var = self.ident()?;
        let (mut slope, mut reference) = (None, None);
        while *self.peek() == Tok::Comma {
            self.next();
            let kpos = self.at();
            let key = self.ident()?;
            if *self.peek() == Tok::Eq {
                self.next();
                if key != "ref" {
                    return Err(FormulaError {
                        text: self.text.into(),
                        position: kpos,
                        message: format!("i() takes `ref = level`, not `{key} =`"),
                    });
                }
                reference = Some(self.level()?);
            } else if slope.is_none() && reference.is_none() {
                slope = Some(key);
            } else {
                return Err(FormulaError {
                    text: self.text.into(),
                    position: kpos,
                    message: "i() takes a factor, an optional slope variable and `ref = level`".into(),
                });
            }
        }
        self.expect(Tok::RParen)?;
        Ok(match slope {
            Some(x) => Factor::Slopes(var, x, reference),
            None => Factor::Dummies(var, reference),
        })
    }

    /// `log(expr)` and the other functions of an expression, `I(expr)`.
    fn call(&mut self, name: &str, fpos: usize) -> Result<Factor, FormulaError> {
        let e = self.expr()?;
        if *self.peek() == Tok::Comma {
            return Err(FormulaError {
                text: self.text.into(),
                position: fpos,
                message: format!("{name}() takes one argument"),
            });
        }
        self.expect(Tok::RParen)?;
        Ok(Factor::Expr(Expr::Call(name.into(), Box::new(e))))
    }

    /// `pmin(a, b)`, `pmax(a, b)` (after the opening parenthesis).
    fn call2(&mut self, name: &str) -> Result<Expr, FormulaError> {
        let a = self.expr()?;
        if *self.peek() != Tok::Comma {
            return self.err(format!("{name}() takes two arguments: {name}(a, b)"));
        }
        self.next();
        let b = self.expr()?;
        if *self.peek() == Tok::Comma {
            return self.err(format!("{name}() takes two arguments: {name}(a, b)"));
        }
        self.expect(Tok::RParen)?;
        Ok(Expr::Call2(name.into(), Box::new(a), Box::new(b)))
    }

    /// expr := prod (('+' | '-') prod)*
    fn expr(&mut self) -> Result<Expr, FormulaError> {
        let mut e = self.prod()?;
        loop {
            let op = match self.peek() {
                Tok::Plus => expr::Op::Add,
                Tok::Minus => expr::Op::Sub,
                _ => return Ok(e),
            };
            self.next();
            e = Expr::Bin(op, Box::new(e), Box::new(self.prod()?));
        }
    }

    /// prod := unary (('*' | '/') unary)*
    fn prod(&mut self) -> Result<Expr, FormulaError> {
        let mut e = self.unary()?;
        loop {
            let op = match self.peek() {
                Tok::Star => expr::Op::Mul,
                Tok::Slash => expr::Op::Div,
                _ => return Ok(e),
            };
            self.next();
            e = Expr::Bin(op, Box::new(e), Box::new(self.unary()?));
        }
    }

    /// unary := '-' unary | atom ('^' unary)?
    fn unary(&mut self) -> Result<Expr, FormulaError> {
        if *self.peek() == Tok::Minus {
            self.next();
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        let base = self.atom()?;
        if *self.peek() == Tok::Caret {
            self.next();
            return Ok(Expr::Bin(expr::Op::Pow, Box::new(base), Box::new(self.unary()?)));
        }
        Ok(base)
    }

    /// atom := number | name | function '(' expr ')' | '(' expr ')'
    fn atom(&mut self) -> Result<Expr, FormulaError> {
        let pos = self.at();
        match self.next() {
            Tok::Num(n) => Ok(Expr::Num(n.to_string())),
            Tok::Real(s) => Ok(Expr::Num(s)),
            Tok::LParen => {
                let e = self.expr()?;
                self.expect(Tok::RParen)?;
                Ok(Expr::Paren(Box::new(e)))
            }
            Tok::Ident(name) if *self.peek() == Tok::LParen && expr::FUNCTIONS2.contains(&name.as_str()) => {
                self.next();
                self.call2(&name)
            }
            Tok::Ident(name) if *self.peek() == Tok::LParen => {
                if name != "I" && !expr::FUNCTIONS.contains(&name.as_str()) {
                    return Err(FormulaError {
                        text: self.text.into(),
                        position: pos,
                        message: format!(
                            "unknown function `{name}()` in an expression: use {}",
                            expr::FUNCTIONS
                                .iter()
                                .chain(&expr::FUNCTIONS2)
                                .map(|f| format!("{f}()"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    });
                }
                self.next();
                let e = self.expr()?;
                self.expect(Tok::RParen)?;
                Ok(Expr::Call(name, Box::new(e)))
            }
            Tok::Ident(name) => Ok(Expr::Var(name)),
            other => {
                self.pos -= usize::from(other != Tok::End);
                self.err(format!("expected a number, a column or `(`, found {}", describe(&other)))
            }
        }
    }

    /// `d(x)`, `poly(x, p[, raw = TRUE])`, `ns(x, df)` (after the opening
    /// parenthesis), and the error for any other function.
    fn column_function(&mut self, name: String, fpos: usize) -> Result<Factor, FormulaError> {
        let bad = |m: String| Err(FormulaError { text: self.text.into(), position: fpos, message: m });
        if !matches!(name.as_str(), "d" | "poly" | "ns") {
            return bad(match name.as_str() {
                "sw" | "csw" | "sw0" | "csw0" | "c" => format!(
                    "`{name}()` is multiple estimation: it stands as a whole term of the right-hand side or of the fixed effects (c() as the outcome), once per part"
                ),
                _ => format!(
                    "unknown function `{name}()`: use l(), f(), d(), i(), poly(), ns(), I(), {}; sw(), csw(), sw0(), csw0(), c() for several fits",
                    expr::FUNCTIONS.iter().chain(&expr::FUNCTIONS2).map(|f| format!("{f}()")).collect::<Vec<_>>().join(", ")
                ),
            });
        }
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
        let at = |p: usize, m: &str| Err(FormulaError { text: self.text.into(), position: p, message: m.into() });
        match (name.as_str(), arg) {
            ("d", None) => Ok(Factor::Diff(var)),
            ("poly", Some((_, k))) if (1..=10).contains(&k) && raw => Ok(Factor::RawPoly(var, k as u32)),
            ("poly", Some((_, k))) if (1..=10).contains(&k) => Ok(Factor::Poly(var, k as u32)),
            ("poly", Some((p, _))) => at(p, "poly degree must be 1 to 10"),
            ("poly", None) => bad("poly(x, p) needs a degree p".into()),
            ("ns", Some((_, k))) if (1..=10).contains(&k) => Ok(Factor::Spline(var, k as u32)),
            ("ns", Some((p, _))) => at(p, "ns degrees of freedom must be 1 to 10"),
            ("ns", None) => bad("ns(x, df) needs the degrees of freedom df".into()),
            (_, Some((p, _))) => at(p, &format!("{name}() takes one argument")),
            _ => bad(format!("unknown function `{name}()`")),
        }
    }

    /// term := factor (':' factor)*; a lag range stands alone.
    fn term(&mut self) -> Result<Vec<Term>, FormulaError> {
        let pos = self.at();
        let first = self.factor()?;
        let range_err = |p: &Parser| FormulaError {
            text: p.text.into(),
            position: pos,
            message: "a lag range l(x, a:b) stands as a term of its own: interact each lag instead".into(),
        };
        if first.len() > 1 {
            if matches!(self.peek(), Tok::Colon | Tok::Star) {
                return Err(range_err(self));
            }
            return Ok(first.into_iter().map(|f| Term(vec![f])).collect());
        }
        let mut fs = first;
        while *self.peek() == Tok::Colon {
            self.next();
            let next = self.factor()?;
            if next.len() > 1 {
                return Err(range_err(self));
            }
            fs.extend(next);
        }
        Ok(vec![Term(fs)])
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
                    let first = self.term()?;
                    if first.len() > 1 {
                        for t in first {
                            if !terms.contains(&t) {
                                terms.push(t);
                            }
                        }
                    } else {
                        let mut group = first;
                        while *self.peek() == Tok::Star {
                            self.next();
                            let spos = self.at();
                            let mut t = self.term()?;
                            if t.len() > 1 {
                                return Err(FormulaError {
                                    text: self.text.into(),
                                    position: spos,
                                    message:
                                        "a lag range l(x, a:b) stands as a term of its own: interact each lag instead"
                                            .into(),
                                });
                            }
                            group.append(&mut t);
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
        let mut lhs = p.factor()?;
        if lhs.len() != 1
            || matches!(
                lhs[0],
                Factor::Dummies(..) | Factor::Slopes(..) | Factor::Poly(..) | Factor::RawPoly(..) | Factor::Spline(..)
            )
        {
            return Err(FormulaError {
                text: text.into(),
                position: 0,
                message: "the outcome cannot be i(), poly(), ns() or a lag range".into(),
            });
        }
        let lhs = lhs.remove(0);
        p.expect(Tok::Tilde)?;
        let mut terms = Vec::new();
        let mut intercept = true;
        p.rhs(&mut terms, &mut intercept)?;
        let mut fixed_effects = Vec::new();
        if *p.peek() == Tok::Bar {
            p.next();
            loop {
                let mut fe = p.ident()?;
                if *p.peek() == Tok::LParen {
                    return p.err("fixed effects are column names, or combinations of them (`fe1^fe2`)");
                }
                // fe1^fe2: one fixed effect for each combination of levels.
                while *p.peek() == Tok::Caret {
                    p.next();
                    fe = format!("{fe}^{}", p.ident()?);
                }
                // fe[x]: a slope of x per level, with the level's intercept;
                // fe[[x]]: the slope alone.
                if *p.peek() == Tok::LBracket {
                    p.next();
                    let only = *p.peek() == Tok::LBracket;
                    if only {
                        p.next();
                    }
                    let x = p.ident()?;
                    if *p.peek() == Tok::Comma {
                        return p.err(format!("one slope variable per term: write `{fe}[{x}] + {fe}[[...]]`"));
                    }
                    p.expect(Tok::RBracket)?;
                    if only {
                        p.expect(Tok::RBracket)?;
                        fe = format!("{fe}[[{x}]]");
                    } else {
                        fe = format!("{fe}[{x}]");
                    }
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
        let mut out = self.lhs.columns();
        for t in &self.terms {
            for f in &t.0 {
                out.extend(f.columns());
            }
        }
        for fe in &self.fixed_effects {
            let (g, slope) = design::fe_parts(fe);
            out.extend(g.split('^').map(String::from));
            out.extend(slope.map(|(z, _)| z.to_string()));
        }
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
    use std::collections::HashMap;

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
    fn pmin_and_pmax_take_two_expressions() {
        let f = parse("y ~ pmin(a, b) + I(pmin(a, b)/pmax(a, b)) + log(pmax(a, 1))");
        let names: Vec<String> = f.terms.iter().map(|t| t.to_string()).collect();
        assert_eq!(names, ["pmin(a, b)", "I(pmin(a, b)/pmax(a, b))", "log(pmax(a, 1))"]);
        let Factor::Expr(e) = &f.terms[1].0[0] else { panic!("an expression") };
        assert_eq!(e.variables(), ["a", "b"]);
        let vars = HashMap::from([("a".to_string(), vec![1.0, 4.0, f64::NAN]), ("b".to_string(), vec![2.0, 2.0, 1.0])]);
        let v = e.eval_rows(&vars, 3);
        assert_eq!(v[..2], [0.5, 0.5]);
        assert!(v[2].is_nan(), "missing in either argument is missing, as R's pmin without na.rm");
        for bad in ["y ~ pmin(a)", "y ~ pmin(a, b, c)", "y ~ I(pmax(a))"] {
            let e = Formula::parse(bad).unwrap_err().to_string();
            assert!(e.contains("takes two arguments"), "{bad}: {e}");
        }
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
            ("y ~ sqr(x)", 4, "unknown function `sqr()`"),
            ("y ~ x + csw(a, b) + csw(c)", 8, "multiple estimation"),
            ("y ~ i(r, reff = 2)", 9, "i() takes `ref = level`"),
            ("y ~ l(x, 3:1)", 9, "must go up"),
            ("y ~ l(x, 1:2):z", 4, "lag range"),
            ("y ~ x | fe[z, w]", 12, "one slope variable per term"),
            ("y ~ log(foo(x))", 8, "unknown function `foo()` in an expression"),
            ("y ~ i(r)^2", 4, "`^` raises a column"),
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
    fn expressions_read_and_print_as_r() {
        let f = parse("log(y) ~ x^2 + I(x * z / 1e3) + log(abs(x) + 1) + sqrt(-x) + exp(x)^2");
        assert_eq!(f.lhs.to_string(), "log(y)");
        let names: Vec<String> = f.terms.iter().map(|t| t.to_string()).collect();
        assert_eq!(names, ["I(x^2)", "I(x * z/1e3)", "log(abs(x) + 1)", "sqrt(-x)", "I(exp(x)^2)"]);
        assert_eq!(f.columns(), ["y", "x", "z"]);
        assert_eq!(Formula::parse(&f.to_string()).unwrap().terms, f.terms);
    }

    #[test]
    fn dummies_slopes_lag_ranges_and_combined_effects() {
        let f = parse("y ~ i(r, ref = 2) + i(g, x) + i(g, x, ref = \"b\") + l(x, 0:2) + f(z, -1:1) | a^b + c");
        let names: Vec<String> = f.terms.iter().map(|t| t.to_string()).collect();
        assert_eq!(
            names,
            ["i(r,ref=2)", "i(g,x)", "i(g,x,ref=\"b\")", "x", "l(x,1)", "l(x,2)", "l(z,1)", "z", "f(z,1)"]
        );
        assert_eq!(f.fixed_effects, ["a^b", "c"]);
        assert_eq!(f.columns(), ["y", "r", "g", "x", "z", "a", "b", "c"]);
        assert_eq!(Formula::parse(&f.to_string()).unwrap().terms, f.terms);
    }

    #[test]
    fn back_quoted_names() {
        let f = parse("`QO%All` ~ `x y`");
        assert_eq!(f.lhs, Factor::Var("QO%All".into()));
        assert_eq!(f.terms[0].to_string(), "x y");
    }
}
