use super::*;
use crate::catalog::CatalogEvent;
use crate::fixtures::{catalog, d, id, shop_id, LIVRES, TIRAGES, TIRAGE_10X15};
use crate::limits::URL_CHARS_MAX;
use crate::testing::{given, test_now};
use chrono::Duration;

fn banner_id() -> Uuid {
    id(0xBA01)
}

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().expect("RFC 3339")
}

/// A Christmas banner pointing at a product, with every optional part given.
fn christmas() -> BannerContent {
    BannerContent {
        name: "Noël 2025".into(),
        action: BannerAction::Product {
            product_id: id(TIRAGE_10X15),
        },
        title: "Vos photos sous le sapin".into(),
        description: Some("Tirages, albums et calendriers\npour toute la famille".into()),
        from_price: Some(d("9")),
        button_text: Some("Je commande".into()),
        display_order: 1,
        images: BannerImages {
            square: Some("https://cdn.example.fr/noel-carre.jpg".into()),
            landscape: "https://cdn.example.fr/noel.jpg".into(),
            landscape_phone: None,
        },
        starts_at: Some(utc("2025-12-01T00:00:00Z")),
        ends_at: Some(utc("2025-12-26T00:00:00Z")),
    }
}

/// A banner with no button and nothing optional.
fn plain() -> BannerContent {
    BannerContent {
        name: "Bienvenue".into(),
        action: BannerAction::None,
        title: "Bienvenue au Studio Lumière".into(),
        description: None,
        from_price: None,
        button_text: None,
        display_order: 0,
        images: BannerImages {
            square: None,
            landscape: "http://cdn.example.fr/accueil.jpg".into(),
            landscape_phone: None,
        },
        starts_at: None,
        ends_at: None,
    }
}

fn create_as(banner_id: Uuid, content: BannerContent) -> BannerCommand {
    BannerCommand::Create {
        shop_id: shop_id(),
        banner_id,
        content,
        enabled: true,
    }
}

fn create(content: BannerContent) -> BannerCommand {
    create_as(banner_id(), content)
}

fn created_as(banner_id: Uuid, content: BannerContent) -> BannerEvent {
    BannerEvent::BannerCreated {
        shop_id: shop_id(),
        banner_id,
        content,
        enabled: true,
        created_at: test_now(),
    }
}

fn created(content: BannerContent) -> BannerEvent {
    created_as(banner_id(), content)
}

fn disabled() -> BannerEvent {
    BannerEvent::BannerDisabled {
        shop_id: shop_id(),
        banner_id: banner_id(),
        disabled_at: test_now(),
    }
}

#[test]
fn creates_a_banner_and_a_retry_appends_nothing() {
    // Proves a valid banner is recorded as given, the same creation again appends nothing, and
    // other content under the same id is refused.
    let state = given::<ShopBanners>([])
        .when(create(christmas()))
        .then([created(christmas())]);
    assert_eq!(state.shop_id, Some(shop_id()));
    assert_eq!(state.banners[&banner_id()].content, christmas());
    given::<ShopBanners>([created(christmas())])
        .when(create(christmas()))
        .then([]);
    given::<ShopBanners>([created(christmas())])
        .when(create(plain()))
        .then_err_code("already-exists");
}

#[test]
fn a_shop_has_at_most_fifty_banners() {
    // Proves the 51st banner is refused, and a deletion makes room again.
    let fifty: Vec<BannerEvent> = (0..BANNERS_MAX as u128)
        .map(|n| created_as(id(0xB000 + n), plain()))
        .collect();
    given::<ShopBanners>(fifty.clone())
        .when(create(plain()))
        .then_err_code("limit-exceeded");
    let mut after_delete = fifty;
    after_delete.push(BannerEvent::BannerDeleted {
        shop_id: shop_id(),
        banner_id: id(0xB000),
        deleted_at: test_now(),
    });
    given::<ShopBanners>(after_delete)
        .when(create(plain()))
        .then([created(plain())]);
}

