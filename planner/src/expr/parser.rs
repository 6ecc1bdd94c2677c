//! A recursive-descent parser for Vega's expression language.
//!
//! The grammar is vega-expression's: ECMAScript expressions without assignment,
//! `new`, `this`, function literals or update operators, with named calls only.

use super::ast::{BinaryOp, Expr, ExprKind, LogicalOp, UnaryOp};
use thiserror::Error;

/// A syntax error, with the byte offset (0-based) where it was found.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("{message} at column {}", .pos + 1)]
pub struct ParseError {
    pub pos: usize,
    pub message: String,
}

/// Parses one Vega expression.
///
/// ```
/// use vegalake_planner::expr::{parse, ExprKind};
/// let e = parse("datum['a b'] > 2 ? 'big' : 'small'").unwrap();
/// assert!(matches!(e.kind, ExprKind::Conditional { .. }));
/// assert!(parse("datum.a +").is_err());
/// ```
pub fn parse(source: &str) -> Result<Expr, ParseError> {
    let mut p = Parser { src: source, chars: source.char_indices().collect(), i: 0, tok: Token::Eof, tok_pos: 0, prev_end: 0, depth: 0 };
    p.advance()?;
    let e = p.expression()?;
    if p.tok != Token::Eof {
        return Err(p.error_here(format!("Unexpected token {}", p.tok.describe())));
    }
    Ok(e)
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Num(f64),
    Str(String),
    Ident(String),
    Punct(&'static str),
    Regex(String, String),
    Eof,
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Num(n) => format!("number {n}"),
            Token::Str(s) => format!("string {s:?}"),
            Token::Ident(s) => format!("'{s}'"),
            Token::Punct(p) => format!("'{p}'"),
            Token::Regex(p, _) => format!("regex /{p}/"),
            Token::Eof => "end of input".into(),
        }
    }
}

const PUNCTUATORS: [&str; 35] = [
    ">>>", "===", "!==", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "++", "--", "+", "-", "*", "/", "%", "<", ">", "&", "|", "^", "!", "~", "?", ":", "(",
    ")", "[", "]", "{", "}", ",", ".",
];

struct Parser<'a> {
    src: &'a str,
    chars: Vec<(usize, char)>,
    /// Index into `chars` of the next unread character.
    i: usize,
    tok: Token,
    tok_pos: usize,
    prev_end: usize,
    /// Nesting of sub-expressions, bounded so that no input can exhaust the stack.
    depth: usize,
}

/// Deeper nesting than any real chart writes; beyond it the expression is refused.
const MAX_DEPTH: usize = 200;

