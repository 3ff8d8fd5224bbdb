//! Invoices, credit notes and delivery slips: listed by issue date, found by number, and linked
//! from their order.

use super::order::update_order;
use crate::error::ProjectionResult;
use crate::keys::{instant_number_suffix, key, Table};
use crate::store::WriteSet;
use crate::views::{CreditNoteView, DocumentView};
use comptoir_domain::documents::{DocumentEvent, DocumentNumber};
use comptoir_domain::store_credit::StoreCreditEvent;
use comptoir_eventlog::RecordedEvent;
use serde::Serialize;
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
            let view = document_view(*shop_id, number, *issued_at, (**invoice).clone());
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
            let view = CreditNoteView {
                document,
                used_at: None,
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
            let view = document_view(*shop_id, number, *issued_at, (**delivery_slip).clone());
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

/// Stores `view` under its issue date and indexes it by number. `document` gives the key fields.
fn save_document<B, V: Serialize>(
    writes: &mut WriteSet,
    tables: DocumentTables,
    document: &DocumentView<B>,
    view: &V,
) -> ProjectionResult<()> {
    let suffix = instant_number_suffix(document.issued_at, &document.number);
    writes.put(key(tables.rows, document.shop_id, &suffix), view)?;
    writes.put(
        key(
            tables.by_number,
            document.shop_id,
            document.number.as_bytes(),
        ),
        &hex::encode(&suffix),
    )
}

/// The key of the row of document `number`, from the number index.
pub(crate) fn row_key_of(
    get_index: impl FnOnce(&[u8]) -> ProjectionResult<Option<String>>,
    tables: DocumentTables,
    shop_id: Uuid,
    number: &str,
) -> ProjectionResult<Option<Vec<u8>>> {
    let index_key = key(tables.by_number, shop_id, number.as_bytes());
    let Some(suffix_hex) = get_index(&index_key)? else {
        return Ok(None);
    };
    let suffix = hex::decode(&suffix_hex).map_err(|error| crate::ProjectionError::Corrupt {
        key: crate::keys::display_key(&index_key),
        reason: error.to_string(),
    })?;
    Ok(Some(key(tables.rows, shop_id, &suffix)))
}

/// Store credit: only `CreditNoteUsed` is projected (the credit note shows it was used up).
pub(crate) fn apply_store_credit(
    writes: &mut WriteSet,
    event: &StoreCreditEvent,
) -> ProjectionResult<()> {
    let StoreCreditEvent::CreditNoteUsed {
        shop_id,
        credit_note_number,
        used_at,
        ..
    } = event
    else {
        return Ok(());
    };
    let row_key = row_key_of(
        |index_key| writes.get::<String>(index_key),
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
    view.used_at = Some(*used_at);
    writes.put(row_key, &view)
}
