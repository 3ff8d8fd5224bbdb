//! Shops and their API keys.

use axum::extract::State;
use axum::http::HeaderMap;
use comptoir_domain::calendar;
use comptoir_domain::documents::{self, DocumentKind, DocumentSeries};
use comptoir_domain::shop::{
    self, series_registry_stream, Address, DocumentPatterns, LegalIdentity, Permission,
    ProfileUpdate, Role, SeriesRegistry, SeriesRegistryCommand, Shop, ShopCommand, ShopEvent,
    ShopProfile,
};
use comptoir_domain::DomainError;
use comptoir_eventlog::Position;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{
    check_etag, content_etag, precondition_to_412, required_if_match, run, session_shop,
    shop_profile, written_position, Answer, Positioned,
};
use crate::auth::{new_api_key_secret, sha256_hex, Caller, Principal};
use crate::commands::Executed;
use crate::commands::{CommandError, Session};
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery, CommandIds, JsonBody};
use crate::routes::paging::PageQuery;
use crate::server::AppState;
use comptoir_eventlog::EventLog;
use comptoir_projections::limits::PAGE_LIMIT_MAX;
use comptoir_projections::PageRequest;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_shop, list_shops))
        .routes(routes!(get_shop, update_shop))
        .routes(routes!(create_api_key, list_api_keys))
        .routes(routes!(revoke_api_key))
}

/// A postal address; `country` is ISO 3166-1 alpha-2.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
pub struct AddressDto {
    pub line1: String,
    #[serde(default)]
    pub line2: Option<String>,
    pub postal_code: String,
    pub city: String,
    #[schema(example = "FR")]
    pub country: String,
}

impl From<AddressDto> for Address {
    fn from(a: AddressDto) -> Self {
        Address {
            line1: a.line1,
            line2: a.line2,
            postal_code: a.postal_code,
            city: a.city,
            country: a.country,
        }
    }
}

impl From<Address> for AddressDto {
    fn from(a: Address) -> Self {
        AddressDto {
            line1: a.line1,
            line2: a.line2,
            postal_code: a.postal_code,
            city: a.city,
            country: a.country,
        }
    }
}

/// The seller's legal identity printed on documents.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
pub struct OrganisationDto {
    pub name: String,
    pub address: AddressDto,
    /// Nine digits.
    #[schema(example = "812345678")]
    pub siren: String,
    #[schema(example = "FR45812345678")]
    pub vat_id: String,
    /// Legal form printed on documents, at most 64 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "SARL")]
    pub legal_form: Option<String>,
    /// Share capital in euros, ≥ 0 with at most 2 decimals (a decimal string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::dto::Money>, example = "10000.00")]
    pub share_capital: Option<Decimal>,
    /// City of the RCS (trade register) the company is registered at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "Lyon")]
    pub rcs_city: Option<String>,
    /// Printed at the foot of priced documents when the seller charges no VAT, at most 300
    /// characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "TVA non applicable, art. 293 B du CGI")]
    pub vat_exemption_mention: Option<String>,
}

impl From<OrganisationDto> for LegalIdentity {
    fn from(o: OrganisationDto) -> Self {
        LegalIdentity {
            name: o.name,
            address: o.address.into(),
            siren: o.siren,
            vat_id: o.vat_id,
            legal_form: o.legal_form,
            share_capital: o.share_capital,
            rcs_city: o.rcs_city,
            vat_exemption_mention: o.vat_exemption_mention,
        }
    }
}

impl From<LegalIdentity> for OrganisationDto {
    fn from(o: LegalIdentity) -> Self {
        OrganisationDto {
            name: o.name,
            address: o.address.into(),
            siren: o.siren,
            vat_id: o.vat_id,
            legal_form: o.legal_form,
            share_capital: o.share_capital,
            rcs_city: o.rcs_city,
            vat_exemption_mention: o.vat_exemption_mention,
        }
    }
}

