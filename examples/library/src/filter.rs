//! AIP-160 filters: a hand-written lexer and recursive-descent parser, a
//! compile step that type-checks every restriction against the Book
//! descriptor, and an evaluator over Book messages.
//!
//! Grammar (AIP-160; `OR` binds tighter than `AND`, juxtaposition is `AND`):
//! ```text
//! expression  = sequence { "AND" sequence }
//! sequence    = factor { factor }
//! factor      = term { "OR" term }
//! term        = [ "NOT" | "-" ] simple
//! simple      = "(" expression ")" | restriction
//! restriction = member comparator arg
//! member      = NAME { "." NAME }
//! comparator  = "=" | "!=" | "<" | "<=" | ">" | ">=" | ":"
//! arg         = STRING | [ "-" ] NUMBER | NAME | "*"   ("*" only after ":")
//! ```
//! Not supported (INVALID_ARGUMENT): global restrictions (a bare value),
//! functions, a field on the right-hand side, composite arguments.

use std::cmp::Ordering;

use prost_reflect::{DynamicMessage, MessageDescriptor};

use crate::fields::{self, Datum, FieldPath, Leaf, Step};

/// Why a filter was refused; the message names the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid filter: {0}")]
pub struct FilterError(pub String);

fn err<T>(message: impl Into<String>) -> Result<T, FilterError> {
    Err(FilterError(message.into()))
}

/// A comparator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparator {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `:`, the has operator.
    Has,
}

impl Comparator {
    fn symbol(self) -> &'static str {
        match self {
            Comparator::Eq => "=",
            Comparator::Ne => "!=",
            Comparator::Lt => "<",
            Comparator::Le => "<=",
            Comparator::Gt => ">",
            Comparator::Ge => ">=",
            Comparator::Has => ":",
        }
    }

    fn ordered(self) -> bool {
        matches!(
            self,
            Comparator::Lt | Comparator::Le | Comparator::Gt | Comparator::Ge
        )
    }

    fn holds(self, ordering: Ordering) -> bool {
        match self {
            Comparator::Eq | Comparator::Has => ordering == Ordering::Equal,
            Comparator::Ne => ordering != Ordering::Equal,
            Comparator::Lt => ordering == Ordering::Less,
            Comparator::Le => ordering != Ordering::Greater,
            Comparator::Gt => ordering == Ordering::Greater,
            Comparator::Ge => ordering != Ordering::Less,
        }
    }
}

/// A quoted string literal; `pieces` is set when it holds an unescaped
/// `*` (the wildcard), split at each one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrLit {
    pub text: String,
    pub pieces: Option<Vec<String>>,
}

/// The right-hand side of a restriction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// `*` after `:`: presence.
    Any,
    Str(StrLit),
    /// A number as written (sign included).
    Number(String),
    /// A bare word: `true`, `false`, `null`, an enum value or text.
    Text(String),
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Restriction {
        path: String,
        op: Comparator,
        arg: Arg,
    },
}

// ---------------------------------------------------------------- lexer

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    Dot,
    Comma,
    Star,
    Minus,
    Cmp(Comparator),
    Str(StrLit),
    Number(String),
    Word(String),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    /// 1-based character position, for messages.
    pos: usize,
    /// Whitespace came before it (`NOT` needs it; `-` must not have it
    /// before a negative number).
    spaced: bool,
}

