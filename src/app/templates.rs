//! A small handwritten template engine: the pages' HTML lives in `www/templates/*.html`,
//! their data is a `serde_json::Value`, so the same data renders as HTML or goes out as
//! JSON (SPEC: "every HTML page also answers `Accept: application/json` with the same
//! data").
//!
//! # Theory of operation
//!
//! [`Templates::load`] reads every `*.html` file of the directory once, at start, and
//! compiles each into a tree of [`Node`]s: text, variables, `if`, `for`. Inheritance
//! (`extends`/`block`) and `include` are resolved right then, so a compiled template is
//! one self-contained tree and rendering never touches the disk or another template.
//! Any syntax error stops the server from starting, with the file and the line:
//! `www/templates/cart.html:12: {% for %} is never closed (missing {% endfor %})`.
//!
//! [`Templates::render`] walks the tree against a context (a JSON object), writing into
//! one `String`. Nothing is evaluated but lookups: a template cannot call code.
//!
//! # The syntax (a small subset of Django's / Jinja's)
//!
//! | syntax | meaning |
//! |---|---|
//! | `{{ name }}`, `{{ product.price }}`, `{{ items.0.id }}` | the value, **HTML-escaped** (strings as text, numbers and booleans as JSON writes them, `null` and missing values as nothing, lists and objects as JSON) |
//! | `{{ name\|safe }}` | the value **not escaped**: the only opt-out, for trusted fragments the server built itself (Django's filter) |
//! | `{% if x %}…{% elif y %}…{% else %}…{% endif %}`, `{% if not x %}` | truthiness as in Python: `null`, `false`, `0`, `""`, `[]`, `{}` and missing are false |
//! | `{% for p in products %}…{% else %}…{% endfor %}` | a loop; the `else` part renders when the list is empty (or missing). Over an object, each item is `{"key": …, "value": …}`. Inside, `loop.index` (from 1), `loop.first`, `loop.last` |
//! | `{% extends "base.html" %}` | first tag of a template: it fills the named blocks of that layout; nothing may stand outside its blocks |
//! | `{% block content %}…{% endblock %}` | a named, overridable part of a layout (the layout's own text is the default) |
//! | `{% include "part.html" %}` | another template's tree, inlined at load time (same context) |
//! | `{# a comment #}` | nothing |
//!
//! Decisions:
//!
//! - **A variable that is not in the context renders as nothing** (Django's choice), and
//!   is false in an `if`: templates are checked for syntax at start, but whether a name
//!   exists depends on each request's data.
//! - **Standalone tags leave no blank lines**: a `{% … %}` or `{# … #}` alone on its
//!   line (only spaces or tabs around it) takes its whole line with it, newline
//!   included (as Mustache's "standalone" rule and Jinja's `trim_blocks` +
//!   `lstrip_blocks` do), so the HTML sent reads like the template.
//! - Names are `[A-Za-z0-9_]+`, joined by `.`; a segment of digits indexes a list.
//! - No expressions, comparisons or filters but `safe`: a page computes what it shows
//!   (totals, formatted prices) in Rust and puts it in the data, where the JSON
//!   form gets it too.

use crate::app::html::{escape_into, push_u64};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};

/// A template that could not be loaded: where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// The file (or the directory, when it could not be read).
    pub file: PathBuf,
    /// 1-based line of the problem; 0 when the problem is the file as a whole.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
        }
    }
}

impl std::error::Error for TemplateError {}

/// A dotted lookup path: `product.name` → `["product", "name"]`.
type Lookup = Vec<String>;

/// One piece of a compiled template.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    Text(String),
    Var {
        path: Lookup,
        safe: bool,
    },
    If {
        negate: bool,
        path: Lookup,
        then: Vec<Node>,
        otherwise: Vec<Node>,
    },
    For {
        var: String,
        path: Lookup,
        body: Vec<Node>,
        empty: Vec<Node>,
    },
    /// A named part a child template may replace; renders its body.
    Block {
        name: String,
        body: Vec<Node>,
    },
    /// Replaced by the named template's tree when loading ends.
    Include {
        name: String,
        line: usize,
    },
}

/// A template as parsed, before `extends` and `include` are resolved.
#[derive(Debug, Clone)]
struct Parsed {
    file: PathBuf,
    /// The layout this template extends, with the line of the tag.
    extends: Option<(String, usize)>,
    nodes: Vec<Node>,
}

/// Every template of the site, compiled.
#[derive(Debug, Default)]
pub struct Templates {
    compiled: HashMap<String, Vec<Node>>,
}

