//! Quotes (devis) and purchase orders (bons de commande), seed 003.
//!
//! Like an invoice, each document is numbered and frozen by its shop's document series
//! (`DocumentEvent::QuoteIssued` / `PurchaseOrderIssued`, gap-free, pattern per shop). What happens
//! to it afterwards lives on a stream of its own, keyed by its number so that routes by number
//! reach it directly:
//! - [`Quote`] (`quote-{shop_id}-{number}`): opened with the issued body, then accepted or
//!   declined, and an accepted quote converted once into a purchase order. A quote whose validity
//!   date has passed is expired: nothing is recorded for that, `decide` refuses with the injected
//!   clock and readers derive it from `valid_until` ([`QuoteStatus::at`]).
//! - [`PurchaseOrder`] (`purchase-order-{shop_id}-{number}`): opened with its total, then marked
//!   paid once (method, amount, operator).
//!
//! Neither is a sale: the ledger posts nothing for them (the invoice of an order does).

mod body;
#[cfg(test)]
mod tests;

pub use body::{
    price_lines, purchase_order_body, purchase_order_body_from_quote, quote_body,
    PurchaseOrderBody, QuoteBody, QuoteLineInput,
};

use crate::calendar::local_date;
use crate::limits::REFERENCE_CHARS_MAX;
use crate::money::validate_amount;
use crate::order::{PaymentMethod, PaymentRecord};
use crate::text::{validate_optional_text, validate_text};
use crate::{Aggregate, DomainError, DomainEvent, Environment};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Stream of the quote numbered `number` in the shop.
pub fn quote_stream_id(shop_id: Uuid, number: &str) -> String {
    format!("{}-{shop_id}-{number}", Quote::STREAM_KIND)
}

/// Stream of the purchase order numbered `number` in the shop.
pub fn purchase_order_stream_id(shop_id: Uuid, number: &str) -> String {
    format!("{}-{shop_id}-{number}", PurchaseOrder::STREAM_KIND)
}

/// Where a quote is. `Expired` is never recorded: it is what an `Issued` quote is after its
/// validity date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuoteStatus {
    Issued,
    Accepted,
    Declined,
    Expired,
}

impl QuoteStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            QuoteStatus::Issued => "issued",
            QuoteStatus::Accepted => "accepted",
            QuoteStatus::Declined => "declined",
            QuoteStatus::Expired => "expired",
        }
    }

    /// The status as seen on `today`: an issued quote past its last valid day is expired.
    pub fn at(self, valid_until: NaiveDate, today: NaiveDate) -> QuoteStatus {
        match self {
            QuoteStatus::Issued if today > valid_until => QuoteStatus::Expired,
            other => other,
        }
    }
}

fn invalid(action: &str, status: QuoteStatus) -> DomainError {
    DomainError::conflict(
        "invalid-transition",
        format!("cannot {action} a quote that is {}", status.as_str()),
    )
}

fn check_shop(
    owner: Uuid,
    shop_id: Uuid,
    what: &'static str,
    number: &str,
) -> Result<(), DomainError> {
    if owner == shop_id {
        Ok(())
    } else {
        // Another shop's document does not exist for this one.
        Err(DomainError::not_found(what, number))
    }
}

