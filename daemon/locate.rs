//! Where in a TOML file something is: maps key paths and byte offsets to
//! line numbers, so that every config and pack problem is reported as
//! `file:line: key: what is wrong and what to do`.

use std::fmt;
use std::path::{Path, PathBuf};

/// One problem in a file (the config, a pack), located.
#[derive(Debug, Clone)]
pub struct Problem {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file.display(), line, self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// A path into the document: table keys and array-of-table indices.
#[derive(Clone, Copy)]
pub enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

pub struct Locator<'a> {
    text: &'a str,
    pub file: PathBuf,
    pub doc: Option<toml_edit::ImDocument<&'a str>>,
}

impl<'a> Locator<'a> {
    pub fn new(text: &'a str, file: &Path) -> Self {
        Locator { text, file: file.to_path_buf(), doc: toml_edit::ImDocument::parse(text).ok() }
    }

    /// Counted on bytes: an offset inside a multi-byte character must not
    /// panic.
    pub fn line_of_offset(&self, offset: usize) -> usize {
        self.text.as_bytes()[..offset.min(self.text.len())].iter().filter(|&&b| b == b'\n').count() + 1
    }

    /// The line of the deepest part of `path` that can be found.
    pub fn line_of(&self, path: &[Seg]) -> Option<usize> {
        enum Cur<'d> {
            Table(&'d dyn toml_edit::TableLike),
            Tables(&'d toml_edit::ArrayOfTables),
            Array(&'d toml_edit::Array),
            Leaf,
        }
        fn from_item(item: &toml_edit::Item) -> Cur<'_> {
            match item {
                toml_edit::Item::ArrayOfTables(a) => Cur::Tables(a),
                toml_edit::Item::Value(toml_edit::Value::Array(a)) => Cur::Array(a),
                other => other.as_table_like().map(Cur::Table).unwrap_or(Cur::Leaf),
            }
        }
        let doc = self.doc.as_ref()?;
        let mut cur = Cur::Table(doc.as_table());
        let mut best = None;
        for seg in path {
            let (next, span) = match (*seg, cur) {
                (Seg::Key(k), Cur::Table(t)) => match t.get_key_value(k) {
                    Some((key, v)) => (from_item(v), key.span().or_else(|| v.span())),
                    None => break,
                },
                (Seg::Index(i), Cur::Tables(a)) => match a.get(i) {
                    Some(t) => (Cur::Table(t), t.span()),
                    None => break,
                },
                (Seg::Index(i), Cur::Array(a)) => match a.get(i) {
                    Some(v) => (
                        v.as_inline_table().map(|t| Cur::Table(t as &dyn toml_edit::TableLike)).unwrap_or(Cur::Leaf),
                        v.span(),
                    ),
                    None => break,
                },
                _ => break,
            };
            if let Some(s) = span {
                best = Some(self.line_of_offset(s.start));
            }
            cur = next;
        }
        best
    }

    pub fn problem(&self, path: &[Seg], message: impl Into<String>) -> Problem {
        let dotted: Vec<String> = path
            .iter()
            .map(|s| match s {
                Seg::Key(k) => k.to_string(),
                Seg::Index(i) => format!("[{i}]"),
            })
            .collect();
        Problem {
            file: self.file.clone(),
            line: self.line_of(path),
            message: format!("{}: {}", dotted.join(".").replace(".[", "["), message.into()),
        }
    }

    /// A serde/TOML syntax error at its line, with a hint for the common
    /// ones.
    pub fn toml_error(&self, e: &toml::de::Error) -> Problem {
        let msg = e.message().trim().to_string();
        if let Some(p) = e.span().and_then(|span| self.wrong_type(span.start, &msg)) {
            return p;
        }
        let hint = if msg.contains("unknown field") {
            " (check the spelling against config.example.toml, which lists every option)"
        } else if msg.contains("missing field") {
            " (add it; config.example.toml shows every required key)"
        } else {
            ""
        };
        Problem {
            file: self.file.clone(),
            line: e.span().map(|s| self.line_of_offset(s.start)),
            message: format!("{msg}{hint}"),
        }
    }
}

impl Locator<'_> {
    /// serde's `invalid type: string "60", expected u64` at `offset` as
    /// `imap.poll_interval_secs: ...; write a whole number, e.g.
    /// poll_interval_secs = 60 (no quotes)`: the key, and what fits it.
    fn wrong_type(&self, offset: usize, msg: &str) -> Option<Problem> {
        let found = msg.strip_prefix("invalid type: ")?;
        let (found, expected) = found.rsplit_once(", expected ")?;
        let (path, key) = self.key_at(offset)?;
        let quoted = found.strip_prefix("string \"").and_then(|s| s.strip_suffix('"'));
        // What fits, and an example: the value written, unquoted, when it
        // is one.
        let (fits, example) = match expected {
            "u8" | "u16" | "u32" | "u64" | "usize" | "i32" | "i64" | "an integer" => {
                ("a whole number", quoted.filter(|q| q.parse::<u64>().is_ok()).map(|n| format!("{key} = {n} (no quotes)")))
            }
            "f32" | "f64" | "a float" => ("a number", quoted.filter(|q| q.parse::<f64>().is_ok()).map(|n| format!("{key} = {n} (no quotes)"))),
            "a boolean" => ("true or false", Some(format!("{key} = true (no quotes)"))),
            "a string" => ("text in quotes", Some(format!("{key} = \"...\""))),
            "a sequence" => ("a list in brackets", Some(format!("{key} = [\"...\"]"))),
            other => (other, None),
        };
        let fix = match example {
            Some(e) => format!("write {fits}, e.g. {e}"),
            None if fits.starts_with("a whole") || fits == "a number" => format!("write {fits}, without quotes"),
            None => format!("write {fits}"),
        };
        Some(Problem {
            file: self.file.clone(),
            line: Some(self.line_of_offset(offset)),
            message: format!("{path}: expected {fits}, found {found}: {fix}"),
        })
    }

    /// The dotted path (`imap.poll_interval_secs`, `account[1].email`) and
    /// the last key of the value at byte `offset`.
    fn key_at(&self, offset: usize) -> Option<(String, String)> {
        fn within(table: &dyn toml_edit::TableLike, offset: usize, prefix: &str) -> Option<(String, String)> {
            table.iter().find_map(|(key, item)| {
                let dotted = if prefix.is_empty() { key.to_string() } else { format!("{prefix}.{key}") };
                match item {
                    toml_edit::Item::Table(t) => within(t, offset, &dotted),
                    toml_edit::Item::ArrayOfTables(a) => {
                        a.iter().enumerate().find_map(|(i, t)| within(t, offset, &format!("{dotted}[{i}]")))
                    }
                    toml_edit::Item::Value(toml_edit::Value::InlineTable(t)) => within(t, offset, &dotted),
                    toml_edit::Item::Value(v) => v.span().filter(|s| s.contains(&offset)).map(|_| (dotted, key.to_string())),
                    _ => None,
                }
            })
        }
        within(self.doc.as_ref()?.as_table(), offset, "")
    }
}

/// A dotted key path (`imap.port`) as segments.
pub fn keys<'a>(path: &[&'a str]) -> Vec<Seg<'a>> {
    path.iter().map(|k| Seg::Key(k)).collect()
}
