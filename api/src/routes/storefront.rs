//! The online shop's settings (seed 000, "Paramètres"): description, contact, opening hours,
//! terms of sale, online payment and the storefront's links; and QR codes that lead to the
//! shop, a category or a product (seed 000: managers and employees "génèrent des codes QR").
//!
//! Every role reads the settings (a storefront draws its pages and checkout from them; an
//! employee "consulte" them); managers change them. They live on the shop stream
//! (`StorefrontChanged`), so a read is never behind a write.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use comptoir_domain::catalog::Catalog;
use comptoir_domain::customer::normalise_email;
use comptoir_domain::shop::{
    self, ClosedDay, OnlinePayment, OpenInterval, OpeningHours, PayPalSettings, Permission, Shop,
    ShopCommand, ShopContact, StorefrontLinks, StorefrontSettings, StripeSettings, WeekHours,
};
use comptoir_domain::{DomainError, Environment};
use comptoir_projections::exports::xml_text;
use qrcode::{EcLevel, QrCode};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::shops::AddressDto;
use super::{
    check_etag, content_etag, precondition_to_412, required_if_match, run, shop_state,
    written_position, Answer,
};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery, CommandIds, JsonBody};
use crate::server::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_storefront, put_storefront))
        .routes(routes!(shop_qr_code))
        .routes(routes!(category_qr_code))
        .routes(routes!(product_qr_code))
}

/// How customers reach the shop.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactDto {
    /// Stored in lower case.
    #[serde(default)]
    #[schema(example = "contact@studio-lumiere.example")]
    pub email: Option<String>,
    #[serde(default)]
    #[schema(example = "+33 4 78 00 00 00")]
    pub phone: Option<String>,
    /// The counter's address, when it is not the registered office's.
    #[serde(default)]
    pub address: Option<AddressDto>,
}

/// A stretch of a day the shop is open, local time, `HH:MM`; closing is exclusive.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntervalDto {
    #[schema(example = "09:30")]
    pub opens: String,
    #[schema(example = "12:30")]
    pub closes: String,
}

/// The weekly hours: up to 4 intervals a day, in order; a day without any is closed.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WeekHoursDto {
    #[serde(default)]
    pub monday: Vec<IntervalDto>,
    #[serde(default)]
    pub tuesday: Vec<IntervalDto>,
    #[serde(default)]
    pub wednesday: Vec<IntervalDto>,
    #[serde(default)]
    pub thursday: Vec<IntervalDto>,
    #[serde(default)]
    pub friday: Vec<IntervalDto>,
    #[serde(default)]
    pub saturday: Vec<IntervalDto>,
    #[serde(default)]
    pub sunday: Vec<IntervalDto>,
}

/// A date the shop is closed whatever the week says.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClosedDayDto {
    pub date: NaiveDate,
    #[serde(default)]
    #[schema(example = "Fermeture annuelle")]
    pub note: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpeningHoursDto {
    #[serde(default)]
    pub week: WeekHoursDto,
    /// In date order, at most 200.
    #[serde(default)]
    pub closed_days: Vec<ClosedDayDto>,
}

/// PayPal's public identifier: the REST app's client id.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayPalDto {
    pub enabled: bool,
    pub client_id: String,
}

/// Stripe's public identifiers. A secret key (`sk_…`, `rk_…`) is refused: settings are stored
/// for good and every role reads them.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StripeDto {
    pub enabled: bool,
    #[schema(example = "pk_live_51Hx0abcDEF")]
    pub publishable_key: String,
    /// For a shop paid through a Stripe Connect platform.
    #[serde(default)]
    #[schema(example = "acct_1Hx0abcDEF")]
    pub account_id: Option<String>,
}

/// The online payment providers the storefront's checkout may offer (PayPal and Stripe only).
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OnlinePaymentDto {
    #[serde(default)]
    pub paypal: Option<PayPalDto>,
    #[serde(default)]
    pub stripe: Option<StripeDto>,
}

/// Where the storefront's pages are, for the QR codes.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinksDto {
    #[serde(default)]
    #[schema(example = "https://studio-lumiere.example")]
    pub storefront_url: Option<String>,
    /// With `{id}` or `{sku}` where the product goes.
    #[serde(default)]
    #[schema(example = "https://studio-lumiere.example/produits/{sku}")]
    pub product_url_pattern: Option<String>,
    /// With `{id}` where the category goes.
    #[serde(default)]
    #[schema(example = "https://studio-lumiere.example/categories/{id}")]
    pub category_url_pattern: Option<String>,
}