impl Templates {
    /// Load and compile every `*.html` file of `dir` (not its subdirectories).
    pub fn load(dir: &Path) -> Result<Templates, TemplateError> {
        let whole = |message: String| TemplateError {
            file: dir.to_path_buf(),
            line: 0,
            message,
        };
        let entries =
            std::fs::read_dir(dir).map_err(|e| whole(format!("cannot read templates: {e}")))?;
        let mut files = Vec::new();
        for entry in entries {
            let path = entry
                .map_err(|e| whole(format!("cannot read templates: {e}")))?
                .path();
            if path.extension().is_some_and(|x| x == "html") && path.is_file() {
                files.push(path);
            }
        }
        files.sort();
        let mut sources = Vec::with_capacity(files.len());
        for path in files {
            let text = std::fs::read_to_string(&path).map_err(|e| TemplateError {
                file: path.clone(),
                line: 0,
                message: format!("cannot read: {e}"),
            })?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            sources.push((name, path, text));
        }
        Templates::compile(sources)
    }

    /// Compile templates given as `(name, source)` pairs (tests, and `load`).
    pub fn from_sources(sources: &[(&str, &str)]) -> Result<Templates, TemplateError> {
        Templates::compile(
            sources
                .iter()
                .map(|(n, s)| (n.to_string(), PathBuf::from(n), s.to_string()))
                .collect(),
        )
    }

    fn compile(sources: Vec<(String, PathBuf, String)>) -> Result<Templates, TemplateError> {
        let mut parsed = HashMap::new();
        for (name, file, text) in sources {
            parsed.insert(name, parse(&file, &text)?);
        }
        let mut compiled = HashMap::new();
        let mut names: Vec<&String> = parsed.keys().collect();
        names.sort();
        for name in names {
            let nodes = resolve(&parsed, name, &mut Vec::new())?;
            compiled.insert(name.clone(), nodes);
        }
        Ok(Templates { compiled })
    }

    /// Whether a template of this name was loaded.
    pub fn has(&self, name: &str) -> bool {
        self.compiled.contains_key(name)
    }

    /// Fail unless every one of `names` was loaded (checked once at start, so a page
    /// never finds its template missing).
    pub fn require(&self, dir: &Path, names: &[&str]) -> Result<(), TemplateError> {
        match names.iter().find(|n| !self.has(n)) {
            None => Ok(()),
            Some(missing) => Err(TemplateError {
                file: dir.join(missing),
                line: 0,
                message: "template missing (the pages need it)".into(),
            }),
        }
    }

    /// Render the template `name` with `context` (a JSON object; anything else is an
    /// empty context).
    ///
    /// # Panics
    /// If no template has that name: pages only render names checked by
    /// [`require`](Self::require) at start.
    pub fn render(&self, name: &str, context: &Value) -> String {
        let nodes = self
            .compiled
            .get(name)
            .unwrap_or_else(|| panic!("no template named {name:?} was loaded"));
        let mut out = String::with_capacity(4096);
        let scope = Scope {
            root: context,
            name: "",
            value: &Value::Null,
            parent: None,
        };
        render_nodes(nodes, &scope, &mut out);
        out
    }
}

// ---------------------------------------------------------------------------
// Lexing
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Token<'s> {
    Text(&'s str),
    /// `{{ … }}`: the inside, and its line.
    Var(&'s str, usize),
    /// `{% … %}`: the inside, and its line.
    Tag(&'s str, usize),
}

/// Split a source into text, variables and tags (comments dropped), applying the
/// standalone-line rule.
fn lex<'s>(file: &Path, src: &'s str) -> Result<Vec<Token<'s>>, TemplateError> {
    let mut tokens = Vec::new();
    let mut pos = 0; // next byte to lex
    let mut line = 1; // line of `pos`
    let bytes = src.as_bytes();
    while pos < src.len() {
        let Some(rel) = src[pos..].find('{') else {
            tokens.push(Token::Text(&src[pos..]));
            break;
        };
        let open = pos + rel;
        let kind = bytes.get(open + 1).copied();
        let close = match kind {
            Some(b'{') => "}}",
            Some(b'%') => "%}",
            Some(b'#') => "#}",
            _ => {
                // A lone `{`: plain text up to and including it.
                tokens.push(Token::Text(&src[pos..=open]));
                line += count_lines(&src[pos..=open]);
                pos = open + 1;
                continue;
            }
        };
        let tag_line = line + count_lines(&src[pos..open]);
        let Some(end_rel) = src[open + 2..].find(close) else {
            let what = &src[open..open + 2];
            return Err(err(
                file,
                tag_line,
                format!("{what} is never closed (missing {close})"),
            ));
        };
        let inner = &src[open + 2..open + 2 + end_rel];
        let end = open + 2 + end_rel + 2;
        let mut text = &src[pos..open];
        let mut next = end;
        if kind != Some(b'{') {
            // Standalone: only blanks between the line start and the tag, and between
            // the tag and the line end → the whole line goes.
            let line_start = src[..open].rfind('\n').map_or(0, |i| i + 1);
            // (When something earlier on the line was consumed already, e.g. a first
            // tag in `{% endif %}{% endfor %}`, the line is not standalone.)
            let before_blank = line_start >= pos
                && src[line_start..open]
                    .bytes()
                    .all(|b| b == b' ' || b == b'\t');
            let after = &src[end..];
            let line_end = after.find('\n').map_or(src.len(), |i| end + i + 1);
            let after_blank = src[end..line_end]
                .trim_end_matches('\n')
                .bytes()
                .all(|b| b == b' ' || b == b'\t');
            if before_blank && after_blank {
                text = &src[pos..line_start];
                next = line_end;
            }
        }
        if !text.is_empty() {
            tokens.push(Token::Text(text));
        }
        match kind {
            Some(b'{') => tokens.push(Token::Var(inner, tag_line)),
            Some(b'%') => tokens.push(Token::Tag(inner, tag_line)),
            _ => {} // a comment
        }
        line += count_lines(&src[pos..next]);
        pos = next;
    }
    Ok(tokens)
}

