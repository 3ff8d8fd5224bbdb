//! A deterministic photo-shop history made through the domain's own `decide`, for the rebuild
//! benchmark and for tests: a shop, a catalog with two VAT rates, then orders paid by card or
//! cash (invoice issued), a third of them with a 10 % coupon (discounts, account 709), some
//! shipped (delivery slip), some returned (credit note refunded or turned into store credit) and
//! some paid partly with store credit.
//!
//! It only produces events; appending them is the caller's business (projections never append).
//! The same options always give the same events, ids and dates included.

use crate::codec::{encode_event, CodecError};
use chrono::{DateTime, Duration, Utc};
use comptoir_domain::catalog::{
    Catalog, CatalogChange, CatalogCommand, Category, DeliveryKind, DeliveryMethod, PaymentMode,
    PriceTier, Product,
};
use comptoir_domain::coupon::{
    self, Audience, CodeRequest, Coupon, CouponCodeRegistry, CouponCodeRegistryCommand,
    CouponCommand, CouponDefinition, CouponEvent, CouponScope, Reduction, UseCoupon,
};
use comptoir_domain::customer::customer_id_for;
use comptoir_domain::documents::{
    self, credit_note_body, delivery_slip_body, invoice_body, DocumentBody, DocumentCommand,
    DocumentKind, DocumentSeries,
};
use comptoir_domain::order::{
    self, CouponToApply, Order, OrderCommand, OrderCustomer, PaymentMethod, PlaceOrder,
    RecordPayment, ReturnLine, Settlement,
};
use comptoir_domain::pricing::BasketLine;
use comptoir_domain::shop::{
    Address, DocumentPatterns, LedgerMapping, LegalIdentity, Shop, ShopCommand, ShopProfile,
};
use comptoir_domain::store_credit::{self, StoreCredit, StoreCreditCommand};
use comptoir_domain::{Aggregate, DomainError, DomainEvent, Environment};
use comptoir_eventlog::{AppendRequest, EventMetadata, ExpectedVersion, NewEvent, StreamAppend};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;

/// The SIREN of the sample shop's company.
pub const SAMPLE_SIREN: &str = "812345678";
/// Customers the sample orders cycle through.
pub(crate) const SAMPLE_CUSTOMERS: u64 = 40;
/// The code of the sample's coupon: 10 % off the whole order, for everyone, without limit.
pub const SAMPLE_COUPON_CODE: &str = "PHOTO10";
/// The sample's coupon is valid this long from the shop's opening (the domain's longest window);
/// orders placed later (past about 140,000 of them) go without it.
const SAMPLE_COUPON_DAYS: i64 = comptoir_domain::limits::COUPON_VALIDITY_DAYS_MAX;

#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    #[error("the domain refused a sample command: {0}")]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Codec(#[from] CodecError),
}

/// The events one step appended, stream by stream, in order.
pub type SampleEvents = Vec<(String, NewEvent)>;

/// A fixed clock and counter ids for one decision.
struct FixedEnvironment {
    now: DateTime<Utc>,
    id: Uuid,
}

impl Environment for FixedEnvironment {
    fn now(&self) -> DateTime<Utc> {
        self.now
    }
    fn new_id(&self) -> Uuid {
        self.id
    }
}

/// What happens to one sample order after it is placed. [`OrderFlow::of`] is the sample's own
/// schedule; tests choose others to reach combinations the schedule never makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderFlow {
    /// Which of the `SAMPLE_CUSTOMERS` customers places it.
    pub customer: u64,
    /// Uses the sample's coupon, while the coupon is open.
    pub coupon: bool,
    /// Pays with the customer's store credit first, when the customer holds some.
    pub spend_store_credit: bool,
    /// How its first line's return is settled, if one comes back. Only home-delivered orders
    /// (`n` even) are shipped, so only those can be returned.
    pub returned: Option<Settlement>,
    /// The return also refunds the shipping.
    pub refund_shipping: bool,
}

impl OrderFlow {
    /// The sample's schedule for the `n`th order without its coupon (orders cancelled or never
    /// paid).
    fn without_coupon(n: u64) -> Self {
        OrderFlow {
            coupon: false,
            ..OrderFlow::of(n)
        }
    }

