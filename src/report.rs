//! Result tables written as CSV (for programs) and Markdown (for readers).
//!
//! A deliberately small table of typed cells: results are a few dozen rows, and every number is
//! formatted once, here, so the CSV and the Markdown always agree. Each [`Cell`] keeps the value it
//! was made from beside its text, so that a table becomes a polars DataFrame (the design's
//! DataFrame library, one cargo feature away: `--features polars`,
//! [`Table::to_dataframe`][to-dataframe]) whose numbers are the numbers, at full precision, and not
//! the rounded text read back. polars is not a default dependency because even with only its `fmt`
//! feature it adds minutes to a cold release build on two cores (measured in the README's FAQ), for
//! files that a few lines of code write exactly.
//!
// The method is there only with the feature; without it the link goes to its type.
#![cfg_attr(feature = "polars", doc = "[to-dataframe]: Table::to_dataframe")]
#![cfg_attr(not(feature = "polars"), doc = "[to-dataframe]: Table")]

use std::fmt::Write as _;

/// What a cell holds besides its text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// Text only (a name, a setting, a formatted interval).
    Text,
    /// A whole number that may be negative.
    Integer(i64),
    /// A count, a size or a seed.
    Unsigned(u64),
    /// A real number; the text is its rounded form.
    Number(f64),
    /// Nothing (an empty cell: the study has no figure for this row).
    Missing,
}

/// One cell: the text that the CSV and Markdown show, and the value it stands for.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    text: String,
    value: Value,
}

impl Cell {
    /// A text cell.
    pub fn text(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            value: Value::Text,
        }
    }

    /// A real number written with `decimals` digits after the point (`0.8519`).
    pub fn fixed(value: f64, decimals: usize) -> Cell {
        Cell {
            text: format!("{value:.decimals$}"),
            value: Value::Number(value),
        }
    }

    /// A whole number that may be negative, written plainly (`-3`).
    pub fn integer(value: i64) -> Cell {
        Cell {
            text: value.to_string(),
            value: Value::Integer(value),
        }
    }

    /// A count, a size or a seed, written plainly (`60000`, `42`).
    pub fn unsigned(value: u64) -> Cell {
        Cell {
            text: value.to_string(),
            value: Value::Unsigned(value),
        }
    }

    /// A number with its own text (a value that needs a special format, `1e-3`, `1.5`).
    pub fn number(value: f64, text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            value: Value::Number(value),
        }
    }

    /// An empty cell.
    pub fn missing() -> Cell {
        Cell {
            text: String::new(),
            value: Value::Missing,
        }
    }

    /// The cell's text, as the CSV and Markdown show it.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The value behind the text.
    pub fn value(&self) -> Value {
        self.value
    }
}

impl Value {
    /// The count, for an [`Value::Unsigned`].
    pub fn as_u64(self) -> Option<u64> {
        match self {
            Value::Unsigned(n) => Some(n),
            _ => None,
        }
    }

    /// The whole number, for an [`Value::Integer`].
    pub fn as_i64(self) -> Option<i64> {
        match self {
            Value::Integer(n) => Some(n),
            _ => None,
        }
    }

    /// The number, for any numeric value (whole numbers converted).
    pub fn as_f64(self) -> Option<f64> {
        match self {
            Value::Integer(n) => Some(n as f64),
            Value::Unsigned(n) => Some(n as f64),
            Value::Number(x) => Some(x),
            Value::Text | Value::Missing => None,
        }
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell::text(text)
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Cell {
        Cell::text(text)
    }
}

impl From<&String> for Cell {
    fn from(text: &String) -> Cell {
        Cell::text(text.as_str())
    }
}

impl From<u64> for Cell {
    fn from(value: u64) -> Cell {
        Cell::unsigned(value)
    }
}

impl From<usize> for Cell {
    fn from(value: usize) -> Cell {
        Cell::unsigned(value as u64)
    }
}

impl From<Option<Cell>> for Cell {
    /// `None` is an empty cell.
    fn from(cell: Option<Cell>) -> Cell {
        cell.unwrap_or_else(Cell::missing)
    }
}

impl std::fmt::Display for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// A table of typed cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    columns: Vec<String>,
    rows: Vec<Vec<Cell>>,
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
    pub fn push<C: Into<Cell>>(&mut self, row: impl IntoIterator<Item = C>) {
        let row: Vec<Cell> = row.into_iter().map(Into::into).collect();
        assert_eq!(row.len(), self.columns.len(), "one cell per column");
        self.rows.push(row);
    }

    /// The column names.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The rows.
    pub fn rows(&self) -> &[Vec<Cell>] {
        &self.rows
    }

