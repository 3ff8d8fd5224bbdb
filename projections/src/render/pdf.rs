//! A PDF of a printable document (printpdf, A4), with DejaVu Sans embedded.

use super::Printable;
use crate::error::{ProjectionError, ProjectionResult};
use printpdf::{IndirectFontRef, Mm, PdfDocument, PdfLayerReference};

/// The embedded font (see the module doc of `render` for its licence).
const FONT_TTF: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
const PAGE_WIDTH_MM: f32 = 210.0;
const PAGE_HEIGHT_MM: f32 = 297.0;
const MARGIN_MM: f32 = 15.0;
const LINE_MM: f32 = 5.0;
const FONT_PT: f32 = 9.0;
/// Characters per line of running text before it wraps (at `FONT_PT` on an A4 width).
const WRAP_CHARS: usize = 105;
/// Left edge of each table column, in mm from the margin, for up to 5 columns.
const COLUMN_X_MM: [f32; 5] = [0.0, 95.0, 115.0, 140.0, 160.0];

fn pdf_error(reason: impl ToString) -> ProjectionError {
    ProjectionError::Render {
        reason: reason.to_string(),
    }
}

/// Writes lines top-down, starting a new page when one is full.
struct Cursor {
    doc: printpdf::PdfDocumentReference,
    layer: PdfLayerReference,
    font: IndirectFontRef,
    y_mm: f32,
}

impl Cursor {
    fn text(&mut self, x_mm: f32, text: &str, size_pt: f32) {
        self.layer.use_text(
            text,
            size_pt,
            Mm(MARGIN_MM + x_mm),
            Mm(self.y_mm),
            &self.font,
        );
    }

    fn line(&mut self, text: &str, size_pt: f32) {
        self.text(0.0, text, size_pt);
        self.advance(LINE_MM * size_pt / FONT_PT);
    }

    fn advance(&mut self, mm: f32) {
        self.y_mm -= mm;
        if self.y_mm < MARGIN_MM {
            let (page, layer) = self
                .doc
                .add_page(Mm(PAGE_WIDTH_MM), Mm(PAGE_HEIGHT_MM), "page");
            self.layer = self.doc.get_page(page).get_layer(layer);
            self.y_mm = PAGE_HEIGHT_MM - MARGIN_MM;
        }
    }

    fn row(&mut self, cells: &[String]) {
        for (cell, x_mm) in cells.iter().zip(COLUMN_X_MM) {
            self.text(x_mm, cell, FONT_PT);
        }
        self.advance(LINE_MM);
    }

    fn wrapped(&mut self, text: &str) {
        let mut current = String::new();
        for word in text.split_whitespace() {
            if current.chars().count() + word.chars().count() >= WRAP_CHARS {
                self.line(&current, FONT_PT - 1.0);
                current.clear();
            }
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(word);
        }
        if !current.is_empty() {
            self.line(&current, FONT_PT - 1.0);
        }
    }
}

pub fn to_pdf(doc: &Printable) -> ProjectionResult<Vec<u8>> {
    let title = format!("{} {}", doc.title, doc.number);
    let (pdf, page, layer) =
        PdfDocument::new(&title, Mm(PAGE_WIDTH_MM), Mm(PAGE_HEIGHT_MM), "page");
    let font = pdf
        .add_external_font(std::io::Cursor::new(FONT_TTF))
        .map_err(pdf_error)?;
    let layer = pdf.get_page(page).get_layer(layer);
    let mut cursor = Cursor {
        doc: pdf,
        layer,
        font,
        y_mm: PAGE_HEIGHT_MM - MARGIN_MM - LINE_MM,
    };
    cursor.line(&format!("{} n° {}", doc.title, doc.number), 16.0);
    cursor.line(&format!("Date : {}", doc.date), FONT_PT);
    cursor.advance(LINE_MM);
    for line in doc.seller.iter().chain(std::iter::once(&String::new())) {
        cursor.line(line, FONT_PT);
    }
    for line in doc.customer.iter().chain(&doc.references) {
        cursor.line(line, FONT_PT);
    }
    cursor.advance(LINE_MM);
    cursor.row(&doc.columns);
    for row in &doc.rows {
        cursor.row(row);
    }
    cursor.advance(LINE_MM);
    for (label, amount) in &doc.summary {
        cursor.row(&[
            label.clone(),
            String::new(),
            String::new(),
            String::new(),
            amount.clone(),
        ]);
    }
    cursor.advance(LINE_MM);
    for mention in &doc.mentions {
        cursor.wrapped(mention);
    }
    cursor.doc.save_to_bytes().map_err(pdf_error)
}