fn count_lines(s: &str) -> usize {
    memchr::memchr_iter(b'\n', s.as_bytes()).count()
}

fn err(file: &Path, line: usize, message: String) -> TemplateError {
    TemplateError {
        file: file.to_path_buf(),
        line,
        message,
    }
}

// ---------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------

fn valid_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn parse_lookup(file: &Path, line: usize, s: &str) -> Result<Lookup, TemplateError> {
    let parts: Vec<String> = s.split('.').map(str::to_string).collect();
    if parts.iter().all(|p| valid_name(p)) {
        Ok(parts)
    } else {
        Err(err(
            file,
            line,
            format!("{s:?} is not a variable name (letters, digits and _, joined by .)"),
        ))
    }
}

/// `"base.html"` → `base.html`.
fn parse_quoted(file: &Path, line: usize, s: &str) -> Result<String, TemplateError> {
    let s = s.trim();
    let inner = s
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .or_else(|| s.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')));
    match inner {
        Some(n) if !n.is_empty() && !n.contains(['/', '\\']) => Ok(n.to_string()),
        _ => Err(err(
            file,
            line,
            format!("expected a quoted template file name like \"base.html\", got {s}"),
        )),
    }
}

struct Parser<'s, 'f> {
    file: &'f Path,
    tokens: Vec<Token<'s>>,
    at: usize,
    /// The constructs being parsed (`for`, line), innermost last, to name the one
    /// left open when a closing tag of another turns up.
    open: Vec<(&'static str, usize)>,
}

/// What ended a run of nodes: a closing tag (its words and line), or the end.
type Ending<'s> = Option<(Vec<&'s str>, usize)>;

impl<'s> Parser<'s, '_> {
    /// Nodes until one of the tags in `until` (returned) or the end of the tokens.
    fn nodes(&mut self, until: &[&str]) -> Result<(Vec<Node>, Ending<'s>), TemplateError> {
        let mut out = Vec::new();
        while self.at < self.tokens.len() {
            let tok = self.tokens[self.at].clone();
            self.at += 1;
            match tok {
                Token::Text(t) => out.push(Node::Text(t.to_string())),
                Token::Var(inner, line) => out.push(self.var(inner, line)?),
                Token::Tag(inner, line) => {
                    let words: Vec<&str> = inner.split_whitespace().collect();
                    let Some(&head) = words.first() else {
                        return Err(err(self.file, line, "empty {% %} tag".into()));
                    };
                    if until.contains(&head) {
                        return Ok((out, Some((words, line))));
                    }
                    if let Some(&(what, open_line)) = self.open.last()
                        && matches!(head, "else" | "elif" | "endif" | "endfor" | "endblock")
                    {
                        return Err(err(
                            self.file,
                            open_line,
                            format!(
                                "{{% {what} %}} is never closed (missing {{% end{what} %}} \
                                 before the {{% {head} %}} of line {line})"
                            ),
                        ));
                    }
                    let what = match head {
                        "if" => Some("if"),
                        "for" => Some("for"),
                        "block" => Some("block"),
                        _ => None,
                    };
                    if let Some(what) = what {
                        self.open.push((what, line));
                    }
                    let node = self.tag(&words, inner, line);
                    if what.is_some() {
                        self.open.pop();
                    }
                    out.push(node?);
                }
            }
        }
        Ok((out, None))
    }

    fn var(&self, inner: &str, line: usize) -> Result<Node, TemplateError> {
        let mut parts = inner.split('|').map(str::trim);
        let name = parts.next().unwrap_or("");
        if name.is_empty() {
            return Err(err(self.file, line, "empty {{ }}".into()));
        }
        let path = parse_lookup(self.file, line, name)?;
        let mut safe = false;
        for filter in parts {
            match filter {
                "safe" => safe = true,
                other => {
                    return Err(err(
                        self.file,
                        line,
                        format!("unknown filter {other:?} (the only filter is |safe)"),
                    ));
                }
            }
        }
        Ok(Node::Var { path, safe })
    }

    /// Expect the closing tag of a construct opened at `open_line`.
    fn closed(
        &self,
        what: &str,
        open_line: usize,
        ending: &Ending<'s>,
    ) -> Result<(Vec<&'s str>, usize), TemplateError> {
        ending.clone().ok_or_else(|| {
            err(
                self.file,
                open_line,
                format!("{{% {what} %}} is never closed (missing {{% end{what} %}})"),
            )
        })
    }

    fn tag(&mut self, words: &[&str], inner: &str, line: usize) -> Result<Node, TemplateError> {
        match words {
            ["if", rest @ ..] => self.if_tag(rest, line),
            ["for", var, "in", list] => {
                if !valid_name(var) {
                    return Err(err(
                        self.file,
                        line,
                        format!("{var:?} is not a loop variable name"),
                    ));
                }
                let path = parse_lookup(self.file, line, list)?;
                let (body, ending) = self.nodes(&["else", "endfor"])?;
                let (end, _) = self.closed("for", line, &ending)?;
                let empty = if end[0] == "else" {
                    let (empty, ending) = self.nodes(&["endfor"])?;
                    self.closed("for", line, &ending)?;
                    empty
                } else {
                    Vec::new()
                };
                Ok(Node::For {
                    var: var.to_string(),
                    path,
                    body,
                    empty,
                })
            }
            ["for", ..] => Err(err(
                self.file,
                line,
                "expected {% for NAME in LIST %}".into(),
            )),
            ["block", name] if valid_name(name) => {
                let (body, ending) = self.nodes(&["endblock"])?;
                let (end, end_line) = self.closed("block", line, &ending)?;
                if let Some(end_name) = end.get(1)
                    && end_name != name
                {
                    return Err(err(
                        self.file,
                        end_line,
                        format!("{{% endblock {end_name} %}} closes {{% block {name} %}}"),
                    ));
                }
                Ok(Node::Block {
                    name: name.to_string(),
                    body,
                })
            }
            ["block", ..] => Err(err(self.file, line, "expected {% block NAME %}".into())),
            ["include", ..] => Ok(Node::Include {
                name: parse_quoted(
                    self.file,
                    line,
                    inner.trim_start()["include".len()..].trim(),
                )?,
                line,
            }),
            ["extends", ..] => Err(err(
                self.file,
                line,
                "{% extends %} must be the first tag of the template".into(),
            )),
            [
                other @ ("else" | "elif" | "endif" | "endfor" | "endblock"),
                ..,
            ] => Err(err(
                self.file,
                line,
                format!("{{% {other} %}} without an opening tag"),
            )),
            [other, ..] => Err(err(
                self.file,
                line,
                format!(
                    "unknown tag {{% {other} %}} (tags: if, elif, else, endif, for, endfor, block, endblock, extends, include)"
                ),
            )),
            [] => Err(err(self.file, line, "empty {% %} tag".into())),
        }
    }

    /// `if [not] x`, after the `if`/`elif` word.
    fn if_tag(&mut self, cond: &[&str], line: usize) -> Result<Node, TemplateError> {
        let (negate, name) = match cond {
            ["not", name] => (true, *name),
            [name] => (false, *name),
            _ => {
                return Err(err(
                    self.file,
                    line,
                    "expected {% if NAME %} or {% if not NAME %}".into(),
                ));
            }
        };
        let path = parse_lookup(self.file, line, name)?;
        let (then, ending) = self.nodes(&["elif", "else", "endif"])?;
        let (end, end_line) = self.closed("if", line, &ending)?;
        let otherwise = match end[0] {
            "elif" => vec![self.if_tag(&end[1..], end_line)?],
            "else" => {
                let (otherwise, ending) = self.nodes(&["endif"])?;
                self.closed("if", line, &ending)?;
                otherwise
            }
            _ => Vec::new(),
        };
        Ok(Node::If {
            negate,
            path,
            then,
            otherwise,
        })
    }
}