    /// The sample's schedule: customers in turn, the coupon on every third order from the third,
    /// store credit spent on every fourth, and one home-delivered order in five returned (a
    /// refund by card, or every other time store credit).
    pub fn of(n: u64) -> Self {
        let returned = (n % 10 == 4).then_some(if n % 20 == 4 {
            Settlement::StoreCredit
        } else {
            Settlement::Refund {
                method: PaymentMethod::Card,
            }
        });
        OrderFlow {
            customer: n % SAMPLE_CUSTOMERS,
            coupon: n % 3 == 2,
            // Every fourth order from the first, so that customers 4 and 24, the only ones the
            // returns give store credit to, spend it.
            spend_store_credit: n.is_multiple_of(4),
            returned,
            refund_shipping: n % 40 == 4,
        }
    }
}

/// Builds the history step by step; see the module doc.
pub struct SampleShop {
    pub shop_id: Uuid,
    profile: ShopProfile,
    catalog: Arc<Catalog>,
    series: BTreeMap<DocumentKind, DocumentSeries>,
    credits: BTreeMap<Uuid, StoreCredit>,
    /// The coupon as of the last use; `open` creates it. Only this struct holds the `Arc` between
    /// orders, so folding a use in never copies the coupon's uses.
    coupon: Arc<Coupon>,
    start: DateTime<Utc>,
    next_id: u128,
    event_counter: u128,
}

fn address() -> Address {
    Address {
        line1: "12 rue des Arts".into(),
        line2: None,
        postal_code: "69002".into(),
        city: "Lyon".into(),
        country: "FR".into(),
    }
}

fn dec(units: i64, scale: u32) -> Decimal {
    Decimal::new(units, scale)
}

impl SampleShop {
    /// The shop `shop_number` (distinct numbers give distinct ids), opening at `start`.
    pub fn new(shop_number: u32, start: DateTime<Utc>) -> Self {
        let shop_id = Uuid::from_u128(0x5A00_0000 + u128::from(shop_number));
        let profile = ShopProfile {
            shop_id,
            name: format!("Studio Lumière n°{shop_number}"),
            organisation: LegalIdentity {
                name: "Studio Lumière SARL".into(),
                address: address(),
                siren: SAMPLE_SIREN.into(),
                vat_id: "FR45812345678".into(),
                legal_form: None,
                share_capital: None,
                rcs_city: None,
                vat_exemption_mention: None,
            },
            currency: "EUR".into(),
            prices_include_tax: true,
            document_patterns: DocumentPatterns {
                invoice: "FA-{YYYY}-{seq:06}".into(),
                credit_note: "AV-{YYYY}-{seq:06}".into(),
                delivery_slip: "BL-{YYYY}-{seq:06}".into(),
                quote: None,
                purchase_order: None,
            },
            payment_terms: "Payable à la commande".into(),
            time_zone: None,
            fiscal_year_end: None,
        };
        SampleShop {
            shop_id,
            profile,
            catalog: Arc::new(Catalog::default()),
            series: BTreeMap::new(),
            credits: BTreeMap::new(),
            coupon: Arc::new(Coupon::default()),
            start,
            next_id: (u128::from(shop_number) << 64) + 1,
            event_counter: (u128::from(shop_number) << 96) + 1,
        }
    }

    fn id(&mut self) -> Uuid {
        self.next_id += 1;
        Uuid::from_u128(self.next_id)
    }

    fn env(&mut self, now: DateTime<Utc>) -> FixedEnvironment {
        FixedEnvironment { now, id: self.id() }
    }

    fn encode<E: DomainEvent>(
        &mut self,
        out: &mut SampleEvents,
        stream: &str,
        events: &[E],
    ) -> Result<(), SampleError> {
        for event in events {
            self.event_counter += 1;
            let event_id = Uuid::from_u128(self.event_counter);
            let encoded = encode_event(event, event_id, EventMetadata::default())?;
            out.push((stream.to_string(), encoded));
        }
        Ok(())
    }

