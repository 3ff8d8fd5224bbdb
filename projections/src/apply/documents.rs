//! Invoices, credit notes, delivery slips, quotes and purchase orders: listed by issue date, found
//! by number, and linked from their order; quotes and purchase orders also carry what became of
//! them (accepted, declined, converted, paid).

use super::order::update_order;
use crate::error::ProjectionResult;
use crate::keys::{instant_number_suffix, key, Table};
use crate::store::WriteSet;
use crate::views::{CreditNoteView, DocumentView, PurchaseOrderView, QuoteView};
use comptoir_domain::documents::{DocumentEvent, DocumentNumber};
use comptoir_domain::quote::{PurchaseOrderEvent, QuoteEvent, QuoteStatus};
use comptoir_domain::store_credit::StoreCreditEvent;
use comptoir_eventlog::RecordedEvent;
use serde::Serialize;
use std::collections::BTreeMap;
use uuid::Uuid;

/// The two tables of one kind of document: rows by issue date, and the index by number.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DocumentTables {
    pub rows: Table,
    pub by_number: Table,
}

pub(crate) const INVOICES: DocumentTables = DocumentTables {
    rows: Table::Invoice,
    by_number: Table::InvoiceNumber,
};
pub(crate) const CREDIT_NOTES: DocumentTables = DocumentTables {
    rows: Table::CreditNote,
    by_number: Table::CreditNoteNumber,
};
pub(crate) const DELIVERY_SLIPS: DocumentTables = DocumentTables {
    rows: Table::DeliverySlip,
    by_number: Table::DeliverySlipNumber,
};

pub(crate) const QUOTES: DocumentTables = DocumentTables {
    rows: Table::Quote,
    by_number: Table::QuoteNumber,
};
pub(crate) const PURCHASE_ORDERS: DocumentTables = DocumentTables {
    rows: Table::PurchaseOrder,
    by_number: Table::PurchaseOrderNumber,
};

pub(crate) fn apply(
    writes: &mut WriteSet,
    recorded: &RecordedEvent,
    event: &DocumentEvent,
) -> ProjectionResult<()> {
    let position = recorded.position;
    match event {
        DocumentEvent::InvoiceIssued {
            shop_id,
            number,
            issued_at,
            invoice,
        } => {
            // Stored from the event's own body: an invoice is the largest row an order writes.
            let view = document_view(*shop_id, number, *issued_at, &**invoice);
            save_document(writes, INVOICES, &view, &view)?;
            update_order(writes, *shop_id, invoice.order_id, position, |order| {
                order.invoice_number = Some(number.number.clone());
            })
        }
        DocumentEvent::CreditNoteIssued {
            shop_id,
            number,
            issued_at,
            credit_note,
        } => {
            let document = document_view(*shop_id, number, *issued_at, (**credit_note).clone());
            let invoice_issued_at =
                invoice_issued_at(writes, *shop_id, &credit_note.invoice_number)?;
            let view = CreditNoteView {
                document,
                used_at: None,
                invoice_issued_at,
            };
            save_document(writes, CREDIT_NOTES, &view.document, &view)?;
            update_order(writes, *shop_id, credit_note.order_id, position, |order| {
                order.credit_note_numbers.push(number.number.clone());
            })
        }
        DocumentEvent::DeliverySlipIssued {
            shop_id,
            number,
            issued_at,
            delivery_slip,
        } => {
            let view = document_view(*shop_id, number, *issued_at, &**delivery_slip);
            save_document(writes, DELIVERY_SLIPS, &view, &view)?;
            update_order(
                writes,
                *shop_id,
                delivery_slip.order_id,
                position,
                |order| {
                    order.delivery_slip_numbers.push(number.number.clone());
                },
            )
        }
        DocumentEvent::QuoteIssued {
            shop_id,
            number,
            issued_at,
            quote,
        } => {
            let view = QuoteView {
                document: document_view(*shop_id, number, *issued_at, (**quote).clone()),
                status: QuoteStatus::Issued,
                decided_at: None,
                decided_by: None,
                decline_reason: None,
                purchase_order_number: None,
            };
            save_document(writes, QUOTES, &view.document, &view)
        }
        DocumentEvent::PurchaseOrderIssued {
            shop_id,
            number,
            issued_at,
            purchase_order,
        } => {
            let view = PurchaseOrderView {
                document: document_view(*shop_id, number, *issued_at, (**purchase_order).clone()),
                paid: false,
                payment: None,
            };
            save_document(writes, PURCHASE_ORDERS, &view.document, &view)
        }
    }
}