fn parse(file: &Path, src: &str) -> Result<Parsed, TemplateError> {
    let mut tokens = lex(file, src)?;
    // `{% extends "x" %}` first (blank text before it allowed).
    let mut extends = None;
    if let Some(i) = tokens
        .iter()
        .position(|t| !matches!(t, Token::Text(s) if s.trim().is_empty()))
        && let Token::Tag(inner, line) = tokens[i]
        && inner.split_whitespace().next() == Some("extends")
    {
        let name = parse_quoted(file, line, inner.trim_start()["extends".len()..].trim())?;
        extends = Some((name, line));
        tokens.drain(..=i);
    }
    let mut p = Parser {
        file,
        tokens,
        at: 0,
        open: Vec::new(),
    };
    let (nodes, ending) = p.nodes(&[])?;
    debug_assert!(ending.is_none());
    if extends.is_some() {
        // Everything outside the blocks of a child template would never show.
        for n in &nodes {
            let stray = match n {
                Node::Text(t) => !t.trim().is_empty(),
                Node::Block { .. } => false,
                _ => true,
            };
            if stray {
                return Err(err(
                    file,
                    extends.as_ref().map_or(0, |e| e.1),
                    "a template that extends another may hold only {% block %}s: \
                     anything outside them would never be shown"
                        .into(),
                ));
            }
        }
    }
    Ok(Parsed {
        file: file.to_path_buf(),
        extends,
        nodes,
    })
}