    /// The shop and its catalog: prints and mugs at 20 %, books at 5.5 %, pickup and Colissimo.
    pub fn open(&mut self) -> Result<SampleEvents, SampleError> {
        let mut out = Vec::new();
        let env = self.env(self.start);
        let created =
            Shop::default().decide(&ShopCommand::Create(Box::new(self.profile.clone())), &env)?;
        let stream = format!("{}-{}", Shop::STREAM_KIND, self.shop_id);
        self.encode(&mut out, &stream, &created)?;
        let mut catalog = Catalog::default();
        let stream = format!("{}-{}", Catalog::STREAM_KIND, self.shop_id);
        for change in self.catalog_changes() {
            let command = CatalogCommand {
                shop_id: self.shop_id,
                change,
            };
            let events = catalog.decide(&command, &env)?;
            catalog = events.iter().fold(catalog, |c, e| c.evolve(e));
            self.encode(&mut out, &stream, &events)?;
        }
        self.catalog = Arc::new(catalog);
        self.open_coupon(&mut out)?;
        Ok(out)
    }

    /// Creates the sample's coupon and generates its typed code, reserved in the shop's code
    /// registry as the API does.
    fn open_coupon(&mut self, out: &mut SampleEvents) -> Result<(), SampleError> {
        let coupon_id = self.id();
        let definition = CouponDefinition {
            name: "Printemps".into(),
            starts_at: self.start,
            ends_at: self.start + Duration::days(SAMPLE_COUPON_DAYS),
            scope: CouponScope::Order {
                reduction: Reduction::Percent(dec(10, 0)),
            },
            min_order_amount: Decimal::ZERO,
            audience: Audience::AllCustomers {
                max_total_uses: None,
                max_uses_per_customer: None,
            },
        };
        let create = CouponCommand::Create {
            coupon_id,
            shop_id: self.shop_id,
            definition: Box::new(definition),
        };
        let generate = CouponCommand::GenerateCodes {
            request: CodeRequest::Typed(SAMPLE_COUPON_CODE.into()),
            registry: Arc::new(CouponCodeRegistry::default()),
        };
        let mut generated = Vec::new();
        for command in [create, generate] {
            generated.extend(self.decide_coupon(out, &command, self.start)?);
        }
        for event in generated {
            if let CouponEvent::CouponCodesGenerated { codes, .. } = event {
                let reserve = CouponCodeRegistryCommand::Reserve {
                    shop_id: self.shop_id,
                    coupon_id,
                    codes,
                };
                let env = self.env(self.start);
                let events = CouponCodeRegistry::default().decide(&reserve, &env)?;
                self.encode(out, &coupon::registry_stream_id(self.shop_id), &events)?;
            }
        }
        Ok(())
    }

    /// Decides `command` on the sample's coupon, folds the events in and encodes them.
    fn decide_coupon(
        &mut self,
        out: &mut SampleEvents,
        command: &CouponCommand,
        now: DateTime<Utc>,
    ) -> Result<Vec<CouponEvent>, SampleError> {
        let env = self.env(now);
        let events = self.coupon.decide(command, &env)?;
        let coupon = Arc::make_mut(&mut self.coupon);
        for event in &events {
            *coupon = std::mem::take(coupon).evolve(event);
        }
        let coupon_id = coupon.coupon_id.unwrap_or_default();
        self.encode(out, &coupon::stream_id(coupon_id), &events)?;
        Ok(events)
    }

    /// The same shop counting its days in `time_zone` (an IANA name) from its creation.
    pub fn with_time_zone(mut self, time_zone: &str) -> Self {
        self.profile.time_zone = Some(time_zone.to_string());
        self
    }

    /// The same shop closing its fiscal year on `end` (`MM-DD`) from its creation.
    pub fn with_fiscal_year_end(mut self, end: &str) -> Self {
        self.profile.fiscal_year_end = Some(end.to_string());
        self
    }

    /// The shop's time zone changed to `time_zone` at `at` (the shop as `open` created it, so
    /// call it once).
    pub fn change_time_zone(
        &mut self,
        time_zone: &str,
        at: DateTime<Utc>,
    ) -> Result<SampleEvents, SampleError> {
        let command = ShopCommand::SetTimeZone {
            time_zone: time_zone.to_string(),
        };
        let events = self.change_shop(&command, at)?;
        // Later documents are numbered and dated in the new zone, as the shop's would be.
        self.profile.time_zone = Some(time_zone.to_string());
        Ok(events)
    }

