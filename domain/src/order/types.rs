//! The values an order is made of, as stored in its events.

use crate::coupon::{discounted_totals, CouponDiscount};
use crate::pricing::{PricedBasket, Totals};
use crate::shop::Address;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Placed and not (fully) paid.
    #[default]
    Placed,
    Paid,
    InProduction,
    Shipped,
    ReadyForPickup,
    Delivered,
    Cancelled,
}

impl OrderStatus {
    /// The name used in messages and read models.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Placed => "placed",
            OrderStatus::Paid => "paid",
            OrderStatus::InProduction => "in_production",
            OrderStatus::Shipped => "shipped",
            OrderStatus::ReadyForPickup => "ready_for_pickup",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Cancelled => "cancelled",
        }
    }
}

/// Who ordered: a registered account (`customer_id`) or a guest (email only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCustomer {
    /// The account, derived from the email (see `customer::customer_id_for`); `None` for a guest.
    pub customer_id: Option<Uuid>,
    /// Normalised email.
    pub email: String,
    pub name: String,
    pub billing_address: Option<Address>,
}

/// Everything known at placing, frozen: the customer, the delivery and the priced snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacedOrder {
    pub shop_id: Uuid,
    pub order_id: Uuid,
    pub customer: OrderCustomer,
    pub currency: String,
    pub pickup_point_id: Option<Uuid>,
    pub shipping_address: Option<Address>,
    /// The basket as priced from the catalog, before any coupon.
    pub pricing: PricedBasket,
    pub placed_at: DateTime<Utc>,
    /// The coupon the order was placed with. Absent from the bytes of orders without one, and of
    /// every order stored before coupons existed, so those decode and re-encode unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coupon: Option<AppliedCoupon>,
}

impl PlacedOrder {
    /// What the customer owes: the basket's totals less the coupon's discount, with the VAT of each
    /// rate computed once on the discounted sum at that rate (BR-CO-17). Payments, the invoice and
    /// read models take the order's total from here, never from `pricing.totals`.
    pub fn totals(&self) -> Totals {
        match &self.coupon {
            Some(coupon) => discounted_totals(&self.pricing, &coupon.discount),
            None => self.pricing.totals.clone(),
        }
    }
}

/// The coupon of an order and what it takes off. The order computes the discount itself from the
/// coupon's terms and its own priced basket, so no caller can hand an order a discount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedCoupon {
    pub coupon_id: Uuid,
    /// Normalised (upper case), as the coupon's `CouponUsed` records it.
    pub code: String,
    /// Equal to the `discount` of the coupon's `CouponUsed` for this order: both are
    /// `coupon::apply_coupon` of the same scope on the same basket.
    pub discount: CouponDiscount,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    Cash,
    Card,
    Paypal,
    Cheque,
    BankTransfer,
    /// Paid with the customer's store credit (credit notes turned into credit).
    StoreCredit,
}

/// An amount given back with one payment method: one part of a cancelled order's refund.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MethodRefund {
    pub method: PaymentMethod,
    pub amount: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRecord {
    pub payment_id: Uuid,
    pub method: PaymentMethod,
    pub amount: Decimal,
    pub transaction_id: Option<String>,
    pub external_payment_id: Option<String>,
    /// The operator at the counter, or the integration that reported it.
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

/// How a credit is settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Settlement {
    /// Paid back with this method.
    Refund { method: PaymentMethod },
    /// Turned into store credit usable on a later order.
    StoreCredit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreditReason {
    Return,
    Cancellation,
}

/// One line of a returned quantity, by the order's line number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnLine {
    pub line_number: u32,
    pub quantity: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    Product,
    Shipping,
}

/// A line of an invoice or a credit note, with the French legal mentions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentLine {
    /// The order's line number; the shipping line comes after the products.
    pub line_number: u32,
    pub kind: LineKind,
    /// `None` for shipping.
    pub sku: Option<String>,
    pub description: String,
    pub quantity: u32,
    pub unit_price_excl_vat: Decimal,
    pub vat_rate: Decimal,
    pub total_excl_vat: Decimal,
    pub total_vat: Decimal,
    pub total_incl_vat: Decimal,
}

/// A reduction of a whole document at one VAT rate (an EN 16931 document-level allowance, BG-20):
/// the document's totals are its lines less its allowances, rate by rate. Amounts are positive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentAllowance {
    /// As printed (BT-97), e.g. "Remise coupon TIRAGES10".
    pub reason: String,
    pub vat_rate: Decimal,
    /// BT-92.
    pub amount_excl_vat: Decimal,
    pub vat: Decimal,
    pub amount_incl_vat: Decimal,
}

/// A credit of an order: the lines and amounts a credit note will carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditRecord {
    pub credit_id: Uuid,
    pub reason: CreditReason,
    /// Credited units at the prices they were invoiced at, before the coupon.
    pub lines: Vec<DocumentLine>,
    /// The coupon's share of the credited units, per VAT rate; empty without a coupon (and then
    /// absent from the bytes, as in every credit stored before coupons existed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowances: Vec<DocumentAllowance>,
    /// What is given back: the lines less the allowances.
    pub totals: Totals,
    pub settlement: Settlement,
    pub credited_by: String,
    pub credited_at: DateTime<Utc>,
}
