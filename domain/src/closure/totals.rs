//! The figures of a closed period and how they add up.
//!
//! One type serves the read model's per-day rows (`projections`) and the closures themselves, so
//! a month's totals are the same arithmetic over day closures as over day rows: the API's sum of
//! the read model and the aggregate's sum of its day closures compare field by field.

use crate::order::{PaymentMethod, Settlement};
use crate::pricing::Totals;
use crate::DomainError;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Sales of one VAT rate in a period: invoices less credit notes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VatTotal {
    pub vat_rate: Decimal,
    pub total_excl_vat: Decimal,
    pub total_vat: Decimal,
    pub total_incl_vat: Decimal,
}

/// The documents of one kind issued in a period: how many, the first and last number (in the
/// order they were issued, which is their numbering order), and their total including VAT.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentTally {
    pub count: u64,
    pub first: Option<String>,
    pub last: Option<String>,
    pub total_incl_vat: Decimal,
}

impl DocumentTally {
    fn add(&mut self, number: &str, total_incl_vat: Decimal) {
        self.count = self.count.saturating_add(1);
        if self.first.is_none() {
            self.first = Some(number.to_string());
        }
        self.last = Some(number.to_string());
        self.total_incl_vat += total_incl_vat;
    }

    /// Appends a later period's documents.
    fn absorb(&mut self, later: &DocumentTally) {
        if later.count == 0 {
            return;
        }
        self.count = self.count.saturating_add(later.count);
        if self.first.is_none() {
            self.first.clone_from(&later.first);
        }
        self.last.clone_from(&later.last);
        self.total_incl_vat += later.total_incl_vat;
    }
}

/// Money received and given back with one payment method in a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MethodTotal {
    pub method: PaymentMethod,
    /// Payments recorded.
    pub received: Decimal,
    /// Credit notes settled by a refund with this method.
    pub refunded: Decimal,
}

/// Every figure of a period. Empty for a period with no document and no payment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosureTotals {
    /// Per VAT rate, ascending: invoices less credit notes.
    pub vat: Vec<VatTotal>,
    pub total_excl_vat: Decimal,
    pub total_vat: Decimal,
    /// The period's gross sales: `invoices.total_incl_vat - credit_notes.total_incl_vat`.
    pub total_incl_vat: Decimal,
    pub invoices: DocumentTally,
    pub credit_notes: DocumentTally,
    /// Per payment method, in the order of [`method_rank`].
    pub payments: Vec<MethodTotal>,
}

/// A fixed order of payment methods, so that totals compare and hash the same however they were
/// accumulated.
pub fn method_rank(method: PaymentMethod) -> u8 {
    match method {
        PaymentMethod::Cash => 0,
        PaymentMethod::Card => 1,
        PaymentMethod::Paypal => 2,
        PaymentMethod::Cheque => 3,
        PaymentMethod::BankTransfer => 4,
        PaymentMethod::StoreCredit => 5,
    }
}

/// The method's name on the wire and in the closure's canonical text.
pub fn method_name(method: PaymentMethod) -> &'static str {
    match method {
        PaymentMethod::Cash => "cash",
        PaymentMethod::Card => "card",
        PaymentMethod::Paypal => "paypal",
        PaymentMethod::Cheque => "cheque",
        PaymentMethod::BankTransfer => "bank_transfer",
        PaymentMethod::StoreCredit => "store_credit",
    }
}

impl ClosureTotals {
    /// True when nothing happened in the period.
    pub fn is_empty(&self) -> bool {
        self.invoices.count == 0 && self.credit_notes.count == 0 && self.payments.is_empty()
    }

    /// Counts an invoice.
    pub fn add_invoice(&mut self, number: &str, totals: &Totals) {
        self.invoices.add(number, totals.total_incl_vat);
        self.add_document(totals, Decimal::ONE);
    }

    /// Counts a credit note: its amounts come off the sales; a refund comes off its method.
    pub fn add_credit_note(&mut self, number: &str, totals: &Totals, settlement: Settlement) {
        self.credit_notes.add(number, totals.total_incl_vat);
        self.add_document(totals, Decimal::NEGATIVE_ONE);
        if let Settlement::Refund { method } = settlement {
            self.method_mut(method).refunded += totals.total_incl_vat;
        }
    }