impl Parser<'_> {
    fn byte_pos(&self, i: usize) -> usize {
        self.chars.get(i).map(|c| c.0).unwrap_or(self.src.len())
    }

    fn peek_char(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.i + ahead).map(|c| c.1)
    }

    fn error_here(&self, message: impl Into<String>) -> ParseError {
        ParseError { pos: self.tok_pos, message: message.into() }
    }

    fn error_at(&self, pos: usize, message: impl Into<String>) -> ParseError {
        ParseError { pos, message: message.into() }
    }

    /// True when a `/` at this point starts a regex rather than a division.
    fn regex_allowed(&self) -> bool {
        match &self.tok {
            Token::Num(_) | Token::Str(_) | Token::Ident(_) | Token::Regex(..) => false,
            Token::Punct(p) => !matches!(*p, ")" | "]"),
            Token::Eof => true,
        }
    }

    fn advance(&mut self) -> Result<(), ParseError> {
        self.prev_end = self.byte_pos(self.i);
        let regex_ok = self.regex_allowed();
        while let Some(c) = self.peek_char(0) {
            if c.is_whitespace() {
                self.i += 1;
            } else {
                break;
            }
        }
        self.tok_pos = self.byte_pos(self.i);
        let Some(c) = self.peek_char(0) else {
            self.tok = Token::Eof;
            return Ok(());
        };
        self.tok = if c.is_ascii_digit() || (c == '.' && self.peek_char(1).is_some_and(|d| d.is_ascii_digit())) {
            self.number()?
        } else if c == '"' || c == '\'' {
            self.string(c)?
        } else if c == '$' || c == '_' || c.is_alphabetic() {
            let start = self.i;
            while self.peek_char(0).is_some_and(|c| c == '$' || c == '_' || c.is_alphanumeric()) {
                self.i += 1;
            }
            Token::Ident(self.chars[start..self.i].iter().map(|c| c.1).collect())
        } else if c == '/' && regex_ok {
            self.regex()?
        } else {
            let rest = &self.src[self.tok_pos..];
            let Some(p) = PUNCTUATORS.iter().find(|p| rest.starts_with(**p)) else {
                return Err(self.error_here(format!("Unexpected character '{c}'")));
            };
            self.i += p.len();
            Token::Punct(p)
        };
        Ok(())
    }

    fn number(&mut self) -> Result<Token, ParseError> {
        let start = self.i;
        if self.peek_char(0) == Some('0') && matches!(self.peek_char(1), Some('x' | 'X')) {
            self.i += 2;
            let digits_start = self.i;
            while self.peek_char(0).is_some_and(|c| c.is_ascii_hexdigit()) {
                self.i += 1;
            }
            let text: String = self.chars[digits_start..self.i].iter().map(|c| c.1).collect();
            return u64::from_str_radix(&text, 16).map(|v| Token::Num(v as f64)).map_err(|_| self.error_here("Invalid hexadecimal number"));
        }
        if self.peek_char(0) == Some('0') && self.peek_char(1).is_some_and(|c| c.is_ascii_digit()) {
            return Err(self.error_here("Octal literals are not allowed"));
        }
        while self.peek_char(0).is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        if self.peek_char(0) == Some('.') {
            self.i += 1;
            while self.peek_char(0).is_some_and(|c| c.is_ascii_digit()) {
                self.i += 1;
            }
        }
        if matches!(self.peek_char(0), Some('e' | 'E')) {
            self.i += 1;
            if matches!(self.peek_char(0), Some('+' | '-')) {
                self.i += 1;
            }
            if !self.peek_char(0).is_some_and(|c| c.is_ascii_digit()) {
                return Err(self.error_at(self.byte_pos(self.i), "Invalid number exponent"));
            }
            while self.peek_char(0).is_some_and(|c| c.is_ascii_digit()) {
                self.i += 1;
            }
        }
        if self.peek_char(0).is_some_and(|c| c == '$' || c == '_' || c.is_alphabetic()) {
            return Err(self.error_at(self.byte_pos(self.i), "Identifier directly after number"));
        }
        let text: String = self.chars[start..self.i].iter().map(|c| c.1).collect();
        text.parse::<f64>().map(Token::Num).map_err(|_| self.error_here(format!("Invalid number {text}")))
    }

    fn string(&mut self, quote: char) -> Result<Token, ParseError> {
        self.i += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek_char(0) else {
                return Err(self.error_here("Unterminated string literal"));
            };
            self.i += 1;
            if c == quote {
                return Ok(Token::Str(out));
            }
            if c == '\n' {
                return Err(self.error_here("Unterminated string literal"));
            }
            if c != '\\' {
                out.push(c);
                continue;
            }
            let Some(e) = self.peek_char(0) else {
                return Err(self.error_here("Unterminated string literal"));
            };
            self.i += 1;
            match e {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'v' => out.push('\u{b}'),
                '0' if !self.peek_char(0).is_some_and(|c| c.is_ascii_digit()) => out.push('\0'),
                'x' => out.push(self.hex_escape(2)?),
                'u' => out.push(self.hex_escape(4)?),
                '\n' => {}
                other => out.push(other),
            }
        }
    }

    fn hex_escape(&mut self, digits: usize) -> Result<char, ParseError> {
        let text: String = (0..digits).filter_map(|k| self.peek_char(k)).collect();
        let code = (text.len() == digits).then(|| u32::from_str_radix(&text, 16).ok()).flatten();
        self.i += digits;
        code.and_then(char::from_u32).ok_or_else(|| self.error_here("Invalid escape sequence"))
    }

    fn regex(&mut self) -> Result<Token, ParseError> {
        self.i += 1;
        let mut pattern = String::new();
        let mut in_class = false;
        loop {
            let Some(c) = self.peek_char(0) else {
                return Err(self.error_here("Unterminated regular expression"));
            };
            self.i += 1;
            match c {
                '\\' => {
                    pattern.push(c);
                    match self.peek_char(0) {
                        Some(n) => {
                            pattern.push(n);
                            self.i += 1;
                        }
                        None => return Err(self.error_here("Unterminated regular expression")),
                    }
                }
                '[' => {
                    in_class = true;
                    pattern.push(c)
                }
                ']' => {
                    in_class = false;
                    pattern.push(c)
                }
                '/' if !in_class => break,
                '\n' => return Err(self.error_here("Unterminated regular expression")),
                _ => pattern.push(c),
            }
        }
        let mut flags = String::new();
        while let Some(c) = self.peek_char(0).filter(|c| c.is_alphanumeric()) {
            if !"gimsuy".contains(c) {
                return Err(self.error_at(self.byte_pos(self.i), format!("Invalid regular expression flag '{c}'")));
            }
            flags.push(c);
            self.i += 1;
        }
        Ok(Token::Regex(pattern, flags))
    }

    fn is_punct(&self, p: &str) -> bool {
        matches!(&self.tok, Token::Punct(q) if *q == p)
    }

    fn expect(&mut self, p: &str) -> Result<(), ParseError> {
        if self.is_punct(p) {
            self.advance()
        } else {
            Err(self.error_here(format!("Expected '{p}' but found {}", self.tok.describe())))
        }
    }

    fn expression(&mut self) -> Result<Expr, ParseError> {
        let e = self.conditional()?;
        if self.is_punct(",") {
            return Err(self.error_here("Sequence expressions are not allowed"));
        }
        Ok(e)
    }

    /// Runs one level of the recursive descent, refusing nesting beyond `MAX_DEPTH`.
    fn nested(&mut self, level: fn(&mut Self) -> Result<Expr, ParseError>) -> Result<Expr, ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error_here(format!("Expression nested deeper than {MAX_DEPTH} levels")));
        }
        let result = level(self);
        self.depth -= 1;
        result
    }

    fn conditional(&mut self) -> Result<Expr, ParseError> {
        self.nested(Self::conditional_inner)
    }

    fn conditional_inner(&mut self) -> Result<Expr, ParseError> {
        let test = self.binary(0)?;
        if !self.is_punct("?") {
            if matches!(&self.tok, Token::Punct("=")) {
                return Err(self.error_here("Assignment is not allowed"));
            }
            return Ok(test);
        }
        self.advance()?;
        let consequent = self.conditional()?;
        self.expect(":")?;
        let alternate = self.conditional()?;
        let pos = test.pos;
        Ok(Expr { kind: ExprKind::Conditional { test: Box::new(test), consequent: Box::new(consequent), alternate: Box::new(alternate) }, pos })
    }

    /// The binary operator at the current token and its precedence (JS's table).
    fn binary_op(&self) -> Option<(u8, Result<BinaryOp, LogicalOp>)> {
        use BinaryOp::*;
        let p = match &self.tok {
            Token::Punct(p) => *p,
            Token::Ident(s) if s == "in" => return Some((7, Ok(In))),
            _ => return None,
        };
        Some(match p {
            "||" => (1, Err(LogicalOp::Or)),
            "&&" => (2, Err(LogicalOp::And)),
            "|" => (3, Ok(BitOr)),
            "^" => (4, Ok(BitXor)),
            "&" => (5, Ok(BitAnd)),
            "==" => (6, Ok(Eq)),
            "!=" => (6, Ok(NotEq)),
            "===" => (6, Ok(StrictEq)),
            "!==" => (6, Ok(StrictNotEq)),
            "<" => (7, Ok(Lt)),
            ">" => (7, Ok(Gt)),
            "<=" => (7, Ok(LtEq)),
            ">=" => (7, Ok(GtEq)),
            "<<" => (8, Ok(Shl)),
            ">>" => (8, Ok(Shr)),
            ">>>" => (8, Ok(UShr)),
            "+" => (9, Ok(Add)),
            "-" => (9, Ok(Sub)),
            "*" => (11, Ok(Mul)),
            "/" => (11, Ok(Div)),
            "%" => (11, Ok(Mod)),
            _ => return None,
        })
    }

    /// Precedence climbing: parses operators binding tighter than `min_prec`.
    fn binary(&mut self, min_prec: u8) -> Result<Expr, ParseError> {
        let mut left = self.unary()?;
        while let Some((prec, op)) = self.binary_op() {
            if prec <= min_prec {
                break;
            }
            self.advance()?;
            let right = self.binary(prec)?;
            let pos = left.pos;
            let (left_box, right_box) = (Box::new(left), Box::new(right));
            let kind = match op {
                Ok(op) => ExprKind::Binary { op, left: left_box, right: right_box },
                Err(op) => ExprKind::Logical { op, left: left_box, right: right_box },
            };
            left = Expr { kind, pos };
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        self.nested(Self::unary_inner)
    }

    fn unary_inner(&mut self) -> Result<Expr, ParseError> {
        let pos = self.tok_pos;
        let op = match &self.tok {
            Token::Punct("-") => UnaryOp::Neg,
            Token::Punct("+") => UnaryOp::Plus,
            Token::Punct("!") => UnaryOp::Not,
            Token::Punct("~") => UnaryOp::BitNot,
            Token::Punct("++") | Token::Punct("--") => {
                return Err(self.error_here("Update operators are not allowed"));
            }
            Token::Ident(s) if matches!(s.as_str(), "typeof" | "void" | "delete") => {
                return Err(self.error_here(format!("The '{s}' operator is not allowed")));
            }
            _ => return self.postfix(),
        };
        self.advance()?;
        let arg = self.unary()?;
        Ok(Expr { kind: ExprKind::Unary { op, arg: Box::new(arg) }, pos })
    }

    fn postfix(&mut self) -> Result<Expr, ParseError> {
        let mut e = self.primary()?;
        loop {
            if self.is_punct(".") {
                self.advance()?;
                let Token::Ident(name) = self.tok.clone() else {
                    return Err(self.error_here(format!("Expected a property name but found {}", self.tok.describe())));
                };
                let prop = Expr { kind: ExprKind::String(name), pos: self.tok_pos };
                self.advance()?;
                let pos = e.pos;
                e = Expr { kind: ExprKind::Member { object: Box::new(e), property: Box::new(prop), computed: false }, pos };
            } else if self.is_punct("[") {
                self.advance()?;
                let prop = self.expression()?;
                self.expect("]")?;
                let pos = e.pos;
                e = Expr { kind: ExprKind::Member { object: Box::new(e), property: Box::new(prop), computed: true }, pos };
            } else if self.is_punct("(") {
                let ExprKind::Identifier(callee) = &e.kind else {
                    return Err(self.error_here("Only named functions can be called"));
                };
                let callee = callee.clone();
                self.advance()?;
                let args = self.list(")")?;
                e = Expr { kind: ExprKind::Call { callee, args }, pos: e.pos };
            } else {
                return Ok(e);
            }
        }
    }

    /// Comma-separated expressions up to (and consuming) `close`.
    fn list(&mut self, close: &str) -> Result<Vec<Expr>, ParseError> {
        let mut items = Vec::new();
        while !self.is_punct(close) {
            items.push(self.conditional()?);
            if !self.is_punct(close) {
                self.expect(",")?;
            }
        }
        self.advance()?;
        Ok(items)
    }

    /// The properties of an object literal, after its `{` and through its `}`.
    fn object_properties(&mut self) -> Result<Vec<(String, Expr)>, ParseError> {
        let mut props = Vec::new();
        while !self.is_punct("}") {
            let key = match &self.tok {
                Token::Ident(s) | Token::Str(s) => s.clone(),
                Token::Num(n) => crate::values::number::js_number_to_string(*n),
                other => return Err(self.error_here(format!("Expected a property name but found {}", other.describe()))),
            };
            // vega's parser (strict mode) refuses a name given twice.
            if props.iter().any(|(k, _)| *k == key) {
                return Err(self.error_here(format!("Duplicate data property '{key}' in object literal")));
            }
            self.advance()?;
            self.expect(":")?;
            props.push((key, self.conditional()?));
            if !self.is_punct("}") {
                self.expect(",")?;
            }
        }
        self.advance()?;
        Ok(props)
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        let pos = self.tok_pos;
        let kind = match self.tok.clone() {
            Token::Num(n) => ExprKind::Number(n),
            Token::Str(s) => ExprKind::String(s),
            Token::Regex(pattern, flags) => ExprKind::Regex { pattern, flags },
            Token::Ident(name) => match name.as_str() {
                "true" => ExprKind::Boolean(true),
                "false" => ExprKind::Boolean(false),
                "null" => ExprKind::Null,
                "this" | "new" | "function" | "var" | "let" | "const" | "return" => {
                    return Err(self.error_here(format!("'{name}' is not allowed in expressions")));
                }
                _ => ExprKind::Identifier(name),
            },
            Token::Punct("(") => {
                self.advance()?;
                let e = self.expression()?;
                self.expect(")")?;
                return Ok(e);
            }
            Token::Punct("[") => {
                self.advance()?;
                return Ok(Expr { kind: ExprKind::Array(self.list("]")?), pos });
            }
            Token::Punct("{") => {
                self.advance()?;
                return Ok(Expr { kind: ExprKind::Object(self.object_properties()?), pos });
            }
            Token::Eof => return Err(self.error_here("Unexpected end of input")),
            Token::Punct(p) => return Err(self.error_here(format!("Unexpected token '{p}'"))),
        };
        self.advance()?;
        Ok(Expr { kind, pos })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(s: &str) -> String {
        parse(s).map(|e| e.to_string()).unwrap_or_else(|e| format!("error: {e}"))
    }

    #[test]
    fn precedence_follows_javascript() {
        assert_eq!(show("1 + 2 * 3"), "(1 + (2 * 3))");
        assert_eq!(show("a || b && c"), "(a || (b && c))");
        assert_eq!(show("1 - 2 - 3"), "((1 - 2) - 3)");
        assert_eq!(show("a < b == c"), "((a < b) == c)");
        assert_eq!(show("a ? b : c ? d : e"), "(a ? b : (c ? d : e))");
        assert_eq!(show("-a.b"), "-(a.b)");
        assert_eq!(show("!a === b"), "(!(a) === b)");
    }

    #[test]
    fn members_calls_and_literals() {
        assert_eq!(show("datum['a b'].c"), "datum[\"a b\"].c");
        assert_eq!(parse("datum['a b']").unwrap().as_datum_field(), Some("a b"));
        assert_eq!(parse("datum.x").unwrap().as_datum_field(), Some("x"));
        assert_eq!(show("max(1, [2, 3], 'x')"), "max(1, [2, 3], \"x\")");
        assert_eq!(show("0x1F + .5 + 1e3"), "((31 + 0.5) + 1000)");
        assert_eq!(show("'it\\'s' + \"\\u0041\""), "(\"it's\" + \"A\")");
        assert_eq!(show("test(/a\\/b[/]/gi, x)"), "test(/a\\/b[/]/gi, x)");
        assert_eq!(show("a / b / c"), "((a / b) / c)");
        assert_eq!(show("{a: 1, 'b c': [x]}"), "{\"a\": 1, \"b c\": [x]}");
    }

    #[test]
    fn errors_carry_positions() {
        let e = parse("datum.a + * 2").unwrap_err();
        assert_eq!(e.pos, 10);
        assert!(e.to_string().contains("column 11"), "{e}");
        assert!(parse("foo.bar(1)").is_err());
        assert!(parse("a = 1").is_err());
        assert!(parse("'abc").is_err());
        assert!(parse("(1").is_err());
        assert!(parse("a, b").is_err());
        assert!(parse("x++").is_err());
        assert!(parse("").is_err());
        assert!(parse("1 2").is_err());
        assert!(parse("this.x").is_err());
        let deep = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(parse(&deep).unwrap_err().message.contains("nested deeper"));
        assert!(parse(&"-".repeat(10_000)).is_err());
    }
}