#[test]
fn names_and_titles_are_short_non_empty_texts() {
    // Proves the name takes 1 to 80 characters and the title 1 to 120.
    let cases: [Refusal; 4] = [
        (|c| c.name = String::new(), "name"),
        (|c| c.name = "n".repeat(81), "name"),
        (|c| c.title = " ".into(), "title"),
        (|c| c.title = "t".repeat(121), "title"),
    ];
    expect_refused(&cases);
    let mut longest = christmas();
    longest.name = "n".repeat(80);
    longest.title = "t".repeat(120);
    given::<ShopBanners>([])
        .when(create(longest.clone()))
        .then([created(longest)]);
}

#[test]
fn a_description_takes_up_to_500_characters_on_several_lines() {
    // Proves a multi-line description passes, and a blank one, one over 500 characters or one
    // with control characters other than line breaks and tabs is refused.
    let cases: [Refusal; 3] = [
        (|c| c.description = Some("  ".into()), "description"),
        (|c| c.description = Some("d".repeat(501)), "description"),
        (|c| c.description = Some("a\u{7}b".into()), "description"),
    ];
    expect_refused(&cases);
    let mut longest = christmas();
    longest.description = Some(format!("{}\n{}", "d".repeat(250), "e".repeat(249)));
    given::<ShopBanners>([])
        .when(create(longest.clone()))
        .then([created(longest)]);
}

#[test]
fn a_button_text_goes_with_an_action_and_only_with_one() {
    // Proves the button text is required (1 to 40 characters) with an action and refused
    // without one.
    let cases: [Refusal; 3] = [
        (|c| c.button_text = None, "button_text"),
        (|c| c.button_text = Some("b".repeat(41)), "button_text"),
        (
            |c| {
                c.action = BannerAction::None;
                c.from_price = None;
            },
            "button_text",
        ),
    ];
    expect_refused(&cases);
    let mut with_link = plain();
    with_link.action = BannerAction::Link {
        url: "https://www.example.fr/concours".into(),
    };
    with_link.button_text = Some("b".repeat(40));
    given::<ShopBanners>([])
        .when(create(with_link.clone()))
        .then([created(with_link)]);
}

#[test]
fn links_and_images_are_http_urls_of_at_most_2048_characters() {
    // Proves a link and each image must be an absolute http(s) URL without spaces, of at most
    // 2,048 characters; the desktop landscape image is required (an empty one is refused).
    let link = |url: &str| -> BannerContent {
        let mut content = plain();
        content.action = BannerAction::Link { url: url.into() };
        content.button_text = Some("Voir".into());
        content
    };
    let too_long = format!("https://example.fr/{}", "a".repeat(URL_CHARS_MAX));
    for url in [
        "javascript:alert(1)",
        "ftp://example.fr",
        "https://",
        "/relative",
        "https:///path",
        "https://exa mple.fr",
        too_long.as_str(),
    ] {
        given::<ShopBanners>([]).when(create(link(url))).then_err(
            |e| matches!(e, DomainError::Validation { field, .. } if field == "action.url"),
        );
    }
    let cases: [Refusal; 3] = [
        (|c| c.images.landscape = String::new(), "images.landscape"),
        (
            |c| c.images.square = Some("data:image/png;base64,AAAA".into()),
            "images.square",
        ),
        (
            |c| c.images.landscape_phone = Some("cdn.example.fr/x.jpg".into()),
            "images.landscape_phone",
        ),
    ];
    expect_refused(&cases);
    let longest = format!("HTTPS://example.fr/{}", "a".repeat(URL_CHARS_MAX - 19));
    assert_eq!(longest.len(), URL_CHARS_MAX);
    given::<ShopBanners>([])
        .when(create(link(&longest)))
        .then([created(link(&longest))]);
}

#[test]
fn a_from_price_is_a_cent_amount_for_a_product_or_a_category() {
    // Proves the "from" price is at least zero with at most two decimals, and only goes with a
    // product or a category action.
    let cases: [Refusal; 3] = [
        (|c| c.from_price = Some(d("-1")), "from_price"),
        (|c| c.from_price = Some(d("9.999")), "from_price"),
        (
            |c| {
                c.action = BannerAction::Link {
                    url: "https://example.fr".into(),
                }
            },
            "from_price",
        ),
    ];
    expect_refused(&cases);
    let mut category = christmas();
    category.action = BannerAction::Category {
        category_id: id(LIVRES),
    };
    category.from_price = Some(d("0.00"));
    given::<ShopBanners>([])
        .when(create(category.clone()))
        .then([created(category)]);
}