    /// The shop's closing day changed to `end` (`MM-DD`) by a profile update at `at` (the shop
    /// as `open` created it, so call it once).
    pub fn change_fiscal_year_end(
        &mut self,
        end: &str,
        at: DateTime<Utc>,
    ) -> Result<SampleEvents, SampleError> {
        let mut update = self.profile.editable();
        update.fiscal_year_end = Some(end.to_string());
        let command = ShopCommand::UpdateProfile {
            update: Box::new(update),
            invoice_issued: false,
        };
        self.change_shop(&command, at)
    }

    /// The shop's ledger mapping replaced at `at` (the shop as `open` created it).
    pub fn change_ledger_mapping(
        &mut self,
        mapping: LedgerMapping,
        at: DateTime<Utc>,
    ) -> Result<SampleEvents, SampleError> {
        self.change_shop(&ShopCommand::SetLedgerMapping(Box::new(mapping)), at)
    }

    /// The events of `command` decided at `at` on the shop as `open` created it.
    fn change_shop(
        &mut self,
        command: &ShopCommand,
        at: DateTime<Utc>,
    ) -> Result<SampleEvents, SampleError> {
        let mut out = Vec::new();
        let env = self.env(at);
        let create = ShopCommand::Create(Box::new(self.profile.clone()));
        let shop = Shop::default()
            .decide(&create, &env)?
            .iter()
            .fold(Shop::default(), |shop, event| shop.evolve(event));
        let changed = shop.decide(command, &env)?;
        let stream = format!("{}-{}", Shop::STREAM_KIND, self.shop_id);
        self.encode(&mut out, &stream, &changed)?;
        Ok(out)
    }

    fn catalog_changes(&self) -> Vec<CatalogChange> {
        let product = |n: u128, sku: &str, category: u128, rate: Decimal, tiers: &[(u32, i64)]| {
            CatalogChange::AddProduct(Product {
                product_id: Uuid::from_u128(0xA000 + n),
                sku: sku.into(),
                name: format!("Produit {sku}"),
                category_id: Uuid::from_u128(category),
                vat_rate: rate,
                weight_g: 50,
                tiers: tiers
                    .iter()
                    .map(|(min_quantity, cents)| PriceTier {
                        min_quantity: *min_quantity,
                        unit_price: dec(*cents, 2),
                    })
                    .collect(),
            })
        };
        let delivery = |n: u128, kind: DeliveryKind, mode: PaymentMode, cents: i64| {
            CatalogChange::AddDeliveryMethod(DeliveryMethod {
                delivery_method_id: Uuid::from_u128(0xD000 + n),
                name: format!("Livraison {n}"),
                kind,
                payment_mode: mode,
                visible: true,
                available_from: None,
                available_until: None,
                price: dec(cents, 2),
                vat_rate: dec(20, 0),
                min_weight_g: 0,
            })
        };
        vec![
            CatalogChange::AddCategory(Category {
                category_id: Uuid::from_u128(0xC001),
                name: "Tirages photo".into(),
            }),
            CatalogChange::AddCategory(Category {
                category_id: Uuid::from_u128(0xC002),
                name: "Livres".into(),
            }),
            product(
                1,
                "TIR-10x15",
                0xC001,
                dec(20, 0),
                &[(1, 35), (50, 29), (100, 22)],
            ),
            product(2, "GUIDE-LYON", 0xC002, dec(55, 1), &[(1, 1850)]),
            product(3, "MUG-BLANC", 0xC001, dec(20, 0), &[(1, 1490), (6, 1290)]),
            delivery(1, DeliveryKind::StorePickup, PaymentMode::InStore, 0),
            delivery(2, DeliveryKind::HomeDelivery, PaymentMode::Card, 490),
        ]
    }
}

/// One step's aggregate decisions on an order, folded as they are made.
struct OrderStep {
    stream: String,
    state: Order,
    events: SampleEvents,
}

impl SampleShop {
    fn decide_order(
        &mut self,
        step: &mut OrderStep,
        command: &OrderCommand,
        now: DateTime<Utc>,
    ) -> Result<Vec<order::OrderEvent>, SampleError> {
        let env = self.env(now);
        let events = step.state.decide(command, &env)?;
        step.state = events.iter().fold(step.state.clone(), |s, e| s.evolve(e));
        let stream = step.stream.clone();
        self.encode(&mut step.events, &stream, &events)?;
        Ok(events)
    }