/// Updates the stored row of document `number`; a row missing is logged and skipped, like a use
/// of an unknown credit note (the series event always comes first in the same append).
fn update_row<V: Serialize + serde::de::DeserializeOwned>(
    writes: &mut WriteSet,
    tables: DocumentTables,
    shop_id: Uuid,
    number: &str,
    change: impl FnOnce(&mut V),
) -> ProjectionResult<()> {
    let row_key = row_key_of(
        |index_key| find_number(writes, index_key, number),
        tables,
        shop_id,
        number,
    )?;
    let Some(row_key) = row_key else {
        tracing::warn!(%shop_id, number, "change of an unknown document ignored");
        return Ok(());
    };
    let Some(mut view) = writes.get::<V>(&row_key)? else {
        tracing::warn!(%shop_id, number, "document index without its row");
        return Ok(());
    };
    change(&mut view);
    writes.put(row_key, &view)
}

/// When invoice `number` of the shop was issued; `None` (logged) when it is not projected, which
/// the order flow never does: it credits only an invoiced order, in an append after the invoice's.
fn invoice_issued_at(
    writes: &WriteSet,
    shop_id: Uuid,
    number: &str,
) -> ProjectionResult<Option<chrono::DateTime<chrono::Utc>>> {
    let row_key = row_key_of(
        |index_key| find_number(writes, index_key, number),
        INVOICES,
        shop_id,
        number,
    )?;
    let Some(row_key) = row_key else {
        tracing::warn!(%shop_id, number, "credit note of an unknown invoice");
        return Ok(None);
    };
    // Only the date is decoded; serde skips the rest of the invoice without building it.
    let invoice = writes.get::<IssuedAt>(&row_key)?;
    Ok(invoice.map(|invoice| invoice.issued_at))
}

/// The issue date of a stored document, read without the rest of it.
#[derive(serde::Deserialize)]
struct IssuedAt {
    issued_at: chrono::DateTime<chrono::Utc>,
}

/// A quote accepted, declined or made into a purchase order (`QuoteOpened` repeats the issued
/// document for the quote's own decisions and is not projected).
pub(crate) fn apply_quote(writes: &mut WriteSet, event: &QuoteEvent) -> ProjectionResult<()> {
    match event {
        QuoteEvent::QuoteOpened { .. } => Ok(()),
        QuoteEvent::QuoteAccepted {
            shop_id,
            number,
            accepted_by,
            accepted_at,
        } => update_row(writes, QUOTES, *shop_id, number, |view: &mut QuoteView| {
            view.status = QuoteStatus::Accepted;
            view.decided_at = Some(*accepted_at);
            view.decided_by = Some(accepted_by.clone());
        }),
        QuoteEvent::QuoteDeclined {
            shop_id,
            number,
            declined_by,
            reason,
            declined_at,
        } => update_row(writes, QUOTES, *shop_id, number, |view: &mut QuoteView| {
            view.status = QuoteStatus::Declined;
            view.decided_at = Some(*declined_at);
            view.decided_by = Some(declined_by.clone());
            view.decline_reason = reason.clone();
        }),
        QuoteEvent::QuoteConverted {
            shop_id,
            number,
            purchase_order_number,
            ..
        } => update_row(writes, QUOTES, *shop_id, number, |view: &mut QuoteView| {
            view.purchase_order_number = Some(purchase_order_number.clone());
        }),
    }
}

/// A purchase order marked paid (`PurchaseOrderOpened` is not projected, see `apply_quote`).
pub(crate) fn apply_purchase_order(
    writes: &mut WriteSet,
    event: &PurchaseOrderEvent,
) -> ProjectionResult<()> {
    match event {
        PurchaseOrderEvent::PurchaseOrderOpened { .. } => Ok(()),
        PurchaseOrderEvent::PurchaseOrderPaid {
            shop_id,
            number,
            payment,
        } => update_row(
            writes,
            PURCHASE_ORDERS,
            *shop_id,
            number,
            |view: &mut PurchaseOrderView| {
                view.paid = true;
                view.payment = Some(payment.clone());
            },
        ),
    }
}