#[derive(Debug, Clone)]
pub enum QuoteCommand {
    /// Records the quote the series just issued.
    Open {
        shop_id: Uuid,
        number: String,
        issued_at: DateTime<Utc>,
        quote: Box<QuoteBody>,
    },
    Accept {
        shop_id: Uuid,
        accepted_by: String,
    },
    Decline {
        shop_id: Uuid,
        declined_by: String,
        reason: Option<String>,
    },
    /// Records the purchase order made from this accepted quote.
    Convert {
        shop_id: Uuid,
        purchase_order_number: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum QuoteEvent {
    QuoteOpened {
        shop_id: Uuid,
        number: String,
        issued_at: DateTime<Utc>,
        quote: Box<QuoteBody>,
    },
    QuoteAccepted {
        shop_id: Uuid,
        number: String,
        accepted_by: String,
        accepted_at: DateTime<Utc>,
    },
    QuoteDeclined {
        shop_id: Uuid,
        number: String,
        declined_by: String,
        reason: Option<String>,
        declined_at: DateTime<Utc>,
    },
    QuoteConverted {
        shop_id: Uuid,
        number: String,
        purchase_order_number: String,
        converted_at: DateTime<Utc>,
    },
}

impl DomainEvent for QuoteEvent {
    fn event_type(&self) -> &'static str {
        match self {
            QuoteEvent::QuoteOpened { .. } => "QuoteOpened",
            QuoteEvent::QuoteAccepted { .. } => "QuoteAccepted",
            QuoteEvent::QuoteDeclined { .. } => "QuoteDeclined",
            QuoteEvent::QuoteConverted { .. } => "QuoteConverted",
        }
    }
}

/// A quote as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedQuote {
    pub shop_id: Uuid,
    pub number: String,
    pub issued_at: DateTime<Utc>,
    pub body: QuoteBody,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Quote {
    pub opened: Option<OpenedQuote>,
    /// The recorded status (never `Expired`; see [`QuoteStatus::at`]).
    pub status: Option<QuoteStatus>,
    pub purchase_order_number: Option<String>,
}

impl Quote {
    /// The quote of the shop, or "not found".
    pub fn opened_in(&self, shop_id: Uuid) -> Result<&OpenedQuote, DomainError> {
        let opened = self
            .opened
            .as_ref()
            .ok_or_else(|| DomainError::not_found("quote", "(unknown number)"))?;
        check_shop(opened.shop_id, shop_id, "quote", &opened.number)?;
        Ok(opened)
    }

    /// The status on the day of `now`.
    fn status_at(&self, opened: &OpenedQuote, now: DateTime<Utc>) -> QuoteStatus {
        self.status
            .unwrap_or(QuoteStatus::Issued)
            .at(opened.body.valid_until, local_date(now, opened.body.zone()))
    }

    fn decide_open(
        &self,
        shop_id: Uuid,
        number: &str,
        issued_at: DateTime<Utc>,
        quote: &QuoteBody,
    ) -> Result<Vec<QuoteEvent>, DomainError> {
        if self.opened.is_some() {
            // The series never gives a number twice; a pattern changed into an older one could.
            return Err(DomainError::already_exists("quote", number));
        }
        Ok(vec![QuoteEvent::QuoteOpened {
            shop_id,
            number: number.to_owned(),
            issued_at,
            quote: Box::new(quote.clone()),
        }])
    }

