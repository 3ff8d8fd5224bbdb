//! Tests of the projections over a real event log in a temporary data dir. Events come from the
//! domain's golden fixtures (the pinned stored format), with ids and dates patched per test.

mod bundles;
mod cancel_refunds;
mod closures;
mod customer_space;
mod documents;
mod engine;
mod general_ledger_pages;
mod ledger;
mod online;
mod paging;
mod quotes;
mod random_histories;
mod read_models;
mod render;
mod rows;
mod statistics;

use crate::codec::encode_event;
use crate::{PageRequest, Projections};
use chrono::{DateTime, Duration as ChronoDuration, TimeZone, Utc};
use comptoir_domain::customer::{CustomerEvent, CustomerProfile};
use comptoir_domain::documents::DocumentEvent;
use comptoir_domain::order::{OrderEvent, PaymentMethod, PaymentRecord};
use comptoir_domain::shop::{Role, ShopEvent};
use comptoir_domain::DomainEvent;
use comptoir_eventlog::{
    AppendRequest, EventLog, EventMetadata, EventStore, ExpectedVersion, LogOptions, NewEvent,
    Position,
};
use rust_decimal::Decimal;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use uuid::Uuid;

/// How long a test waits for the runner before failing.
pub(crate) const TEST_WAIT: Duration = Duration::from_secs(10);

/// A log and its projections in one temporary data dir.
pub(crate) struct Harness {
    pub dir: tempfile::TempDir,
    pub log: Arc<EventLog>,
    pub projections: Arc<Projections>,
}

impl Harness {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = Arc::new(EventLog::open(dir.path(), LogOptions::default()).expect("log opens"));
        let projections = Projections::open(dir.path()).expect("projections open");
        Harness {
            dir,
            log,
            projections,
        }
    }

    pub fn spawn_runner(&self) -> JoinHandle<crate::ProjectionResult<()>> {
        self.projections
            .spawn_runner(self.log.clone() as Arc<dyn EventStore>)
    }

    /// Appends `events` to `stream` in one append; returns the last position.
    pub async fn append<E: DomainEvent>(&self, stream: &str, events: &[E]) -> Position {
        let events = events
            .iter()
            .map(|event| encode_event(event, Uuid::new_v4(), EventMetadata::default()))
            .collect::<Result<Vec<_>, _>>()
            .expect("events encode");
        self.append_raw(stream, events).await
    }

    pub async fn append_raw(&self, stream: &str, events: Vec<NewEvent>) -> Position {
        let request = AppendRequest::single(stream, ExpectedVersion::Any, events);
        self.log
            .append(request)
            .await
            .expect("append")
            .last_position
    }

    /// Waits until the projections hold everything appended so far.
    pub async fn caught_up(&self) {
        let head = self.log.head_position();
        self.projections
            .wait_for(head, TEST_WAIT)
            .await
            .expect("projections catch up");
    }
}

pub(crate) fn d(text: &str) -> Decimal {
    Decimal::from_str(text).expect("decimal")
}

pub(crate) fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

/// 2025-03-14T10:00:00Z plus `minutes`.
pub(crate) fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 14, 10, 0, 0)
        .single()
        .expect("date")
        + ChronoDuration::minutes(minutes)
}

fn golden<E: serde::de::DeserializeOwned>(json: &str) -> E {
    serde_json::from_str(json).expect("golden fixture decodes")
}

pub(crate) fn shop_created(shop_id: Uuid) -> ShopEvent {
    let mut event: ShopEvent = golden(include_str!(
        "../../../domain/tests/golden/shop.ShopCreated.json"
    ));
    if let ShopEvent::ShopCreated { profile, .. } = &mut event {
        profile.shop_id = shop_id;
    }
    event
}

/// The SHA-256 the API would compute for a secret; any 32 bytes do here.
pub(crate) fn secret_sha256(n: u8) -> [u8; 32] {
    [n; 32]
}

pub(crate) fn api_key_created(shop_id: Uuid, key_id: Uuid, hash: [u8; 32]) -> ShopEvent {
    ShopEvent::ApiKeyCreated {
        shop_id,
        key_id,
        role: Role::Manager,
        label: "Comptoir".into(),
        secret_hash: hex::encode(hash),
        created_at: at(0),
    }
}

pub(crate) fn order_placed(shop_id: Uuid, order_id: Uuid, placed_at: DateTime<Utc>) -> OrderEvent {
    let mut event: OrderEvent = golden(include_str!(
        "../../../domain/tests/golden/order.OrderPlaced.json"
    ));
    if let OrderEvent::OrderPlaced(placed) = &mut event {
        placed.shop_id = shop_id;
        placed.order_id = order_id;
        placed.placed_at = placed_at;
    }
    event
}

pub(crate) fn payment(shop_id: Uuid, order_id: Uuid, payment_id: Uuid, amount: &str) -> OrderEvent {
    OrderEvent::PaymentRecorded {
        shop_id,
        order_id,
        payment: PaymentRecord {
            payment_id,
            method: PaymentMethod::Card,
            amount: d(amount),
            transaction_id: None,
            external_payment_id: None,
            recorded_by: "storefront".into(),
            recorded_at: at(1),
        },
    }
}

pub(crate) fn order_paid(shop_id: Uuid, order_id: Uuid) -> OrderEvent {
    OrderEvent::OrderPaid {
        shop_id,
        order_id,
        amount_paid: d("53.20"),
        paid_at: at(2),
    }
}

pub(crate) fn invoice_issued(
    shop_id: Uuid,
    order_id: Uuid,
    seq: u64,
    issued_at: DateTime<Utc>,
) -> DocumentEvent {
    let mut event: DocumentEvent = golden(include_str!(
        "../../../domain/tests/golden/document-series.InvoiceIssued.json"
    ));
    if let DocumentEvent::InvoiceIssued {
        shop_id: event_shop,
        number,
        issued_at: event_issued_at,
        invoice,
    } = &mut event
    {
        *event_shop = shop_id;
        number.number = format!("FA-2025-{seq:06}");
        number.seq = seq;
        *event_issued_at = issued_at;
        invoice.order_id = order_id;
    }
    event
}

pub(crate) fn customer_registered(
    shop_id: Uuid,
    email: &str,
    first_name: &str,
    last_name: &str,
) -> CustomerEvent {
    CustomerEvent::CustomerRegistered {
        shop_id,
        customer_id: comptoir_domain::customer::customer_id_for(shop_id, email),
        email: email.into(),
        email_as_typed: email.into(),
        profile: CustomerProfile {
            first_name: first_name.into(),
            last_name: last_name.into(),
            phone: None,
            address: None,
            marketing_consent: false,
            extra: Default::default(),
        },
        registered_at: at(0),
    }
}

pub(crate) fn order_stream(order_id: Uuid) -> String {
    comptoir_domain::order::stream_id(order_id)
}

/// Stops a runner and reopens the projections from disk: the runner returns between chunks, so
/// no apply task holds the projections afterwards (`Projections::open` then waits for sled to
/// release its lock).
pub(crate) async fn stop_and_reopen(
    runner: JoinHandle<crate::ProjectionResult<()>>,
    projections: Arc<Projections>,
    dir: &std::path::Path,
) -> Arc<Projections> {
    projections.stop_runner();
    let _ = tokio::time::timeout(TEST_WAIT, runner)
        .await
        .expect("the runner stops in time");
    assert_eq!(Arc::strong_count(&projections), 1, "the runner let go");
    drop(projections);
    Projections::open(dir).expect("projections reopen")
}
