//! The read side: every query the API answers from the read models, always scoped by shop.
//! Queries see committed state only; pair them with `wait_for` to read one's own writes.

use crate::apply::documents::{
    row_key_of, DocumentTables, NumberBucket, CREDIT_NOTES, DELIVERY_SLIPS, INVOICES,
    PURCHASE_ORDERS, QUOTES,
};
use crate::error::{ProjectionError, ProjectionResult};
use crate::keys::{id_key, instant_bytes, key, shop_prefix, Table};
use crate::limits::SEARCH_CHARS_MAX;
use crate::paging::{DateRange, Page, PageRequest};
use crate::store::{self, ListRange};
use crate::views::{
    ApiKeyView, CreditNoteView, CustomerView, DeliverySlipView, InvoiceView, OrderSummary,
    OrderView, ProductView, PurchaseOrderView, QuoteView, ShopView,
};
use crate::Projections;
use comptoir_domain::catalog::{Category, DeliveryMethod, PickupPoint};
use comptoir_domain::order::OrderStatus;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Filters of the customer list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerQuery {
    /// Case-insensitive substring of the email or of "first last" name.
    pub search: Option<String>,
}

/// Filters of the order list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderQuery {
    /// When the orders were placed.
    pub placed: DateRange,
    pub status: Option<OrderStatus>,
    /// Case-insensitive substring of the customer's email or name, the invoice number or the
    /// order id (seed 000: the order list's search bar).
    #[serde(default)]
    pub search: Option<String>,
}

impl Projections {
    /// The shop's profile.
    pub fn shop(&self, shop_id: Uuid) -> ProjectionResult<Option<ShopView>> {
        store::get(&self.tree(), &id_key(Table::Shop, shop_id, shop_id))
    }

    /// The ids of every shop, in id order, or of the shops of one SIREN.
    pub fn shop_ids(
        &self,
        siren: Option<&str>,
        page: &PageRequest,
    ) -> ProjectionResult<Page<Uuid>> {
        let range = ListRange {
            list_tag: Table::Shop as u8,
            prefix: vec![Table::Shop as u8],
            lower: None,
            upper: None,
        };
        self.read_models_page(&range, page, |shop: ShopView| {
            siren
                .is_none_or(|siren| shop.organisation.siren == siren)
                .then_some(shop.shop_id)
        })
    }

    /// The API key whose secret hashes (SHA-256) to `secret_sha256`, revoked or not: check
    /// `revoked` and the shop before trusting it. Answered from memory.
    pub fn api_key_by_hash(&self, secret_sha256: &[u8; 32]) -> Option<ApiKeyView> {
        self.api_keys
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(secret_sha256)
            .cloned()
    }

    /// Every API key of the shop, revoked ones included, by key id.
    pub fn api_keys(&self, shop_id: Uuid) -> ProjectionResult<Vec<ApiKeyView>> {
        let records: Vec<crate::apply::shop::ApiKeyRecord> =
            self.read_models_list(&shop_prefix(Table::ApiKey, shop_id))?;
        Ok(records.into_iter().map(|record| record.view).collect())
    }

    /// The shop's categories, by id.
    pub fn categories(&self, shop_id: Uuid) -> ProjectionResult<Vec<Category>> {
        self.read_models_list(&shop_prefix(Table::Category, shop_id))
    }

    /// The shop's products, retired ones included, by id.
    pub fn products(&self, shop_id: Uuid) -> ProjectionResult<Vec<ProductView>> {
        self.read_models_list(&shop_prefix(Table::Product, shop_id))
    }

    pub fn product(
        &self,
        shop_id: Uuid,
        product_id: Uuid,
    ) -> ProjectionResult<Option<ProductView>> {
        store::get(&self.tree(), &id_key(Table::Product, shop_id, product_id))
    }

    /// The shop's delivery methods, hidden ones included, by id.
    pub fn delivery_methods(&self, shop_id: Uuid) -> ProjectionResult<Vec<DeliveryMethod>> {
        self.read_models_list(&shop_prefix(Table::DeliveryMethod, shop_id))
    }

