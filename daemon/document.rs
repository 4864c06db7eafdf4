//! `triaged document SERIES [--csv]`: the documentation table of a
//! numbering series, as the procedure recorded it (CAcert: "Document the
//! delete account issue by adding it to the table at the end of the
//! precedent case a20111128.3"). One row per allocated number, columns in
//! the order the step's `document` list names them.

use std::io::Write;

use serde_json::Value;

use crate::config::Config;
use crate::store::{Store, StoreError};

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub series: String,
    pub columns: Vec<String>,
    /// Cell text per row, in number order.
    pub rows: Vec<Vec<String>>,
}

#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Pack(#[from] crate::classify::cli::PackLoadError),
    #[error("no step of pack {pack} allocates from series {series:?}; series here: {known}")]
    UnknownSeries { pack: String, series: String, known: String },
}

/// The table of `series` from the store (the daemon must not hold it).
pub fn load(config: &Config, series: &str) -> Result<Table, DocumentError> {
    let pack = crate::classify::cli::load_pack(config)?;
    let steps = || pack.procedures.iter().flat_map(|p| &p.steps);
    let allocates = |p: &&crate::procedures::Procedure| p.steps.iter().any(|s| s.allocate.as_ref().is_some_and(|a| a.series == series));
    let Some(procedure) = pack.procedures.iter().find(allocates) else {
        let known: Vec<String> = steps().filter_map(|s| s.allocate.as_ref().map(|a| a.series.clone())).collect();
        return Err(DocumentError::UnknownSeries {
            pack: pack.name.clone(),
            series: series.to_string(),
            known: if known.is_empty() { "none".into() } else { known.join(", ") },
        });
    };
    // The row is recorded by the step that documents the case (CAcert:
    // after the execution), not necessarily the one that numbered it.
    let columns = procedure.steps.iter().map(|s| &s.document).find(|d| !d.is_empty()).cloned().unwrap_or_default();
    let store = Store::open(&config.store_path)?;
    Ok(table(series, &columns, &store.documents(series)?))
}

fn table(series: &str, columns: &[String], rows: &[(u64, serde_json::Map<String, Value>)]) -> Table {
    let cell = |v: Option<&Value>| match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => crate::message::sanitize_line(s),
        Some(v) => v.to_string(),
    };
    Table {
        series: series.to_string(),
        columns: columns.to_vec(),
        rows: rows.iter().map(|(_, row)| columns.iter().map(|c| cell(row.get(c))).collect()).collect(),
    }
}

impl Table {
    pub fn write_markdown(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let esc = |s: &str| s.replace('|', "\\|");
        writeln!(out, "| {} |", self.columns.iter().map(|c| esc(c)).collect::<Vec<_>>().join(" | "))?;
        writeln!(out, "|{}", "---|".repeat(self.columns.len()))?;
        for r in &self.rows {
            writeln!(out, "| {} |", r.iter().map(|c| esc(c)).collect::<Vec<_>>().join(" | "))?;
        }
        if self.rows.is_empty() {
            eprintln!("no case of series {} is documented yet", self.series);
        }
        Ok(())
    }

    /// RFC 4180: fields with a comma, quote or line break are quoted.
    pub fn write_csv(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let field = |s: &str| {
            if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
        };
        let line = |cells: &[String]| cells.iter().map(|c| field(c)).collect::<Vec<_>>().join(",");
        write!(out, "{}\r\n", line(&self.columns))?;
        for r in &self.rows {
            write!(out, "{}\r\n", line(r))?;
        }
        if self.rows.is_empty() {
            eprintln!("no case of series {} is documented yet", self.series);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_and_csv_show_the_rows_in_column_order() {
        let row = |t: u64, n: &str, d: &str| {
            let v = serde_json::json!({"ticket": t, "arbitration_number": n, "cca_termination_date": d, "extra": "x"});
            v.as_object().unwrap().clone()
        };
        let cols: Vec<String> = ["ticket", "arbitration_number", "cca_termination_date"].map(String::from).to_vec();
        let t = table("a", &cols, &[(42, row(7, "a.42", "2027-01-02")), (43, row(9, "a.43", "2027-02-15"))]);
        let mut md = Vec::new();
        t.write_markdown(&mut md).unwrap();
        assert_eq!(
            String::from_utf8(md).unwrap(),
            "| ticket | arbitration_number | cca_termination_date |\n|---|---|---|\n| 7 | a.42 | 2027-01-02 |\n| 9 | a.43 | 2027-02-15 |\n"
        );
        let mut csv = Vec::new();
        t.write_csv(&mut csv).unwrap();
        assert_eq!(
            String::from_utf8(csv).unwrap(),
            "ticket,arbitration_number,cca_termination_date\r\n7,a.42,2027-01-02\r\n9,a.43,2027-02-15\r\n"
        );
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let t = Table { series: "s".into(), columns: vec!["a".into()], rows: vec![vec!["x, \"y\"".into()]] };
        let mut csv = Vec::new();
        t.write_csv(&mut csv).unwrap();
        assert_eq!(String::from_utf8(csv).unwrap(), "a\r\n\"x, \"\"y\"\"\"\r\n");
    }
}