/// The settings a manager sends; every part may be left out (it is then empty).
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StorefrontDto {
    /// Paragraphs, at most 5,000 characters.
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub contact: ContactDto,
    #[serde(default)]
    pub opening_hours: OpeningHoursDto,
    /// The general terms of sale (CGV), at most 100,000 characters.
    #[serde(default)]
    pub terms_of_sale: Option<String>,
    #[serde(default)]
    pub online_payment: OnlinePaymentDto,
    #[serde(default)]
    pub links: LinksDto,
}

/// The settings in force, with what follows from them.
#[derive(Debug, Serialize, ToSchema)]
pub struct StorefrontView {
    #[serde(flatten)]
    pub settings: StorefrontDto,
    /// 0 while there are no terms; one more at each change of them.
    pub terms_version: u32,
    pub terms_changed_at: Option<DateTime<Utc>>,
    /// The providers enabled: `paypal`, `stripe`.
    pub payment_providers_offered: Vec<String>,
    /// Whether the shop is open now, in its time zone, by its hours and closed days.
    pub open_now: bool,
    /// The zone the hours are in.
    #[schema(example = "Europe/Paris")]
    pub time_zone: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StorefrontWritten {
    #[serde(flatten)]
    pub storefront: StorefrontView,
    pub position: u64,
}

const TIME_FORMAT: &str = "%H:%M";

fn parse_time(field: &str, text: &str) -> Result<NaiveTime, DomainError> {
    NaiveTime::parse_from_str(text, TIME_FORMAT)
        .map_err(|_| DomainError::validation(field, "must be a time of day as HH:MM, e.g. 09:30"))
}

fn intervals_from(day: &str, dtos: &[IntervalDto]) -> Result<Vec<OpenInterval>, DomainError> {
    dtos.iter()
        .enumerate()
        .map(|(index, dto)| {
            let field = format!("opening_hours.week.{day}[{index}]");
            Ok(OpenInterval {
                opens: parse_time(&format!("{field}.opens"), &dto.opens)?,
                closes: parse_time(&format!("{field}.closes"), &dto.closes)?,
            })
        })
        .collect()
}

fn intervals_to(intervals: &[OpenInterval]) -> Vec<IntervalDto> {
    intervals
        .iter()
        .map(|interval| IntervalDto {
            opens: interval.opens.format(TIME_FORMAT).to_string(),
            closes: interval.closes.format(TIME_FORMAT).to_string(),
        })
        .collect()
}

impl TryFrom<&WeekHoursDto> for WeekHours {
    type Error = DomainError;

    fn try_from(dto: &WeekHoursDto) -> Result<Self, DomainError> {
        Ok(WeekHours {
            monday: intervals_from("monday", &dto.monday)?,
            tuesday: intervals_from("tuesday", &dto.tuesday)?,
            wednesday: intervals_from("wednesday", &dto.wednesday)?,
            thursday: intervals_from("thursday", &dto.thursday)?,
            friday: intervals_from("friday", &dto.friday)?,
            saturday: intervals_from("saturday", &dto.saturday)?,
            sunday: intervals_from("sunday", &dto.sunday)?,
        })
    }
}

impl From<&WeekHours> for WeekHoursDto {
    fn from(week: &WeekHours) -> Self {
        WeekHoursDto {
            monday: intervals_to(&week.monday),
            tuesday: intervals_to(&week.tuesday),
            wednesday: intervals_to(&week.wednesday),
            thursday: intervals_to(&week.thursday),
            friday: intervals_to(&week.friday),
            saturday: intervals_to(&week.saturday),
            sunday: intervals_to(&week.sunday),
        }
    }
}

/// An e-mail as the settings keep it: trimmed and in lower case, or the shape's refusal.
fn contact_email(email: Option<&str>) -> Result<Option<String>, DomainError> {
    email
        .map(|email| {
            normalise_email(email).map_err(|error| match error {
                DomainError::Validation { message, .. } => {
                    DomainError::validation("contact.email", message)
                }
                other => other,
            })
        })
        .transpose()
}

impl TryFrom<&StorefrontDto> for StorefrontSettings {
    type Error = DomainError;

