//! Statistics and the customer list as files: CSV (RFC 4180, comma-separated, decimal points),
//! XLSX (a real spreadsheet: a header row, typed numbers and dates) and XML.
//!
//! Money stays `Decimal` up to the spreadsheet cell, where XLSX can only hold an f64; CSV and XML
//! carry the exact decimal strings.

use crate::error::{ProjectionError, ProjectionResult};
use crate::paging::PageRequest;
use crate::queries::CustomerQuery;
use crate::statistics::{GroupBy, Measures, Statistics};
use crate::views::CustomerView;
use crate::Projections;
use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet, XlsxError};
use uuid::Uuid;

/// Customers one export may hold; past it the export is refused: narrow the search.
pub const CUSTOMER_EXPORT_ROWS_MAX: usize = 20_000;

/// Column titles of the statistics exports, after the group's key and label.
const MEASURE_COLUMNS: [&str; 7] = [
    "orders",
    "items",
    "net",
    "vat",
    "gross",
    "discounts",
    "credit_notes",
];
const CUSTOMER_COLUMNS: [&str; 6] = [
    "customer_id",
    "email",
    "first_name",
    "last_name",
    "phone",
    "registered_at",
];
const MONEY_FORMAT: &str = "0.00";
const DATE_FORMAT: &str = "yyyy-mm-dd";
const DATETIME_FORMAT: &str = "yyyy-mm-dd hh:mm:ss";

fn xlsx_error(error: XlsxError) -> ProjectionError {
    ProjectionError::Render {
        reason: format!("cannot write the spreadsheet: {error}"),
    }
}

/// One CSV field: quoted when it holds a separator, a quote or a line break; text that a
/// spreadsheet would run as a formula gets a leading `'` (CSV injection).
fn csv_text(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

fn measure_texts(measures: &Measures) -> [String; 7] {
    [
        measures.orders.to_string(),
        measures.items.to_string(),
        measures.net.to_string(),
        measures.vat.to_string(),
        measures.gross.to_string(),
        measures.discounts.to_string(),
        measures.credit_notes.to_string(),
    ]
}

/// The statistics as CSV: a header, one line per row, then a `total` line.
pub fn statistics_csv(statistics: &Statistics) -> String {
    let mut csv = format!(
        "{},label,{}\r\n",
        statistics.group_by.as_str(),
        MEASURE_COLUMNS.join(",")
    );
    for row in &statistics.rows {
        let measures = measure_texts(&row.measures).join(",");
        csv.push_str(&format!(
            "{},{},{measures}\r\n",
            csv_text(&row.key),
            csv_text(&row.label)
        ));
    }
    let totals = measure_texts(&statistics.totals).join(",");
    csv.push_str(&format!("total,,{totals}\r\n"));
    csv
}

fn money(decimal: Decimal) -> f64 {
    // Amounts are cents with at most 28 digits: always representable, if not exactly.
    decimal.to_f64().unwrap_or(0.0)
}

fn write_measures(
    sheet: &mut Worksheet,
    row: u32,
    measures: &Measures,
    money_format: &Format,
) -> Result<(), XlsxError> {
    sheet.write_number(row, 2, measures.orders as f64)?;
    sheet.write_number(row, 3, measures.items as f64)?;
    let amounts = [
        measures.net,
        measures.vat,
        measures.gross,
        measures.discounts,
        measures.credit_notes,
    ];
    for (column, amount) in (4u16..).zip(amounts) {
        sheet.write_number_with_format(row, column, money(amount), money_format)?;
    }
    Ok(())
}

fn excel_date(day: NaiveDate) -> Result<ExcelDateTime, XlsxError> {
    let year =
        u16::try_from(day.year()).map_err(|_| XlsxError::DateTimeRangeError(day.to_string()))?;
    // Month and day always fit a u8.
    ExcelDateTime::from_ymd(year, day.month() as u8, day.day() as u8)
}

fn excel_datetime(instant: DateTime<Utc>) -> Result<ExcelDateTime, XlsxError> {
    let time = instant.time();
    // Hours, minutes and seconds of a day always fit.
    excel_date(instant.date_naive())?.and_hms(
        time.hour() as u16,
        time.minute() as u8,
        time.second(),
    )
}

/// The statistics as an XLSX workbook: a header row, one row per group (order days as real
/// dates), a total row; counts and amounts are numbers.
pub fn statistics_xlsx(statistics: &Statistics) -> ProjectionResult<Vec<u8>> {
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let money_format = Format::new().set_num_format(MONEY_FORMAT);
    let date_format = Format::new().set_num_format(DATE_FORMAT);
    let sheet = workbook.add_worksheet();
    sheet.set_name("statistics").map_err(xlsx_error)?;
    let header = [statistics.group_by.as_str(), "label"]
        .into_iter()
        .chain(MEASURE_COLUMNS);
    for (column, title) in (0u16..).zip(header) {
        sheet
            .write_string_with_format(0, column, title, &bold)
            .map_err(xlsx_error)?;
    }
    let mut row_index = 1u32;
    for row in &statistics.rows {
        let day = (statistics.group_by == GroupBy::OrderDay)
            .then(|| NaiveDate::parse_from_str(&row.key, "%Y-%m-%d").ok())
            .flatten();
        match day {
            Some(day) => sheet
                .write_datetime_with_format(
                    row_index,
                    0,
                    excel_date(day).map_err(xlsx_error)?,
                    &date_format,
                )
                .map(|_| ()),
            None => sheet.write_string(row_index, 0, &row.key).map(|_| ()),
        }
        .map_err(xlsx_error)?;
        sheet
            .write_string(row_index, 1, &row.label)
            .map_err(xlsx_error)?;
        write_measures(sheet, row_index, &row.measures, &money_format).map_err(xlsx_error)?;
        row_index += 1;
    }
    sheet
        .write_string_with_format(row_index, 0, "total", &bold)
        .map_err(xlsx_error)?;
    write_measures(sheet, row_index, &statistics.totals, &money_format).map_err(xlsx_error)?;
    workbook.save_to_buffer().map_err(xlsx_error)
}

/// `&`, `<`, `>`, quotes escaped; characters XML 1.0 forbids dropped. Public for the API's
/// other XML (the title of a QR code's SVG).
pub fn xml_text(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            '\t' | '\n' | '\r' => escaped.push(character),
            c if c < ' ' => {}
            c => escaped.push(c),
        }
    }
    escaped
}