    /// Issues the next document of `kind` and returns its number.
    fn issue(
        &mut self,
        out: &mut SampleEvents,
        body: DocumentBody,
        now: DateTime<Utc>,
    ) -> Result<String, SampleError> {
        let kind = body.kind();
        let command = DocumentCommand::Issue {
            shop_id: self.shop_id,
            pattern: kind.pattern(&self.profile.document_patterns).to_string(),
            body,
        };
        let env = self.env(now);
        let series = self.series.remove(&kind).unwrap_or_default();
        let events = series.decide(&command, &env)?;
        let series = events.iter().fold(series, |s, e| s.evolve(e));
        let number = events
            .last()
            .map(|e| e.number().number.clone())
            .unwrap_or_default();
        self.series.insert(kind, series);
        self.encode(out, &documents::stream_id(self.shop_id, kind), &events)?;
        Ok(number)
    }

    fn store_credit(
        &mut self,
        out: &mut SampleEvents,
        customer_id: Uuid,
        command: &StoreCreditCommand,
        now: DateTime<Utc>,
    ) -> Result<(), SampleError> {
        let env = self.env(now);
        let state = self.credits.remove(&customer_id).unwrap_or_default();
        let events = state.decide(command, &env)?;
        let state = events.iter().fold(state, |s, e| s.evolve(e));
        self.credits.insert(customer_id, state);
        self.encode(out, &store_credit::stream_id(customer_id), &events)
    }

    /// The `n`th order (from 0) and everything that happens to it; see the module doc.
    pub fn order(&mut self, n: u64) -> Result<SampleEvents, SampleError> {
        self.order_with(n, OrderFlow::of(n))
    }

    /// The `n`th order (its lines, delivery and time) going through `flow`: placed, paid
    /// (invoice issued), shipped when home-delivered, and returned as `flow` says.
    pub fn order_with(&mut self, n: u64, flow: OrderFlow) -> Result<SampleEvents, SampleError> {
        let (mut step, placed_at) = self.place(n, flow)?;
        let paid_at = placed_at + Duration::minutes(5);
        self.pay(&mut step, n, flow, paid_at)?;
        let invoice = invoice_body(&self.profile, &step.state)?;
        let mut documents = Vec::new();
        let invoice_number = self.issue(
            &mut documents,
            DocumentBody::Invoice(Box::new(invoice)),
            paid_at,
        )?;
        if n.is_multiple_of(2) {
            let shipped_at = paid_at + Duration::hours(20);
            let ship = OrderCommand::Ship {
                shipped_by: "atelier".into(),
                tracking_number: Some(format!("6A{n:011}")),
            };
            self.decide_order(&mut step, &ship, shipped_at)?;
            let slip = delivery_slip_body(&self.profile, &step.state)?;
            self.issue(
                &mut documents,
                DocumentBody::DeliverySlip(Box::new(slip)),
                shipped_at,
            )?;
            self.return_first_line(&mut step, &mut documents, flow, &invoice_number, shipped_at)?;
        }
        // Order streams first: a document or a store credit refers to an order already placed.
        let mut out = step.events;
        out.extend(documents);
        Ok(out)
    }

    /// The `n`th order placed, paid in part (`cash` at the counter, then `card`) five minutes
    /// later and cancelled five minutes after that: a refund due per method, with no invoice.
    pub fn cancelled_order(
        &mut self,
        n: u64,
        cash: Decimal,
        card: Decimal,
    ) -> Result<SampleEvents, SampleError> {
        let (mut step, placed_at) = self.place(n, OrderFlow::without_coupon(n))?;
        let paid_at = placed_at + Duration::minutes(5);
        for (method, amount) in [(PaymentMethod::Cash, cash), (PaymentMethod::Card, card)] {
            let payment_id = self.id();
            self.record_payment(&mut step, payment_id, method, amount, paid_at)?;
        }
        let cancel = OrderCommand::Cancel {
            cancelled_by: "atelier".into(),
            reason: "Client a changé d'avis".into(),
            settlement: None,
        };
        self.decide_order(&mut step, &cancel, paid_at + Duration::minutes(5))?;
        Ok(step.events)
    }