    fn try_from(dto: &StorefrontDto) -> Result<Self, DomainError> {
        Ok(StorefrontSettings {
            description: dto.description.clone(),
            contact: ShopContact {
                email: contact_email(dto.contact.email.as_deref())?,
                phone: dto.contact.phone.clone(),
                address: dto.contact.address.clone().map(Into::into),
            },
            opening_hours: OpeningHours {
                week: WeekHours::try_from(&dto.opening_hours.week)?,
                closed_days: dto
                    .opening_hours
                    .closed_days
                    .iter()
                    .map(|day| ClosedDay {
                        date: day.date,
                        note: day.note.clone(),
                    })
                    .collect(),
            },
            terms_of_sale: dto.terms_of_sale.clone(),
            online_payment: OnlinePayment {
                paypal: dto.online_payment.paypal.as_ref().map(|p| PayPalSettings {
                    enabled: p.enabled,
                    client_id: p.client_id.clone(),
                }),
                stripe: dto.online_payment.stripe.as_ref().map(|s| StripeSettings {
                    enabled: s.enabled,
                    publishable_key: s.publishable_key.clone(),
                    account_id: s.account_id.clone(),
                }),
            },
            links: StorefrontLinks {
                storefront_url: dto.links.storefront_url.clone(),
                product_url_pattern: dto.links.product_url_pattern.clone(),
                category_url_pattern: dto.links.category_url_pattern.clone(),
            },
        })
    }
}

impl From<&StorefrontSettings> for StorefrontDto {
    fn from(settings: &StorefrontSettings) -> Self {
        let payment = &settings.online_payment;
        StorefrontDto {
            description: settings.description.clone(),
            contact: ContactDto {
                email: settings.contact.email.clone(),
                phone: settings.contact.phone.clone(),
                address: settings.contact.address.clone().map(Into::into),
            },
            opening_hours: OpeningHoursDto {
                week: (&settings.opening_hours.week).into(),
                closed_days: settings
                    .opening_hours
                    .closed_days
                    .iter()
                    .map(|day| ClosedDayDto {
                        date: day.date,
                        note: day.note.clone(),
                    })
                    .collect(),
            },
            terms_of_sale: settings.terms_of_sale.clone(),
            online_payment: OnlinePaymentDto {
                paypal: payment.paypal.as_ref().map(|p| PayPalDto {
                    enabled: p.enabled,
                    client_id: p.client_id.clone(),
                }),
                stripe: payment.stripe.as_ref().map(|s| StripeDto {
                    enabled: s.enabled,
                    publishable_key: s.publishable_key.clone(),
                    account_id: s.account_id.clone(),
                }),
            },
            links: LinksDto {
                storefront_url: settings.links.storefront_url.clone(),
                product_url_pattern: settings.links.product_url_pattern.clone(),
                category_url_pattern: settings.links.category_url_pattern.clone(),
            },
        }
    }
}

fn view_of(state: &AppState, shop: &Shop) -> StorefrontView {
    let zone = shop
        .profile
        .as_ref()
        .map(|profile| profile.zone())
        .unwrap_or_else(comptoir_domain::calendar::default_time_zone);
    let local_now = state.clock.now().with_timezone(&zone).naive_local();
    StorefrontView {
        settings: (&shop.storefront).into(),
        terms_version: shop.terms_version,
        terms_changed_at: shop.terms_changed_at,
        payment_providers_offered: shop
            .storefront
            .online_payment
            .offered()
            .into_iter()
            .map(str::to_owned)
            .collect(),
        open_now: shop.storefront.opening_hours.is_open_at(local_now),
        time_zone: zone.name().to_owned(),
    }
}

/// The settings in force (empty until a manager sets them), with their `ETag`.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/storefront", tag = "shops",
    params(("shop_id" = Uuid, Path)),
    responses((status = 200, body = StorefrontView), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn get_storefront(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
) -> Result<Answer<StorefrontView>, ApiError> {
    caller.authorize(shop_id, Permission::ReadShop)?;
    let shop = shop_state(&state, shop_id)?;
    let mut answer = Answer::ok(view_of(&state, &shop), state.log.head_position());
    answer.etag = Some(content_etag(&shop.storefront));
    Ok(answer)
}

/// Replaces the settings (manager); a part left out becomes empty. Send `If-Match` with the
/// settings' `ETag`: none answers 428, a stale one 412. Changing the terms of sale starts
/// their next version.
#[utoipa::path(put, path = "/v1/shops/{shop_id}/storefront", tag = "shops",
    params(("shop_id" = Uuid, Path), ("If-Match" = String, Header), ("Idempotency-Key" = Option<String>, Header)),
    request_body = StorefrontDto,
    responses((status = 200, body = StorefrontWritten), (status = 412, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = 428, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn put_storefront(
    State(state): State<AppState>,
    caller: Caller,
    ids: CommandIds,
    headers: HeaderMap,
    ApiPath(shop_id): ApiPath<Uuid>,
    JsonBody(body): JsonBody<StorefrontDto>,
) -> Result<Answer<StorefrontWritten>, ApiError> {
    caller.authorize(shop_id, Permission::ManageShopSettings)?;
    let wanted_etag = required_if_match(&headers, "the storefront settings'")?;
    let wanted = StorefrontSettings::try_from(&body)?;
    let command = ShopCommand::SetStorefront(Box::new(wanted.clone()));
    let stream = shop::stream_id(shop_id);
    let executed = run(&state, &ids, &caller, vec![], |session| {
        let current = session.load::<Shop>(&stream)?;
        if current.profile.is_none() {
            return Err(DomainError::not_found("shop", shop_id).into());
        }
        check_etag(
            &wanted_etag,
            &content_etag(&current.storefront),
            current.storefront == wanted,
            "the storefront settings",
        )?;
        session.decide::<Shop>(&stream, &command)
    })
    .await
    .map_err(precondition_to_412)?;
    let position = written_position(&state, &executed);
    let shop = shop_state(&state, shop_id)?;
    let mut answer = Answer::ok(
        StorefrontWritten {
            storefront: view_of(&state, &shop),
            position,
        },
        position,
    );
    answer.etag = Some(content_etag(&wanted));
    Ok(answer)
}

/// The side of a QR code's image, in pixels (the code scales to fill it).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QrSize {
    /// 128 to 2048; 512 by default.
    pub size_px: Option<u32>,
}

const QR_SIZE_DEFAULT_PX: u32 = 512;
const QR_SIZE_MIN_PX: u32 = 128;
const QR_SIZE_MAX_PX: u32 = 2048;

fn qr_size_px(query: &QrSize) -> Result<u32, ApiError> {
    let size = query.size_px.unwrap_or(QR_SIZE_DEFAULT_PX);
    if !(QR_SIZE_MIN_PX..=QR_SIZE_MAX_PX).contains(&size) {
        return Err(DomainError::validation(
            "size_px",
            format!("must be {QR_SIZE_MIN_PX} to {QR_SIZE_MAX_PX}"),
        )
        .into());
    }
    Ok(size)
}

/// The link a QR code leads to, or a 409 naming the setting to fill in.
fn link_or_missing(link: Option<String>, setting: &str) -> Result<String, ApiError> {
    link.ok_or_else(|| {
        DomainError::conflict(
            "storefront-link-missing",
            format!("set links.{setting} in the shop's storefront settings (PUT /storefront) to make this QR code"),
        )
        .into()
    })
}

/// An SVG of `url` as a QR code (error correction M: a printed code still reads with a
/// scratch), titled with the URL so that it can be told apart without a scanner.
fn qr_svg_text(url: &str, size_px: u32) -> Result<String, ApiError> {
    let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M)
        .map_err(|_| DomainError::validation("links", "the link is too long for a QR code"))?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(size_px, size_px)
        .quiet_zone(true)
        .build();
    let title = format!("<title>{}</title>", xml_text(url));
    Ok(match svg.find("<rect") {
        Some(at) => format!("{}{title}{}", &svg[..at], &svg[at..]),
        None => svg,
    })
}

fn qr_svg(url: &str, size_px: u32, file_name: &str) -> Result<Response, ApiError> {
    let svg = qr_svg_text(url, size_px)?;
    let disposition = format!("inline; filename=\"{file_name}.svg\"");
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        svg,
    )
        .into_response())
}

