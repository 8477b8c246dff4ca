//! Row conditions for `--subset`, in R's syntax: `year >= 1990 & prd == 1`,
//! `region != 3 | year < 1950`, `!(cold_war == 1)`, `country == "USA"`,
//! arithmetic as in formulas (`log(pop) > 10`). A row whose condition is
//! missing (a missing value compared) is left out, as R's `subset` does.

use polars::prelude::*;

use super::design::{values, DesignError};
use super::{tokenize, Expr, FormulaError, Parser, Tok};

/// A parsed condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    Cmp(&'static str, Expr, Expr),
    /// `column == "text"` / `column != "text"`.
    Text {
        column: String,
        equal: bool,
        value: String,
    },
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Not(Box<Cond>),
    /// A number alone: true when not zero.
    Truthy(Expr),
}

impl Cond {
    /// Parse a condition.
    ///
    /// ```
    /// use concord::formula::subset::Cond;
    /// assert!(Cond::parse("year >= 1990 & (prd == 1 | !cold_war)").is_ok());
    /// let e = Cond::parse("year >> 1990").unwrap_err();
    /// assert_eq!(e.position, 6);
    /// ```
    pub fn parse(text: &str) -> Result<Cond, FormulaError> {
        let mut p = Parser { text, toks: tokenize(text)?, pos: 0 };
        let c = p.or()?;
        if *p.peek() != Tok::End {
            return p.err(format!("unexpected {} in the condition", super::describe(p.peek())));
        }
        Ok(c)
    }

    /// Every column the condition reads.
    pub fn columns(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.walk(&mut |c: &str| {
            if !out.iter().any(|o| o == c) {
                out.push(c.to_string());
            }
        });
        out
    }

    fn walk(&self, f: &mut impl FnMut(&str)) {
        match self {
            Cond::Cmp(_, a, b) => a.variables().iter().chain(&b.variables()).for_each(|v| f(v)),
            Cond::Text { column, .. } => f(column),
            Cond::And(a, b) | Cond::Or(a, b) => {
                a.walk(f);
                b.walk(f);
            }
            Cond::Not(a) => a.walk(f),
            Cond::Truthy(e) => e.variables().iter().for_each(|v| f(v)),
        }
    }

    /// The rows of `df` where the condition holds (missing counts as false).
    ///
    /// ```
    /// use polars::prelude::*;
    /// use concord::formula::subset::Cond;
    /// let df = df!("year" => [1989, 1990, 1995], "prd" => [Some(1.0), None, Some(1.0)]).unwrap();
    /// let keep = Cond::parse("year >= 1990 & prd == 1").unwrap().rows(&df).unwrap();
    /// assert_eq!(keep, [false, false, true]);
    /// ```
    pub fn rows(&self, df: &DataFrame) -> Result<Vec<bool>, DesignError> {
        Ok(self.eval(df)?.into_iter().map(|v| v == Some(true)).collect())
    }

    fn eval(&self, df: &DataFrame) -> Result<Vec<Option<bool>>, DesignError> {
        let n = df.height();
        let numbers = |e: &Expr| -> Result<Vec<f64>, DesignError> {
            let mut vars = std::collections::HashMap::new();
            for v in e.variables() {
                vars.insert(v.clone(), values(df, &v)?);
            }
            Ok(e.eval_rows(&vars, n))
        };
        Ok(match self {
            Cond::Cmp(op, a, b) => {
                let (a, b) = (numbers(a)?, numbers(b)?);
                a.iter()
                    .zip(&b)
                    .map(|(&a, &b)| {
                        (!a.is_nan() && !b.is_nan()).then_some(match *op {
                            "==" => a == b,
                            "!=" => a != b,
                            "<" => a < b,
                            "<=" => a <= b,
                            ">" => a > b,
                            _ => a >= b,
                        })
                    })
                    .collect()
            }
            Cond::Text { column, equal, value } => {
                let c = df.column(column).map_err(|_| DesignError::NoColumn {
                    column: column.clone(),
                    suggestion: crate::data::read::nearest_name(
                        column,
                        df.get_column_names().iter().map(|s| s.as_str()),
                    ),
                })?;
                if c.dtype().is_primitive_numeric() {
                    return Err(DesignError::NoRows(format!(
                        "`{column}` holds numbers: compare it with a number, not \"{value}\""
                    )));
                }
                let s = c.cast(&DataType::String)?;
                s.str()?.iter().map(|v| v.map(|v| (v == value) == *equal)).collect()
            }
            Cond::And(a, b) => {
                let (a, b) = (a.eval(df)?, b.eval(df)?);
                // R's three-valued logic: FALSE & NA is FALSE.
                a.iter()
                    .zip(&b)
                    .map(|(a, b)| match (a, b) {
                        (Some(false), _) | (_, Some(false)) => Some(false),
                        (Some(true), Some(true)) => Some(true),
                        _ => None,
                    })
                    .collect()
            }
            Cond::Or(a, b) => {
                let (a, b) = (a.eval(df)?, b.eval(df)?);
                a.iter()
                    .zip(&b)
                    .map(|(a, b)| match (a, b) {
                        (Some(true), _) | (_, Some(true)) => Some(true),
                        (Some(false), Some(false)) => Some(false),
                        _ => None,
                    })
                    .collect()
            }
            Cond::Not(a) => a.eval(df)?.into_iter().map(|v| v.map(|v| !v)).collect(),
            Cond::Truthy(e) => numbers(e)?.into_iter().map(|v| (!v.is_nan()).then_some(v != 0.0)).collect(),
        })
    }
}