fn document_view<B>(
    shop_id: Uuid,
    number: &DocumentNumber,
    issued_at: chrono::DateTime<chrono::Utc>,
    body: B,
) -> DocumentView<B> {
    DocumentView {
        shop_id,
        number: number.number.clone(),
        seq: number.seq,
        year: number.year,
        issued_at,
        body,
    }
}

/// One row of the number index: numbers that differ only in the last two digits of their
/// longest run of digits (`number_bucket`), each with the hex suffix of its document's row.
pub(crate) type NumberBucket = BTreeMap<String, String>;

/// The part of `number` its index row is keyed by: the number without the last two digits of
/// its longest run of digits (the last such run on a tie). A series' sequence is the run that
/// grows, so up to 100 consecutive numbers share a row (a row per number cost a sled row per
/// document); every other character is kept, so no row holds more than 100 numbers of a series,
/// whatever the pattern. Which row holds a number depends on the number alone. A sequence
/// shorter than another run of digits in the number (an unpadded `{seq}` beside `{YYYY}`) gets a
/// row per number until it outgrows that run.
pub(crate) fn number_bucket(number: &str) -> Vec<u8> {
    let bytes = number.as_bytes();
    let is_digit = |index: &usize| bytes[*index].is_ascii_digit();
    let mut longest: Option<(usize, usize)> = None;
    let mut index = 0;
    while let Some(first) = (index..bytes.len()).find(is_digit) {
        let end = (first..bytes.len())
            .find(|i| !is_digit(i))
            .unwrap_or(bytes.len());
        if longest.is_none_or(|(a, b)| end - first >= b - a) {
            longest = Some((first, end));
        }
        index = end;
    }
    match longest {
        Some((first, end)) => {
            let cut = end.saturating_sub(2).max(first);
            [&bytes[..cut], &bytes[end..]].concat()
        }
        None => bytes.to_vec(),
    }
}

/// Stores `view` under its issue date and indexes it by number. `document` gives the key fields.
fn save_document<B, V: Serialize>(
    writes: &mut WriteSet,
    tables: DocumentTables,
    document: &DocumentView<B>,
    view: &V,
) -> ProjectionResult<()> {
    let suffix = instant_number_suffix(document.issued_at, &document.number);
    writes.put(key(tables.rows, document.shop_id, &suffix), view)?;
    writes.update_decoded(
        number_index_key(tables, document.shop_id, &document.number),
        NumberBucket::new,
        |bucket| {
            bucket.insert(document.number.clone(), hex::encode(&suffix));
        },
    )
}

fn number_index_key(tables: DocumentTables, shop_id: Uuid, number: &str) -> Vec<u8> {
    key(tables.by_number, shop_id, &number_bucket(number))
}

/// The hex row suffix of document `number` in the index row under `index_key`, as the commit
/// being built sees it (the row stays decoded in the cache: its neighbours are looked up next).
fn find_number(
    writes: &WriteSet,
    index_key: &[u8],
    number: &str,
) -> ProjectionResult<Option<String>> {
    writes.read_decoded(index_key, |bucket: Option<&NumberBucket>| {
        bucket.and_then(|bucket| bucket.get(number).cloned())
    })
}

/// The key of the row of document `number`, from the number index: `find` looks the number up
/// in the index row under the key it is given.
pub(crate) fn row_key_of(
    find: impl FnOnce(&[u8]) -> ProjectionResult<Option<String>>,
    tables: DocumentTables,
    shop_id: Uuid,
    number: &str,
) -> ProjectionResult<Option<Vec<u8>>> {
    let index_key = number_index_key(tables, shop_id, number);
    let Some(suffix_hex) = find(&index_key)? else {
        return Ok(None);
    };
    let suffix = hex::decode(&suffix_hex).map_err(|error| crate::ProjectionError::Corrupt {
        key: crate::keys::display_key(&index_key),
        reason: error.to_string(),
    })?;
    Ok(Some(key(tables.rows, shop_id, &suffix)))
}

