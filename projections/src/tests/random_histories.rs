//! Properties of any history a shop goes through: orders paid (coupons, store credit spent,
//! shipping, returns refunded or turned into store credit), cancelled after partial payments, or
//! never paid, appended in any grouping, projected live or caught up afterwards, across a new
//! year. Whatever the history, the accountant's and the auditor's invariants hold: document
//! numbers are gap-free per series and year, credit notes reference their order's invoice, every
//! entry balances, the trial balance is zero, VAT per rate, discounts and store credit in the
//! ledger equal what the documents and the store-credit read model say, the closures' figures
//! equal the documents' and payments', each year's FEC holds every posting and passes the shared
//! checker, and two rebuilds give the live digests.

use super::ledger::{append, assert_fec_checker_accepts, rebuilds_match_the_live_digests};
use super::Harness;
use crate::closures::PeriodTotals;
use crate::ledger::{month_of, PeriodBound};
use crate::paging::{Page, PageRequest};
use crate::sample::{OrderFlow, SampleEvents, SampleShop};
use crate::views::DocumentView;
use crate::{ProjectionResult, Projections};
use chrono::{Datelike, NaiveDate, TimeZone, Utc};
use comptoir_domain::customer::customer_id_for;
use comptoir_domain::order::{PaymentMethod, Settlement};
use proptest::prelude::*;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use uuid::Uuid;

/// Customers the histories choose from: few, so that store credit granted is also spent.
const HISTORY_CUSTOMERS: u64 = 3;

/// One thing that happens to the shop; `gap` advances the sample's order number (and so its
/// clock, its lines and its delivery: even numbers are home-delivered and shipped).
#[derive(Debug, Clone)]
enum Step {
    Paid {
        gap: u64,
        flow: OrderFlow,
    },
    /// Paid `cash_cents` at the counter and `card_cents` by card, then cancelled: both amounts
    /// stay below the smallest order's total, so the order is never fully paid.
    Cancelled {
        gap: u64,
        cash_cents: i64,
        card_cents: i64,
    },
    Unpaid {
        gap: u64,
    },
}

#[derive(Debug, Clone)]
struct History {
    steps: Vec<Step>,
    /// Steps per append, used in turn.
    append_sizes: Vec<usize>,
    /// The runner follows the appends live, rather than catching up once they are all made.
    live: bool,
}

fn flow() -> impl Strategy<Value = OrderFlow> {
    let settlement = prop_oneof![
        Just(Settlement::StoreCredit),
        Just(Settlement::Refund {
            method: PaymentMethod::Card
        }),
    ];
    (
        0..HISTORY_CUSTOMERS,
        any::<bool>(),
        any::<bool>(),
        proptest::option::weighted(0.4, settlement),
        any::<bool>(),
    )
        .prop_map(
            |(customer, coupon, spend_store_credit, returned, refund_shipping)| OrderFlow {
                customer,
                coupon,
                spend_store_credit,
                returned,
                refund_shipping,
            },
        )
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (1u64..8, flow()).prop_map(|(gap, flow)| Step::Paid { gap, flow }),
        1 => (1u64..8, 1i64..=20, 1i64..=14).prop_map(|(gap, cash_cents, card_cents)| {
            Step::Cancelled { gap, cash_cents, card_cents }
        }),
        1 => (1u64..8).prop_map(|gap| Step::Unpaid { gap }),
    ]
}

fn history() -> impl Strategy<Value = History> {
    (
        proptest::collection::vec(step(), 1..48),
        proptest::collection::vec(1usize..6, 1..4),
        any::<bool>(),
    )
        .prop_map(|(steps, append_sizes, live)| History {
            steps,
            append_sizes,
            live,
        })
}

/// What the history must have produced, counted from its steps.
#[derive(Debug, Default)]
struct Expected {
    invoices: usize,
    slips: usize,
    credit_notes: usize,
    /// Payments of cancelled orders, per method (the invoices list the paid orders' own).
    cancelled_payments: HashMap<PaymentMethod, Decimal>,
}

