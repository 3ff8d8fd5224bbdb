//! Document series: invoices, credit notes, delivery slips, quotes and purchase orders, numbered
//! without gap or duplicate.
//!
//! One aggregate type, parameterised by [`DocumentKind`], one stream per shop per kind
//! (`document-series-{shop_id}-{kind}`). Its state is only the last number issued: `decide` gives
//! the next one. Numbers are gap-free and unique by construction because the glue appends the
//! issued document with the exact expected version of the series stream, atomically with the event
//! that causes it (`OrderPaid`, `OrderShipped`, `OrderCredited`); a concurrent issuer loses the
//! version check, reloads and retries, so no number is ever taken twice or skipped.
//!
//! Numbering restarts at 1 on the first document of a calendar year (in the shop's zone) when the pattern carries
//! the year (`{YYYY}` or `{YY}`), and is continuous forever otherwise: both are accepted French
//! practice, and a number stays unique either way. Issue dates never go backwards within a series.
//!
//! Each issued event carries the full immutable document, so a document can be printed years later
//! without looking anything else up.

mod body;
pub(crate) use body::seller;
#[cfg(test)]
mod tests;

pub use body::{
    credit_note_body, delivery_slip_body, invoice_body, CreditNoteBody, DeliverySlipBody,
    DeliverySlipLine, InvoiceBody, Seller,
};

pub use crate::quote::{PurchaseOrderBody, QuoteBody};

use crate::calendar::{local_date, Tz};
use crate::shop::{format_document_number, pattern_has_year, validate_document_pattern};
use crate::{Aggregate, DomainError, DomainEvent, Environment};
use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    Invoice,
    CreditNote,
    DeliverySlip,
    Quote,
    PurchaseOrder,
}

impl DocumentKind {
    /// Every kind, in the order their series are listed.
    pub const ALL: [DocumentKind; 5] = [
        DocumentKind::Invoice,
        DocumentKind::CreditNote,
        DocumentKind::DeliverySlip,
        DocumentKind::Quote,
        DocumentKind::PurchaseOrder,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Invoice => "invoice",
            DocumentKind::CreditNote => "credit_note",
            DocumentKind::DeliverySlip => "delivery_slip",
            DocumentKind::Quote => "quote",
            DocumentKind::PurchaseOrder => "purchase_order",
        }
    }

    /// The shop's pattern for this kind.
    pub fn pattern(self, patterns: &crate::shop::DocumentPatterns) -> &str {
        match self {
            DocumentKind::Invoice => &patterns.invoice,
            DocumentKind::CreditNote => &patterns.credit_note,
            DocumentKind::DeliverySlip => &patterns.delivery_slip,
            DocumentKind::Quote => patterns.quote_pattern(),
            DocumentKind::PurchaseOrder => patterns.purchase_order_pattern(),
        }
    }
}

