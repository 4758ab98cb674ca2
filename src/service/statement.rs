//! Reading a bank statement: CSV with a header line naming `reference`,
//! `date` and `amount` (in any order; other columns are ignored). Each data
//! line is judged on its own, so one malformed line never hides the others.

use chrono::NaiveDate;

use crate::domain::Amount;

/// The longest reference kept; bank references are far shorter.
const MAX_REFERENCE_CHARS: usize = 100;

/// A well-formed statement line: an incoming transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementLine {
    /// Line number in the file (the header is line 1).
    pub line: u64,
    pub reference: String,
    pub date: NaiveDate,
    pub amount: i64,
}

/// A line that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    pub line: u64,
    /// The reference as far as it could be read.
    pub reference: Option<String>,
    pub reason: String,
}

/// The statement as a whole cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
    #[error("the statement is empty: expected a header line reference,date,amount")]
    Empty,
    #[error("the header line must name the columns reference, date and amount (found: {0})")]
    Header(String),
}

/// Column positions, from the header line.
struct Columns {
    reference: usize,
    date: usize,
    amount: usize,
}

impl Columns {
    fn from_header(header: &csv::ByteRecord) -> Result<Self, StatementError> {
        let names: Vec<String> = header
            .iter()
            .enumerate()
            .map(|(i, field)| {
                let name = String::from_utf8_lossy(field).to_ascii_lowercase();
                // Spreadsheets often start a UTF-8 file with a byte-order mark.
                match i {
                    0 => name.trim_start_matches('\u{feff}').trim().to_owned(),
                    _ => name.trim().to_owned(),
                }
            })
            .collect();
        let find = |wanted: &str| names.iter().position(|name| name == wanted);
        match (find("reference"), find("date"), find("amount")) {
            (Some(reference), Some(date), Some(amount)) => Ok(Self {
                reference,
                date,
                amount,
            }),
            _ => Err(StatementError::Header(names.join(","))),
        }
    }
}

/// Reads every data line of `text`, in file order.
pub fn parse(text: &[u8]) -> Result<Vec<Result<StatementLine, BadLine>>, StatementError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text);
    let mut records = reader.byte_records();
    let columns = match records.next() {
        None => return Err(StatementError::Empty),
        Some(Err(e)) => return Err(StatementError::Header(e.to_string())),
        Some(Ok(header)) => Columns::from_header(&header)?,
    };
    let mut lines = Vec::new();
    for record in records {
        lines.push(match record {
            Ok(record) => read_line(&record, &columns, line_of(text, record.position())),
            Err(e) => Err(BadLine {
                line: line_of(text, e.position()),
                reference: None,
                reason: format!("unreadable CSV: {e}"),
            }),
        });
    }
    Ok(lines)
}

/// The line a record starts on. The reader reports where it began looking,
/// which is before any blank lines it skipped; those are counted here.
fn line_of(text: &[u8], position: Option<&csv::Position>) -> u64 {
    let Some(position) = position else {
        return 0;
    };
    let start = usize::try_from(position.byte()).unwrap_or(usize::MAX);
    let skipped = text
        .get(start..)
        .unwrap_or_default()
        .iter()
        .take_while(|b| matches!(b, b'\r' | b'\n'))
        .filter(|b| **b == b'\n')
        .count();
    position.line() + skipped as u64
}

fn read_line(
    record: &csv::ByteRecord,
    columns: &Columns,
    line: u64,
) -> Result<StatementLine, BadLine> {
    let text = |i: usize| record.get(i).map(|f| std::str::from_utf8(f).ok());
    let mut reasons = Vec::new();
    let reference = match text(columns.reference) {
        None => None,
        Some(None) => {
            reasons.push("the reference is not UTF-8 text");
            None
        }
        Some(Some(r)) => Some(r),
    };
    let reference_ok = reference.filter(|r| {
        (1..=MAX_REFERENCE_CHARS).contains(&r.chars().count()) && !r.chars().any(char::is_control)
    });
    if reference.is_some() && reference_ok.is_none() {
        reasons.push("the reference must be 1 to 100 characters without control characters");
    }
    let date = text(columns.date)
        .flatten()
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let amount = text(columns.amount)
        .flatten()
        .and_then(Amount::parse_digits);
    let needed = columns.reference.max(columns.date).max(columns.amount);
    if record.len() <= needed {
        reasons.push("the line has fewer fields than the header (reference, date, amount)");
    } else {
        if date.is_none() {
            reasons.push("the date must be YYYY-MM-DD");
        }
        if amount.is_none() {
            reasons.push("the amount must be whole rupiah in digits only, at least 1");
        }
    }
    match (reference_ok, date, amount) {
        (Some(reference), Some(date), Some(amount)) if reasons.is_empty() => Ok(StatementLine {
            line,
            reference: reference.to_owned(),
            date,
            amount: amount.get(),
        }),
        _ => Err(BadLine {
            line,
            reference: reference.map(|r| r.chars().take(MAX_REFERENCE_CHARS).collect()),
            reason: reasons.join("; "),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lines_with_their_numbers_in_any_column_order() {
        let text = b"\xef\xbb\xbfAmount,Reference,Date,Note\r\n150213,TRF-1,2016-01-08,x\r\n\r\n\n\"25,5\",TRF 2,2016-01-08\n";
        let lines = parse(text).unwrap();
        assert_eq!(
            lines[0],
            Ok(StatementLine {
                line: 2,
                reference: "TRF-1".into(),
                date: NaiveDate::from_ymd_opt(2016, 1, 8).unwrap(),
                amount: 150213,
            })
        );
        assert_eq!(
            lines[1],
            Err(BadLine {
                line: 5,
                reference: Some("TRF 2".into()),
                reason: "the amount must be whole rupiah in digits only, at least 1".into(),
            })
        );
    }

    #[test]
    fn short_lines_and_bad_fields_are_reported_not_skipped() {
        let text = b"reference,date,amount\nA,2016-13-01,0\nB\n,2016-01-01,5\n";
        let lines = parse(text).unwrap();
        let reasons: Vec<_> = lines.iter().map(|l| l.clone().unwrap_err()).collect();
        assert_eq!(reasons[0].line, 2);
        assert_eq!(
            reasons[0].reason,
            "the date must be YYYY-MM-DD; the amount must be whole rupiah in digits only, at least 1"
        );
        assert_eq!(
            (reasons[1].line, reasons[1].reference.as_deref()),
            (3, Some("B"))
        );
        assert_eq!(
            reasons[2].reason,
            "the reference must be 1 to 100 characters without control characters"
        );
    }

    #[test]
    fn a_statement_without_its_header_is_refused_whole() {
        assert_eq!(parse(b""), Err(StatementError::Empty));
        assert_eq!(
            parse(b"ref,date,amount\n"),
            Err(StatementError::Header("ref,date,amount".into()))
        );
    }
}