/// Number patterns: literal text, `{YYYY}`, `{YY}` and one `{seq}` or `{seq:0N}`.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
pub struct DocumentPatternsDto {
    #[schema(example = "FA-{YYYY}-{seq:06}")]
    pub invoice: String,
    #[schema(example = "AV-{YYYY}-{seq:06}")]
    pub credit_note: String,
    #[schema(example = "BL-{YYYY}-{seq:06}")]
    pub delivery_slip: String,
    /// Quotes (devis); `DE-{YYYY}-{seq:06}` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "DE-{YYYY}-{seq:06}")]
    pub quote: Option<String>,
    /// Purchase orders (bons de commande); `BC-{YYYY}-{seq:06}` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "BC-{YYYY}-{seq:06}")]
    pub purchase_order: Option<String>,
}

/// A shop as created: identity, currency, tax mode, document patterns, payment terms.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
pub struct ShopDto {
    pub name: String,
    pub organisation: OrganisationDto,
    /// ISO 4217.
    #[schema(example = "EUR")]
    pub currency: String,
    /// Whether catalog prices include VAT.
    pub prices_include_tax: bool,
    pub document_patterns: DocumentPatternsDto,
    pub payment_terms: String,
    /// The IANA time zone the shop's calendar days are counted in (statistics presets, order
    /// days, document dates, the dashboard); `Europe/Paris` when omitted. Instants stay UTC.
    #[serde(default)]
    #[schema(example = "Europe/Paris")]
    pub time_zone: Option<String>,
    /// The day the fiscal year closes, `MM-DD` (a day of every year: `02-29` is refused with
    /// 422); `12-31`, the calendar year, when omitted. The FEC of `year` is the fiscal year
    /// closing in that year, and so is the year closure `year`. An update replaces it like the
    /// rest of the profile (omitted means `12-31`): the fiscal year in progress on the update's
    /// day keeps its first day and closes on the first new closing day on or after that day in
    /// a later calendar year than the previous closing (422 if that makes it longer than 24
    /// months); years already over keep their bounds.
    #[serde(default)]
    #[schema(example = "06-30")]
    pub fiscal_year_end: Option<String>,
}