fn lex(text: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    let mut spaced = true;
    while i < chars.len() {
        let c = chars[i];
        let pos = i + 1;
        if c.is_whitespace() {
            spaced = true;
            i += 1;
            continue;
        }
        let next = chars.get(i + 1).copied();
        let (tok, len) = match c {
            '(' => (Tok::LParen, 1),
            ')' => (Tok::RParen, 1),
            '.' => (Tok::Dot, 1),
            ',' => (Tok::Comma, 1),
            '*' => (Tok::Star, 1),
            '-' => (Tok::Minus, 1),
            ':' => (Tok::Cmp(Comparator::Has), 1),
            '=' => (Tok::Cmp(Comparator::Eq), 1),
            '!' if next == Some('=') => (Tok::Cmp(Comparator::Ne), 2),
            '<' if next == Some('=') => (Tok::Cmp(Comparator::Le), 2),
            '<' => (Tok::Cmp(Comparator::Lt), 1),
            '>' if next == Some('=') => (Tok::Cmp(Comparator::Ge), 2),
            '>' => (Tok::Cmp(Comparator::Gt), 1),
            '"' | '\'' => {
                let (lit, len) = string(&chars[i..], pos)?;
                (Tok::Str(lit), len)
            }
            c if c.is_ascii_digit() => {
                let len = number_len(&chars[i..]);
                (Tok::Number(chars[i..i + len].iter().collect()), len)
            }
            c if c.is_alphabetic() || c == '_' => {
                let len = chars[i..]
                    .iter()
                    .take_while(|c| c.is_alphanumeric() || **c == '_')
                    .count();
                (Tok::Word(chars[i..i + len].iter().collect()), len)
            }
            other => return err(format!("unexpected character {other:?} at position {pos}")),
        };
        tokens.push(Token { tok, pos, spaced });
        spaced = false;
        i += len;
    }
    Ok(tokens)
}