/// Turns each step into its events, in order, and counts what they must produce.
fn make_events(shop: &mut SampleShop, steps: &[Step]) -> (Vec<SampleEvents>, Expected) {
    let mut expected = Expected::default();
    let mut n = 0;
    let mut out = Vec::new();
    for step in steps {
        let events = match step {
            Step::Paid { gap, flow } => {
                n += gap;
                expected.invoices += 1;
                if n % 2 == 0 {
                    expected.slips += 1;
                    expected.credit_notes += usize::from(flow.returned.is_some());
                }
                shop.order_with(n, *flow)
            }
            Step::Cancelled {
                gap,
                cash_cents,
                card_cents,
            } => {
                n += gap;
                let (cash, card) = (Decimal::new(*cash_cents, 2), Decimal::new(*card_cents, 2));
                *expected
                    .cancelled_payments
                    .entry(PaymentMethod::Cash)
                    .or_default() += cash;
                *expected
                    .cancelled_payments
                    .entry(PaymentMethod::Card)
                    .or_default() += card;
                shop.cancelled_order(n, cash, card)
            }
            Step::Unpaid { gap } => {
                n += gap;
                shop.unpaid_order(n)
            }
        };
        out.push(events.expect("the sample's commands are valid"));
    }
    (out, expected)
}

/// Every item of a paged list.
fn all<T>(mut page_of: impl FnMut(&PageRequest) -> ProjectionResult<Page<T>>) -> Vec<T> {
    let mut items = Vec::new();
    let mut request = PageRequest::first(100);
    loop {
        let page = page_of(&request).expect("a page");
        items.extend(page.items);
        match page.next_cursor {
            Some(cursor) => request.after = Some(cursor),
            None => return items,
        }
    }
}

/// Each series restarts every year: per year, the numbers are 1..=count in issue order.
fn assert_gap_free<B>(kind: &str, documents: &[DocumentView<B>]) {
    let mut by_year: BTreeMap<i32, Vec<u64>> = BTreeMap::new();
    let numbers: BTreeSet<&str> = documents.iter().map(|d| d.number.as_str()).collect();
    assert_eq!(numbers.len(), documents.len(), "{kind}: a number repeats");
    for document in documents {
        by_year.entry(document.year).or_default().push(document.seq);
    }
    // Lists come by issue date: numbers follow it (chronological numbering).
    for (year, seqs) in by_year {
        let expected: Vec<u64> = (1..=seqs.len() as u64).collect();
        assert_eq!(seqs, expected, "{kind} of {year}");
    }
}

/// Every day's closure row adds up, and the whole period's figures are the documents' and the
/// payments'.
fn assert_closures_match(
    p: &Projections,
    shop_id: Uuid,
    from: NaiveDate,
    until: NaiveDate,
    documents: &Documents,
    expected: &Expected,
) {
    let mut day = from;
    while day < until {
        let next = day.succ_opt().expect("a next day");
        let totals = p
            .closure_period_totals(shop_id, day, next)
            .expect("day totals")
            .totals;
        totals.check().expect("the day adds up");
        day = next;
    }
    let PeriodTotals { totals, .. } = p
        .closure_period_totals(shop_id, from, until)
        .expect("period totals");
    totals.check().expect("the period adds up");
    assert_eq!(totals.invoices.count as usize, documents.invoices.len());
    assert_eq!(totals.credit_notes.count as usize, documents.notes.len());
    let invoiced: Decimal = documents
        .invoices
        .iter()
        .map(|i| i.body.totals.total_incl_vat)
        .sum();
    let credited: Decimal = documents
        .notes
        .iter()
        .map(|n| n.document.body.totals.total_incl_vat)
        .sum();
    assert_eq!(totals.invoices.total_incl_vat, invoiced);
    assert_eq!(totals.credit_notes.total_incl_vat, credited);
    assert_eq!(totals.total_incl_vat, invoiced - credited);
    let mut received = expected.cancelled_payments.clone();
    for invoice in &documents.invoices {
        for payment in &invoice.body.payments {
            *received.entry(payment.method).or_default() += payment.amount;
        }
    }
    let mut refunded = expected.cancelled_payments.clone();
    for note in &documents.notes {
        if let Settlement::Refund { method } = note.document.body.settlement {
            *refunded.entry(method).or_default() += note.document.body.totals.total_incl_vat;
        }
    }
    for method in &totals.payments {
        let want = |map: &HashMap<PaymentMethod, Decimal>| {
            map.get(&method.method).copied().unwrap_or_default()
        };
        assert_eq!(method.received, want(&received), "{:?}", method.method);
        assert_eq!(method.refunded, want(&refunded), "{:?}", method.method);
    }
    let methods: HashSet<PaymentMethod> = totals.payments.iter().map(|m| m.method).collect();
    let nonzero = |map: &HashMap<PaymentMethod, Decimal>| {
        map.iter()
            .filter(|(_, amount)| !amount.is_zero())
            .map(|(method, _)| *method)
            .collect::<Vec<_>>()
    };
    for method in nonzero(&received).into_iter().chain(nonzero(&refunded)) {
        assert!(methods.contains(&method), "{method:?} is counted");
    }
}

