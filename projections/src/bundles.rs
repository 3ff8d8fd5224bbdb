//! Every document of one kind issued in a period, as one zip of printable files (PDF or HTML),
//! for the accountant's monthly pull. Bounded: a bundle holds at most `BUNDLE_DOCUMENTS_MAX`
//! documents, and a longer period is refused rather than rendered for minutes.

use crate::error::{ProjectionError, ProjectionResult};
use crate::paging::{DateRange, PageRequest};
use crate::render::{to_html, to_pdf, Printable};
use crate::Projections;
use std::io::Write;
use uuid::Uuid;
use zip::write::SimpleFileOptions;

/// Documents one bundle may hold. A PDF takes a few milliseconds to lay out and ~30 KB with its
/// font subset, so a full bundle stays within seconds and a few megabytes.
pub const BUNDLE_DOCUMENTS_MAX: usize = 200;

/// Which documents a bundle holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    Invoices,
    CreditNotes,
    DeliverySlips,
    Quotes,
    PurchaseOrders,
}

impl DocumentKind {
    /// The kind as the API's paths spell it.
    pub fn parse(text: &str) -> Option<DocumentKind> {
        match text {
            "invoices" => Some(DocumentKind::Invoices),
            "credit-notes" => Some(DocumentKind::CreditNotes),
            "delivery-slips" => Some(DocumentKind::DeliverySlips),
            "quotes" => Some(DocumentKind::Quotes),
            "purchase-orders" => Some(DocumentKind::PurchaseOrders),
            _ => None,
        }
    }
}

/// The file type inside a bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleFormat {
    Pdf,
    Html,
}

impl BundleFormat {
    fn extension(self) -> &'static str {
        match self {
            BundleFormat::Pdf => "pdf",
            BundleFormat::Html => "html",
        }
    }
}

impl Projections {
    /// The shop's documents of `kind` issued in `issued`, laid out for printing, oldest first.
    /// Fails with `TooLarge` past `BUNDLE_DOCUMENTS_MAX`.
    pub fn printables(
        &self,
        shop_id: Uuid,
        kind: DocumentKind,
        issued: &DateRange,
    ) -> ProjectionResult<Vec<Printable>> {
        let mut printables = Vec::new();
        let mut page = PageRequest::first(crate::limits::PAGE_LIMIT_MAX);
        loop {
            let cursor = match kind {
                DocumentKind::Invoices => {
                    let found = self.invoices(shop_id, issued, &page)?;
                    printables.extend(found.items.iter().map(Printable::invoice));
                    found.next_cursor
                }
                DocumentKind::CreditNotes => {
                    let found = self.credit_notes(shop_id, issued, &page)?;
                    printables.extend(found.items.iter().map(Printable::credit_note));
                    found.next_cursor
                }
                DocumentKind::DeliverySlips => {
                    let found = self.delivery_slips(shop_id, issued, &page)?;
                    printables.extend(found.items.iter().map(Printable::delivery_slip));
                    found.next_cursor
                }
                DocumentKind::Quotes => {
                    // Statuses as recorded: nothing here reads the clock, so a bundle of the
                    // same period is the same bytes whenever it is made.
                    let found = self.quotes(shop_id, issued, &page)?;
                    printables.extend(found.items.iter().map(Printable::quote));
                    found.next_cursor
                }
                DocumentKind::PurchaseOrders => {
                    let found = self.purchase_orders(shop_id, issued, &page)?;
                    printables.extend(found.items.iter().map(Printable::purchase_order));
                    found.next_cursor
                }
            };
            if printables.len() > BUNDLE_DOCUMENTS_MAX {
                return Err(ProjectionError::TooLarge {
                    what: "documents in the bundle".into(),
                    limit: BUNDLE_DOCUMENTS_MAX,
                });
            }
            match cursor {
                Some(cursor) => page.after = Some(cursor),
                None => return Ok(printables),
            }
        }
    }
}

/// A file name from a document number: anything but letters, digits, `-` and `_` becomes `_`,
/// so a number can never climb out of the archive (`../`).
fn file_stem(number: &str) -> String {
    number
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The documents as one zip, `{number}.pdf` or `{number}.html` each, in the given order. Entries
/// carry the zip format's fixed epoch as their date, so the same documents give the same bytes.
pub fn zip_bundle(printables: &[Printable], format: BundleFormat) -> ProjectionResult<Vec<u8>> {
    let zip_error = |error: &dyn std::fmt::Display| ProjectionError::Render {
        reason: format!("cannot write the bundle: {error}"),
    };
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for printable in printables {
        let bytes = match format {
            BundleFormat::Pdf => to_pdf(printable)?,
            BundleFormat::Html => to_html(printable).into_bytes(),
        };
        let name = format!("{}.{}", file_stem(&printable.number), format.extension());
        zip.start_file(name, options).map_err(|e| zip_error(&e))?;
        zip.write_all(&bytes).map_err(|e| zip_error(&e))?;
    }
    let cursor = zip.finish().map_err(|e| zip_error(&e))?;
    Ok(cursor.into_inner())
}