    fn decide_accept(
        &self,
        shop_id: Uuid,
        accepted_by: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<QuoteEvent>, DomainError> {
        let opened = self.opened_in(shop_id)?;
        validate_text("accepted_by", accepted_by, REFERENCE_CHARS_MAX)?;
        match self.status_at(opened, now) {
            QuoteStatus::Issued => Ok(vec![QuoteEvent::QuoteAccepted {
                shop_id,
                number: opened.number.clone(),
                accepted_by: accepted_by.to_owned(),
                accepted_at: now,
            }]),
            QuoteStatus::Expired => Err(expired(opened)),
            status => Err(invalid("accept", status)),
        }
    }

    fn decide_decline(
        &self,
        shop_id: Uuid,
        declined_by: &str,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Vec<QuoteEvent>, DomainError> {
        let opened = self.opened_in(shop_id)?;
        validate_text("declined_by", declined_by, REFERENCE_CHARS_MAX)?;
        validate_optional_text("reason", reason, crate::limits::TEXT_CHARS_MAX)?;
        match self.status_at(opened, now) {
            QuoteStatus::Issued => Ok(vec![QuoteEvent::QuoteDeclined {
                shop_id,
                number: opened.number.clone(),
                declined_by: declined_by.to_owned(),
                reason: reason.map(str::to_owned),
                declined_at: now,
            }]),
            QuoteStatus::Expired => Err(expired(opened)),
            status => Err(invalid("decline", status)),
        }
    }

    fn decide_convert(
        &self,
        shop_id: Uuid,
        purchase_order_number: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<QuoteEvent>, DomainError> {
        let opened = self.opened_in(shop_id)?;
        if let Some(existing) = &self.purchase_order_number {
            return Err(DomainError::conflict(
                "quote-already-ordered",
                format!(
                    "quote {} already became purchase order {existing}",
                    opened.number
                ),
            ));
        }
        // An accepted quote stays orderable after its validity date: the customer accepted in time.
        match self.status_at(opened, now) {
            QuoteStatus::Accepted => Ok(vec![QuoteEvent::QuoteConverted {
                shop_id,
                number: opened.number.clone(),
                purchase_order_number: purchase_order_number.to_owned(),
                converted_at: now,
            }]),
            status => Err(invalid("order from", status)),
        }
    }
}

fn expired(opened: &OpenedQuote) -> DomainError {
    DomainError::conflict(
        "quote-expired",
        format!(
            "quote {} was valid until {} and has expired",
            opened.number, opened.body.valid_until
        ),
    )
}

impl Aggregate for Quote {
    type Command = QuoteCommand;
    type Event = QuoteEvent;
    const STREAM_KIND: &'static str = "quote";

    fn decide(
        &self,
        command: &QuoteCommand,
        env: &dyn Environment,
    ) -> Result<Vec<QuoteEvent>, DomainError> {
        match command {
            QuoteCommand::Open {
                shop_id,
                number,
                issued_at,
                quote,
            } => self.decide_open(*shop_id, number, *issued_at, quote),
            QuoteCommand::Accept {
                shop_id,
                accepted_by,
            } => self.decide_accept(*shop_id, accepted_by, env.now()),
            QuoteCommand::Decline {
                shop_id,
                declined_by,
                reason,
            } => self.decide_decline(*shop_id, declined_by, reason.as_deref(), env.now()),
            QuoteCommand::Convert {
                shop_id,
                purchase_order_number,
            } => self.decide_convert(*shop_id, purchase_order_number, env.now()),
        }
    }

    fn evolve(mut self, event: &QuoteEvent) -> Self {
        match event {
            QuoteEvent::QuoteOpened {
                shop_id,
                number,
                issued_at,
                quote,
            } => {
                self.opened = Some(OpenedQuote {
                    shop_id: *shop_id,
                    number: number.clone(),
                    issued_at: *issued_at,
                    body: (**quote).clone(),
                });
                self.status = Some(QuoteStatus::Issued);
            }
            QuoteEvent::QuoteAccepted { .. } => self.status = Some(QuoteStatus::Accepted),
            QuoteEvent::QuoteDeclined { .. } => self.status = Some(QuoteStatus::Declined),
            QuoteEvent::QuoteConverted {
                purchase_order_number,
                ..
            } => self.purchase_order_number = Some(purchase_order_number.clone()),
        }
        self
    }
}

#[derive(Debug, Clone)]
pub enum PurchaseOrderCommand {
    /// Records the purchase order the series just issued.
    Open {
        shop_id: Uuid,
        number: String,
        issued_at: DateTime<Utc>,
        quote_number: Option<String>,
        currency: String,
        total_incl_vat: Decimal,
    },
    /// Records the payment of the whole purchase order.
    MarkPaid {
        shop_id: Uuid,
        payment_id: Uuid,
        method: PaymentMethod,
        amount: Decimal,
        operator: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PurchaseOrderEvent {
    PurchaseOrderOpened {
        shop_id: Uuid,
        number: String,
        issued_at: DateTime<Utc>,
        quote_number: Option<String>,
        currency: String,
        total_incl_vat: Decimal,
    },
    PurchaseOrderPaid {
        shop_id: Uuid,
        number: String,
        payment: PaymentRecord,
    },
}

impl DomainEvent for PurchaseOrderEvent {
    fn event_type(&self) -> &'static str {
        match self {
            PurchaseOrderEvent::PurchaseOrderOpened { .. } => "PurchaseOrderOpened",
            PurchaseOrderEvent::PurchaseOrderPaid { .. } => "PurchaseOrderPaid",
        }
    }
}

/// A purchase order as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedPurchaseOrder {
    pub shop_id: Uuid,
    pub number: String,
    pub currency: String,
    pub total_incl_vat: Decimal,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurchaseOrder {
    pub opened: Option<OpenedPurchaseOrder>,
    pub payment: Option<PaymentRecord>,
}

impl PurchaseOrder {
    fn decide_mark_paid(
        &self,
        shop_id: Uuid,
        payment_id: Uuid,
        method: PaymentMethod,
        amount: Decimal,
        operator: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<PurchaseOrderEvent>, DomainError> {
        let opened = self
            .opened
            .as_ref()
            .ok_or_else(|| DomainError::not_found("purchase order", "(unknown number)"))?;
        check_shop(opened.shop_id, shop_id, "purchase order", &opened.number)?;
        if let Some(payment) = &self.payment {
            return Err(DomainError::conflict(
                "already-paid",
                format!(
                    "purchase order {} was paid on {}",
                    opened.number,
                    payment.recorded_at.date_naive()
                ),
            ));
        }
        if method == PaymentMethod::StoreCredit {
            // Store credit is spent against orders, whose invoices it settles.
            return Err(DomainError::validation(
                "method",
                "a purchase order is not paid with store credit",
            ));
        }
        validate_text("operator", operator, REFERENCE_CHARS_MAX)?;
        validate_amount("amount", amount, false)?;
        if amount != opened.total_incl_vat {
            return Err(DomainError::conflict(
                "amount-mismatch",
                format!(
                    "purchase order {} is paid in full: {} {}, not {amount}",
                    opened.number, opened.total_incl_vat, opened.currency
                ),
            ));
        }
        Ok(vec![PurchaseOrderEvent::PurchaseOrderPaid {
            shop_id,
            number: opened.number.clone(),
            payment: PaymentRecord {
                payment_id,
                method,
                amount,
                transaction_id: None,
                external_payment_id: None,
                recorded_by: operator.to_owned(),
                recorded_at: now,
            },
        }])
    }
}

impl Aggregate for PurchaseOrder {
    type Command = PurchaseOrderCommand;
    type Event = PurchaseOrderEvent;
    const STREAM_KIND: &'static str = "purchase-order";

    fn decide(
        &self,
        command: &PurchaseOrderCommand,
        env: &dyn Environment,
    ) -> Result<Vec<PurchaseOrderEvent>, DomainError> {
        match command {
            PurchaseOrderCommand::Open {
                shop_id,
                number,
                issued_at,
                quote_number,
                currency,
                total_incl_vat,
            } => {
                if self.opened.is_some() {
                    return Err(DomainError::already_exists("purchase order", number));
                }
                Ok(vec![PurchaseOrderEvent::PurchaseOrderOpened {
                    shop_id: *shop_id,
                    number: number.clone(),
                    issued_at: *issued_at,
                    quote_number: quote_number.clone(),
                    currency: currency.clone(),
                    total_incl_vat: *total_incl_vat,
                }])
            }
            PurchaseOrderCommand::MarkPaid {
                shop_id,
                payment_id,
                method,
                amount,
                operator,
            } => {
                self.decide_mark_paid(*shop_id, *payment_id, *method, *amount, operator, env.now())
            }
        }
    }

    fn evolve(mut self, event: &PurchaseOrderEvent) -> Self {
        match event {
            PurchaseOrderEvent::PurchaseOrderOpened {
                shop_id,
                number,
                currency,
                total_incl_vat,
                ..
            } => {
                self.opened = Some(OpenedPurchaseOrder {
                    shop_id: *shop_id,
                    number: number.clone(),
                    currency: currency.clone(),
                    total_incl_vat: *total_incl_vat,
                });
            }
            PurchaseOrderEvent::PurchaseOrderPaid { payment, .. } => {
                self.payment = Some(payment.clone());
            }
        }
        self
    }
}