struct Documents {
    invoices: Vec<crate::views::InvoiceView>,
    notes: Vec<crate::views::CreditNoteView>,
    slips: Vec<crate::views::DeliverySlipView>,
}

fn documents(p: &Projections, shop_id: Uuid) -> Documents {
    let any = Default::default();
    Documents {
        invoices: all(|page| p.invoices(shop_id, &any, page)),
        notes: all(|page| p.credit_notes(shop_id, &any, page)),
        slips: all(|page| p.delivery_slips(shop_id, &any, page)),
    }
}

fn assert_documents(documents: &Documents, expected: &Expected) {
    assert_eq!(documents.invoices.len(), expected.invoices);
    assert_eq!(documents.slips.len(), expected.slips);
    assert_eq!(documents.notes.len(), expected.credit_notes);
    assert_gap_free("invoices", &documents.invoices);
    assert_gap_free("delivery slips", &documents.slips);
    let notes: Vec<_> = documents.notes.iter().map(|n| n.document.clone()).collect();
    assert_gap_free("credit notes", &notes);
    let invoice_of: BTreeMap<&str, Uuid> = documents
        .invoices
        .iter()
        .map(|i| (i.number.as_str(), i.body.order_id))
        .collect();
    for note in &documents.notes {
        let body = &note.document.body;
        assert_eq!(
            invoice_of.get(body.invoice_number.as_str()),
            Some(&body.order_id),
            "{} corrects its order's invoice",
            note.document.number
        );
    }
}