fn number_len(chars: &[char]) -> usize {
    let digits = |from: usize| {
        chars[from.min(chars.len())..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    let mut len = digits(0);
    if chars.get(len) == Some(&'.') && chars.get(len + 1).is_some_and(|c| c.is_ascii_digit()) {
        len += 1 + digits(len + 1);
    }
    if matches!(chars.get(len), Some('e' | 'E')) {
        let sign = usize::from(matches!(chars.get(len + 1), Some('+' | '-')));
        let exp = digits(len + 1 + sign);
        if exp > 0 {
            len += 1 + sign + exp;
        }
    }
    len
}

/// A quoted string starting at `chars[0]` (the quote); returns it and the
/// characters it spans.
fn string(chars: &[char], pos: usize) -> Result<(StrLit, usize), FilterError> {
    let quote = chars[0];
    let mut text = String::new();
    let mut pieces: Vec<String> = vec![String::new()];
    let mut wildcard = false;
    let mut i = 1;
    loop {
        let Some(&c) = chars.get(i) else {
            return err(format!("unterminated string starting at position {pos}"));
        };
        i += 1;
        let literal = match c {
            c if c == quote => break,
            '\\' => {
                let Some(&escaped) = chars.get(i) else {
                    return err(format!("unterminated string starting at position {pos}"));
                };
                i += 1;
                match escaped {
                    '\\' | '"' | '\'' | '*' => escaped,
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    other => {
                        return err(format!(
                            "unknown escape \\{other} in the string at position {pos}"
                        ));
                    }
                }
            }
            '*' => {
                wildcard = true;
                text.push('*');
                pieces.push(String::new());
                continue;
            }
            c => c,
        };
        text.push(literal);
        if let Some(last) = pieces.last_mut() {
            last.push(literal);
        }
    }
    Ok((
        StrLit {
            text,
            pieces: wildcard.then_some(pieces),
        },
        i,
    ))
}

// ---------------------------------------------------------------- parser

/// Parses a filter; an empty or blank filter is `None` (everything).
pub fn parse(text: &str) -> Result<Option<Expr>, FilterError> {
    let tokens = lex(text)?;
    if tokens.is_empty() {
        return Ok(None);
    }
    let mut parser = Parser { tokens, at: 0 };
    let expr = parser.expression()?;
    if let Some(token) = parser.peek() {
        return err(format!(
            "unexpected {} at position {}",
            describe(&token.tok),
            token.pos
        ));
    }
    Ok(Some(expr))
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::LParen => "`(`".into(),
        Tok::RParen => "`)`".into(),
        Tok::Dot => "`.`".into(),
        Tok::Comma => "`,`".into(),
        Tok::Star => "`*`".into(),
        Tok::Minus => "`-`".into(),
        Tok::Cmp(c) => format!("`{}`", c.symbol()),
        Tok::Str(s) => format!("the string {:?}", s.text),
        Tok::Number(n) => format!("the number {n}"),
        Tok::Word(w) => format!("`{w}`"),
    }
}

fn is_keyword(word: &str) -> bool {
    matches!(word, "AND" | "OR" | "NOT")
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn peek_tok(&self) -> Option<&Tok> {
        self.peek().map(|t| &t.tok)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn at_word(&self, word: &str) -> bool {
        matches!(self.peek_tok(), Some(Tok::Word(w)) if w == word)
    }

    fn end_position(&self) -> String {
        match self.peek() {
            Some(t) => format!("position {}", t.pos),
            None => "the end of the filter".into(),
        }
    }

    fn expression(&mut self) -> Result<Expr, FilterError> {
        let mut parts = vec![self.sequence()?];
        while self.at_word("AND") {
            self.next();
            parts.push(self.sequence()?);
        }
        Ok(flatten(parts, Expr::And))
    }

    fn sequence(&mut self) -> Result<Expr, FilterError> {
        let mut parts = vec![self.factor()?];
        // Juxtaposed terms are ANDed (AIP-160 sequences).
        while let Some(tok) = self.peek_tok() {
            let starts_term = match tok {
                Tok::Word(w) => !matches!(w.as_str(), "AND" | "OR"),
                Tok::LParen | Tok::Minus => true,
                _ => false,
            };
            if !starts_term {
                break;
            }
            parts.push(self.factor()?);
        }
        Ok(flatten(parts, Expr::And))
    }

    fn factor(&mut self) -> Result<Expr, FilterError> {
        let mut parts = vec![self.term()?];
        while self.at_word("OR") {
            self.next();
            parts.push(self.term()?);
        }
        Ok(flatten(parts, Expr::Or))
    }

    fn term(&mut self) -> Result<Expr, FilterError> {
        if self.at_word("NOT") {
            self.next();
            if self
                .peek()
                .is_some_and(|t| !t.spaced && t.tok != Tok::LParen)
            {
                return err("`NOT` must be followed by a space or `(`");
            }
            return Ok(Expr::Not(Box::new(self.simple()?)));
        }
        if self.peek_tok() == Some(&Tok::Minus) {
            self.next();
            return Ok(Expr::Not(Box::new(self.simple()?)));
        }
        self.simple()
    }

    fn simple(&mut self) -> Result<Expr, FilterError> {
        match self.next() {
            Some(Token {
                tok: Tok::LParen, ..
            }) => {
                let inner = self.expression()?;
                match self.next() {
                    Some(Token {
                        tok: Tok::RParen, ..
                    }) => Ok(inner),
                    Some(t) => err(format!(
                        "expected `)` at position {}, found {}",
                        t.pos,
                        describe(&t.tok)
                    )),
                    None => err("expected `)` before the end of the filter"),
                }
            }
            Some(Token {
                tok: Tok::Word(word),
                pos,
                ..
            }) if !is_keyword(&word) => self.restriction(word, pos),
            Some(t) => err(format!(
                "expected a field name or `(` at position {}, found {}",
                t.pos,
                describe(&t.tok)
            )),
            None => err("expected a field name or `(` at the end of the filter"),
        }
    }

    fn restriction(&mut self, first: String, pos: usize) -> Result<Expr, FilterError> {
        let mut path = first;
        while self.peek_tok() == Some(&Tok::Dot) {
            self.next();
            match self.next() {
                Some(Token {
                    tok: Tok::Word(w), ..
                }) => {
                    path.push('.');
                    path.push_str(&w);
                }
                Some(t) => {
                    return err(format!(
                        "expected a field name after `.` at position {}, found {}",
                        t.pos,
                        describe(&t.tok)
                    ));
                }
                None => return err("expected a field name after `.`"),
            }
        }
        let op = match self.peek_tok() {
            Some(Tok::Cmp(op)) => *op,
            Some(Tok::LParen) => {
                return err(format!(
                    "functions are not supported (`{path}(` at position {pos})"
                ));
            }
            _ => {
                return err(format!(
                    "`{path}` at position {pos} is a bare value: global restrictions are not supported, compare a field (e.g. `{path} = \"...\"`)"
                ));
            }
        };
        self.next();
        let arg = self.arg(&path, op)?;
        Ok(Expr::Restriction { path, op, arg })
    }

    fn arg(&mut self, path: &str, op: Comparator) -> Result<Arg, FilterError> {
        let where_ = self.end_position();
        let Some(token) = self.next() else {
            return err(format!(
                "`{path} {}` needs a value at {where_}",
                op.symbol()
            ));
        };
        let arg = match token.tok {
            Tok::Star if op == Comparator::Has => Arg::Any,
            Tok::Star => {
                return err(format!(
                    "`*` alone is only valid after `:` (presence), at position {}",
                    token.pos
                ));
            }
            Tok::Str(s) => Arg::Str(s),
            Tok::Number(n) => Arg::Number(n),
            Tok::Minus => match self.peek() {
                Some(Token {
                    tok: Tok::Number(n),
                    spaced: false,
                    ..
                }) => {
                    let n = format!("-{n}");
                    self.next();
                    Arg::Number(n)
                }
                _ => {
                    return err(format!(
                        "expected a number after `-` at position {}",
                        token.pos
                    ));
                }
            },
            Tok::Word(w) if !is_keyword(&w) => {
                if self.peek_tok() == Some(&Tok::Dot) {
                    return err(format!(
                        "comparing `{path}` with another field is not supported (position {})",
                        token.pos
                    ));
                }
                if self.peek_tok() == Some(&Tok::LParen) {
                    return err(format!(
                        "functions are not supported (`{w}(` at position {})",
                        token.pos
                    ));
                }
                Arg::Text(w)
            }
            Tok::LParen => {
                return err(format!(
                    "composite arguments are not supported (position {}); write `({path} {} a OR {path} {} b)`",
                    token.pos,
                    op.symbol(),
                    op.symbol()
                ));
            }
            other => {
                return err(format!(
                    "expected a value after `{path} {}` at position {}, found {}",
                    op.symbol(),
                    token.pos,
                    describe(&other)
                ));
            }
        };
        Ok(arg)
    }
}

fn flatten(mut parts: Vec<Expr>, join: fn(Vec<Expr>) -> Expr) -> Expr {
    if parts.len() == 1 {
        parts.remove(0)
    } else {
        join(parts)
    }
}

// ------------------------------------------------------- compile and eval

/// A string pattern with `*` wildcards, matched case-insensitively (Wix's
/// startsWith/endsWith/contains are; README "Filters").
#[derive(Debug, Clone, PartialEq)]
struct Pattern {
    pieces: Vec<String>,
}

impl Pattern {
    fn new(pieces: &[String]) -> Self {
        Self {
            pieces: pieces.iter().map(|p| p.to_lowercase()).collect(),
        }
    }

    fn matches(&self, text: &str) -> bool {
        let text = text.to_lowercase();
        let Some((first, rest)) = self.pieces.split_first() else {
            return true;
        };
        let Some(mut remaining) = text.strip_prefix(first.as_str()) else {
            return false;
        };
        let Some((last, middle)) = rest.split_last() else {
            // No wildcard at all: the whole text.
            return remaining.is_empty();
        };
        for piece in middle {
            match remaining.find(piece.as_str()) {
                Some(at) => remaining = &remaining[at + piece.len()..],
                None => return false,
            }
        }
        remaining.ends_with(last.as_str())
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Lit {
    Str(String),
    Pattern(Pattern),
    Int(i64),
    Float(f64),
    Bool(bool),
    Enum(i32),
    Time(i64, i32),
    Null,
}

#[derive(Debug, Clone)]
enum Pred {
    And(Vec<Pred>),
    Or(Vec<Pred>),
    Not(Box<Pred>),
    Compare {
        steps: Vec<Step>,
        op: Comparator,
        lit: Lit,
    },
    /// `repeated:value`: some element equals the value.
    Contains {
        steps: Vec<Step>,
        lit: Lit,
    },
    /// `path:*`, or `struct:key`.
    Present(Vec<Step>),
}

/// A filter checked against the Book descriptor, ready to evaluate.
#[derive(Debug, Clone)]
pub(crate) struct Filter {
    pred: Option<Pred>,
}

impl Filter {
    /// Parses and type-checks `text` against `message`.
    pub fn new(text: &str, message: &MessageDescriptor) -> Result<Self, FilterError> {
        let pred = match parse(text)? {
            Some(expr) => Some(compile(&expr, message)?),
            None => None,
        };
        Ok(Self { pred })
    }

    pub fn matches(&self, message: &DynamicMessage) -> bool {
        self.pred.as_ref().is_none_or(|p| eval(p, message))
    }
}

fn compile(expr: &Expr, message: &MessageDescriptor) -> Result<Pred, FilterError> {
    Ok(match expr {
        Expr::And(parts) => Pred::And(
            parts
                .iter()
                .map(|p| compile(p, message))
                .collect::<Result<_, _>>()?,
        ),
        Expr::Or(parts) => Pred::Or(
            parts
                .iter()
                .map(|p| compile(p, message))
                .collect::<Result<_, _>>()?,
        ),
        Expr::Not(inner) => Pred::Not(Box::new(compile(inner, message)?)),
        Expr::Restriction { path, op, arg } => {
            let field = fields::resolve(message, path, true).map_err(FilterError)?;
            restriction(&field, *op, arg)?
        }
    })
}

fn restriction(field: &FieldPath, op: Comparator, arg: &Arg) -> Result<Pred, FilterError> {
    let path = &field.text;
    let steps = field.steps.clone();
    if *arg == Arg::Any {
        return Ok(Pred::Present(steps));
    }
    if field.repeated {
        if op != Comparator::Has {
            return err(format!(
                "`{path}` is a repeated field: use `{path}:value` (has) or `{path}:*`, not `{}`",
                op.symbol()
            ));
        }
        let lit = literal(field, Comparator::Eq, arg)?;
        return Ok(Pred::Contains { steps, lit });
    }
    match (&field.leaf, op) {
        (Leaf::Struct, Comparator::Has) => {
            let key = match arg {
                Arg::Str(s) if s.pieces.is_none() => s.text.clone(),
                Arg::Text(t) => t.clone(),
                _ => return err(format!("`{path}:` takes a key (a string) or `*`")),
            };
            let mut steps = steps;
            steps.push(Step::Key(key));
            return Ok(Pred::Present(steps));
        }
        (Leaf::Struct | Leaf::Message, _) => {
            return err(format!(
                "`{path}` is {}: only `{path}:*` (presence) applies; compare one of its fields",
                field.leaf.describe()
            ));
        }
        _ => {}
    }
    // `:` on a singular scalar is equality.
    let op = if op == Comparator::Has {
        Comparator::Eq
    } else {
        op
    };
    let lit = literal(field, op, arg)?;
    Ok(Pred::Compare { steps, op, lit })
}

fn literal(field: &FieldPath, op: Comparator, arg: &Arg) -> Result<Lit, FilterError> {
    let path = &field.text;
    let mismatch = || {
        err(format!(
            "`{path}` is {}; {} does not fit it",
            field.leaf.describe(),
            describe_arg(arg)
        ))
    };
    let no_order = |what: &str| {
        if op.ordered() {
            err(format!(
                "`{path}` is {what}: only `=`, `!=` and `:` apply, not `{}`",
                op.symbol()
            ))
        } else {
            Ok(())
        }
    };
    let string = |s: &StrLit| -> Result<Lit, FilterError> {
        match &s.pieces {
            Some(_) if op.ordered() => err(format!(
                "`*` wildcards apply only with `=`, `!=` and `:` (on `{path}`)"
            )),
            Some(pieces) => Ok(Lit::Pattern(Pattern::new(pieces))),
            None => Ok(Lit::Str(s.text.clone())),
        }
    };
    match (&field.leaf, arg) {
        (Leaf::String, Arg::Str(s)) => string(s),
        (Leaf::String, Arg::Text(t)) => Ok(Lit::Str(t.clone())),
        (Leaf::Int, Arg::Number(n)) => match n.parse::<i64>() {
            Ok(n) => Ok(Lit::Int(n)),
            Err(_) if n.contains(['.', 'e', 'E']) => err(format!(
                "`{path}` is an integer field; {n} is not an integer"
            )),
            Err(_) => err(format!("{n} is out of range for `{path}`")),
        },
        (Leaf::Float, Arg::Number(n)) => match n.parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(Lit::Float(n)),
            _ => err(format!("{n} is not a finite number (`{path}`)")),
        },
        (Leaf::Bool, Arg::Text(t)) if t == "true" || t == "false" => {
            no_order("a boolean")?;
            Ok(Lit::Bool(t == "true"))
        }
        (Leaf::Enum(e), Arg::Text(name))
        | (
            Leaf::Enum(e),
            Arg::Str(StrLit {
                text: name,
                pieces: None,
            }),
        ) => {
            no_order("an enum")?;
            match e.get_value_by_name(name) {
                Some(v) => Ok(Lit::Enum(v.number())),
                None => err(format!(
                    "`{name}` is not a value of {} (`{path}`); one of: {}",
                    e.full_name(),
                    e.values()
                        .map(|v| v.name().to_owned())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            }
        }
        (Leaf::Timestamp, Arg::Str(s)) if s.pieces.is_none() => {
            match s.text.parse::<prost_types::Timestamp>() {
                // RFC 3339 wants a time as well as a date.
                Ok(t) if s.text.len() > 10 => Ok(Lit::Time(t.seconds, t.nanos)),
                _ => err(format!(
                    "`{path}` is a timestamp; {:?} is not an RFC 3339 date-time (e.g. \"2024-01-31T12:00:00Z\")",
                    s.text
                )),
            }
        }
        (Leaf::Dynamic, Arg::Str(s)) => string(s),
        (Leaf::Dynamic, Arg::Number(n)) => match n.parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(Lit::Float(n)),
            _ => err(format!("{n} is not a finite number (`{path}`)")),
        },
        (Leaf::Dynamic, Arg::Text(t)) => Ok(match t.as_str() {
            "true" => Lit::Bool(true),
            "false" => Lit::Bool(false),
            "null" => Lit::Null,
            _ => Lit::Str(t.clone()),
        }),
        _ => mismatch(),
    }
}

fn describe_arg(arg: &Arg) -> String {
    match arg {
        Arg::Any => "`*`".into(),
        Arg::Str(s) => format!("the string {:?}", s.text),
        Arg::Number(n) => format!("the number {n}"),
        Arg::Text(t) => format!("the bare word `{t}`"),
    }
}

fn eval(pred: &Pred, message: &DynamicMessage) -> bool {
    match pred {
        Pred::And(parts) => parts.iter().all(|p| eval(p, message)),
        Pred::Or(parts) => parts.iter().any(|p| eval(p, message)),
        Pred::Not(inner) => !eval(inner, message),
        Pred::Present(steps) => fields::present(message, steps),
        Pred::Compare { steps, op, lit } => compare(&fields::get(message, steps), *op, lit),
        Pred::Contains { steps, lit } => match fields::get(message, steps) {
            Datum::List(items) => items.iter().any(|d| compare(d, Comparator::Eq, lit)),
            _ => false,
        },
    }
}

/// `datum op lit`; a value of another type (or absent) equals nothing, so
/// only `!=` holds for it.
fn compare(datum: &Datum, op: Comparator, lit: &Lit) -> bool {
    let ordering = match (datum, lit) {
        (Datum::Str(s), Lit::Pattern(p)) => {
            return match op {
                Comparator::Ne => !p.matches(s),
                _ => p.matches(s),
            };
        }
        (Datum::Str(a), Lit::Str(b)) => Some(a.as_str().cmp(b.as_str())),
        (Datum::Int(a), Lit::Int(b)) => Some(a.cmp(b)),
        (Datum::Float(a), Lit::Float(b)) => a.partial_cmp(b),
        (Datum::Bool(a), Lit::Bool(b)) => Some(a.cmp(b)),
        (Datum::Enum(a), Lit::Enum(b)) => Some(a.cmp(b)),
        (Datum::Time(s, n), Lit::Time(ls, ln)) => Some((s, n).cmp(&(ls, ln))),
        (Datum::Null, Lit::Null) => Some(Ordering::Equal),
        _ => None,
    };
    match ordering {
        Some(ordering) => op.holds(ordering),
        None => op == Comparator::Ne,
    }
}

#[cfg(test)]
mod tests;