    /// The shop's pickup points, by id.
    pub fn pickup_points(&self, shop_id: Uuid) -> ProjectionResult<Vec<PickupPoint>> {
        self.read_models_list(&shop_prefix(Table::PickupPoint, shop_id))
    }

    /// One customer account.
    pub fn customer(
        &self,
        shop_id: Uuid,
        customer_id: Uuid,
    ) -> ProjectionResult<Option<CustomerView>> {
        // One tree for both reads: an online rebuild may swap the tree between them.
        let tree = self.tree();
        let email: Option<String> =
            store::get(&tree, &id_key(Table::CustomerId, shop_id, customer_id))?;
        match email {
            Some(email) => store::get(&tree, &key(Table::Customer, shop_id, email.as_bytes())),
            None => Ok(None),
        }
    }

    /// The shop's customers by email, optionally filtered by a case-insensitive search.
    pub fn customers(
        &self,
        shop_id: Uuid,
        query: &CustomerQuery,
        page: &PageRequest,
    ) -> ProjectionResult<Page<CustomerView>> {
        let needle = search_needle(query.search.as_deref())?;
        let range = ListRange {
            list_tag: Table::Customer as u8,
            prefix: shop_prefix(Table::Customer, shop_id),
            lower: None,
            upper: None,
        };
        self.read_models_page(&range, page, |customer: CustomerView| {
            customer_matches(&customer, &needle).then_some(customer)
        })
    }

    /// One order, in full.
    pub fn order(&self, shop_id: Uuid, order_id: Uuid) -> ProjectionResult<Option<OrderView>> {
        store::get(&self.tree(), &id_key(Table::Order, shop_id, order_id))
    }

    /// The shop's orders by placing date (oldest first), optionally of one status.
    pub fn orders(
        &self,
        shop_id: Uuid,
        query: &OrderQuery,
        page: &PageRequest,
    ) -> ProjectionResult<Page<OrderSummary>> {
        let needle = search_needle(query.search.as_deref())?;
        let range = dated_range(Table::OrderPlaced, shop_id, &query.placed)?;
        self.read_models_page(&range, page, |summary: OrderSummary| {
            let wanted = query.status.is_none_or(|status| status == summary.status)
                && order_matches(&summary, &needle);
            wanted.then_some(summary)
        })
    }

    /// The number of the order's invoice, once issued.
    pub fn invoice_number_for_order(
        &self,
        shop_id: Uuid,
        order_id: Uuid,
    ) -> ProjectionResult<Option<String>> {
        Ok(self
            .order(shop_id, order_id)?
            .and_then(|order| order.invoice_number))
    }

    pub fn invoice(&self, shop_id: Uuid, number: &str) -> ProjectionResult<Option<InvoiceView>> {
        self.document(INVOICES, shop_id, number)
    }

    /// The shop's invoices by issue date (oldest first).
    pub fn invoices(
        &self,
        shop_id: Uuid,
        issued: &DateRange,
        page: &PageRequest,
    ) -> ProjectionResult<Page<InvoiceView>> {
        self.documents(INVOICES, shop_id, issued, page)
    }

    pub fn credit_note(
        &self,
        shop_id: Uuid,
        number: &str,
    ) -> ProjectionResult<Option<CreditNoteView>> {
        self.document(CREDIT_NOTES, shop_id, number)
    }

    /// The shop's credit notes by issue date (oldest first).
    pub fn credit_notes(
        &self,
        shop_id: Uuid,
        issued: &DateRange,
        page: &PageRequest,
    ) -> ProjectionResult<Page<CreditNoteView>> {
        self.documents(CREDIT_NOTES, shop_id, issued, page)
    }

    pub fn delivery_slip(
        &self,
        shop_id: Uuid,
        number: &str,
    ) -> ProjectionResult<Option<DeliverySlipView>> {
        self.document(DELIVERY_SLIPS, shop_id, number)
    }

    /// The shop's delivery slips by issue date (oldest first).
    pub fn delivery_slips(
        &self,
        shop_id: Uuid,
        issued: &DateRange,
        page: &PageRequest,
    ) -> ProjectionResult<Page<DeliverySlipView>> {
        self.documents(DELIVERY_SLIPS, shop_id, issued, page)
    }

