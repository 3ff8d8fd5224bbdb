//! Sales statistics: the orders placed in a period, in one or more shops, grouped one way, with
//! the same measures for every group. Computed on demand from the order read models (no tree of
//! its own), so they are exactly as current as the orders and need no rebuild.
//!
//! What counts: the orders placed in `[from, until)` that pass the status filter. The period is
//! always on the placed date, as the manual's date filters and "order day" grouping read: an
//! order paid late joins the period it was placed in. `paid`, the default, keeps the orders that reached paid (they have an invoice),
//! whatever happened after: in production, shipped, ready, delivered, returned. Sales statistics
//! are about sales: the manual has staff mark an in-store payment as paid precisely "to keep a
//! trace of it in the statistics", so an order nobody paid is not a sale. `all` keeps every
//! placed order, paid or not. Both leave cancelled orders out: their sale did not happen, and a
//! cancelled paid order's credit note cancels its invoice (the domain allows cancelling a paid
//! order, always with that credit note).
//!
//! Amounts are the order's totals after its coupon. Credit notes are those of the counted
//! orders, whenever issued (a return credited months later counts against the order's period,
//! not the return's), so the measure says how much of the period's sales was given back.
//!
//! Every grouping splits the same amounts, so for each measure but `orders` the rows add up to
//! the totals exactly: grouped by product type, the shipping and the coupon discounts (and the
//! cents VAT rounding moves between them) get rows of their own.

use crate::error::{ProjectionError, ProjectionResult};
use crate::keys::{instant_bytes, shop_prefix, Table};
use crate::ledger::order_ref;
use crate::store;
use crate::views::{OrderSummary, OrderView};
use crate::Projections;
use chrono::{DateTime, Datelike, Days, Months, NaiveDate, Utc};
use comptoir_domain::calendar::{local_date, start_of_day, Tz};
use comptoir_domain::order::{LineKind, OrderStatus, PaymentMethod};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// Orders one statistics query may read, over all its shops; a longer period is refused
/// (narrow it or split it) rather than answered after a scan of unbounded length.
pub const STATISTICS_ORDERS_MAX: usize = 100_000;
/// Shops one statistics query may cover.
pub const STATISTICS_SHOPS_MAX: usize = 20;

/// Key of the product-type row holding shipping.
pub const SHIPPING_KEY: &str = "shipping";
/// Key of the product-type row holding coupon discounts (negative amounts).
pub const DISCOUNTS_KEY: &str = "discounts";
/// Key of the payment-type row of orders with no payment yet.
pub const UNPAID_KEY: &str = "unpaid";
/// Key of the payment-type row of orders paid with more than one method.
pub const MIXED_KEY: &str = "mixed";

/// A named period, computed from the `now` and the shop's zone the caller passes (projections
/// never read the clock). Days, weeks, months and years are those of the shop's calendar: they
/// begin at local midnight, so a day around a DST change lasts 23 or 25 hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    Today,
    Yesterday,
    /// The last 7 days, today included.
    #[serde(rename = "last_7_days")]
    Last7Days,
    /// The previous calendar week, Monday to Sunday.
    LastWeek,
    CurrentMonth,
    LastMonth,
    CurrentYear,
    /// `from` and `until` given by the caller.
    Custom,
}