    /// Counts a payment received.
    pub fn add_payment(&mut self, method: PaymentMethod, amount: Decimal) {
        self.method_mut(method).received += amount;
    }

    /// Counts money given back with `method` outside any credit note (the payments of a
    /// cancelled, partly paid order): no document, so only the method's refunds move.
    pub fn add_refund(&mut self, method: PaymentMethod, amount: Decimal) {
        self.method_mut(method).refunded += amount;
    }

    /// Appends the totals of a later period (a day to its month, a month to its year).
    pub fn absorb(&mut self, later: &ClosureTotals) {
        for rate in &later.vat {
            let mine = self.rate_mut(rate.vat_rate);
            mine.total_excl_vat += rate.total_excl_vat;
            mine.total_vat += rate.total_vat;
            mine.total_incl_vat += rate.total_incl_vat;
        }
        self.total_excl_vat += later.total_excl_vat;
        self.total_vat += later.total_vat;
        self.total_incl_vat += later.total_incl_vat;
        self.invoices.absorb(&later.invoices);
        self.credit_notes.absorb(&later.credit_notes);
        for method in &later.payments {
            let mine = self.method_mut(method.method);
            mine.received += method.received;
            mine.refunded += method.refunded;
        }
    }

    /// Checks the figures add up exactly: the rates sum to the totals, and the gross is the
    /// invoices less the credit notes.
    pub fn check(&self) -> Result<(), DomainError> {
        let sum = |pick: fn(&VatTotal) -> Decimal| self.vat.iter().map(pick).sum::<Decimal>();
        let rates_add_up = sum(|r| r.total_excl_vat) == self.total_excl_vat
            && sum(|r| r.total_vat) == self.total_vat
            && sum(|r| r.total_incl_vat) == self.total_incl_vat;
        let parts_add_up = self.total_excl_vat + self.total_vat == self.total_incl_vat;
        let documents_add_up =
            self.invoices.total_incl_vat - self.credit_notes.total_incl_vat == self.total_incl_vat;
        let ordered = self.vat.windows(2).all(|w| w[0].vat_rate < w[1].vat_rate)
            && self
                .payments
                .windows(2)
                .all(|w| method_rank(w[0].method) < method_rank(w[1].method));
        if rates_add_up && parts_add_up && documents_add_up && ordered {
            Ok(())
        } else {
            Err(DomainError::conflict(
                "closure-totals-mismatch",
                "the period's figures do not add up (per rate, net + VAT = gross, invoices less credit notes)",
            ))
        }
    }

    fn add_document(&mut self, totals: &Totals, sign: Decimal) {
        for subtotal in &totals.vat_breakdown {
            let rate = self.rate_mut(subtotal.vat_rate);
            rate.total_excl_vat += sign * subtotal.base_excl_vat;
            rate.total_vat += sign * subtotal.vat_amount;
            rate.total_incl_vat += sign * subtotal.total_incl_vat;
        }
        self.total_excl_vat += sign * totals.total_excl_vat;
        self.total_vat += sign * totals.total_vat;
        self.total_incl_vat += sign * totals.total_incl_vat;
    }

    fn rate_mut(&mut self, vat_rate: Decimal) -> &mut VatTotal {
        let index = match self.vat.binary_search_by(|r| r.vat_rate.cmp(&vat_rate)) {
            Ok(index) => index,
            Err(index) => {
                self.vat.insert(
                    index,
                    VatTotal {
                        vat_rate,
                        total_excl_vat: Decimal::ZERO,
                        total_vat: Decimal::ZERO,
                        total_incl_vat: Decimal::ZERO,
                    },
                );
                index
            }
        };
        &mut self.vat[index]
    }

    fn method_mut(&mut self, method: PaymentMethod) -> &mut MethodTotal {
        let rank = method_rank(method);
        let index = match self
            .payments
            .binary_search_by(|m| method_rank(m.method).cmp(&rank))
        {
            Ok(index) => index,
            Err(index) => {
                self.payments.insert(
                    index,
                    MethodTotal {
                        method,
                        received: Decimal::ZERO,
                        refunded: Decimal::ZERO,
                    },
                );
                index
            }
        };
        &mut self.payments[index]
    }
}