/// What a catalog item's QR code is made from: its size, the shop's settings and its catalog.
fn qr_inputs(
    state: &AppState,
    caller: &Caller,
    shop_id: Uuid,
    size: &QrSize,
) -> Result<(u32, Arc<Shop>, Arc<Catalog>), ApiError> {
    caller.authorize(shop_id, Permission::ReadCatalog)?;
    let size_px = qr_size_px(size)?;
    let shop = shop_state(state, shop_id)?;
    let catalog = super::catalog::catalog_of(state, shop_id)?;
    Ok((size_px, shop, catalog))
}

/// A QR code of the storefront's home page (`links.storefront_url`), as SVG.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/qr-codes/shop", tag = "shops",
    params(("shop_id" = Uuid, Path), QrSize),
    responses((status = 200, content_type = "image/svg+xml", body = crate::dto::Binary), (status = 409, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn shop_qr_code(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(shop_id): ApiPath<Uuid>,
    ApiQuery(size): ApiQuery<QrSize>,
) -> Result<Response, ApiError> {
    caller.authorize(shop_id, Permission::ReadCatalog)?;
    let size_px = qr_size_px(&size)?;
    let shop = shop_state(&state, shop_id)?;
    let url = link_or_missing(
        shop.storefront.links.storefront_url.clone(),
        "storefront_url",
    )?;
    qr_svg(&url, size_px, &format!("qr-shop-{shop_id}"))
}

/// A QR code of a category's page (`links.category_url_pattern`), as SVG.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/qr-codes/categories/{category_id}", tag = "shops",
    params(("shop_id" = Uuid, Path), ("category_id" = Uuid, Path), QrSize),
    responses((status = 200, content_type = "image/svg+xml", body = crate::dto::Binary), (status = 409, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn category_qr_code(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((shop_id, category_id)): ApiPath<(Uuid, Uuid)>,
    ApiQuery(size): ApiQuery<QrSize>,
) -> Result<Response, ApiError> {
    let (size_px, shop, catalog) = qr_inputs(&state, &caller, shop_id, &size)?;
    if !catalog.categories.contains_key(&category_id) {
        return Err(ApiError::not_found("category"));
    }
    let link = shop.storefront.links.category_url(category_id);
    let url = link_or_missing(link, "category_url_pattern")?;
    qr_svg(&url, size_px, &format!("qr-category-{category_id}"))
}

/// A QR code of a product's page (`links.product_url_pattern`), as SVG.
#[utoipa::path(get, path = "/v1/shops/{shop_id}/qr-codes/products/{product_id}", tag = "shops",
    params(("shop_id" = Uuid, Path), ("product_id" = Uuid, Path), QrSize),
    responses((status = 200, content_type = "image/svg+xml", body = crate::dto::Binary), (status = 409, body = crate::docs::ProblemDto, content_type = "application/problem+json"), (status = "4XX", body = crate::docs::ProblemDto, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn product_qr_code(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((shop_id, product_id)): ApiPath<(Uuid, Uuid)>,
    ApiQuery(size): ApiQuery<QrSize>,
) -> Result<Response, ApiError> {
    let (size_px, shop, catalog) = qr_inputs(&state, &caller, shop_id, &size)?;
    let product = super::catalog::product_of(&catalog, product_id)?;
    let link = shop.storefront.links.product_url(product_id, &product.sku);
    let url = link_or_missing(link, "product_url_pattern")?;
    qr_svg(&url, size_px, &format!("qr-product-{product_id}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use qrcode::Color;

    /// Reads a QR code back from its modules, as a phone's camera would.
    fn decode(code: &QrCode) -> String {
        let width = code.width();
        let colors = code.to_colors();
        let (scale, quiet) = (4, 4);
        let side = (width + 2 * quiet) * scale;
        let mut image = rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| {
            let (column, row) = (x / scale, y / scale);
            let inside =
                (quiet..width + quiet).contains(&column) && (quiet..width + quiet).contains(&row);
            let dark = inside && colors[(row - quiet) * width + (column - quiet)] == Color::Dark;
            if dark {
                0
            } else {
                255
            }
        });
        let grids = image.detect_grids();
        let (_, content) = grids.first().expect("one code").decode().expect("decodes");
        content
    }

    #[test]
    fn a_code_reads_back_as_its_link() {
        // Proves what is printed leads where the settings say, query string included.
        let url = "https://studio-lumiere.example/p/TIR%2010x15?ref=qr&x=1";
        let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M).expect("fits");
        assert_eq!(decode(&code), url);
    }

    #[test]
    fn the_svg_is_titled_with_its_link_escaped() {
        // Proves the title sits inside the SVG, before the drawing, and an ampersand cannot
        // break the XML.
        let svg = qr_svg_text("https://s.example/?a=1&b=2", 256).expect("renders");
        let title = svg
            .find("<title>https://s.example/?a=1&amp;b=2</title>")
            .expect("titled");
        assert!(svg.starts_with("<?xml") && title < svg.find("<rect").expect("drawn"));
        let width: u32 = svg
            .split("width=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .and_then(|width| width.parse().ok())
            .expect("a width");
        assert!((256..300).contains(&width), "{width}");
    }

    #[test]
    fn sizes_are_bounded() {
        // Proves the default and both bounds, and a refusal outside them.
        assert_eq!(qr_size_px(&QrSize { size_px: None }).ok(), Some(512));
        assert_eq!(qr_size_px(&QrSize { size_px: Some(128) }).ok(), Some(128));
        assert_eq!(
            qr_size_px(&QrSize {
                size_px: Some(2048)
            })
            .ok(),
            Some(2048)
        );
        assert!(qr_size_px(&QrSize { size_px: Some(127) }).is_err());
        assert!(qr_size_px(&QrSize {
            size_px: Some(4096)
        })
        .is_err());
    }
}
