//! The abstract syntax tree of Vega's expression language (a JavaScript subset).

use std::fmt;

/// A node of a parsed expression, with the byte offset where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub pos: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Number(f64),
    String(String),
    Boolean(bool),
    Null,
    /// A regular expression literal `/pattern/flags`.
    Regex {
        pattern: String,
        flags: String,
    },
    /// A bare identifier: `datum`, `event`, a signal name or a constant (`PI`).
    Identifier(String),
    /// `object.name` (`computed: false`) or `object[expr]` (`computed: true`).
    Member {
        object: Box<Expr>,
        property: Box<Expr>,
        computed: bool,
    },
    /// A call of a named function: Vega allows only named functions.
    Call {
        callee: String,
        args: Vec<Expr>,
    },
    Unary {
        op: UnaryOp,
        arg: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    Logical {
        op: LogicalOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    Conditional {
        test: Box<Expr>,
        consequent: Box<Expr>,
        alternate: Box<Expr>,
    },
    Array(Vec<Expr>),
    Object(Vec<(String, Expr)>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    Plus,
    Not,
    BitNot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Eq,
    NotEq,
    StrictEq,
    StrictNotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    BitAnd,
    BitOr,
    BitXor,
    Shl,
    Shr,
    UShr,
    In,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogicalOp {
    And,
    Or,
}

impl BinaryOp {
    pub fn symbol(self) -> &'static str {
        use BinaryOp::*;
        match self {
            Add => "+",
            Sub => "-",
            Mul => "*",
            Div => "/",
            Mod => "%",
            Eq => "==",
            NotEq => "!=",
            StrictEq => "===",
            StrictNotEq => "!==",
            Lt => "<",
            LtEq => "<=",
            Gt => ">",
            GtEq => ">=",
            BitAnd => "&",
            BitOr => "|",
            BitXor => "^",
            Shl => "<<",
            Shr => ">>",
            UShr => ">>>",
            In => "in",
        }
    }
}

impl Expr {
    /// Visits this node and every node below it, parents first.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        f(self);
        match &self.kind {
            ExprKind::Member { object, property, .. } => {
                object.walk(f);
                property.walk(f);
            }
            ExprKind::Call { args, .. } | ExprKind::Array(args) => {
                args.iter().for_each(|a| a.walk(f));
            }
            ExprKind::Unary { arg, .. } => arg.walk(f),
            ExprKind::Binary { left, right, .. } | ExprKind::Logical { left, right, .. } => {
                left.walk(f);
                right.walk(f);
            }
            ExprKind::Conditional { test, consequent, alternate } => {
                test.walk(f);
                consequent.walk(f);
                alternate.walk(f);
            }
            ExprKind::Object(props) => props.iter().for_each(|(_, v)| v.walk(f)),
            _ => {}
        }
    }

    /// If this is `datum.name` or `datum["name"]`, the field name.
    pub fn as_datum_field(&self) -> Option<&str> {
        match &self.kind {
            ExprKind::Member { object, property, .. } => match (&object.kind, &property.kind) {
                (ExprKind::Identifier(o), ExprKind::String(p)) if o == "datum" => Some(p),
                _ => None,
            },
            _ => None,
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Number(n) => write!(f, "{n}"),
            ExprKind::String(s) => write!(f, "{}", serde_json::Value::String(s.clone())),
            ExprKind::Boolean(b) => write!(f, "{b}"),
            ExprKind::Null => write!(f, "null"),
            ExprKind::Regex { pattern, flags } => write!(f, "/{pattern}/{flags}"),
            ExprKind::Identifier(name) => write!(f, "{name}"),
            ExprKind::Member { object, property, computed: false } => match &property.kind {
                ExprKind::String(p) => write!(f, "{object}.{p}"),
                _ => write!(f, "{object}[{property}]"),
            },
            ExprKind::Member { object, property, .. } => write!(f, "{object}[{property}]"),
            ExprKind::Call { callee, args } => {
                write!(f, "{callee}(")?;
                write_list(f, args)?;
                write!(f, ")")
            }
            ExprKind::Unary { op, arg } => {
                let s = match op {
                    UnaryOp::Neg => "-",
                    UnaryOp::Plus => "+",
                    UnaryOp::Not => "!",
                    UnaryOp::BitNot => "~",
                };
                write!(f, "{s}({arg})")
            }
            ExprKind::Binary { op, left, right } => write!(f, "({left} {} {right})", op.symbol()),
            ExprKind::Logical { op, left, right } => {
                let s = if *op == LogicalOp::And { "&&" } else { "||" };
                write!(f, "({left} {s} {right})")
            }
            ExprKind::Conditional { test, consequent, alternate } => {
                write!(f, "({test} ? {consequent} : {alternate})")
            }
            ExprKind::Array(items) => {
                write!(f, "[")?;
                write_list(f, items)?;
                write!(f, "]")
            }
            ExprKind::Object(props) => {
                write!(f, "{{")?;
                for (i, (k, v)) in props.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{}: {v}", serde_json::Value::String(k.clone()))?;
                }
                write!(f, "}}")
            }
        }
    }
}

fn write_list(f: &mut fmt::Formatter<'_>, items: &[Expr]) -> fmt::Result {
    for (i, a) in items.iter().enumerate() {
        if i > 0 {
            write!(f, ", ")?;
        }
        write!(f, "{a}")?;
    }
    Ok(())
}