impl Preset {
    pub const ALL: [Preset; 8] = [
        Preset::Today,
        Preset::Yesterday,
        Preset::Last7Days,
        Preset::LastWeek,
        Preset::CurrentMonth,
        Preset::LastMonth,
        Preset::CurrentYear,
        Preset::Custom,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Preset::Today => "today",
            Preset::Yesterday => "yesterday",
            Preset::Last7Days => "last_7_days",
            Preset::LastWeek => "last_week",
            Preset::CurrentMonth => "current_month",
            Preset::LastMonth => "last_month",
            Preset::CurrentYear => "current_year",
            Preset::Custom => "custom",
        }
    }

    pub fn parse(text: &str) -> ProjectionResult<Preset> {
        Preset::ALL
            .into_iter()
            .find(|preset| preset.as_str() == text)
            .ok_or_else(|| invalid(format!("unknown preset {text:?}")))
    }

    /// The half-open period `[from, until)` this preset names at `now` in `zone`; `Custom` takes
    /// the caller's bounds, both required.
    pub fn period(
        self,
        now: DateTime<Utc>,
        zone: Tz,
        custom: (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
    ) -> ProjectionResult<(DateTime<Utc>, DateTime<Utc>)> {
        let today = local_date(now, zone);
        let (first, last_excluded) = match self {
            Preset::Today => (Some(today), today.checked_add_days(Days::new(1))),
            Preset::Yesterday => (today.checked_sub_days(Days::new(1)), Some(today)),
            Preset::Last7Days => (
                today.checked_sub_days(Days::new(6)),
                today.checked_add_days(Days::new(1)),
            ),
            Preset::LastWeek => {
                let monday = today
                    .checked_sub_days(Days::new(u64::from(today.weekday().num_days_from_monday())));
                (
                    monday.and_then(|m| m.checked_sub_days(Days::new(7))),
                    monday,
                )
            }
            Preset::CurrentMonth => {
                let first = today.with_day(1);
                (
                    first,
                    first.and_then(|f| f.checked_add_months(Months::new(1))),
                )
            }
            Preset::LastMonth => {
                let first = today.with_day(1);
                (
                    first.and_then(|f| f.checked_sub_months(Months::new(1))),
                    first,
                )
            }
            Preset::CurrentYear => (
                NaiveDate::from_ymd_opt(today.year(), 1, 1),
                NaiveDate::from_ymd_opt(today.year() + 1, 1, 1),
            ),
            Preset::Custom => return custom_period(custom),
        };
        match (first, last_excluded) {
            (Some(first), Some(last)) => Ok((start_of_day(first, zone), start_of_day(last, zone))),
            _ => Err(invalid("the period is out of the calendar's range".into())),
        }
    }
}

fn custom_period(
    (from, until): (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
) -> ProjectionResult<(DateTime<Utc>, DateTime<Utc>)> {
    match (from, until) {
        (Some(from), Some(until)) if from <= until => Ok((from, until)),
        (Some(_), Some(_)) => Err(invalid("the period ends before it starts".into())),
        _ => Err(invalid(
            "the custom preset needs both `from` and `until`".into(),
        )),
    }
}

fn invalid(reason: String) -> ProjectionError {
    ProjectionError::InvalidQuery { reason }
}

/// Which of the period's orders are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusFilter {
    /// Orders that reached paid, whatever happened after; not cancelled ones.
    Paid,
    /// Every placed order, paid or not; not cancelled ones.
    All,
}

impl StatusFilter {
    pub const ALL: [StatusFilter; 2] = [StatusFilter::Paid, StatusFilter::All];

    pub fn as_str(self) -> &'static str {
        match self {
            StatusFilter::Paid => "paid",
            StatusFilter::All => "all",
        }
    }

    pub fn parse(text: &str) -> ProjectionResult<StatusFilter> {
        StatusFilter::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
            .ok_or_else(|| invalid(format!("unknown status {text:?}: paid or all")))
    }

    /// Whether an order in `status` is counted. Every status past `Placed` but `Cancelled` is
    /// reached through `Paid` only (production requires a paid order), so the current status
    /// tells whether the order was ever paid.
    fn counts(self, status: OrderStatus) -> bool {
        match status {
            OrderStatus::Cancelled => false,
            OrderStatus::Placed => self == StatusFilter::All,
            OrderStatus::Paid
            | OrderStatus::InProduction
            | OrderStatus::Shipped
            | OrderStatus::ReadyForPickup
            | OrderStatus::Delivered => true,
        }
    }
}