#[test]
fn the_window_ends_after_it_starts_and_the_order_stays_below_10000() {
    // Proves an end before or at the start and a display order over 9,999 are refused; one
    // bound alone is a valid window.
    let cases: [Refusal; 3] = [
        (|c| c.ends_at = c.starts_at, "ends_at"),
        (
            |c| c.ends_at = c.starts_at.map(|s| s - Duration::days(1)),
            "ends_at",
        ),
        (|c| c.display_order = 10_000, "display_order"),
    ];
    expect_refused(&cases);
    let mut open_ended = christmas();
    open_ended.ends_at = None;
    open_ended.display_order = BANNER_DISPLAY_ORDER_MAX;
    given::<ShopBanners>([])
        .when(create(open_ended.clone()))
        .then([created(open_ended)]);
}

#[test]
fn a_change_replaces_the_content_and_a_change_to_the_same_appends_nothing() {
    // Proves a change records the new content, validates it, appends nothing when nothing
    // changes, and an unknown banner is not found.
    let state = given::<ShopBanners>([created(christmas())])
        .when(BannerCommand::Change {
            banner_id: banner_id(),
            content: plain(),
        })
        .then([BannerEvent::BannerChanged {
            shop_id: shop_id(),
            banner_id: banner_id(),
            content: plain(),
            changed_at: test_now(),
        }]);
    assert_eq!(state.banners[&banner_id()].content, plain());
    given::<ShopBanners>([created(christmas())])
        .when(BannerCommand::Change {
            banner_id: banner_id(),
            content: christmas(),
        })
        .then([]);
    let mut bad = christmas();
    bad.title = String::new();
    given::<ShopBanners>([created(christmas())])
        .when(BannerCommand::Change {
            banner_id: banner_id(),
            content: bad,
        })
        .then_err_code("validation");
    given::<ShopBanners>([created(christmas())])
        .when(BannerCommand::Change {
            banner_id: id(0xFFFF),
            content: plain(),
        })
        .then_err_code("not-found");
}

#[test]
fn enabling_and_disabling_toggle_once() {
    // Proves a disable then an enable each record one event, and toggling to the state the
    // banner is in appends nothing.
    let id = banner_id();
    let state = given::<ShopBanners>([created(christmas())])
        .when(BannerCommand::Disable { banner_id: id })
        .then([disabled()]);
    assert!(!state.banners[&id].enabled);
    given::<ShopBanners>([created(christmas()), disabled()])
        .when(BannerCommand::Disable { banner_id: id })
        .then([]);
    given::<ShopBanners>([created(christmas())])
        .when(BannerCommand::Enable { banner_id: id })
        .then([]);
    given::<ShopBanners>([created(christmas()), disabled()])
        .when(BannerCommand::Enable { banner_id: id })
        .then([BannerEvent::BannerEnabled {
            shop_id: shop_id(),
            banner_id: id,
            enabled_at: test_now(),
        }]);
    given::<ShopBanners>([])
        .when(BannerCommand::Enable { banner_id: id })
        .then_err_code("not-found");
}

#[test]
fn a_deleted_banner_disappears() {
    // Proves a deletion removes the banner: it can no longer be changed, toggled or deleted.
    let deleted = BannerEvent::BannerDeleted {
        shop_id: shop_id(),
        banner_id: banner_id(),
        deleted_at: test_now(),
    };
    let state = given::<ShopBanners>([created(christmas())])
        .when(BannerCommand::Delete {
            banner_id: banner_id(),
        })
        .then([deleted.clone()]);
    assert!(state.banners.is_empty());
    for command in [
        BannerCommand::Delete {
            banner_id: banner_id(),
        },
        BannerCommand::Disable {
            banner_id: banner_id(),
        },
        BannerCommand::Change {
            banner_id: banner_id(),
            content: plain(),
        },
    ] {
        given::<ShopBanners>([created(christmas()), deleted.clone()])
            .when(command)
            .then_err_code("not-found");
    }
}

#[test]
fn banners_of_another_shop_are_refused_on_this_stream() {
    // Proves a creation naming another shop than the stream's is refused.
    given::<ShopBanners>([created(christmas())])
        .when(BannerCommand::Create {
            shop_id: id(0x5200),
            banner_id: id(0xBA02),
            content: plain(),
            enabled: true,
        })
        .then_err_code("shop-mismatch");
}

