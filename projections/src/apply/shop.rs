//! Shops and their API keys.

use crate::error::ProjectionResult;
use crate::keys::{id_key, Table};
use crate::store::{decode_value, ApiKeyChange, WriteSet};
use crate::views::{ApiKeyView, ShopView};
use chrono::{DateTime, Utc};
use comptoir_domain::calendar::{zone_or_default, Tz};
use comptoir_domain::shop::ShopEvent;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

/// An API key as stored: the view and the hash it is looked up by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ApiKeyRecord {
    pub secret_hash: String,
    pub view: ApiKeyView,
}

/// The 32 bytes of a hex SHA-256 `secret_hash` (the form the API stores); `None` for any other
/// form, which then cannot authenticate.
pub(crate) fn hash_bytes(secret_hash: &str) -> Option<[u8; 32]> {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(secret_hash, &mut bytes).ok()?;
    Some(bytes)
}

/// The in-memory key table, rebuilt from the `ApiKey` table of every shop.
pub(crate) fn load_api_keys(tree: &sled::Tree) -> ProjectionResult<HashMap<[u8; 32], ApiKeyView>> {
    let mut table = HashMap::new();
    for entry in tree.scan_prefix([Table::ApiKey as u8]) {
        let (key, value) = entry?;
        let record: ApiKeyRecord = decode_value(&key, &value)?;
        if let Some(hash) = hash_bytes(&record.secret_hash) {
            table.insert(hash, record.view);
        }
    }
    Ok(table)
}

pub(crate) fn apply(writes: &mut WriteSet, event: &ShopEvent) -> ProjectionResult<()> {
    match event {
        ShopEvent::ShopCreated {
            profile,
            created_at,
        } => {
            let view = ShopView {
                shop_id: profile.shop_id,
                name: profile.name.clone(),
                organisation: profile.organisation.clone(),
                currency: profile.currency.clone(),
                prices_include_tax: profile.prices_include_tax,
                document_patterns: profile.document_patterns.clone(),
                payment_terms: profile.payment_terms.clone(),
                created_at: *created_at,
                time_zone: profile.zone().name().to_string(),
            };
            writes.put(id_key(Table::Shop, profile.shop_id, profile.shop_id), &view)
        }
        ShopEvent::ApiKeyCreated {
            shop_id,
            key_id,
            role,
            label,
            secret_hash,
            created_at,
        } => {
            let view = ApiKeyView {
                shop_id: *shop_id,
                key_id: *key_id,
                role: *role,
                label: label.clone(),
                revoked: false,
                created_at: *created_at,
                revoked_at: None,
            };
            save_key(writes, secret_hash.clone(), view)
        }
        ShopEvent::ApiKeyRevoked {
            shop_id,
            key_id,
            revoked_at,
        } => revoke_key(writes, *shop_id, *key_id, *revoked_at),
        // The mapping belongs to the ledger projection, which keeps the one in force per shop.
        ShopEvent::LedgerMappingChanged { .. } => Ok(()),
        // The loyalty rate belongs to the loyalty tables (`crate::loyalty`).
        ShopEvent::LoyaltyRuleChanged { .. } => Ok(()),
        // The form is read from the shop's hot state; no read model keeps it (and
        // `handler_for` does not even decode it).
        ShopEvent::AccountFormChanged { .. } => Ok(()),
        ShopEvent::StorefrontChanged { .. } => Ok(()),
        ShopEvent::TimeZoneChanged {
            shop_id, time_zone, ..
        } => {
            let key = id_key(Table::Shop, *shop_id, *shop_id);
            match writes.get::<ShopView>(&key)? {
                Some(mut view) => {
                    view.time_zone = time_zone.clone();
                    writes.put(key, &view)
                }
                // The domain refuses a zone for a shop that does not exist.
                None => Ok(()),
            }
        }
        ShopEvent::ShopProfileUpdated {
            shop_id, update, ..
        } => {
            let key = id_key(Table::Shop, *shop_id, *shop_id);
            match writes.get::<ShopView>(&key)? {
                // Only the shop row changes: documents keep the seller snapshot of their issue.
                Some(mut view) => {
                    view.name = update.name.clone();
                    view.organisation = update.organisation.clone();
                    view.currency = update.currency.clone();
                    view.prices_include_tax = update.prices_include_tax;
                    view.document_patterns = update.document_patterns.clone();
                    view.payment_terms = update.payment_terms.clone();
                    writes.put(key, &view)
                }
                // The domain refuses an update of a shop that does not exist.
                None => Ok(()),
            }
        }
    }
}

/// The zone the shop's days are counted in, as the events so far set it.
pub(crate) fn shop_zone(writes: &WriteSet, shop_id: Uuid) -> ProjectionResult<Tz> {
    writes.read_decoded(
        &id_key(Table::Shop, shop_id, shop_id),
        |view: Option<&ShopView>| zone_or_default(view.map(|v| v.time_zone.as_str())),
    )
}

fn save_key(writes: &mut WriteSet, secret_hash: String, view: ApiKeyView) -> ProjectionResult<()> {
    match hash_bytes(&secret_hash) {
        Some(hash) => writes.api_key_changes.push(ApiKeyChange {
            hash,
            view: view.clone(),
        }),
        None => tracing::warn!(
            shop_id = %view.shop_id,
            key_id = %view.key_id,
            "API key hash is not a hex SHA-256: the key cannot authenticate"
        ),
    }
    let key = id_key(Table::ApiKey, view.shop_id, view.key_id);
    writes.put(key, &ApiKeyRecord { secret_hash, view })
}

fn revoke_key(
    writes: &mut WriteSet,
    shop_id: Uuid,
    key_id: Uuid,
    revoked_at: DateTime<Utc>,
) -> ProjectionResult<()> {
    let Some(mut record) = writes.get::<ApiKeyRecord>(&id_key(Table::ApiKey, shop_id, key_id))?
    else {
        // The domain only revokes keys it created; nothing to mirror otherwise.
        tracing::warn!(%shop_id, %key_id, "revocation of an unknown API key ignored");
        return Ok(());
    };
    record.view.revoked = true;
    record.view.revoked_at = Some(revoked_at);
    save_key(writes, record.secret_hash, record.view)
}