/// How rows are formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// One row per order, keyed by its id; the label is its invoice number once issued, else
    /// its short reference `CMD-` and the first 12 hex digits of its id (as on ledger entries).
    OrderNumber,
    /// One row per customer account, or per email for guests.
    Customer,
    /// One row per category name (so shops of one organisation share rows), plus shipping and
    /// discounts rows.
    ProductType,
    /// One row per day (in the shop's zone) the orders were placed, `YYYY-MM-DD`.
    OrderDay,
    /// One row per payment method; `unpaid`, or `mixed` for orders paid with several.
    PaymentType,
}

impl GroupBy {
    pub const ALL: [GroupBy; 5] = [
        GroupBy::OrderNumber,
        GroupBy::Customer,
        GroupBy::ProductType,
        GroupBy::OrderDay,
        GroupBy::PaymentType,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::OrderNumber => "order_number",
            GroupBy::Customer => "customer",
            GroupBy::ProductType => "product_type",
            GroupBy::OrderDay => "order_day",
            GroupBy::PaymentType => "payment_type",
        }
    }

    pub fn parse(text: &str) -> ProjectionResult<GroupBy> {
        GroupBy::ALL
            .into_iter()
            .find(|group_by| group_by.as_str() == text)
            .ok_or_else(|| invalid(format!("unknown group_by {text:?}")))
    }
}

/// What is measured for each row and for the whole period. Amounts incl. VAT unless named.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Measures {
    /// Distinct orders contributing to the row (an order may touch several product types).
    pub orders: u64,
    /// Units of products.
    pub items: u64,
    pub net: Decimal,
    pub vat: Decimal,
    pub gross: Decimal,
    /// Coupon discounts granted, incl. VAT (positive).
    pub discounts: Decimal,
    /// Credit notes of these orders, incl. VAT (positive).
    pub credit_notes: Decimal,
}

impl Measures {
    fn add(&mut self, other: &Measures) {
        self.orders += other.orders;
        self.items += other.items;
        self.net += other.net;
        self.vat += other.vat;
        self.gross += other.gross;
        self.discounts += other.discounts;
        self.credit_notes += other.credit_notes;
    }
}

/// One group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatisticsRow {
    /// What the rows are keyed and sorted by (an order id, an email, a day, a method…).
    pub key: String,
    /// A human name for the key (invoice number, customer name, category name…).
    pub label: String,
    #[serde(flatten)]
    pub measures: Measures,
}

/// The answer to one statistics query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statistics {
    pub shop_ids: Vec<Uuid>,
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub group_by: GroupBy,
    pub status: StatusFilter,
    /// By key.
    pub rows: Vec<StatisticsRow>,
    pub totals: Measures,
}

/// A statistics question: which period, which orders, which grouping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatisticsQuery {
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub group_by: GroupBy,
    /// Which of the orders placed in the period are counted.
    pub status: StatusFilter,
    /// The zone order days are counted in: the (first) shop's.
    pub zone: Tz,
}

impl Projections {
    /// Statistics over the shops' orders. The caller has checked that it may read every shop in
    /// `shop_ids` and that they belong to one organisation.
    pub fn statistics(
        &self,
        shop_ids: &[Uuid],
        query: &StatisticsQuery,
    ) -> ProjectionResult<Statistics> {
        // Totals over many rows: on a state no commit changed meanwhile, so they add up.
        self.snapshot(crate::ProjectionName::ReadModels, || {
            self.read_statistics(shop_ids, query)
        })
    }

    fn read_statistics(
        &self,
        shop_ids: &[Uuid],
        query: &StatisticsQuery,
    ) -> ProjectionResult<Statistics> {
        if shop_ids.is_empty() || shop_ids.len() > STATISTICS_SHOPS_MAX {
            return Err(invalid(format!("give 1 to {STATISTICS_SHOPS_MAX} shops")));
        }
        if query.from > query.until {
            return Err(invalid("the period ends before it starts".into()));
        }
        let mut groups: BTreeMap<String, StatisticsRow> = BTreeMap::new();
        let mut totals = Measures::default();
        let mut orders_read = 0;
        for shop_id in shop_ids {
            let categories: BTreeMap<Uuid, String> = self
                .categories(*shop_id)?
                .into_iter()
                .map(|category| (category.category_id, category.name))
                .collect();
            for order in self.orders_placed(*shop_id, query, &mut orders_read)? {
                let contributions = contributions(&order, query, &categories);
                for row in contributions {
                    totals.add(&Measures {
                        orders: 0,
                        ..row.measures.clone()
                    });
                    merge(&mut groups, row);
                }
                totals.orders += 1;
            }
        }
        Ok(Statistics {
            shop_ids: shop_ids.to_vec(),
            from: query.from,
            until: query.until,
            group_by: query.group_by,
            status: query.status,
            rows: groups.into_values().collect(),
            totals,
        })
    }

