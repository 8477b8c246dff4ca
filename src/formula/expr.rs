//! Arithmetic on columns inside a formula: `log(x)`, `exp(x)`, `sqrt(x)`,
//! `abs(x)`, `log1p(x)`, `I(x^2)`, `I(x * z / 1000)`, R's element-wise
//! `pmin(a, b)` and `pmax(a, b)` (the weak link and the strong side of a dyad),
//! and fixest's `x^2` (which fixest reads as `I(x^2)`). Evaluated row by row on the variables it
//! names, so that marginal effects and counterfactual predictions move every
//! expression built from a variable with it.

use std::collections::HashMap;
use std::fmt;

/// Functions an expression may call (R's names and meanings).
pub const FUNCTIONS: [&str; 7] = ["log", "exp", "sqrt", "abs", "log1p", "log10", "log2"];

/// Functions of two arguments (R's names and meanings: element-wise minimum
/// and maximum, missing when either argument is).
pub const FUNCTIONS2: [&str; 2] = ["pmin", "pmax"];

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

/// An arithmetic expression. Numbers keep the text they were written in (the
/// column name is the expression as written, as in R).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Expr {
    Var(String),
    Num(String),
    Neg(Box<Expr>),
    Paren(Box<Expr>),
    Bin(Op, Box<Expr>, Box<Expr>),
    /// A function of [`FUNCTIONS`], or `I` (identity: R's "as is").
    Call(String, Box<Expr>),
    /// A function of [`FUNCTIONS2`].
    Call2(String, Box<Expr>, Box<Expr>),
}

impl Expr {
    /// The columns the expression reads, in order of appearance, once each.
    pub fn variables(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.walk(&mut |v| {
            if !out.iter().any(|o| o == v) {
                out.push(v.to_string());
            }
        });
        out
    }

    fn walk(&self, f: &mut impl FnMut(&str)) {
        match self {
            Expr::Var(v) => f(v),
            Expr::Num(_) => {}
            Expr::Neg(e) | Expr::Paren(e) | Expr::Call(_, e) => e.walk(f),
            Expr::Bin(_, a, b) | Expr::Call2(_, a, b) => {
                a.walk(f);
                b.walk(f);
            }
        }
    }

    /// The value at row `i` of the variables (NaN when a variable is missing
    /// there, or the result is not a finite number: `log(0)`, `sqrt(-1)`).
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use concord::formula::Formula;
    /// use concord::formula::Factor;
    /// let f = Formula::parse("y ~ log(abs(x) + 1)").unwrap();
    /// let Factor::Expr(e) = &f.terms[0].0[0] else { panic!() };
    /// let vars = HashMap::from([("x".to_string(), vec![-1.0, 0.0])]);
    /// let v = e.eval_rows(&vars, 2);
    /// assert!((v[0] - 2f64.ln()).abs() < 1e-15 && v[1] == 0.0);
    /// ```
    pub fn eval_rows(&self, vars: &HashMap<String, Vec<f64>>, n: usize) -> Vec<f64> {
        let mut out: Vec<f64> = match self {
            Expr::Var(v) => vars.get(v).cloned().unwrap_or_else(|| vec![f64::NAN; n]),
            Expr::Num(s) => vec![s.parse().unwrap_or(f64::NAN); n],
            Expr::Neg(e) => e.eval_rows(vars, n).into_iter().map(|x| -x).collect(),
            Expr::Paren(e) => e.eval_rows(vars, n),
            Expr::Bin(op, a, b) => {
                let (a, b) = (a.eval_rows(vars, n), b.eval_rows(vars, n));
                a.iter()
                    .zip(&b)
                    .map(|(&a, &b)| match op {
                        Op::Add => a + b,
                        Op::Sub => a - b,
                        Op::Mul => a * b,
                        Op::Div => a / b,
                        Op::Pow => pow(a, b),
                    })
                    .collect()
            }
            Expr::Call(name, e) => {
                let x = e.eval_rows(vars, n);
                let f: fn(f64) -> f64 = match name.as_str() {
                    "log" => f64::ln,
                    "exp" => f64::exp,
                    "sqrt" => f64::sqrt,
                    "abs" => f64::abs,
                    "log1p" => f64::ln_1p,
                    "log10" => f64::log10,
                    "log2" => f64::log2,
                    _ => |x| x,
                };
                x.into_iter().map(f).collect()
            }
            Expr::Call2(name, a, b) => {
                let (a, b) = (a.eval_rows(vars, n), b.eval_rows(vars, n));
                // R's pmin/pmax without na.rm: missing if either is.
                let f: fn(f64, f64) -> f64 = if name == "pmax" { f64::max } else { f64::min };
                a.iter().zip(&b).map(|(&a, &b)| if a.is_nan() || b.is_nan() { f64::NAN } else { f(a, b) }).collect()
            }
        };
        // Not a number, or infinite: missing, as R's model frame drops it.
        out.iter_mut().filter(|x| !x.is_finite()).for_each(|x| *x = f64::NAN);
        out
    }
}

/// `a^b` with whole powers by repeated multiplication (exact for `x^2`, as R).
fn pow(a: f64, b: f64) -> f64 {
    if b.fract() == 0.0 && b.abs() <= 64.0 {
        a.powi(b as i32)
    } else {
        a.powf(b)
    }
}

/// R's `deparse`: spaces around `+`, `-` and `*`, none around `/` and `^`,
/// so that column names read as fixest prints them (`I(x1 * x2)`, `I(x2/10)`).
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Var(v) => write!(f, "{v}"),
            Expr::Num(s) => write!(f, "{s}"),
            Expr::Neg(e) => write!(f, "-{e}"),
            Expr::Paren(e) => write!(f, "({e})"),
            Expr::Bin(op, a, b) => {
                let op = match op {
                    Op::Add => " + ",
                    Op::Sub => " - ",
                    Op::Mul => " * ",
                    Op::Div => "/",
                    Op::Pow => "^",
                };
                write!(f, "{a}{op}{b}")
            }
            Expr::Call(name, e) => write!(f, "{name}({e})"),
            Expr::Call2(name, a, b) => write!(f, "{name}({a}, {b})"),
        }
    }
}