fn xml_measures(measures: &Measures) -> String {
    MEASURE_COLUMNS
        .iter()
        .zip(measure_texts(measures))
        .map(|(name, value)| format!("<{name}>{value}</{name}>"))
        .collect()
}

/// The statistics as XML: `<statistics>` with the period, the grouping, the status filter,
/// `<row>`s and `<totals>`.
pub fn statistics_xml(statistics: &Statistics) -> String {
    let shops: String = statistics
        .shop_ids
        .iter()
        .map(|id| format!("<shop id=\"{id}\"/>"))
        .collect();
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<statistics group_by=\"{}\" status=\"{}\" from=\"{}\" until=\"{}\">\n<shops>{shops}</shops>\n",
        statistics.group_by.as_str(),
        statistics.status.as_str(),
        statistics.from.to_rfc3339(),
        statistics.until.to_rfc3339(),
    );
    for row in &statistics.rows {
        xml.push_str(&format!(
            "<row><key>{}</key><label>{}</label>{}</row>\n",
            xml_text(&row.key),
            xml_text(&row.label),
            xml_measures(&row.measures)
        ));
    }
    xml.push_str(&format!(
        "<totals>{}</totals>\n</statistics>\n",
        xml_measures(&statistics.totals)
    ));
    xml
}

impl Projections {
    /// Every customer of the shop matching the search, by email, for an export.
    pub fn customers_for_export(
        &self,
        shop_id: Uuid,
        query: &CustomerQuery,
    ) -> ProjectionResult<Vec<CustomerView>> {
        let mut customers = Vec::new();
        let mut page = PageRequest::first(crate::limits::PAGE_LIMIT_MAX);
        loop {
            let found = self.customers(shop_id, query, &page)?;
            customers.extend(found.items);
            if customers.len() > CUSTOMER_EXPORT_ROWS_MAX {
                return Err(ProjectionError::TooLarge {
                    what: "customers in the export".into(),
                    limit: CUSTOMER_EXPORT_ROWS_MAX,
                });
            }
            match found.next_cursor {
                Some(cursor) => page.after = Some(cursor),
                None => return Ok(customers),
            }
        }
    }
}

fn customer_texts(customer: &CustomerView) -> [String; 6] {
    [
        customer.customer_id.to_string(),
        customer.email_as_typed.clone(),
        customer.first_name.clone(),
        customer.last_name.clone(),
        customer.phone.clone().unwrap_or_default(),
        customer.registered_at.to_rfc3339(),
    ]
}

/// The answers of `customer` to the shop's own account fields named by `extra_keys`, in order
/// (empty where none).
fn extra_texts<'a>(
    customer: &'a CustomerView,
    extra_keys: &'a [String],
) -> impl Iterator<Item = &'a str> {
    extra_keys
        .iter()
        .map(|key| customer.extra.get(key).map_or("", String::as_str))
}

/// The customers as CSV with a header line: the standard columns, then one per field of the
/// shop's account form (`extra_keys`, headed by the field's key).
pub fn customers_csv(customers: &[CustomerView], extra_keys: &[String]) -> String {
    let header: Vec<&str> = CUSTOMER_COLUMNS
        .iter()
        .copied()
        .chain(extra_keys.iter().map(String::as_str))
        .collect();
    let mut csv = format!("{}\r\n", header.join(","));
    for customer in customers {
        let texts = customer_texts(customer);
        let fields: Vec<String> = texts
            .iter()
            .map(String::as_str)
            .chain(extra_texts(customer, extra_keys))
            .map(csv_text)
            .collect();
        csv.push_str(&fields.join(","));
        csv.push_str("\r\n");
    }
    csv
}

/// The customers as an XLSX workbook with a header row, as [`customers_csv`]; the registration
/// is a real date-time.
pub fn customers_xlsx(
    customers: &[CustomerView],
    extra_keys: &[String],
) -> ProjectionResult<Vec<u8>> {
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let datetime_format = Format::new().set_num_format(DATETIME_FORMAT);
    let sheet = workbook.add_worksheet();
    sheet.set_name("customers").map_err(xlsx_error)?;
    let header = CUSTOMER_COLUMNS
        .iter()
        .copied()
        .chain(extra_keys.iter().map(String::as_str));
    for (column, title) in (0u16..).zip(header) {
        sheet
            .write_string_with_format(0, column, title, &bold)
            .map_err(xlsx_error)?;
    }
    for (row, customer) in (1u32..).zip(customers) {
        let texts = customer_texts(customer);
        for (column, text) in (0u16..).zip(&texts[..5]) {
            sheet.write_string(row, column, text).map_err(xlsx_error)?;
        }
        let registered = excel_datetime(customer.registered_at).map_err(xlsx_error)?;
        sheet
            .write_datetime_with_format(row, 5, registered, &datetime_format)
            .map_err(xlsx_error)?;
        for (column, text) in (6u16..).zip(extra_texts(customer, extra_keys)) {
            sheet.write_string(row, column, text).map_err(xlsx_error)?;
        }
    }
    workbook.save_to_buffer().map_err(xlsx_error)
}
