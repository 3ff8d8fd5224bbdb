//! Mirrors of the NF525 closures' views (see the parent module's doc).

use chrono::{DateTime, NaiveDate, Utc};
use utoipa::ToSchema;
use uuid::Uuid;

use super::Money;
use crate::routes::orders::PaymentMethodDto;

/// The length of a closed period.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum ClosureKindDto {
    Day,
    Month,
    Year,
}

/// A period of the shop's calendar: from `starts_on` up to, not including, `ends_before`.
#[derive(ToSchema)]
pub struct ClosurePeriodDto {
    pub kind: ClosureKindDto,
    pub starts_on: NaiveDate,
    pub ends_before: NaiveDate,
}

/// Sales of one VAT rate in the period: invoices less credit notes.
#[derive(ToSchema)]
pub struct VatTotalDto {
    #[schema(value_type = Money)]
    pub vat_rate: String,
    #[schema(value_type = Money)]
    pub total_excl_vat: String,
    #[schema(value_type = Money)]
    pub total_vat: String,
    #[schema(value_type = Money)]
    pub total_incl_vat: String,
}

/// The documents of one kind issued in the period, first and last by number.
#[derive(ToSchema)]
pub struct DocumentTallyDto {
    pub count: u64,
    pub first: Option<String>,
    pub last: Option<String>,
    #[schema(value_type = Money)]
    pub total_incl_vat: String,
}

/// Money received (payments) and given back (credit notes refunded) with one method.
#[derive(ToSchema)]
pub struct MethodTotalDto {
    pub method: PaymentMethodDto,
    #[schema(value_type = Money)]
    pub received: String,
    #[schema(value_type = Money)]
    pub refunded: String,
}

/// Every figure of a period.
#[derive(ToSchema)]
pub struct ClosureTotalsDto {
    /// Per VAT rate, ascending.
    pub vat: Vec<VatTotalDto>,
    #[schema(value_type = Money)]
    pub total_excl_vat: String,
    #[schema(value_type = Money)]
    pub total_vat: String,
    /// The period's gross sales: invoices less credit notes.
    #[schema(value_type = Money)]
    pub total_incl_vat: String,
    pub invoices: DocumentTallyDto,
    pub credit_notes: DocumentTallyDto,
    pub payments: Vec<MethodTotalDto>,
}

/// A recorded NF525 closure.
#[derive(ToSchema)]
pub struct Closure {
    /// The period as the API names it: `2026-11-20`, `2026-11` or `2026`.
    pub label: String,
    /// The log position of the closure.
    pub position: u64,
    pub shop_id: Uuid,
    pub period: ClosurePeriodDto,
    /// 1, 2, 3… per kind, without gap.
    pub sequence: u64,
    /// The IANA zone the period's days are counted in.
    pub time_zone: String,
    /// The log position the totals cover.
    pub covers_up_to: u64,
    /// The event log's chain hash (hex SHA-256) at `covers_up_to`, covered by `hash`: each
    /// closure anchors the log (`closures/verify` checks the log still leads to it). Absent in
    /// closures recorded before it was kept.
    #[schema(required = false)]
    pub log_hash: String,
    pub totals: ClosureTotalsDto,
    /// Grand total since the first closure of the kind (previous one's plus this period's gross).
    #[schema(value_type = Money)]
    pub perpetual_total_incl_vat: String,
    /// The previous closure's hash of the same kind; null for the first.
    pub previous_hash: Option<String>,
    /// SHA-256 (hex) of the closure's canonical text, which includes `previous_hash`.
    pub hash: String,
    pub closed_at: DateTime<Utc>,
}

/// A page of closures.
#[derive(ToSchema)]
pub struct ClosurePage {
    pub items: Vec<Closure>,
    pub next_cursor: Option<String>,
}