    /// The shop's orders placed in the period that the status filter keeps; counts every order
    /// read into `orders_read` and refuses to read past `STATISTICS_ORDERS_MAX`.
    fn orders_placed(
        &self,
        shop_id: Uuid,
        query: &StatisticsQuery,
        orders_read: &mut usize,
    ) -> ProjectionResult<Vec<OrderView>> {
        let prefix = shop_prefix(Table::OrderPlaced, shop_id);
        let start = [prefix.as_slice(), &instant_bytes(query.from)].concat();
        let end = [prefix.as_slice(), &instant_bytes(query.until)].concat();
        let mut orders = Vec::new();
        for entry in self.tree().range(start..end) {
            let (key, value) = entry?;
            *orders_read += 1;
            if *orders_read > STATISTICS_ORDERS_MAX {
                return Err(ProjectionError::TooLarge {
                    what: "orders in the statistics period".into(),
                    limit: STATISTICS_ORDERS_MAX,
                });
            }
            let summary: OrderSummary = store::decode_value(&key, &value)?;
            if !query.status.counts(summary.status) {
                continue;
            }
            if let Some(order) = self.order(shop_id, summary.order_id)? {
                orders.push(order);
            }
        }
        Ok(orders)
    }
}

/// Adds `row` to its group, counting the order once per group.
fn merge(groups: &mut BTreeMap<String, StatisticsRow>, row: StatisticsRow) {
    match groups.get_mut(&row.key) {
        Some(group) => group.measures.add(&row.measures),
        None => {
            groups.insert(row.key.clone(), row);
        }
    }
}

/// What one order adds to each group it touches: one row per group, with `orders: 1`.
fn contributions(
    order: &OrderView,
    query: &StatisticsQuery,
    categories: &BTreeMap<Uuid, String>,
) -> Vec<StatisticsRow> {
    let whole = whole_order(order);
    let row = |key: String, label: String| StatisticsRow {
        key,
        label,
        measures: whole.clone(),
    };
    match query.group_by {
        GroupBy::OrderNumber => vec![row(
            order.order_id.to_string(),
            order
                .invoice_number
                .clone()
                .unwrap_or_else(|| order_ref(order.order_id)),
        )],
        GroupBy::Customer => {
            let key = order
                .customer
                .customer_id
                .map_or_else(|| order.customer.email.clone(), |id| id.to_string());
            vec![row(key, order.customer.name.clone())]
        }
        GroupBy::OrderDay => {
            let day = local_date(order.placed_at, query.zone)
                .format("%Y-%m-%d")
                .to_string();
            vec![row(day.clone(), day)]
        }
        GroupBy::PaymentType => {
            let key = payment_type(order);
            vec![row(key.clone(), key)]
        }
        GroupBy::ProductType => by_product_type(order, categories),
    }
}

/// The order's measures taken whole.
fn whole_order(order: &OrderView) -> Measures {
    let before_discount: Decimal = order
        .lines
        .iter()
        .map(|line| line.total_incl_vat)
        .sum::<Decimal>()
        + order.shipping.total_incl_vat;
    Measures {
        orders: 1,
        items: order
            .lines
            .iter()
            .map(|line| u64::from(line.quantity))
            .sum(),
        net: order.totals.total_excl_vat,
        vat: order.totals.total_vat,
        gross: order.totals.total_incl_vat,
        discounts: before_discount - order.totals.total_incl_vat,
        credit_notes: order
            .credits
            .iter()
            .map(|credit| credit.totals.total_incl_vat)
            .sum(),
    }
}

