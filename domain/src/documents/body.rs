//! The immutable content of documents, and how the glue builds it from the shop and the order.

use crate::order::{
    document_allowances, document_lines, CreditReason, DocumentAllowance, DocumentLine, Order,
    OrderCustomer, OrderStatus, PaymentRecord, PlacedOrder, Settlement,
};
use crate::pricing::Totals;
use crate::shop::{Address, LegalIdentity, ShopProfile};
use crate::DomainError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The seller as printed on documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seller {
    pub shop_name: String,
    pub organisation: LegalIdentity,
    /// The shop's zone when the document was issued: its dates print as days of that zone.
    /// Absent from documents issued before zones existed (and from those of shops that never
    /// chose one), which print in [`crate::calendar::DEFAULT_TIME_ZONE`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

/// An invoice with the legal mentions of French invoices; the number and date are on the event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceBody {
    pub order_id: Uuid,
    pub seller: Seller,
    pub customer: OrderCustomer,
    pub currency: String,
    pub prices_include_tax: bool,
    /// The order's lines at their catalog prices, before the coupon.
    pub lines: Vec<DocumentLine>,
    /// The coupon's discount, one allowance per VAT rate; empty without a coupon (and then absent
    /// from the bytes, as in every invoice stored before coupons existed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowances: Vec<DocumentAllowance>,
    /// What is due: per rate, the lines less the allowances.
    pub totals: Totals,
    pub payment_terms: String,
    pub payments: Vec<PaymentRecord>,
    pub order_placed_at: DateTime<Utc>,
}

/// A credit note: returned lines, referencing the invoice it corrects, and how it is settled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditNoteBody {
    pub order_id: Uuid,
    pub credit_id: Uuid,
    pub invoice_number: String,
    pub reason: CreditReason,
    pub seller: Seller,
    pub customer: OrderCustomer,
    pub currency: String,
    pub prices_include_tax: bool,
    /// Credited units at their invoiced prices, before the coupon.
    pub lines: Vec<DocumentLine>,
    /// The coupon's share of the credited units, per VAT rate (see `order::CreditRecord`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowances: Vec<DocumentAllowance>,
    /// What is given back: the lines less the allowances.
    pub totals: Totals,
    pub settlement: Settlement,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliverySlipLine {
    pub line_number: u32,
    pub sku: String,
    pub description: String,
    pub quantity: u32,
    pub unit_weight_g: u32,
}

/// A delivery slip: what leaves the shop, with no prices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliverySlipBody {
    pub order_id: Uuid,
    pub seller: Seller,
    pub customer: OrderCustomer,
    pub delivery_method_name: String,
    pub shipping_address: Option<Address>,
    pub pickup_point_id: Option<Uuid>,
    pub tracking_number: Option<String>,
    pub lines: Vec<DeliverySlipLine>,
    pub total_weight_g: u64,
}

impl Seller {
    /// The zone the document's days are counted and printed in: the shop's when it was issued.
    pub fn zone(&self) -> crate::calendar::Tz {
        crate::calendar::zone_or_default(self.time_zone.as_deref())
    }
}

pub(crate) fn seller(shop: &ShopProfile) -> Seller {
    Seller {
        shop_name: shop.name.clone(),
        organisation: shop.organisation.clone(),
        time_zone: shop.time_zone.clone(),
    }
}

fn placed_of_shop<'a>(
    shop: &ShopProfile,
    order: &'a Order,
) -> Result<&'a PlacedOrder, DomainError> {
    let placed = order.placed_or_not_found()?;
    if placed.shop_id != shop.shop_id {
        return Err(DomainError::conflict(
            "shop-mismatch",
            "the order belongs to another shop",
        ));
    }
    Ok(placed)
}

/// The invoice of a fully paid order. With a coupon, its lines keep their catalog prices and the
/// discount is a document-level allowance per VAT rate (EN 16931 BG-20), so that rate by rate the
/// lines less the allowances are exactly the totals, which are what was paid.
pub fn invoice_body(shop: &ShopProfile, order: &Order) -> Result<InvoiceBody, DomainError> {
    let placed = placed_of_shop(shop, order)?;
    if order.status == OrderStatus::Placed || !order.outstanding().is_zero() {
        return Err(DomainError::InvalidTransition {
            from: order.status.as_str(),
            action: "invoice",
        });
    }
    Ok(InvoiceBody {
        order_id: placed.order_id,
        seller: seller(shop),
        customer: placed.customer.clone(),
        currency: placed.currency.clone(),
        prices_include_tax: placed.pricing.prices_include_tax,
        lines: document_lines(&placed.pricing),
        allowances: document_allowances(placed),
        totals: placed.totals(),
        payment_terms: shop.payment_terms.clone(),
        payments: order.payments.values().cloned().collect(),
        order_placed_at: placed.placed_at,
    })
}

/// The credit note of the credit `credit_id` recorded on the order, against `invoice_number`: the
/// credit as decided (lines, the coupon's share as allowances, totals), see `order::CreditRecord`.
pub fn credit_note_body(
    shop: &ShopProfile,
    order: &Order,
    credit_id: Uuid,
    invoice_number: &str,
) -> Result<CreditNoteBody, DomainError> {
    let placed = placed_of_shop(shop, order)?;
    let credit = order
        .credits
        .get(&credit_id)
        .ok_or_else(|| DomainError::not_found("credit", credit_id))?;
    if invoice_number.trim().is_empty() {
        return Err(DomainError::validation(
            "invoice_number",
            "a credit note references its invoice",
        ));
    }
    Ok(CreditNoteBody {
        order_id: placed.order_id,
        credit_id,
        invoice_number: invoice_number.to_owned(),
        reason: credit.reason,
        seller: seller(shop),
        customer: placed.customer.clone(),
        currency: placed.currency.clone(),
        prices_include_tax: placed.pricing.prices_include_tax,
        lines: credit.lines.clone(),
        allowances: credit.allowances.clone(),
        totals: credit.totals.clone(),
        settlement: credit.settlement,
    })
}

/// The delivery slip of a shipped (or ready for pickup, or delivered) order.
pub fn delivery_slip_body(
    shop: &ShopProfile,
    order: &Order,
) -> Result<DeliverySlipBody, DomainError> {
    let placed = placed_of_shop(shop, order)?;
    let shipped = matches!(
        order.status,
        OrderStatus::Shipped | OrderStatus::ReadyForPickup | OrderStatus::Delivered
    );
    if !shipped {
        return Err(DomainError::InvalidTransition {
            from: order.status.as_str(),
            action: "issue a delivery slip for",
        });
    }
    let lines = placed
        .pricing
        .lines
        .iter()
        .map(|l| DeliverySlipLine {
            line_number: l.line_number,
            sku: l.sku.clone(),
            description: l.name.clone(),
            quantity: l.quantity,
            unit_weight_g: l.unit_weight_g,
        })
        .collect();
    Ok(DeliverySlipBody {
        order_id: placed.order_id,
        seller: seller(shop),
        customer: placed.customer.clone(),
        delivery_method_name: placed.pricing.shipping.name.clone(),
        shipping_address: placed.shipping_address.clone(),
        pickup_point_id: placed.pickup_point_id,
        tracking_number: order.tracking_number.clone(),
        lines,
        total_weight_g: placed.pricing.total_weight_g,
    })
}
