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

    pub fn line_of_offset(&self, offset: usize) -> usize {
        self.text[..offset.min(self.text.len())].bytes().filter(|&b| b == b'\n').count() + 1
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

/// A dotted key path (`imap.port`) as segments.
pub fn keys<'a>(path: &[&'a str]) -> Vec<Seg<'a>> {
    path.iter().map(|k| Seg::Key(k)).collect()
}