/// The ledger: balanced entries and trial balance, 411 settled, VAT per rate and discounts as
/// the documents say, 4191 as the store-credit read model says.
fn assert_ledger(p: &Projections, shop: &SampleShop, documents: &Documents) {
    let shop_id = shop.shop_id;
    let from = NaiveDate::from_ymd_opt(2025, 1, 1).expect("day");
    let until = NaiveDate::from_ymd_opt(2027, 1, 1).expect("day");
    let entries = p
        .ledger_entries(shop_id, PeriodBound::Day(from), PeriodBound::Day(until))
        .expect("entries");
    for entry in &entries {
        assert_eq!(entry.total_debit(), entry.total_credit(), "{entry:?}");
    }
    // Each year's FEC (the shop closes its years on 31 December) holds one line per posting of
    // the year's entries, and the shared checker accepts it.
    let years: BTreeSet<i32> = entries.iter().map(|e| e.local_date.year()).collect();
    for year in years {
        let fec = p
            .fec_export(&[shop_id], year)
            .expect("export")
            .expect("known shop");
        let postings: usize = entries
            .iter()
            .filter(|e| e.local_date.year() == year)
            .map(|e| e.postings.len())
            .sum();
        assert_eq!(fec.lines as usize, postings, "FEC of {year}");
        assert_fec_checker_accepts(&fec);
    }
    let trial = p
        .trial_balance(shop_id, month_of(2025, 1), month_of(2026, 12))
        .expect("trial balance");
    assert_eq!(trial.total_debit, trial.total_credit);
    let credit_balance = |account: &str| {
        trial
            .rows
            .iter()
            .find(|r| r.account == account)
            .map_or(Decimal::ZERO, |r| r.credit - r.debit)
    };
    assert_eq!(credit_balance("411"), Decimal::ZERO, "customers settled");
    let mut vat: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut discounts = Decimal::ZERO;
    for invoice in &documents.invoices {
        discounts += invoice
            .body
            .allowances
            .iter()
            .map(|a| a.amount_excl_vat)
            .sum::<Decimal>();
        for rate in &invoice.body.totals.vat_breakdown {
            *vat.entry(rate.vat_rate.normalize().to_string())
                .or_default() += rate.vat_amount;
        }
    }
    for note in &documents.notes {
        let body = &note.document.body;
        discounts -= body
            .allowances
            .iter()
            .map(|a| a.amount_excl_vat)
            .sum::<Decimal>();
        for rate in &body.totals.vat_breakdown {
            *vat.entry(rate.vat_rate.normalize().to_string())
                .or_default() -= rate.vat_amount;
        }
    }
    let vat_of = |rate: &str| vat.get(rate).copied().unwrap_or_default();
    assert_eq!(credit_balance("445712"), vat_of("20"));
    assert_eq!(credit_balance("445715"), vat_of("5.5"));
    assert_eq!(-credit_balance("709"), discounts);
    let mut available = Decimal::ZERO;
    for customer in 0..HISTORY_CUSTOMERS {
        let holder = customer_id_for(shop_id, &format!("client{customer}@example.fr"));
        let credit = p.store_credit(shop_id, holder).expect("store credit");
        for note in &credit.credit_notes {
            let document = documents
                .notes
                .iter()
                .find(|n| n.document.number == note.credit_note_number)
                .expect("the note granting it is listed");
            assert_eq!(note.granted, document.document.body.totals.total_incl_vat);
            assert_eq!(
                document.used_at.is_some(),
                note.remaining.is_zero(),
                "{} is marked used once spent whole",
                note.credit_note_number
            );
        }
        assert_eq!(credit.available, credit.granted - credit.used);
        available += credit.available;
    }
    assert_eq!(credit_balance("4191"), available);
}

async fn check(history: History) {
    let harness = Harness::new();
    // Late December, so that longer histories run into the new year and its new series.
    let start = Utc
        .with_ymd_and_hms(2025, 12, 29, 8, 0, 0)
        .single()
        .expect("date");
    let mut shop = SampleShop::new(1, start);
    append(&harness, vec![shop.open().expect("shop opens")]).await;
    let runner = history.live.then(|| harness.spawn_runner());
    let (steps, expected) = make_events(&mut shop, &history.steps);
    let mut steps = steps.into_iter().peekable();
    for size in history.append_sizes.iter().cycle() {
        if steps.peek().is_none() {
            break;
        }
        append(&harness, steps.by_ref().take(*size).collect()).await;
    }
    let runner = runner.unwrap_or_else(|| harness.spawn_runner());
    harness.caught_up().await;
    let p = &harness.projections;
    let documents = documents(p, shop.shop_id);
    assert_documents(&documents, &expected);
    assert_ledger(p, &shop, &documents);
    let first_day = NaiveDate::from_ymd_opt(start.year(), 12, 1).expect("day");
    let until = NaiveDate::from_ymd_opt(2026, 3, 1).expect("day");
    assert_closures_match(p, shop.shop_id, first_day, until, &documents, &expected);
    rebuilds_match_the_live_digests(harness, runner).await;
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    // Proves the invariants of the module doc for any history.
    #[test]
    fn any_history_keeps_the_books_and_the_documents_in_agreement(history in history()) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(check(history));
    }
}