// ---------------------------------------------------------------------------
// Resolving extends and include
// ---------------------------------------------------------------------------

/// The compiled tree of `name`: its layout with its blocks put in, includes inlined.
/// `stack` holds the templates being resolved (to report cycles).
fn resolve(
    parsed: &HashMap<String, Parsed>,
    name: &str,
    stack: &mut Vec<String>,
) -> Result<Vec<Node>, TemplateError> {
    let t = &parsed[name];
    if stack.iter().any(|s| s == name) {
        return Err(err(
            &t.file,
            0,
            format!(
                "templates include or extend each other in a cycle: {} → {name}",
                stack.join(" → ")
            ),
        ));
    }
    stack.push(name.to_string());
    let mut nodes = inline_includes(parsed, &t.file, &t.nodes, stack)?;
    if let Some((parent, line)) = &t.extends {
        if !parsed.contains_key(parent) {
            return Err(err(
                &t.file,
                *line,
                format!("extends {parent:?}, which is not a template here"),
            ));
        }
        let mut base = resolve(parsed, parent, stack)?;
        let mut blocks = HashMap::new();
        collect_blocks(&nodes, &mut blocks);
        let mut used = Vec::new();
        fill_blocks(&mut base, &blocks, &mut used);
        if let Some(unused) = blocks.keys().find(|k| !used.contains(k)) {
            return Err(err(
                &t.file,
                *line,
                format!("block {unused:?} is not a block of {parent:?}"),
            ));
        }
        nodes = base;
    }
    stack.pop();
    Ok(nodes)
}

fn inline_includes(
    parsed: &HashMap<String, Parsed>,
    file: &Path,
    nodes: &[Node],
    stack: &mut Vec<String>,
) -> Result<Vec<Node>, TemplateError> {
    let mut out = Vec::with_capacity(nodes.len());
    for n in nodes {
        let n = match n {
            Node::Include { name, line } => {
                if !parsed.contains_key(name) {
                    return Err(err(
                        file,
                        *line,
                        format!("includes {name:?}, which is not a template here"),
                    ));
                }
                out.extend(resolve(parsed, name, stack)?);
                continue;
            }
            Node::If {
                negate,
                path,
                then,
                otherwise,
            } => Node::If {
                negate: *negate,
                path: path.clone(),
                then: inline_includes(parsed, file, then, stack)?,
                otherwise: inline_includes(parsed, file, otherwise, stack)?,
            },
            Node::For {
                var,
                path,
                body,
                empty,
            } => Node::For {
                var: var.clone(),
                path: path.clone(),
                body: inline_includes(parsed, file, body, stack)?,
                empty: inline_includes(parsed, file, empty, stack)?,
            },
            Node::Block { name, body } => Node::Block {
                name: name.clone(),
                body: inline_includes(parsed, file, body, stack)?,
            },
            other => other.clone(),
        };
        out.push(n);
    }
    Ok(out)
}

/// Every block of a child, nested ones included, by name.
fn collect_blocks(nodes: &[Node], out: &mut HashMap<String, Vec<Node>>) {
    for n in nodes {
        match n {
            Node::Block { name, body } => {
                out.insert(name.clone(), body.clone());
                collect_blocks(body, out);
            }
            Node::If {
                then, otherwise, ..
            } => {
                collect_blocks(then, out);
                collect_blocks(otherwise, out);
            }
            Node::For { body, empty, .. } => {
                collect_blocks(body, out);
                collect_blocks(empty, out);
            }
            _ => {}
        }
    }
}

/// Replace the bodies of the layout's blocks with the child's.
fn fill_blocks(nodes: &mut [Node], blocks: &HashMap<String, Vec<Node>>, used: &mut Vec<String>) {
    for n in nodes {
        match n {
            Node::Block { name, body } => {
                if let Some(new) = blocks.get(name.as_str()) {
                    *body = new.clone();
                    used.push(name.clone());
                }
                fill_blocks(body, blocks, used);
            }
            Node::If {
                then, otherwise, ..
            } => {
                fill_blocks(then, blocks, used);
                fill_blocks(otherwise, blocks, used);
            }
            Node::For { body, empty, .. } => {
                fill_blocks(body, blocks, used);
                fill_blocks(empty, blocks, used);
            }
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------

/// The names visible while rendering: loop variables (innermost first), then the
/// context. A linked list on the stack: a loop adds a link for its body.
struct Scope<'a> {
    root: &'a Value,
    name: &'a str,
    value: &'a Value,
    parent: Option<&'a Scope<'a>>,
}

impl<'a> Scope<'a> {
    fn lookup(&self, path: &[String]) -> Option<&'a Value> {
        let (first, rest) = path.split_first()?;
        let mut scope = Some(self);
        let mut found = None;
        while let Some(s) = scope {
            if s.parent.is_some() && s.name == first {
                found = Some(s.value);
                break;
            }
            scope = s.parent;
        }
        let mut v = match found {
            Some(v) => v,
            None => member(self.root.as_object()?, first)?,
        };
        for seg in rest {
            v = match v {
                Value::Object(m) => member(m, seg)?,
                Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(v)
    }
}

/// `map[key]`. The pages' objects are small: comparing a dozen keys costs less than
/// hashing one with `Map::get`'s SipHash (same answer: keys are unique).
fn member<'v>(map: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    if map.len() <= 16 {
        map.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    } else {
        map.get(key)
    }
}

/// Python's truthiness.
fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
    }
}