/// Store credit on the credit note itself: `CreditNoteUsed` marks it used up and
/// `CreditNoteUseReverted` (a cancelled order gave some of it back) clears the mark again (the
/// balance and the per-note remainders are `crate::store_credit`'s).
pub(crate) fn apply_store_credit(
    writes: &mut WriteSet,
    event: &StoreCreditEvent,
) -> ProjectionResult<()> {
    let (shop_id, credit_note_number, used_at) = match event {
        StoreCreditEvent::CreditNoteUsed {
            shop_id,
            credit_note_number,
            used_at,
            ..
        } => (shop_id, credit_note_number, Some(*used_at)),
        StoreCreditEvent::CreditNoteUseReverted {
            shop_id,
            credit_note_number,
            ..
        } => (shop_id, credit_note_number, None),
        _ => return Ok(()),
    };
    let row_key = row_key_of(
        |index_key| find_number(writes, index_key, credit_note_number),
        CREDIT_NOTES,
        *shop_id,
        credit_note_number,
    )?;
    let Some(row_key) = row_key else {
        tracing::warn!(%shop_id, credit_note_number, "use of an unknown credit note ignored");
        return Ok(());
    };
    let Some(mut view) = writes.get::<CreditNoteView>(&row_key)? else {
        tracing::warn!(%shop_id, credit_note_number, "credit note index without its row");
        return Ok(());
    };
    view.used_at = used_at;
    writes.put(row_key, &view)
}

#[cfg(test)]
mod tests {
    use super::number_bucket;

    fn bucket(number: &str) -> String {
        String::from_utf8(number_bucket(number)).expect("text")
    }

    // Proves the index row of a number drops the last two digits of its longest run of digits
    // (the last one on a tie), and keeps every other character.
    #[test]
    fn a_number_is_indexed_under_its_longest_run_of_digits_less_two() {
        assert_eq!(bucket("FA-2026-000123"), "FA-2026-0001");
        assert_eq!(bucket("FA-2026-000199"), "FA-2026-0001");
        assert_eq!(bucket("FA-2026-000200"), "FA-2026-0002");
        assert_eq!(bucket("000123-LYON"), "0001-LYON");
        assert_eq!(bucket("123/2026"), "123/20");
        assert_eq!(bucket("AV-00042/2026"), "AV-000/2026");
        assert_eq!(bucket("1234/2026"), "1234/20");
        assert_eq!(bucket("123456/2026"), "1234/2026");
        assert_eq!(bucket("AV7"), "AV");
        assert_eq!(bucket("42"), "");
        assert_eq!(bucket("SANS-CHIFFRE"), "SANS-CHIFFRE");
        assert_eq!(bucket(""), "");
    }

    // Proves no index row can hold more than 100 numbers of a series, whatever the pattern
    // puts around the sequence.
    #[test]
    fn an_index_row_holds_at_most_a_hundred_numbers_of_a_series() {
        /// A series' numbers, from their sequence.
        type Pattern = fn(u32) -> String;
        // (pattern, whether its sequence is the longest run, so that rows are shared)
        let patterns: [(Pattern, bool); 5] = [
            (|seq| format!("FA-2026-{seq:06}"), true),
            (|seq| format!("BL{seq}"), true),
            (|seq| format!("{seq:06}-LYON-12"), true),
            (|seq| format!("AV-{seq:05}/2026"), true),
            (|seq| format!("{seq}/2026"), false),
        ];
        for (pattern, shared) in patterns {
            let mut rows = std::collections::HashMap::<Vec<u8>, u32>::new();
            for seq in 1..=20_000 {
                *rows.entry(number_bucket(&pattern(seq))).or_default() += 1;
            }
            let fullest = rows.values().max().copied().unwrap_or_default();
            assert!(fullest <= 100, "{}: {fullest}", pattern(1));
            if shared {
                assert!(
                    rows.len() <= 20_000 / 100 + 1,
                    "{}: {} rows",
                    pattern(1),
                    rows.len()
                );
            }
        }
    }
}