impl ShopDto {
    pub fn into_profile(self, shop_id: Uuid) -> ShopProfile {
        ShopProfile {
            shop_id,
            name: self.name,
            organisation: self.organisation.into(),
            currency: self.currency,
            prices_include_tax: self.prices_include_tax,
            document_patterns: DocumentPatterns {
                invoice: self.document_patterns.invoice,
                credit_note: self.document_patterns.credit_note,
                delivery_slip: self.document_patterns.delivery_slip,
                quote: self.document_patterns.quote,
                purchase_order: self.document_patterns.purchase_order,
            },
            payment_terms: self.payment_terms,
            // Recorded explicitly, so the shop's events say which zone it was created in.
            time_zone: Some(
                self.time_zone
                    .unwrap_or_else(|| calendar::DEFAULT_TIME_ZONE.to_string()),
            ),
            fiscal_year_end: self.fiscal_year_end,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShopResponse {
    pub shop_id: Uuid,
    #[serde(flatten)]
    pub shop: ShopDto,
}

/// A shop after a write: what `Positioned<ShopResponse>` serializes, described flat. Only a
/// schema: the inline generic nested one `allOf` in another, whose fields openapi-python-client
/// silently dropped (its model of the answer had `position` but no `shop_id`).
#[derive(ToSchema)]
pub struct ShopWritten {
    pub shop_id: Uuid,
    #[serde(flatten)]
    pub shop: ShopDto,
    /// Log position of the write; pass it as `min_position` to read it back.
    pub position: Position,
}

impl From<ShopProfile> for ShopResponse {
    fn from(p: ShopProfile) -> Self {
        let time_zone = Some(p.zone().name().to_string());
        // The closing day in force, default included, as the zone above.
        let fiscal_year_end = Some(p.fiscal_year_end().text());
        let organisation = OrganisationDto::from(p.organisation);
        // The patterns in force, defaults included, so a client sees every series' numbering.
        let document_patterns = DocumentPatternsDto {
            quote: Some(p.document_patterns.quote_pattern().to_owned()),
            purchase_order: Some(p.document_patterns.purchase_order_pattern().to_owned()),
            invoice: p.document_patterns.invoice,
            credit_note: p.document_patterns.credit_note,
            delivery_slip: p.document_patterns.delivery_slip,
        };
        ShopResponse {
            shop_id: p.shop_id,
            shop: ShopDto {
                name: p.name,
                organisation,
                currency: p.currency,
                prices_include_tax: p.prices_include_tax,
                document_patterns,
                payment_terms: p.payment_terms,
                time_zone,
                fiscal_year_end,
            },
        }
    }
}

/// Creates a shop (owner token only).
///
/// Invoice and credit note numbers must be unique across a company: a shop whose invoice or
/// credit note pattern could print a number another shop of the same SIREN's could (its patterns
/// now or before) is refused with 409 `document-series-taken`; give each shop its own prefix,
/// e.g. `LY-FA-{YYYY}-{seq:06}`.
#[utoipa::path(post, path = "/v1/shops", tag = "shops",
    request_body = ShopDto,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses((status = 201, body = ShopWritten), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn create_shop(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    JsonBody(body): JsonBody<ShopDto>,
) -> Result<Answer<Positioned<ShopResponse>>, ApiError> {
    if !caller.is_owner() {
        return Err(ApiError::Forbidden {
            detail: "only the owner token creates shops".into(),
        });
    }
    let shop_id = ids.derived_id("shop");
    let profile = body.into_profile(shop_id);
    let command = ShopCommand::Create(Box::new(profile.clone()));
    let stream = shop::stream_id(shop_id);
    let (registry, claim) = series_claim(
        shop_id,
        &profile.organisation.siren,
        &profile.document_patterns,
    );
    // Sequenced on the SIREN's registry, so two shops created at once are checked one after the
    // other; the claim goes in the shop's own append.
    let siren = profile.organisation.siren.clone();
    let executed = run(&state, &ids, &caller, vec![registry.clone()], |session| {
        session.decide::<Shop>(&stream, &command)?;
        record_unregistered_shops(&state, session, (&registry, &siren), (shop_id, None))?;
        session.decide::<SeriesRegistry>(&registry, &claim)
    })
    .await?;
    let position = written_position(&state, &executed);
    let body = Positioned {
        data: ShopResponse::from(profile),
        position,
    };
    Ok(Answer::created(
        body,
        position,
        format!("/v1/shops/{shop_id}"),
    ))
}

/// The stream of the SIREN's document series registry, and the claim of `patterns` by
/// `shop_id` in it: invoice and credit note numbers must be unique across a company's shops.
fn series_claim(
    shop_id: Uuid,
    siren: &str,
    patterns: &DocumentPatterns,
) -> (String, SeriesRegistryCommand) {
    let claim = SeriesRegistryCommand::Claim {
        shop_id,
        patterns: patterns.clone(),
    };
    (series_registry_stream(siren), claim)
}

/// Records in the SIREN's registry, as they number now, the shops of the SIREN created before
/// the registry existed (they claimed nothing), so that the claim of `claiming`, decided next in
/// the same append, is checked against them too. The claiming shop itself is recorded with the
/// patterns it numbered with before this request (`before`; none for a shop being created): the
/// numbers it printed stay its own. The other shops come from the read models, where a shop
/// that old has long been; one created since claimed at its creation and is skipped.
fn record_unregistered_shops(
    state: &AppState,
    session: &mut Session<'_, EventLog>,
    (registry, siren): (&str, &str),
    (claiming, before): (Uuid, Option<&DocumentPatterns>),
) -> Result<(), CommandError> {
    let known = session.load::<SeriesRegistry>(registry)?;
    let record = |session: &mut Session<'_, EventLog>, shop_id, patterns| {
        let existing = SeriesRegistryCommand::RecordExisting { shop_id, patterns };
        session
            .decide::<SeriesRegistry>(registry, &existing)
            .map(drop)
    };
    if let Some(patterns) = before.filter(|_| !known.has_claimed(claiming)) {
        record(session, claiming, patterns.clone())?;
    }
    let mut page = PageRequest {
        after: None,
        limit: PAGE_LIMIT_MAX,
    };
    loop {
        let listed = state.projections.shop_ids(Some(siren), &page)?;
        for shop_id in listed.items {
            if shop_id == claiming || known.has_claimed(shop_id) {
                continue;
            }
            let patterns = session_shop(session, shop_id)?.document_patterns;
            record(session, shop_id, patterns)?;
        }
        match listed.next_cursor {
            Some(cursor) => page.after = Some(cursor),
            None => return Ok(()),
        }
    }
}

/// Whether `update` changes what the registry checks: the SIREN, or the invoice or credit note
/// pattern. Other updates claim nothing, so a shop created before the registry (which claimed
/// nothing) can still change its address.
fn numbering_identity_changed(current: &ShopProfile, update: &ProfileUpdate) -> bool {
    let (old, new) = (&current.document_patterns, &update.document_patterns);
    current.organisation.siren != update.organisation.siren
        || old.invoice != new.invoice
        || old.credit_note != new.credit_note
}

/// The `ETag` of a shop's profile: of what `PUT /v1/shops/{shop_id}` replaces (the patterns in
/// force spelled out), so a change of zone, keys or mapping does not make it stale.
fn profile_etag(profile: &ShopProfile) -> String {
    content_etag(&profile.editable())
}

/// Filter and page of the shop list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ShopListQuery {
    /// Only the shops of this legal entity (nine digits), e.g. to gather one FEC.
    pub siren: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShopPage {
    /// In shop id order; each as `GET /v1/shops/{shop_id}` answers it.
    pub items: Vec<ShopResponse>,
    pub next_cursor: Option<String>,
}

/// The shops the caller may read: every shop for the owner token (optionally those of one
/// SIREN), the key's own shop for an API key, the shops a staff member has a role in.
#[utoipa::path(get, path = "/v1/shops", tag = "shops",
    params(ShopListQuery, PageQuery),
    responses((status = 200, body = ShopPage), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_shops(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ShopListQuery>,
    ApiQuery(paging): ApiQuery<PageQuery>,
) -> Result<Answer<ShopPage>, ApiError> {
    state.read_at(paging.min_position).await?;
    let siren = query.siren.as_deref();
    let body = match &caller.principal {
        Principal::Owner => {
            let page = state.projections.shop_ids(siren, &paging.page())?;
            let items = page
                .items
                .iter()
                .map(|shop_id| shop_profile(&state, *shop_id).map(ShopResponse::from))
                .collect::<Result<_, _>>()?;
            ShopPage {
                items,
                next_cursor: page.next_cursor,
            }
        }
        Principal::Key { shop_id, .. } => own_shops(&state, &caller, [*shop_id], siren)?,
        Principal::Staff { grants, .. } => {
            own_shops(&state, &caller, grants.keys().copied(), siren)?
        }
    };
    Ok(Answer::ok(body, state.projections.position()))
}

/// The caller's own shops (a key's one, a member's at most `STAFF_GRANTS_MAX`: one page),
/// those of `siren` if given.
fn own_shops(
    state: &AppState,
    caller: &Caller,
    shop_ids: impl IntoIterator<Item = Uuid>,
    siren: Option<&str>,
) -> Result<ShopPage, ApiError> {
    let mut items = Vec::new();
    for shop_id in shop_ids {
        caller.authorize(shop_id, Permission::ReadShop)?;
        let profile = shop_profile(state, shop_id)?;
        if siren.is_none_or(|siren| profile.organisation.siren == siren) {
            items.push(profile.into());
        }
    }
    Ok(ShopPage {
        items,
        next_cursor: None,
    })
}

/// The shop's profile, with its `ETag` for a conditional update.
#[utoipa::path(get, path = "/v1/shops/{shop_id}", tag = "shops",
    params(("shop_id" = Uuid, Path)),
    responses((status = 200, body = ShopResponse), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn get_shop(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
) -> Result<Answer<ShopResponse>, ApiError> {
    caller.authorize(shop_id, Permission::ReadShop)?;
    let profile = shop_profile(&state, shop_id)?;
    let etag = profile_etag(&profile);
    let mut answer = Answer::ok(profile.into(), state.log.head_position());
    answer.etag = Some(etag);
    Ok(answer)
}

/// Replaces the shop's name, legal identity and address, currency, tax mode, number patterns,
/// payment terms and fiscal year end (the body of its creation; the zone has its own route, so
/// `time_zone`, if sent, must be the one in force; omitted quote and purchase-order patterns and
/// an omitted fiscal year end mean their defaults, as at creation). Documents already issued keep the identity they were issued with;
/// the ones issued from now on carry the new one. The currency cannot change once an invoice
/// exists, and a series' pattern can only change to one that cannot print a number any pattern
/// of the shop's series, earlier or current, could print (numbering continues from the series'
/// last number); both answer 422, as does a new fiscal year end that would stretch the fiscal
/// year in progress past 24 months. A new SIREN, invoice or credit note pattern is checked
/// against the other shops of the SIREN as at creation (409 `document-series-taken`). Send
/// `If-Match` with the profile's `ETag`: none answers 428, a stale one 412.
#[utoipa::path(put, path = "/v1/shops/{shop_id}", tag = "shops",
    params(("shop_id" = Uuid, Path), ("If-Match" = String, Header), ("Idempotency-Key" = Option<String>, Header)),
    request_body = ShopDto,
    responses((status = 200, body = ShopWritten), (status = 412, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = 428, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn update_shop(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    headers: HeaderMap,
    ApiPath(shop_id): ApiPath<Uuid>,
    JsonBody(body): JsonBody<ShopDto>,
) -> Result<Answer<Positioned<ShopResponse>>, ApiError> {
    // Authorised first, so a caller without the right learns nothing from a 428.
    caller.authorize(shop_id, Permission::ManageShopSettings)?;
    let wanted_etag = required_if_match(&headers, "the shop's")?;
    let wanted_zone = body.time_zone.clone();
    let update: ProfileUpdate = body.into_profile(shop_id).editable();
    let stream = shop::stream_id(shop_id);
    let invoices = documents::stream_id(shop_id, DocumentKind::Invoice);
    // Sequenced with the invoice issuers (their stripe is held while deciding and queueing), so
    // "no invoice yet" is read on the series' newest state, numbers in flight included, and no
    // invoice slips in between that read and this append.
    let (registry, claim) = series_claim(
        shop_id,
        &update.organisation.siren,
        &update.document_patterns,
    );
    let sequenced = vec![invoices.clone(), registry.clone()];
    let executed = run(&state, &ids, &caller, sequenced, |session| {
        let current = session_shop(session, shop_id)?;
        check_zone_unchanged(&current, wanted_zone.as_deref())?;
        // A stale ETag is refused, unless the profile already is the one asked for: then the
        // request is a retry whose first answer was lost.
        let already_done = current.updated(&update).editable() == current.editable();
        check_etag(
            &wanted_etag,
            &profile_etag(&current),
            already_done,
            "the shop's profile",
        )?;
        let invoice_issued = session.load::<DocumentSeries>(&invoices)?.issued_count > 0;
        let command = ShopCommand::UpdateProfile {
            update: Box::new(update.clone()),
            invoice_issued,
        };
        session.decide::<Shop>(&stream, &command)?;
        if numbering_identity_changed(&current, &update) {
            let siren = &update.organisation.siren;
            let before = Some(&current.document_patterns);
            record_unregistered_shops(&state, session, (&registry, siren), (shop_id, before))?;
            session.decide::<SeriesRegistry>(&registry, &claim)?;
        }
        Ok(current.updated(&update))
    })
    .await
    .map_err(precondition_to_412)?;
    let position = written_position(&state, &executed);
    // A replay (no output) answers with the profile in force, which is the one it recorded
    // unless a later update replaced it.
    let profile = match executed {
        Executed::Applied { output, .. } => output,
        Executed::Replayed { .. } => shop_profile(&state, shop_id)?,
    };
    let etag = profile_etag(&profile);
    let mut answer = Answer::ok(
        Positioned {
            data: ShopResponse::from(profile),
            position,
        },
        position,
    );
    answer.etag = Some(etag);
    Ok(answer)
}

/// The zone changes through `PUT /v1/shops/{shop_id}/time-zone` only, which says from when days
/// count in it; a profile sent back with the zone it was read with is fine.
fn check_zone_unchanged(
    current: &ShopProfile,
    wanted: Option<&str>,
) -> Result<(), crate::commands::CommandError> {
    match wanted {
        Some(zone) if zone != current.zone().name() => Err(DomainError::validation(
            "time_zone",
            "change the zone with PUT /v1/shops/{shop_id}/time-zone",
        )
        .into()),
        _ => Ok(()),
    }
}

/// Roles of API keys.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoleDto {
    Manager,
    Employee,
    Storefront,
    Accountant,
    /// A printer bridge: reads the feed and orders, reports print jobs.
    Printer,
}

impl From<RoleDto> for Role {
    fn from(role: RoleDto) -> Self {
        match role {
            RoleDto::Manager => Role::Manager,
            RoleDto::Employee => Role::Employee,
            RoleDto::Storefront => Role::Storefront,
            RoleDto::Accountant => Role::Accountant,
            RoleDto::Printer => Role::Printer,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateApiKey {
    pub role: RoleDto,
    pub label: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyCreated {
    pub key_id: Uuid,
    pub role: RoleDto,
    pub label: String,
    /// Shown once: only its SHA-256 is stored. Send it as `Authorization: Bearer <secret>`.
    pub secret: Option<String>,
    pub position: u64,
}

/// Creates an API key for the shop; the answer carries the secret, once.
#[utoipa::path(post, path = "/v1/shops/{shop_id}/api-keys", tag = "shops",
    params(("shop_id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = CreateApiKey,
    responses((status = 201, body = ApiKeyCreated), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn create_api_key(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath(shop_id): ApiPath<Uuid>,
    JsonBody(body): JsonBody<CreateApiKey>,
) -> Result<axum::response::Response, ApiError> {
    caller.authorize(shop_id, Permission::ManageKeys)?;
    let key_id = ids.derived_id("api-key");
    let secret = new_api_key_secret(shop_id);
    let command = ShopCommand::CreateApiKey {
        key_id,
        role: body.role.into(),
        label: body.label.clone(),
        secret_hash: sha256_hex(&secret),
    };
    let stream = shop::stream_id(shop_id);
    let executed = run(&state, &ids, &caller, vec![], |session| {
        super::session_shop(session, shop_id)?;
        session.decide::<Shop>(&stream, &command)
    })
    .await?;
    let position = written_position(&state, &executed);
    // A replay cannot show the secret again: it was never stored.
    let secret = matches!(executed, Executed::Applied { .. }).then_some(secret);
    let body = ApiKeyCreated {
        key_id,
        role: body.role,
        label: body.label,
        secret,
        position,
    };
    let location = format!("/v1/shops/{shop_id}/api-keys/{key_id}");
    Ok(super::with_secret(Answer::created(
        body, position, location,
    )))
}

/// A key as listed: never its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyDto {
    pub key_id: Uuid,
    pub role: String,
    pub label: String,
    pub revoked: bool,
}

/// The shop's API keys, revoked ones included.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/api-keys", tag = "shops",
    params(("shop_id" = Uuid, Path)),
    responses((status = 200, body = Vec<ApiKeyDto>), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_api_keys(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
) -> Result<Answer<Vec<ApiKeyDto>>, ApiError> {
    caller.authorize(shop_id, Permission::ManageKeys)?;
    let loaded = state
        .cache
        .load::<Shop, _>(state.log.as_ref(), &shop::stream_id(shop_id))?;
    if loaded.state.profile.is_none() {
        return Err(ApiError::not_found("shop"));
    }
    let keys = loaded
        .state
        .api_keys
        .values()
        .map(|key| ApiKeyDto {
            key_id: key.key_id,
            role: format!("{:?}", key.role).to_lowercase(),
            label: key.label.clone(),
            revoked: key.revoked,
        })
        .collect();
    Ok(Answer::ok(keys, state.log.head_position()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyRevoked {
    pub key_id: Uuid,
    pub revoked: bool,
    pub position: u64,
}

/// Revokes an API key at once.
#[utoipa::path(delete, path = "/v1/shops/{shop_id}/api-keys/{key_id}", tag = "shops",
    params(("shop_id" = Uuid, Path), ("key_id" = Uuid, Path)),
    responses((status = 200, body = ApiKeyRevoked), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn revoke_api_key(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    ApiPath((shop_id, key_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Answer<ApiKeyRevoked>, ApiError> {
    caller.authorize(shop_id, Permission::ManageKeys)?;
    let stream = shop::stream_id(shop_id);
    let command = ShopCommand::RevokeApiKey { key_id };
    let executed = run(&state, &ids, &caller, vec![], |session| {
        session.decide::<Shop>(&stream, &command)
    })
    .await?;
    let position = written_position(&state, &executed);
    let body = ApiKeyRevoked {
        key_id,
        revoked: true,
        position,
    };
    Ok(Answer::ok(body, position))
}

/// Whether an event is a shop's key creation (its secret hash is redacted from the feed).
pub fn is_key_event(event: &ShopEvent) -> bool {
    matches!(event, ShopEvent::ApiKeyCreated { .. })
}
