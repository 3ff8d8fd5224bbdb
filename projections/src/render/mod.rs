//! Printable documents: invoices, credit notes, delivery slips, quotes and purchase orders as
//! HTML and PDF.
//!
//! Both formats are drawn from one [`Printable`] built from the stored document, so the number,
//! the lines, the VAT per rate and the totals are the same figures as the JSON, formatted once
//! (French style, "1 234,50 €" without the thousands separator). The PDF embeds DejaVu Sans
//! (`assets/DejaVuSans.ttf`, Bitstream Vera licence, see `assets/DejaVuSans.LICENSE`), so
//! accents and the euro sign render on any reader.

mod html;
mod pdf;

pub use html::to_html;
pub use pdf::to_pdf;

use crate::views::{CreditNoteView, DeliverySlipView, InvoiceView, PurchaseOrderView, QuoteView};
use chrono::{DateTime, Utc};
use comptoir_domain::calendar::local_date;
use comptoir_domain::documents::Seller;
use comptoir_domain::order::{DocumentAllowance, DocumentLine, OrderCustomer, Settlement};
use comptoir_domain::pricing::Totals;
use comptoir_domain::quote::QuoteStatus;
use comptoir_domain::shop::Address;
use rust_decimal::Decimal;

/// A document laid out for printing; every figure already formatted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Printable {
    /// "Facture", "Avoir", "Bon de livraison".
    pub title: String,
    pub number: String,
    pub date: String,
    pub seller: Vec<String>,
    pub customer: Vec<String>,
    /// Other references (the invoice a credit note corrects, the tracking number).
    pub references: Vec<String>,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Label and amount lines under the table: VAT per rate, then totals.
    pub summary: Vec<(String, String)>,
    /// The legal mentions printed at the foot.
    pub mentions: Vec<String>,
}

/// "12,50 €": two decimals, comma, euro sign (other currencies by code).
pub fn money(amount: Decimal, currency: &str) -> String {
    let text = format!("{:.2}", amount.round_dp(2)).replace('.', ",");
    match currency {
        "EUR" => format!("{text} €"),
        other => format!("{text} {other}"),
    }
}

/// "20 %", "5,5 %".
pub fn rate(vat_rate: Decimal) -> String {
    format!("{} %", vat_rate.normalize()).replace('.', ",")
}

/// The day `instant` falls on in the seller's zone, French style.
fn date(instant: DateTime<Utc>, seller: &Seller) -> String {
    local_date(instant, seller.zone())
        .format("%d/%m/%Y")
        .to_string()
}

fn seller_lines(seller: &Seller) -> Vec<String> {
    let org = &seller.organisation;
    let mut lines = vec![seller.shop_name.clone(), org.name.clone()];
    lines.extend(company_line(&org.legal_form, org.share_capital));
    lines.extend(address_lines(&org.address));
    // R123-237: the SIREN followed by "RCS" and the city of the registry, when registered.
    let registration = match &org.rcs_city {
        Some(city) => format!("SIREN {} RCS {city}", org.siren),
        None => format!("SIREN {}", org.siren),
    };
    lines.push(format!("{registration} — TVA {}", org.vat_id));
    lines
}

/// "SARL au capital de 10000,00 €", or either half alone; nothing when neither is known. The
/// capital of a company registered in France is stated in euros whatever the shop sells in.
fn company_line(legal_form: &Option<String>, share_capital: Option<Decimal>) -> Option<String> {
    let capital = share_capital.map(|amount| money(amount, "EUR"));
    match (legal_form, capital) {
        (Some(form), Some(capital)) => Some(format!("{form} au capital de {capital}")),
        (Some(form), None) => Some(form.clone()),
        (None, Some(capital)) => Some(format!("Capital social : {capital}")),
        (None, None) => None,
    }
}

/// Street, optional second line, then postal code, city and country code.
fn address_lines(address: &Address) -> Vec<String> {
    let mut lines = vec![address.line1.clone()];
    lines.extend(address.line2.clone());
    lines.push(format!(
        "{} {} {}",
        address.postal_code, address.city, address.country
    ));
    lines
}