fn render_nodes(nodes: &[Node], scope: &Scope<'_>, out: &mut String) {
    for n in nodes {
        match n {
            Node::Text(t) => out.push_str(t),
            Node::Var { path, safe } => match scope.lookup(path) {
                None | Some(Value::Null) => {}
                Some(Value::String(s)) if *safe => out.push_str(s),
                Some(Value::String(s)) => escape_into(out, s),
                // Digits, `-`, `.`, `e`, `+`, `true`, `false`: nothing to escape.
                Some(Value::Number(n)) => match n.as_u64() {
                    Some(u) => push_u64(out, u),
                    None => {
                        let _ = write!(out, "{n}");
                    }
                },
                Some(Value::Bool(b)) => out.push_str(if *b { "true" } else { "false" }),
                Some(other) if *safe => out.push_str(&other.to_string()),
                Some(other) => escape_into(out, &other.to_string()),
            },
            Node::If {
                negate,
                path,
                then,
                otherwise,
            } => {
                if truthy(scope.lookup(path)) != *negate {
                    render_nodes(then, scope, out);
                } else {
                    render_nodes(otherwise, scope, out);
                }
            }
            Node::For {
                var,
                path,
                body,
                empty,
            } => render_for(var, scope.lookup(path), body, empty, scope, out),
            Node::Block { body, .. } => render_nodes(body, scope, out),
            Node::Include { .. } => {} // resolved at load time
        }
    }
}

/// Whether any lookup in `nodes` (nested ones included) starts with `loop`.
fn uses_loop(nodes: &[Node]) -> bool {
    let is_loop = |path: &Lookup| path.first().is_some_and(|f| f == "loop");
    nodes.iter().any(|n| match n {
        Node::Text(_) | Node::Include { .. } => false,
        Node::Var { path, .. } => is_loop(path),
        Node::If {
            path,
            then,
            otherwise,
            ..
        } => is_loop(path) || uses_loop(then) || uses_loop(otherwise),
        Node::For {
            path, body, empty, ..
        } => is_loop(path) || uses_loop(body) || uses_loop(empty),
        Node::Block { body, .. } => uses_loop(body),
    })
}