#[test]
fn banners_show_by_display_order_then_creation() {
    // Proves the storefront order: lowest display order first, ties in creation order, even
    // after a change of content.
    let first = |n: u128, order: u32| {
        let mut content = plain();
        content.display_order = order;
        created_as(id(n), content)
    };
    let changed = BannerEvent::BannerChanged {
        shop_id: shop_id(),
        banner_id: id(1),
        content: BannerContent {
            display_order: 5,
            ..plain()
        },
        changed_at: test_now(),
    };
    let state = crate::testing::replay::<ShopBanners>(&[
        first(1, 5),
        first(2, 3),
        first(3, 5),
        first(4, 0),
        changed,
    ]);
    let ids: Vec<Uuid> = state.ordered().iter().map(|b| b.banner_id).collect();
    assert_eq!(ids, vec![id(4), id(2), id(1), id(3)]);
}

#[test]
fn a_banner_shows_when_enabled_inside_its_window() {
    // Proves the window includes its start and excludes its end, an open bound never hides,
    // and a disabled banner never shows.
    let state = crate::testing::replay::<ShopBanners>(&[created(christmas())]);
    let banner = &state.banners[&banner_id()];
    assert!(!banner.shows_at(utc("2025-11-30T23:59:59Z")));
    assert!(banner.shows_at(utc("2025-12-01T00:00:00Z")));
    assert!(banner.shows_at(utc("2025-12-25T23:59:59Z")));
    assert!(!banner.shows_at(utc("2025-12-26T00:00:00Z")));
    let always = crate::testing::replay::<ShopBanners>(&[created(plain())]);
    assert!(always.banners[&banner_id()].shows_at(test_now()));
    let off = crate::testing::replay::<ShopBanners>(&[created(plain()), disabled()]);
    assert!(!off.banners[&banner_id()].shows_at(test_now()));
}

#[test]
fn a_search_looks_in_the_name_and_the_title_ignoring_case() {
    // Proves the search matches the back-office name and the shown title, in any case, and
    // nothing else.
    let state = crate::testing::replay::<ShopBanners>(&[created(christmas())]);
    let banner = &state.banners[&banner_id()];
    assert!(banner.matches("NOËL"));
    assert!(banner.matches("sapin"));
    assert!(
        !banner.matches("calendriers"),
        "the description is not searched"
    );
}

#[test]
fn a_banner_points_at_a_live_product_or_an_existing_category() {
    // Proves the catalog check: a known product or category passes, an unknown one or a
    // retired product is refused naming the field, and links or no action need no catalog.
    let mut catalog = catalog();
    assert!(check_target(&christmas().action, &catalog).is_ok());
    let category = BannerAction::Category {
        category_id: id(TIRAGES),
    };
    assert!(check_target(&category, &catalog).is_ok());
    assert!(check_target(&BannerAction::None, &catalog).is_ok());
    let unknown = [
        (
            BannerAction::Product {
                product_id: id(0xFFFF),
            },
            "action.product_id",
        ),
        (
            BannerAction::Category {
                category_id: id(0xFFFF),
            },
            "action.category_id",
        ),
    ];
    for (action, wanted) in unknown {
        let error = check_target(&action, &catalog).expect_err("unknown target");
        assert!(matches!(error, DomainError::Validation { ref field, .. } if field == wanted));
    }
    catalog = catalog.evolve(&CatalogEvent::ProductRetired {
        shop_id: shop_id(),
        product_id: id(TIRAGE_10X15),
    });
    let error = check_target(&christmas().action, &catalog).expect_err("retired");
    assert_eq!(error.code(), "validation");
}

/// A change to the Christmas banner, and the field its refusal must name.
type Refusal = (fn(&mut BannerContent), &'static str);

/// Creating the Christmas banner altered by each case is refused naming its field.
#[track_caller]
fn expect_refused(cases: &[Refusal]) {
    for (alter, wanted) in cases {
        let mut content = christmas();
        alter(&mut content);
        given::<ShopBanners>([])
            .when(create(content))
            .then_err(|e| matches!(e, DomainError::Validation { field, .. } if field == wanted));
    }
}