impl Parser<'_> {
    /// or := and ('|' and)*
    fn or(&mut self) -> Result<Cond, FormulaError> {
        let mut c = self.and()?;
        while *self.peek() == Tok::Bar {
            self.next();
            c = Cond::Or(Box::new(c), Box::new(self.and()?));
        }
        Ok(c)
    }

    /// and := not ('&' not)*
    fn and(&mut self) -> Result<Cond, FormulaError> {
        let mut c = self.not()?;
        while *self.peek() == Tok::And {
            self.next();
            c = Cond::And(Box::new(c), Box::new(self.not()?));
        }
        Ok(c)
    }

    /// not := '!' not | '(' or ')' | comparison
    fn not(&mut self) -> Result<Cond, FormulaError> {
        if *self.peek() == Tok::Not {
            self.next();
            return Ok(Cond::Not(Box::new(self.not()?)));
        }
        if *self.peek() == Tok::LParen {
            // A parenthesised condition, unless it is arithmetic (`(a + b) > 1`).
            let save = self.pos;
            self.next();
            if let Ok(c) = self.or() {
                if *self.peek() == Tok::RParen {
                    self.next();
                    if matches!(self.peek(), Tok::And | Tok::Bar | Tok::RParen | Tok::End) {
                        return Ok(c);
                    }
                }
            }
            self.pos = save;
        }
        let at = self.at();
        let a = self.expr()?;
        let Tok::Cmp(op) = *self.peek() else {
            return Ok(Cond::Truthy(a));
        };
        self.next();
        if let Tok::Str(value) = self.peek().clone() {
            self.next();
            return match (a, op) {
                (Expr::Var(column), "==" | "!=") => Ok(Cond::Text { column, equal: op == "==", value }),
                _ => Err(FormulaError {
                    text: self.text.into(),
                    position: at,
                    message: "a text compares with a column by `==` or `!=`".into(),
                }),
            };
        }
        Ok(Cond::Cmp(op, a, self.expr()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_valued_logic_as_r() {
        let df = df!(
            "a" => [Some(1.0), None, Some(0.0), None],
            "b" => [1.0, 0.0, 1.0, 1.0],
            "s" => ["x", "y", "x", "z"]
        )
        .unwrap();
        let rows = |c: &str| Cond::parse(c).unwrap().rows(&df).unwrap();
        assert_eq!(rows("a == 1 | b == 0"), [true, true, false, false]);
        assert_eq!(rows("a == 1 & b == 0"), [false, false, false, false]);
        assert_eq!(rows("!(a == 1)"), [false, false, true, false]);
        assert_eq!(rows("s == \"x\" & (a + b) > 0"), [true, false, true, false]);
        assert_eq!(rows("s != 'x' || b"), [true, true, true, true]);
        assert_eq!(rows("log(b + 1) > 0.5"), [true, false, true, true]);
        let e = Cond::parse("zz > 1").unwrap().rows(&df).unwrap_err();
        assert!(e.to_string().contains("no column `zz`"), "{e}");
        let e = Cond::parse("b == \"x\"").unwrap().rows(&df).unwrap_err();
        assert!(e.to_string().contains("holds numbers"), "{e}");
    }
}