    /// A quote by number, with its status as recorded (see `QuoteView::as_of`).
    pub fn quote(&self, shop_id: Uuid, number: &str) -> ProjectionResult<Option<QuoteView>> {
        self.document(QUOTES, shop_id, number)
    }

    /// The shop's quotes by issue date (oldest first).
    pub fn quotes(
        &self,
        shop_id: Uuid,
        issued: &DateRange,
        page: &PageRequest,
    ) -> ProjectionResult<Page<QuoteView>> {
        self.documents(QUOTES, shop_id, issued, page)
    }

    pub fn purchase_order(
        &self,
        shop_id: Uuid,
        number: &str,
    ) -> ProjectionResult<Option<PurchaseOrderView>> {
        self.document(PURCHASE_ORDERS, shop_id, number)
    }

    /// The shop's purchase orders by issue date (oldest first).
    pub fn purchase_orders(
        &self,
        shop_id: Uuid,
        issued: &DateRange,
        page: &PageRequest,
    ) -> ProjectionResult<Page<PurchaseOrderView>> {
        self.documents(PURCHASE_ORDERS, shop_id, issued, page)
    }

    fn document<V: DeserializeOwned>(
        &self,
        tables: DocumentTables,
        shop_id: Uuid,
        number: &str,
    ) -> ProjectionResult<Option<V>> {
        // One tree for both reads: an online rebuild may swap the tree between them.
        let tree = self.tree();
        let find = |index_key: &[u8]| {
            let bucket: Option<NumberBucket> = store::get(&tree, index_key)?;
            Ok(bucket.and_then(|mut bucket| bucket.remove(number)))
        };
        let row_key = row_key_of(find, tables, shop_id, number)?;
        match row_key {
            Some(row_key) => store::get(&tree, &row_key),
            None => Ok(None),
        }
    }

    fn documents<V: DeserializeOwned>(
        &self,
        tables: DocumentTables,
        shop_id: Uuid,
        issued: &DateRange,
        page: &PageRequest,
    ) -> ProjectionResult<Page<V>> {
        let range = dated_range(tables.rows, shop_id, issued)?;
        self.read_models_page(&range, page, Some)
    }
}

/// The rows of `table` for the shop whose keys start with an instant in `dates`.
fn dated_range(table: Table, shop_id: Uuid, dates: &DateRange) -> ProjectionResult<ListRange> {
    dates.validate()?;
    Ok(ListRange {
        list_tag: table as u8,
        prefix: shop_prefix(table, shop_id),
        lower: dates.from.map(|from| instant_bytes(from).to_vec()),
        upper: dates.until.map(|until| instant_bytes(until).to_vec()),
    })
}

/// `needle` is already lower-case; empty matches everyone.
/// A search term as lists compare it: trimmed and lower-cased; empty for none. Refused past
/// `SEARCH_CHARS_MAX` characters.
fn search_needle(search: Option<&str>) -> ProjectionResult<String> {
    match search {
        Some(search) if search.chars().count() > SEARCH_CHARS_MAX => {
            Err(ProjectionError::InvalidQuery {
                reason: format!("the search term is longer than {SEARCH_CHARS_MAX} characters"),
            })
        }
        Some(search) => Ok(search.trim().to_lowercase()),
        None => Ok(String::new()),
    }
}

fn order_matches(order: &OrderSummary, needle: &str) -> bool {
    needle.is_empty()
        || order.customer_email.to_lowercase().contains(needle)
        || order.customer_name.to_lowercase().contains(needle)
        || order
            .invoice_number
            .as_deref()
            .is_some_and(|number| number.to_lowercase().contains(needle))
        || order.order_id.to_string().contains(needle)
}

fn customer_matches(customer: &CustomerView, needle: &str) -> bool {
    if needle.is_empty() || customer.email.contains(needle) {
        return true;
    }
    let name = format!("{} {}", customer.first_name, customer.last_name).to_lowercase();
    name.contains(needle) || customer.email_as_typed.to_lowercase().contains(needle)
}