/// Stream of one shop's series of one kind.
pub fn stream_id(shop_id: Uuid, kind: DocumentKind) -> String {
    format!(
        "{}-{shop_id}-{}",
        DocumentSeries::STREAM_KIND,
        kind.as_str()
    )
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum DocumentBody {
    Invoice(Box<InvoiceBody>),
    CreditNote(Box<CreditNoteBody>),
    DeliverySlip(Box<DeliverySlipBody>),
    Quote(Box<QuoteBody>),
    PurchaseOrder(Box<PurchaseOrderBody>),
}

impl DocumentBody {
    pub fn kind(&self) -> DocumentKind {
        match self {
            DocumentBody::Invoice(_) => DocumentKind::Invoice,
            DocumentBody::CreditNote(_) => DocumentKind::CreditNote,
            DocumentBody::DeliverySlip(_) => DocumentKind::DeliverySlip,
            DocumentBody::Quote(_) => DocumentKind::Quote,
            DocumentBody::PurchaseOrder(_) => DocumentKind::PurchaseOrder,
        }
    }

    /// The zone of the seller when the body was built: the document's year is counted in it.
    pub fn zone(&self) -> Tz {
        let seller = match self {
            DocumentBody::Invoice(body) => &body.seller,
            DocumentBody::CreditNote(body) => &body.seller,
            DocumentBody::DeliverySlip(body) => &body.seller,
            DocumentBody::Quote(body) => &body.seller,
            DocumentBody::PurchaseOrder(body) => &body.seller,
        };
        seller.zone()
    }
}

#[derive(Debug, Clone)]
pub enum DocumentCommand {
    /// Issue the next document of the series; `pattern` is the shop's pattern for this kind.
    Issue {
        shop_id: Uuid,
        pattern: String,
        body: DocumentBody,
    },
}

/// Where a document sits in its series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentNumber {
    pub number: String,
    pub seq: u64,
    pub year: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum DocumentEvent {
    InvoiceIssued {
        shop_id: Uuid,
        number: DocumentNumber,
        issued_at: DateTime<Utc>,
        invoice: Box<InvoiceBody>,
    },
    CreditNoteIssued {
        shop_id: Uuid,
        number: DocumentNumber,
        issued_at: DateTime<Utc>,
        credit_note: Box<CreditNoteBody>,
    },
    DeliverySlipIssued {
        shop_id: Uuid,
        number: DocumentNumber,
        issued_at: DateTime<Utc>,
        delivery_slip: Box<DeliverySlipBody>,
    },
    /// A quote (devis) given to a customer; its lifecycle is on the quote's own stream.
    QuoteIssued {
        shop_id: Uuid,
        number: DocumentNumber,
        issued_at: DateTime<Utc>,
        quote: Box<QuoteBody>,
    },
    /// A purchase order (bon de commande); its payment is on the purchase order's own stream.
    PurchaseOrderIssued {
        shop_id: Uuid,
        number: DocumentNumber,
        issued_at: DateTime<Utc>,
        purchase_order: Box<PurchaseOrderBody>,
    },
}

impl DocumentEvent {
    pub fn number(&self) -> &DocumentNumber {
        match self {
            DocumentEvent::InvoiceIssued { number, .. }
            | DocumentEvent::CreditNoteIssued { number, .. }
            | DocumentEvent::DeliverySlipIssued { number, .. }
            | DocumentEvent::QuoteIssued { number, .. }
            | DocumentEvent::PurchaseOrderIssued { number, .. } => number,
        }
    }

    pub fn issued_at(&self) -> DateTime<Utc> {
        match self {
            DocumentEvent::InvoiceIssued { issued_at, .. }
            | DocumentEvent::CreditNoteIssued { issued_at, .. }
            | DocumentEvent::DeliverySlipIssued { issued_at, .. }
            | DocumentEvent::QuoteIssued { issued_at, .. }
            | DocumentEvent::PurchaseOrderIssued { issued_at, .. } => *issued_at,
        }
    }

    pub fn kind(&self) -> DocumentKind {
        match self {
            DocumentEvent::InvoiceIssued { .. } => DocumentKind::Invoice,
            DocumentEvent::CreditNoteIssued { .. } => DocumentKind::CreditNote,
            DocumentEvent::DeliverySlipIssued { .. } => DocumentKind::DeliverySlip,
            DocumentEvent::QuoteIssued { .. } => DocumentKind::Quote,
            DocumentEvent::PurchaseOrderIssued { .. } => DocumentKind::PurchaseOrder,
        }
    }
}

impl DomainEvent for DocumentEvent {
    fn event_type(&self) -> &'static str {
        match self {
            DocumentEvent::InvoiceIssued { .. } => "InvoiceIssued",
            DocumentEvent::CreditNoteIssued { .. } => "CreditNoteIssued",
            DocumentEvent::DeliverySlipIssued { .. } => "DeliverySlipIssued",
            DocumentEvent::QuoteIssued { .. } => "QuoteIssued",
            DocumentEvent::PurchaseOrderIssued { .. } => "PurchaseOrderIssued",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentSeries {
    pub shop_id: Option<Uuid>,
    pub kind: Option<DocumentKind>,
    pub last: Option<DocumentNumber>,
    pub last_issued_at: Option<DateTime<Utc>>,
    /// Documents issued in this series, all years.
    pub issued_count: u64,
}

impl DocumentSeries {
    /// The number the next document issued at `issued_at` would get; its year is the calendar
    /// year of the shop's `zone` (a document of New Year's Eve night in Paris is of the new year).
    pub fn next_number(&self, pattern: &str, issued_at: DateTime<Utc>, zone: Tz) -> DocumentNumber {
        let year = local_date(issued_at, zone).year();
        let seq = match &self.last {
            Some(last) if pattern_has_year(pattern) && last.year != year => 1,
            Some(last) => last.seq + 1,
            None => 1,
        };
        DocumentNumber {
            number: format_document_number(pattern, year, seq),
            seq,
            year,
        }
    }

    fn decide_issue(
        &self,
        shop_id: Uuid,
        pattern: &str,
        body: &DocumentBody,
        now: DateTime<Utc>,
    ) -> Result<Vec<DocumentEvent>, DomainError> {
        if self.shop_id.is_some_and(|id| id != shop_id) {
            return Err(DomainError::conflict(
                "shop-mismatch",
                "this series belongs to another shop",
            ));
        }
        if self.kind.is_some_and(|kind| kind != body.kind()) {
            return Err(DomainError::conflict(
                "series-kind-mismatch",
                "this series numbers another kind of document",
            ));
        }
        validate_document_pattern("pattern", pattern)?;
        // Chronological numbering: a clock that stepped back never dates a document before the last.
        let issued_at = self.last_issued_at.map_or(now, |last| last.max(now));
        let number = self.next_number(pattern, issued_at, body.zone());
        let event = match body {
            DocumentBody::Invoice(invoice) => DocumentEvent::InvoiceIssued {
                shop_id,
                number,
                issued_at,
                invoice: invoice.clone(),
            },
            DocumentBody::CreditNote(credit_note) => DocumentEvent::CreditNoteIssued {
                shop_id,
                number,
                issued_at,
                credit_note: credit_note.clone(),
            },
            DocumentBody::DeliverySlip(delivery_slip) => DocumentEvent::DeliverySlipIssued {
                shop_id,
                number,
                issued_at,
                delivery_slip: delivery_slip.clone(),
            },
            DocumentBody::Quote(quote) => DocumentEvent::QuoteIssued {
                shop_id,
                number,
                issued_at,
                quote: quote.clone(),
            },
            DocumentBody::PurchaseOrder(purchase_order) => DocumentEvent::PurchaseOrderIssued {
                shop_id,
                number,
                issued_at,
                purchase_order: purchase_order.clone(),
            },
        };
        Ok(vec![event])
    }
}

impl Aggregate for DocumentSeries {
    type Command = DocumentCommand;
    type Event = DocumentEvent;
    const STREAM_KIND: &'static str = "document-series";

    fn decide(
        &self,
        command: &DocumentCommand,
        env: &dyn Environment,
    ) -> Result<Vec<DocumentEvent>, DomainError> {
        match command {
            DocumentCommand::Issue {
                shop_id,
                pattern,
                body,
            } => self.decide_issue(*shop_id, pattern, body, env.now()),
        }
    }

    fn evolve(mut self, event: &DocumentEvent) -> Self {
        let shop_id = match event {
            DocumentEvent::InvoiceIssued { shop_id, .. }
            | DocumentEvent::CreditNoteIssued { shop_id, .. }
            | DocumentEvent::DeliverySlipIssued { shop_id, .. }
            | DocumentEvent::QuoteIssued { shop_id, .. }
            | DocumentEvent::PurchaseOrderIssued { shop_id, .. } => *shop_id,
        };
        self.shop_id = Some(shop_id);
        self.kind = Some(event.kind());
        self.last = Some(event.number().clone());
        self.last_issued_at = Some(event.issued_at());
        self.issued_count += 1;
        self
    }
}