    /// The `n`th order placed and never paid (an abandoned checkout), for what must ignore it.
    pub fn unpaid_order(&mut self, n: u64) -> Result<SampleEvents, SampleError> {
        let (step, _) = self.place(n, OrderFlow::without_coupon(n))?;
        Ok(step.events)
    }

    /// Places the `n`th order, at its time in the sample's schedule, for `flow`'s customer; it
    /// uses the coupon when `flow` says so and the coupon is still open.
    fn place(
        &mut self,
        n: u64,
        flow: OrderFlow,
    ) -> Result<(OrderStep, DateTime<Utc>), SampleError> {
        let placed_at = self.start + Duration::minutes(37 * (n as i64 + 1));
        let order_id = self.id();
        let mut step = OrderStep {
            stream: order::stream_id(order_id),
            state: Order::default(),
            events: Vec::new(),
        };
        let coupon_ends_at = self.start + Duration::days(SAMPLE_COUPON_DAYS);
        let coupon_open = self.coupon.uses.len() < comptoir_domain::limits::COUPON_USES_MAX;
        let with_coupon = flow.coupon && placed_at < coupon_ends_at && coupon_open;
        let place = self.place_command(n, flow.customer, order_id, with_coupon);
        self.decide_order(&mut step, &OrderCommand::Place(Box::new(place)), placed_at)?;
        if with_coupon {
            self.use_coupon(&mut step, flow.customer, placed_at)?;
        }
        Ok((step, placed_at))
    }

    /// The customer numbered `customer` (of `SAMPLE_CUSTOMERS`).
    fn customer(&self, customer: u64) -> OrderCustomer {
        let c = customer % SAMPLE_CUSTOMERS;
        OrderCustomer {
            customer_id: None,
            email: format!("client{c}@example.fr"),
            name: format!("Client{c} Martin"),
            billing_address: None,
        }
    }

    fn place_command(
        &self,
        n: u64,
        customer: u64,
        order_id: Uuid,
        with_coupon: bool,
    ) -> PlaceOrder {
        let mut lines = vec![BasketLine {
            sku: "TIR-10x15".into(),
            quantity: (n % 120) as u32 + 1,
        }];
        if n.is_multiple_of(3) {
            lines.push(BasketLine {
                sku: "GUIDE-LYON".into(),
                quantity: 1,
            });
        }
        if n.is_multiple_of(5) {
            lines.push(BasketLine {
                sku: "MUG-BLANC".into(),
                quantity: (n % 7) as u32 + 1,
            });
        }
        let home = n.is_multiple_of(2);
        PlaceOrder {
            order_id,
            shop_id: self.shop_id,
            customer: self.customer(customer),
            lines,
            delivery_method_id: Uuid::from_u128(if home { 0xD002 } else { 0xD001 }),
            pickup_point_id: None,
            shipping_address: home.then(address),
            catalog: self.catalog.clone(),
            prices_include_tax: self.profile.prices_include_tax,
            currency: self.profile.currency.clone(),
            coupon: with_coupon.then(|| CouponToApply {
                coupon: Arc::clone(&self.coupon),
                code: SAMPLE_COUPON_CODE.into(),
            }),
            email_moved_to: None,
        }
    }

    /// Records the coupon's use by the order just placed, as the API does in the same append.
    fn use_coupon(
        &mut self,
        step: &mut OrderStep,
        customer: u64,
        now: DateTime<Utc>,
    ) -> Result<(), SampleError> {
        let placed = step.state.placed_or_not_found()?;
        let command = CouponCommand::Use(Box::new(UseCoupon {
            shop_id: self.shop_id,
            order_id: placed.order_id,
            code: SAMPLE_COUPON_CODE.into(),
            customer_key: customer_id_for(self.shop_id, &self.customer(customer).email),
            basket: Arc::new(placed.pricing.clone()),
        }));
        let mut events = Vec::new();
        self.decide_coupon(&mut events, &command, now)?;
        step.events.extend(events);
        Ok(())
    }