fn customer_lines(customer: &OrderCustomer) -> Vec<String> {
    let mut lines = vec![customer.name.clone(), customer.email.clone()];
    if let Some(address) = &customer.billing_address {
        lines.extend(address_lines(address));
    }
    lines
}

/// The seller's VAT exemption ("TVA non applicable, art. 293 B du CGI"), printed at the foot of
/// the documents that show prices, when the seller stated one.
fn vat_exemption(seller: &Seller) -> Option<String> {
    seller.organisation.vat_exemption_mention.clone()
}

fn priced_rows(lines: &[DocumentLine], currency: &str) -> Vec<Vec<String>> {
    lines
        .iter()
        .map(|line| {
            vec![
                line.description.clone(),
                line.quantity.to_string(),
                money(line.unit_price_excl_vat, currency),
                rate(line.vat_rate),
                money(line.total_excl_vat, currency),
            ]
        })
        .collect()
}

fn price_columns() -> Vec<String> {
    ["Désignation", "Qté", "PU HT", "TVA", "Total HT"]
        .map(String::from)
        .to_vec()
}

/// Allowances, then per rate "Base HT 20 %" and "TVA 20 %", then the three totals.
fn summary(
    totals: &Totals,
    allowances: &[DocumentAllowance],
    currency: &str,
) -> Vec<(String, String)> {
    let mut lines = Vec::new();
    for allowance in allowances {
        let label = format!("{} ({})", allowance.reason, rate(allowance.vat_rate));
        lines.push((label, money(-allowance.amount_excl_vat, currency)));
    }
    for subtotal in &totals.vat_breakdown {
        let r = rate(subtotal.vat_rate);
        lines.push((
            format!("Base HT {r}"),
            money(subtotal.base_excl_vat, currency),
        ));
        lines.push((format!("TVA {r}"), money(subtotal.vat_amount, currency)));
    }
    lines.push(("Total HT".into(), money(totals.total_excl_vat, currency)));
    lines.push(("Total TVA".into(), money(totals.total_vat, currency)));
    lines.push(("Total TTC".into(), money(totals.total_incl_vat, currency)));
    lines
}

const LATE_PAYMENT_MENTION: &str = "En cas de retard de paiement : pénalités au taux de trois fois le taux d'intérêt légal et indemnité forfaitaire pour frais de recouvrement de 40 € (art. L441-10 du Code de commerce). Pas d'escompte pour paiement anticipé.";

/// "Avoir sur la facture FA-… du 14/03/2025": the invoice's day in the seller's zone, like every
/// date printed. A credit note projected before invoice dates were kept names the number only.
fn invoice_reference(view: &CreditNoteView) -> String {
    let body = &view.document.body;
    match view.invoice_issued_at {
        Some(issued_at) => format!(
            "Avoir sur la facture {} du {}",
            body.invoice_number,
            date(issued_at, &body.seller)
        ),
        None => format!("Avoir sur la facture {}", body.invoice_number),
    }
}

impl Printable {
    pub fn invoice(view: &InvoiceView) -> Self {
        let body = &view.body;
        let mut mentions = vec![format!("Conditions de paiement : {}", body.payment_terms)];
        for payment in &body.payments {
            mentions.push(format!(
                "Réglé le {} : {}",
                date(payment.recorded_at, &body.seller),
                money(payment.amount, &body.currency)
            ));
        }
        mentions.push(LATE_PAYMENT_MENTION.into());
        mentions.extend(vat_exemption(&body.seller));
        Printable {
            title: "Facture".into(),
            number: view.number.clone(),
            date: date(view.issued_at, &body.seller),
            seller: seller_lines(&body.seller),
            customer: customer_lines(&body.customer),
            references: vec![format!(
                "Commande du {}",
                date(body.order_placed_at, &body.seller)
            )],
            columns: price_columns(),
            rows: priced_rows(&body.lines, &body.currency),
            summary: summary(&body.totals, &body.allowances, &body.currency),
            mentions,
        }
    }