fn payment_type(order: &OrderView) -> String {
    let methods: BTreeSet<String> = order
        .payments
        .iter()
        .map(|p| method_name(p.method))
        .collect();
    let mut methods = methods.into_iter();
    match (methods.next(), methods.next()) {
        (None, _) => UNPAID_KEY.into(),
        (Some(method), None) => method,
        (Some(_), Some(_)) => MIXED_KEY.into(),
    }
}

/// The method as the API spells it (`bank_transfer`).
fn method_name(method: PaymentMethod) -> String {
    serde_json::to_value(method)
        .ok()
        .and_then(|value| value.as_str().map(String::from))
        .unwrap_or_else(|| format!("{method:?}").to_lowercase())
}

/// The order split by product type: each line to its category, shipping to its own row, and
/// what the coupon took off (with any rounding between lines and totals) to the discounts row,
/// so the rows add up to the order's totals exactly. Credit notes split the same way.
fn by_product_type(order: &OrderView, categories: &BTreeMap<Uuid, String>) -> Vec<StatisticsRow> {
    let category_of_line: BTreeMap<u32, String> = order
        .lines
        .iter()
        .map(|line| {
            let name = categories
                .get(&line.category_id)
                .cloned()
                .unwrap_or_else(|| line.category_id.to_string());
            (line.line_number, name)
        })
        .collect();
    let mut rows: BTreeMap<String, Measures> = BTreeMap::new();
    for line in &order.lines {
        let row = rows
            .entry(category_of_line[&line.line_number].clone())
            .or_default();
        row.items += u64::from(line.quantity);
        row.net += line.total_excl_vat;
        row.vat += line.total_vat;
        row.gross += line.total_incl_vat;
    }
    let shipping = rows.entry(SHIPPING_KEY.into()).or_default();
    shipping.net += order.shipping.total_excl_vat;
    shipping.vat += order.shipping.total_vat;
    shipping.gross += order.shipping.total_incl_vat;
    split_credits(order, &category_of_line, &mut rows);
    add_discount_residue(order, &mut rows);
    rows.into_iter()
        .filter(|(_, measures)| *measures != Measures::default())
        .map(|(key, mut measures)| {
            measures.orders = 1;
            StatisticsRow {
                label: key.clone(),
                key,
                measures,
            }
        })
        .collect()
}

fn split_credits(
    order: &OrderView,
    category_of_line: &BTreeMap<u32, String>,
    rows: &mut BTreeMap<String, Measures>,
) {
    for credit in &order.credits {
        let mut credited_lines = Decimal::ZERO;
        for line in &credit.lines {
            let key = match line.kind {
                LineKind::Shipping => SHIPPING_KEY.to_string(),
                LineKind::Product => category_of_line
                    .get(&line.line_number)
                    .cloned()
                    .unwrap_or_else(|| DISCOUNTS_KEY.to_string()),
            };
            rows.entry(key).or_default().credit_notes += line.total_incl_vat;
            credited_lines += line.total_incl_vat;
        }
        // Allowances and rounding: what the credit note gives back beyond its lines.
        rows.entry(DISCOUNTS_KEY.into()).or_default().credit_notes +=
            credit.totals.total_incl_vat - credited_lines;
    }
}

/// Puts on the discounts row whatever separates the rows' sums from the order's totals.
fn add_discount_residue(order: &OrderView, rows: &mut BTreeMap<String, Measures>) {
    let (mut net, mut vat, mut gross) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    for (key, measures) in rows.iter() {
        if key != DISCOUNTS_KEY {
            net += measures.net;
            vat += measures.vat;
            gross += measures.gross;
        }
    }
    let discounts = rows.entry(DISCOUNTS_KEY.into()).or_default();
    discounts.net = order.totals.total_excl_vat - net;
    discounts.vat = order.totals.total_vat - vat;
    discounts.gross = order.totals.total_incl_vat - gross;
    discounts.discounts = gross - order.totals.total_incl_vat;
}