    /// Pays the order: store credit first when `flow` spends it and the customer has some, then
    /// cash at the counter for pickups or card for home delivery.
    fn pay(
        &mut self,
        step: &mut OrderStep,
        n: u64,
        flow: OrderFlow,
        now: DateTime<Utc>,
    ) -> Result<(), SampleError> {
        let total = step.state.outstanding();
        let holder = customer_id_for(self.shop_id, &self.customer(flow.customer).email);
        let balance = self
            .credits
            .get(&holder)
            .map_or(Decimal::ZERO, |c| c.balance());
        let mut credit_events = Vec::new();
        if flow.spend_store_credit && balance > Decimal::ZERO {
            let amount = balance.min(total);
            let payment_id = self.id();
            let order_id = step.state.placed_or_not_found()?.order_id;
            let spend = StoreCreditCommand::Spend {
                shop_id: self.shop_id,
                customer_id: holder,
                payment_id,
                order_id,
                amount,
            };
            self.record_payment(step, payment_id, PaymentMethod::StoreCredit, amount, now)?;
            self.store_credit(&mut credit_events, holder, &spend, now)?;
        }
        let rest = step.state.outstanding();
        if rest > Decimal::ZERO {
            let method = if n.is_multiple_of(2) {
                PaymentMethod::Card
            } else {
                PaymentMethod::Cash
            };
            let payment_id = self.id();
            self.record_payment(step, payment_id, method, rest, now)?;
        }
        step.events.extend(credit_events);
        Ok(())
    }

    fn record_payment(
        &mut self,
        step: &mut OrderStep,
        payment_id: Uuid,
        method: PaymentMethod,
        amount: Decimal,
        now: DateTime<Utc>,
    ) -> Result<(), SampleError> {
        let command = OrderCommand::RecordPayment(RecordPayment {
            payment_id,
            method,
            amount,
            transaction_id: None,
            external_payment_id: None,
            recorded_by: "comptoir".into(),
        });
        self.decide_order(step, &command, now).map(|_| ())
    }

    /// One unit of the first line comes back when `flow` returns it, settled as `flow` says
    /// (a credit note refunded, or turned into store credit).
    fn return_first_line(
        &mut self,
        step: &mut OrderStep,
        documents: &mut SampleEvents,
        flow: OrderFlow,
        invoice_number: &str,
        shipped_at: DateTime<Utc>,
    ) -> Result<(), SampleError> {
        let Some(settlement) = flow.returned else {
            return Ok(());
        };
        let returned_at = shipped_at + Duration::days(3);
        let credit_id = self.id();
        let command = OrderCommand::RecordReturn {
            credit_id,
            lines: vec![ReturnLine {
                line_number: 1,
                quantity: 1,
            }],
            refund_shipping: flow.refund_shipping,
            settlement,
            credited_by: "atelier".into(),
        };
        self.decide_order(step, &command, returned_at)?;
        let body = credit_note_body(&self.profile, &step.state, credit_id, invoice_number)?;
        let amount = body.totals.total_incl_vat;
        let number = self.issue(
            documents,
            DocumentBody::CreditNote(Box::new(body)),
            returned_at,
        )?;
        if settlement == Settlement::StoreCredit {
            let holder = customer_id_for(self.shop_id, &self.customer(flow.customer).email);
            let grant = StoreCreditCommand::Grant {
                shop_id: self.shop_id,
                customer_id: holder,
                credit_note_number: number,
                amount,
            };
            self.store_credit(documents, holder, &grant, returned_at)?;
        }
        Ok(())
    }
}

/// One append of several steps: streams ranked so that every event follows what it refers to
/// (orders, then documents, then store credit), each stream's events in their order.
pub fn merge_into_append(steps: Vec<SampleEvents>) -> AppendRequest {
    let rank = |stream: &str| {
        if stream.starts_with(Order::STREAM_KIND) {
            1
        } else if stream.starts_with(DocumentSeries::STREAM_KIND) {
            2
        } else if stream.starts_with(StoreCredit::STREAM_KIND) {
            3
        } else {
            0
        }
    };
    let mut streams: Vec<StreamAppend> = Vec::new();
    for (stream, event) in steps.into_iter().flatten() {
        match streams.iter_mut().find(|s| s.stream == stream) {
            Some(existing) => existing.events.push(event),
            None => streams.push(StreamAppend {
                stream,
                expected: ExpectedVersion::Any,
                events: vec![event],
            }),
        }
    }
    streams.sort_by_key(|s| rank(&s.stream));
    AppendRequest { streams }
}
