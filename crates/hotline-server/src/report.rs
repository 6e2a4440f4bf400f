//! The year's report of the counsel programme: its figures, counted from the ledger and
//! the work orders (`hotline_domain::ledger::YearFigures`), and the files they are
//! exported as, CSV and a spreadsheet: `LedgerService.ExportYearReport` and
//! `hotline report year`.

use chrono::{Duration, NaiveDate};
use hotline_domain::ledger::{YearFigures, start_of};
use hotline_store::{LedgerFilter, Store, StoreError};

/// The figures of `year` (of `county`, or the whole city): the records dated in the year,
/// and the work orders closed in it (Shanghai time) that no record counts already.
pub async fn year_figures(
    store: &dyn Store,
    year: i32,
    county: Option<&str>,
) -> Result<YearFigures, StoreError> {
    let first =
        NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(|| StoreError::Invalid(format!("year {year}")))?;
    let last = NaiveDate::from_ymd_opt(year, 12, 31).expect("a year with a first day has a last");
    let f = LedgerFilter {
        county_id: county.map(str::to_owned),
        from: Some(first),
        to: Some(last),
        ..LedgerFilter::default()
    };
    let (records, orders) =
        store.year_tally(&f, (start_of(first), start_of(last + Duration::days(1)))).await?;
    Ok(YearFigures::tally(&records, &orders))
}

/// A file format of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Xlsx,
}

/// A report as a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    pub file_name: String,
    pub content_type: &'static str,
    pub content: Vec<u8>,
}

/// The columns of both formats: the figure's key, its label in the report's words, its
/// value.
const HEADER: [&str; 3] = ["figure", "label", "value"];

/// The report of `year` and `county` (the city when `None`) in `format`.
///
/// CSV: UTF-8 with a byte-order mark (so that spreadsheet programs read the Chinese
/// labels), a header line, then one line per figure; money with two decimal places.
/// XLSX: one sheet of the same table, counts as numbers, money as a number formatted
/// `#,##0.00`, under a title line naming the year and the area.
pub fn export(format: Format, year: i32, county: Option<&str>, f: &YearFigures) -> anyhow::Result<Exported> {
    let area = county.unwrap_or("city");
    let stem = format!("ledger-{year}-{area}");
    let rows = f.rows();
    Ok(match format {
        Format::Csv => {
            let mut out = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
            out.write_record(HEADER)?;
            for (key, label, value) in &rows {
                out.write_record([*key, *label, value.as_str()])?;
            }
            Exported {
                file_name: format!("{stem}.csv"),
                content_type: "text/csv; charset=utf-8",
                content: out.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?,
            }
        }
        Format::Xlsx => {
            use rust_xlsxwriter::{Format as Cell, Workbook};
            let mut book = Workbook::new();
            let sheet = book.add_worksheet();
            sheet.set_name(format!("{year}"))?;
            let bold = Cell::new().set_bold();
            let money = Cell::new().set_num_format("#,##0.00");
            let count = Cell::new().set_num_format("#,##0");
            let title = match county {
                Some(c) => format!("基层法律服务全覆盖 {year} 年工作情况（{c}）"),
                None => format!("基层法律服务全覆盖 {year} 年工作情况（全市）"),
            };
            sheet.write_string_with_format(0, 0, title, &bold)?;
            for (col, name) in HEADER.iter().enumerate() {
                sheet.write_string_with_format(2, col as u16, *name, &bold)?;
            }
            for (i, (key, label, value)) in rows.iter().enumerate() {
                let row = 3 + i as u32;
                sheet.write_string(row, 0, *key)?;
                sheet.write_string(row, 1, *label)?;
                let number: f64 = value.parse()?;
                let cell = if *key == "losses_recovered" { &money } else { &count };
                sheet.write_number_with_format(row, 2, number, cell)?;
            }
            sheet.set_column_width(0, 26)?;
            sheet.set_column_width(1, 34)?;
            sheet.set_column_width(2, 18)?;
            Exported {
                file_name: format!("{stem}.xlsx"),
                content_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                content: book.save_to_buffer()?,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_has_every_figure_and_xlsx_is_a_zip() {
        let f = hotline_store::ledgergen::report_figures();
        let csv = export(Format::Csv, 2025, None, &f).unwrap();
        assert_eq!(csv.file_name, "ledger-2025-city.csv");
        let text = String::from_utf8(csv.content).unwrap();
        let text = text.strip_prefix('\u{feff}').expect("a byte-order mark");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "figure,label,value");
        assert_eq!(lines[1], "services,提供各类法律服务（件）,124063");
        assert!(lines.contains(&"losses_recovered,合同审查挽回经济损失（元）,8236512.40"), "{text}");
        assert_eq!(lines.len(), 1 + f.rows().len());
        let xlsx = export(Format::Xlsx, 2025, Some("371502"), &f).unwrap();
        assert_eq!(xlsx.file_name, "ledger-2025-371502.xlsx");
        assert_eq!(&xlsx.content[..2], b"PK", "an xlsx file is a zip archive");
    }
}