    pub fn credit_note(view: &CreditNoteView) -> Self {
        let document = &view.document;
        let body = &document.body;
        let settlement = match body.settlement {
            Settlement::Refund { .. } => "Remboursé au client".to_string(),
            Settlement::StoreCredit => match view.used_at {
                Some(used_at) => {
                    format!("Crédit client (utilisé le {})", date(used_at, &body.seller))
                }
                None => "Crédit client utilisable sur une prochaine commande".to_string(),
            },
        };
        Printable {
            title: "Avoir".into(),
            number: document.number.clone(),
            date: date(document.issued_at, &body.seller),
            seller: seller_lines(&body.seller),
            customer: customer_lines(&body.customer),
            references: vec![invoice_reference(view)],
            columns: price_columns(),
            rows: priced_rows(&body.lines, &body.currency),
            summary: summary(&body.totals, &body.allowances, &body.currency),
            mentions: [settlement]
                .into_iter()
                .chain(vat_exemption(&body.seller))
                .collect(),
        }
    }

    /// A quote, with its validity date and what became of it. The status printed is the recorded
    /// one; the caller passes a view already seen `as_of` today so an expired quote says so.
    pub fn quote(view: &QuoteView) -> Self {
        let document = &view.document;
        let body = &document.body;
        let valid_until = body.valid_until.format("%d/%m/%Y");
        let mut references = vec![format!("Devis valable jusqu'au {valid_until}")];
        let status = match view.status {
            QuoteStatus::Issued => None,
            QuoteStatus::Accepted => Some("Devis accepté".to_string()),
            QuoteStatus::Declined => Some("Devis refusé".to_string()),
            QuoteStatus::Expired => Some("Devis expiré".to_string()),
        };
        references.extend(status);
        references.extend(
            view.purchase_order_number
                .as_ref()
                .map(|number| format!("Bon de commande {number}")),
        );
        Printable {
            title: "Devis".into(),
            number: document.number.clone(),
            date: date(document.issued_at, &body.seller),
            seller: seller_lines(&body.seller),
            customer: customer_lines(&body.customer),
            references,
            columns: price_columns(),
            rows: priced_rows(&body.lines, &body.currency),
            summary: summary(&body.totals, &[], &body.currency),
            mentions: [
                format!("Conditions de paiement : {}", body.payment_terms),
                "Devis gratuit. Bon pour accord : date et signature du client.".into(),
            ]
            .into_iter()
            .chain(vat_exemption(&body.seller))
            .collect(),
        }
    }

    /// A purchase order; once marked paid it says when, how and how much ("acquitté").
    pub fn purchase_order(view: &PurchaseOrderView) -> Self {
        let document = &view.document;
        let body = &document.body;
        let mut references = Vec::new();
        references.extend(
            body.quote_number
                .as_ref()
                .map(|number| format!("Suivant devis {number}")),
        );
        let mut mentions = vec![format!("Conditions de paiement : {}", body.payment_terms)];
        if let Some(payment) = &view.payment {
            mentions.push(format!(
                "Acquitté le {} : {}",
                date(payment.recorded_at, &body.seller),
                money(payment.amount, &body.currency)
            ));
        }
        mentions.extend(vat_exemption(&body.seller));
        Printable {
            title: "Bon de commande".into(),
            number: document.number.clone(),
            date: date(document.issued_at, &body.seller),
            seller: seller_lines(&body.seller),
            customer: customer_lines(&body.customer),
            references,
            columns: price_columns(),
            rows: priced_rows(&body.lines, &body.currency),
            summary: summary(&body.totals, &[], &body.currency),
            mentions,
        }
    }

    pub fn delivery_slip(view: &DeliverySlipView) -> Self {
        let body = &view.body;
        let mut references = vec![format!("Mode de livraison : {}", body.delivery_method_name)];
        references.extend(
            body.tracking_number
                .as_ref()
                .map(|t| format!("Suivi : {t}")),
        );
        Printable {
            title: "Bon de livraison".into(),
            number: view.number.clone(),
            date: date(view.issued_at, &body.seller),
            seller: seller_lines(&body.seller),
            customer: customer_lines(&body.customer),
            references,
            columns: ["Référence", "Désignation", "Qté"]
                .map(String::from)
                .to_vec(),
            rows: body
                .lines
                .iter()
                .map(|l| vec![l.sku.clone(), l.description.clone(), l.quantity.to_string()])
                .collect(),
            summary: vec![("Poids total".into(), format!("{} g", body.total_weight_g))],
            mentions: Vec::new(),
        }
    }
}