    /// RFC 4180 CSV: cells with commas, quotes or line breaks are quoted.
    pub fn to_csv(&self) -> String {
        fn line<'a>(cells: impl Iterator<Item = &'a str>) -> String {
            cells
                .map(|c| {
                    if c.contains([',', '"', '\n', '\r']) {
                        format!("\"{}\"", c.replace('"', "\"\""))
                    } else {
                        c.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join(",")
        }
        let mut out = line(self.columns.iter().map(String::as_str));
        out.push('\n');
        for row in &self.rows {
            out.push_str(&line(row.iter().map(Cell::as_str)));
            out.push('\n');
        }
        out
    }

    /// A GitHub-flavoured Markdown table; pipes in cells are escaped.
    pub fn to_markdown(&self) -> String {
        let esc = |c: &str| c.replace('|', "\\|");
        let mut out = String::new();
        let _ = writeln!(
            out,
            "| {} |",
            self.columns
                .iter()
                .map(|c| esc(c))
                .collect::<Vec<_>>()
                .join(" | ")
        );
        let _ = writeln!(out, "|{}", " --- |".repeat(self.columns.len()));
        for row in &self.rows {
            let _ = writeln!(
                out,
                "| {} |",
                row.iter()
                    .map(|c| esc(c.as_str()))
                    .collect::<Vec<_>>()
                    .join(" | ")
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
                html.push_str(&format!("<td>{}</td>", escape(c.as_str())));
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
    /// The table as a polars DataFrame, from the cells' values: a column of counts becomes
    /// `u64`, one of signed whole numbers `i64`, any other column of numbers `f64` at full
    /// precision, and a column with any text cell stays text; empty cells are nulls.
    pub fn to_dataframe(&self) -> polars::prelude::PolarsResult<polars::prelude::DataFrame> {
        use polars::prelude::{Column, DataFrame};
        let columns = self
            .columns
            .iter()
            .enumerate()
            .map(|(j, name)| {
                let name = name.as_str().into();
                let cells: Vec<&Cell> = self.rows.iter().map(|r| &r[j]).collect();
                let values = || cells.iter().map(|c| c.value);
                let all =
                    |kind: fn(Value) -> bool| values().all(|v| v == Value::Missing || kind(v));
                if values().any(|v| v == Value::Text) {
                    let text: Vec<Option<&str>> = cells
                        .iter()
                        .map(|c| (c.value != Value::Missing).then_some(c.as_str()))
                        .collect();
                    Column::new(name, text)
                } else if all(|v| v.as_u64().is_some()) {
                    Column::new(name, values().map(Value::as_u64).collect::<Vec<_>>())
                } else if all(|v| v.as_i64().is_some()) {
                    Column::new(name, values().map(Value::as_i64).collect::<Vec<_>>())
                } else {
                    Column::new(name, values().map(Value::as_f64).collect::<Vec<_>>())
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

/// An accuracy with its interval, as the notebooks and the README write it:
/// `85.19% (84.48–85.88%)`.
pub fn pct_interval(p: f64, (lo, hi): (f64, f64)) -> String {
    format!("{} ({:.2}–{})", pct(p), 100.0 * lo, pct(hi))
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

    #[test]
    fn typed_cells_write_their_text_and_keep_their_value() {
        let mut t = Table::new(["model", "accuracy", "seed", "study"]);
        t.push([
            Cell::text("SVM"),
            Cell::fixed(0.851_94, 4),
            Cell::unsigned(42),
            Cell::missing(),
        ]);
        assert_eq!(t.to_csv(), "model,accuracy,seed,study\nSVM,0.8519,42,\n");
        assert_eq!(t.rows()[0][1].value(), Value::Number(0.851_94));
        assert_eq!(Cell::from(None::<Cell>).value(), Value::Missing);
    }

    #[cfg(feature = "polars")]
    #[test]
    fn a_table_becomes_a_dataframe_of_its_values_not_its_text() {
        use polars::prelude::DataType;
        let mut t = Table::new(["model", "accuracy", "seed", "study", "note"]);
        t.push([
            Cell::text("SVM"),
            Cell::fixed(0.851_94, 4),
            Cell::unsigned(42),
            Cell::fixed(0.856, 4),
            Cell::text("1.5"),
        ]);
        t.push([
            Cell::text("linfa's tree"),
            Cell::fixed(0.731_25, 4),
            Cell::from(42_u64),
            Cell::missing(),
            Cell::missing(),
        ]);
        let df = t.to_dataframe().unwrap();
        assert_eq!(df.shape(), (2, 5));
        let dtype = |c: &str| df.column(c).unwrap().dtype().clone();
        assert_eq!(dtype("model"), DataType::String);
        assert_eq!(dtype("accuracy"), DataType::Float64);
        assert_eq!(dtype("seed"), DataType::UInt64);
        assert_eq!(dtype("study"), DataType::Float64);
        // A text cell that looks like a number stays text: only typed cells are numbers.
        assert_eq!(dtype("note"), DataType::String);
        let accuracy = df.column("accuracy").unwrap().f64().unwrap();
        assert_eq!(
            accuracy.get(0),
            Some(0.851_94),
            "full precision, not the rounded text"
        );
        assert_eq!(df.column("study").unwrap().null_count(), 1);
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