fn render_for(
    var: &str,
    list: Option<&Value>,
    body: &[Node],
    empty: &[Node],
    scope: &Scope<'_>,
    out: &mut String,
) {
    // `loop` is built per item only when the body names it (most loops don't).
    let needs_loop = uses_loop(body);
    let one = |i: usize, len: usize, item: &Value, out: &mut String| {
        let meta;
        let with_loop;
        let parent = if needs_loop {
            meta = serde_json::json!({"index": i + 1, "first": i == 0, "last": i + 1 == len});
            with_loop = Scope {
                root: scope.root,
                name: "loop",
                value: &meta,
                parent: Some(scope),
            };
            &with_loop
        } else {
            scope
        };
        let with_item = Scope {
            root: scope.root,
            name: var,
            value: item,
            parent: Some(parent),
        };
        render_nodes(body, &with_item, out);
    };
    match list {
        Some(Value::Array(items)) if !items.is_empty() => {
            for (i, item) in items.iter().enumerate() {
                one(i, items.len(), item, out);
            }
        }
        Some(Value::Object(map)) if !map.is_empty() => {
            for (i, (k, v)) in map.iter().enumerate() {
                let item = serde_json::json!({"key": k, "value": v});
                one(i, map.len(), &item, out);
            }
        }
        _ => render_nodes(empty, scope, out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(src: &str) -> Templates {
        Templates::from_sources(&[("t.html", src)]).unwrap()
    }

    fn render(src: &str, ctx: Value) -> String {
        t(src).render("t.html", &ctx)
    }

    fn error(sources: &[(&str, &str)]) -> String {
        Templates::from_sources(sources).unwrap_err().to_string()
    }

    #[test]
    fn variables_are_escaped_by_default() {
        let ctx = json!({"name": "<script>alert(\"x\")</script> & 'y'"});
        assert_eq!(
            render("Hi {{ name }}!", ctx.clone()),
            "Hi &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;!"
        );
        assert_eq!(
            render("<a title=\"{{name}}\">", json!({"name": "\" onclick=\"x"})),
            "<a title=\"&quot; onclick=&quot;x\">"
        );
        assert_eq!(
            render("{{ name|safe }}", ctx),
            "<script>alert(\"x\")</script> & 'y'"
        );
        assert_eq!(render("{{ html | safe }}", json!({"html": "<b>"})), "<b>");
    }

    #[test]
    fn values_render_by_type_and_missing_ones_are_empty() {
        let ctx = json!({"n": 3, "f": 1.5, "b": true, "z": null, "l": [1, "<"],
                         "o": {"a": {"b": "deep"}}, "items": [{"id": 7}]});
        assert_eq!(
            render("{{n}} {{f}} {{b}} [{{z}}] [{{missing}}] {{l}}", ctx.clone()),
            "3 1.5 true [] [] [1,&quot;&lt;&quot;]"
        );
        assert_eq!(
            render(
                "{{ o.a.b }} {{ items.0.id }} [{{ o.x.y }}] [{{ n.x }}]",
                ctx
            ),
            "deep 7 [] []"
        );
    }

    #[test]
    fn if_elif_else_and_truthiness() {
        let src = "{% if a %}A{% elif b %}B{% else %}C{% endif %}";
        assert_eq!(render(src, json!({"a": 1})), "A");
        assert_eq!(render(src, json!({"a": 0, "b": "x"})), "B");
        assert_eq!(render(src, json!({"a": "", "b": []})), "C");
        for falsy in [
            json!(null),
            json!(false),
            json!(0),
            json!(""),
            json!([]),
            json!({}),
        ] {
            assert_eq!(render(src, json!({"a": falsy})), "C");
        }
        for truthy in [
            json!(true),
            json!(-1),
            json!("0"),
            json!([0]),
            json!({"k": 0}),
        ] {
            assert_eq!(render(src, json!({"a": truthy})), "A");
        }
        assert_eq!(render("{% if not a %}no{% endif %}", json!({})), "no");
        assert_eq!(render("{% if not a %}no{% endif %}", json!({"a": 1})), "");
    }

    #[test]
    fn for_loops_with_else_loop_meta_and_objects() {
        let src = "{% for p in ps %}{{ loop.index }}:{{ p.name }}{% if not loop.last %}, {% endif %}\
                   {% else %}none{% endfor %}";
        assert_eq!(
            render(src, json!({"ps": [{"name": "a"}, {"name": "<b>"}]})),
            "1:a, 2:&lt;b&gt;"
        );
        assert_eq!(render(src, json!({"ps": []})), "none");
        assert_eq!(render(src, json!({})), "none");
        assert_eq!(
            render(
                "{% for c in cookies %}{{c.key}}={{c.value}};{% endfor %}",
                json!({"cookies": {"a": "1", "b": "2"}})
            ),
            "a=1;b=2;"
        );
    }

    #[test]
    fn nesting_shadows_and_reaches_outer_names() {
        let src = "{% for row in rows %}[{% for x in row.xs %}{{ title }}{{ x }}{% if loop.first %}^{% endif %}\
                   {% endfor %}]{% endfor %}{{ x }}";
        assert_eq!(
            render(
                src,
                json!({"title": "t", "x": "outer", "rows": [{"xs": [1, 2]}, {"xs": [3]}]})
            ),
            "[t1^t2][t3^]outer"
        );
        // An inner loop variable shadows an outer one of the same name.
        assert_eq!(
            render(
                "{% for x in a %}{% for x in b %}{{x}}{% endfor %}{{x}}{% endfor %}",
                json!({"a": [1], "b": [2, 3]})
            ),
            "231"
        );
    }

    #[test]
    fn standalone_tags_take_their_line() {
        let src =
            "<ul>\n  {% for x in xs %}\n  <li>{{ x }}</li>\n  {% endfor %}\n</ul>\n{# note #}\nend";
        assert_eq!(
            render(src, json!({"xs": [1, 2]})),
            "<ul>\n  <li>1</li>\n  <li>2</li>\n</ul>\nend"
        );
        // Not standalone: text on the same line keeps everything.
        assert_eq!(
            render("a {% if x %}b{% endif %} c\n", json!({"x": 1})),
            "a b c\n"
        );
        // A lone brace is text.
        assert_eq!(render("a { b } {x}", json!({})), "a { b } {x}");
    }

    #[test]
    fn extends_blocks_and_include() {
        let ts = Templates::from_sources(&[
            (
                "base.html",
                "<title>{% block title %}site{% endblock %}</title>\n\
                 {% include \"nav.html\" %}\
                 <main>{% block content %}{% endblock %}</main>",
            ),
            ("nav.html", "<nav>{{ who }}</nav>\n"),
            (
                "page.html",
                "{% extends \"base.html\" %}\n{# the page #}\n\
                 {% block content %}<p>{{ who }}</p>{% endblock content %}\n",
            ),
            (
                "titled.html",
                "{% extends \"page.html\" %}{% block title %}T{% endblock %}",
            ),
        ])
        .unwrap();
        let ctx = json!({"who": "<Ada>"});
        assert_eq!(
            ts.render("page.html", &ctx),
            "<title>site</title>\n<nav>&lt;Ada&gt;</nav>\n<main><p>&lt;Ada&gt;</p></main>"
        );
        assert_eq!(
            ts.render("titled.html", &ctx),
            "<title>T</title>\n<nav>&lt;Ada&gt;</nav>\n<main><p>&lt;Ada&gt;</p></main>"
        );
        assert!(
            ts.require(Path::new("x"), &["page.html", "base.html"])
                .is_ok()
        );
        assert_eq!(
            ts.require(Path::new("x"), &["page.html", "gone.html"])
                .unwrap_err()
                .to_string(),
            "x/gone.html: template missing (the pages need it)"
        );
    }

    #[test]
    fn syntax_errors_name_file_and_line() {
        let cases: &[(&str, &str)] = &[
            ("a\nb {{ x\n", "t.html:2: {{ is never closed (missing }})"),
            (
                "a\n\n{% if x %}b",
                "t.html:3: {% if %} is never closed (missing {% endif %})",
            ),
            (
                "{% for x in y %}",
                "t.html:1: {% for %} is never closed (missing {% endfor %})",
            ),
            (
                "x\n{% endif %}",
                "t.html:2: {% endif %} without an opening tag",
            ),
            (
                "{% block b %}\n{% for x in y %}\n{% endblock %}",
                "t.html:2: {% for %} is never closed (missing {% endfor %} before the {% endblock %} of line 3)",
            ),
            (
                "{% for x in y %}{% if a %}{% endfor %}",
                "t.html:1: {% if %} is never closed (missing {% endif %} before the {% endfor %} of line 1)",
            ),
            ("{% else %}", "t.html:1: {% else %} without an opening tag"),
            (
                "\n{% frobnicate %}",
                "t.html:2: unknown tag {% frobnicate %}",
            ),
            ("{{ a b }}", "t.html:1: \"a b\" is not a variable name"),
            ("{{ a..b }}", "t.html:1: \"a..b\" is not a variable name"),
            ("{{ }}", "t.html:1: empty {{ }}"),
            ("{{ a|upper }}", "t.html:1: unknown filter \"upper\""),
            (
                "{% for x of y %}{% endfor %}",
                "t.html:1: expected {% for NAME in LIST %}",
            ),
            (
                "{% if a b %}{% endif %}",
                "t.html:1: expected {% if NAME %}",
            ),
            (
                "{% block a %}{% endblock b %}",
                "t.html:1: {% endblock b %} closes {% block a %}",
            ),
            (
                "x {% extends \"t.html\" %}",
                "t.html:1: {% extends %} must be the first tag",
            ),
            (
                "{% include \"nope.html\" %}",
                "t.html:1: includes \"nope.html\"",
            ),
            (
                "{% include nope %}",
                "t.html:1: expected a quoted template file name",
            ),
            ("{# open", "t.html:1: {# is never closed (missing #})"),
            ("{%%}", "t.html:1: empty {% %} tag"),
        ];
        for (src, want) in cases {
            let got = error(&[("t.html", src)]);
            assert!(got.starts_with(want), "{src:?}: got {got:?}, want {want:?}");
        }
        assert!(
            error(&[
                ("a.html", "{% extends \"b.html\" %}"),
                ("b.html", "{% include \"a.html\" %}")
            ])
            .contains("cycle")
        );
        assert!(
            error(&[("c.html", "{% extends \"gone.html\" %}")])
                .starts_with("c.html:1: extends \"gone.html\", which is not a template here")
        );
        assert!(
            error(&[
                ("base.html", "{% block content %}{% endblock %}"),
                (
                    "c.html",
                    "{% extends \"base.html\" %}\n{% block other %}{% endblock %}"
                ),
            ])
            .starts_with("c.html:1: block \"other\" is not a block of \"base.html\"")
        );
        assert!(
            error(&[
                ("base.html", "{% block content %}{% endblock %}"),
                (
                    "c.html",
                    "{% extends \"base.html\" %}\nstray {% block content %}{% endblock %}"
                ),
            ])
            .contains("may hold only {% block %}s")
        );
    }

    #[test]
    fn loads_a_directory_and_reports_paths() {
        let dir = std::env::temp_dir().join(format!("wirepost-templates-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("ok.html"), "hi {{ x }}").unwrap();
        std::fs::write(dir.join("notes.txt"), "{% ignored").unwrap();
        let ts = Templates::load(&dir).unwrap();
        assert_eq!(ts.render("ok.html", &json!({"x": 1})), "hi 1");
        assert!(!ts.has("notes.txt"));
        std::fs::write(dir.join("bad.html"), "one\ntwo {% if %}").unwrap();
        let e = Templates::load(&dir).unwrap_err();
        assert_eq!(e.file, dir.join("bad.html"));
        assert_eq!(e.line, 2);
        let _ = std::fs::remove_dir_all(&dir);
        let e = Templates::load(&dir).unwrap_err();
        assert!(e.to_string().contains("cannot read templates"), "{e}");
    }
}
