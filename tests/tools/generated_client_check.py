#!/usr/bin/env python3
"""What an integrator does with `/openapi.json`: generate a typed Python client with
openapi-python-client, then run a photo shop's day through it against a live server.

Every request body is built with the generated models and every answer is parsed by them, so a
schema that disagrees with the wire (a required field the server omits, a nullable it does not
declare, a wrong type) fails here. The generator itself must not drop any schema or route: its
only accepted warnings are the zip downloads and the SVG QR codes, content types it does not
model (those routes are still generated; their answer is read as bytes).

Usage: generated_client_check.py BASE_URL OWNER_TOKEN FIXTURE_JSON WORK_DIR
Exit status 0 when everything held; otherwise the first failure is printed.
"""

import datetime
import importlib
import importlib.metadata
import importlib.util
import inspect
import json
import pkgutil
import re
import subprocess
import sys
import urllib.request
import uuid
from decimal import Decimal
from pathlib import Path

GENERATOR_VERSION = "0.29.1"
# The only generator warnings accepted: answers in application/zip and image/svg+xml, which it
# does not model.
ACCEPTED_WARNING = re.compile(r"Unsupported content_type (application/zip|image/svg\+xml)")


def fail(message):
    print(f"FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def generate_client(base_url, work_dir):
    """Generates the client from the served document; returns the imported package."""
    if importlib.util.find_spec("openapi_python_client") is None:
        fail(f"openapi-python-client is not installed for {sys.executable}: "
             f"python3 -m pip install openapi-python-client=={GENERATOR_VERSION} (as .ci/run does)")
    spec_path = work_dir / "openapi.json"
    with urllib.request.urlopen(f"{base_url}/openapi.json") as answer:
        spec_path.write_bytes(answer.read())
    package_dir = work_dir / "comptoir_client"
    generated = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate",
         "--path", str(spec_path), "--output-path", str(package_dir), "--meta", "none",
         "--overwrite"],
        capture_output=True, text=True, check=False)
    output = generated.stdout + generated.stderr
    check(generated.returncode == 0, f"the generator failed:\n{output}")
    check("Unable to process schema" not in output, f"the generator dropped schemas:\n{output}")
    warnings = [block for block in output.split("WARNING parsing ")[1:]]
    refused = [block for block in warnings if not ACCEPTED_WARNING.search(block)]
    check(not refused, "the generator skipped parts of the document:\n" + "\n".join(refused))
    sys.path.insert(0, str(work_dir))
    return importlib.import_module("comptoir_client")


class Endpoints:
    """The generated modules of one tag, one module per operation, imported when first named."""

    def __init__(self, package):
        self.package = package

    def __getattr__(self, operation):
        return importlib.import_module(f"{self.package}.{operation}")


class Shop:
    """The generated client's modules, and the shop this run sets up through them."""

    def __init__(self, client_package, base_url, owner_token):
        self.pkg = client_package
        self.models = importlib.import_module("comptoir_client.models")
        self.base_url = base_url
        self.owner = client_package.AuthenticatedClient(base_url=base_url, token=owner_token)
        self.shop_id = None
        self.manager = None
        self.storefront = None

    def api(self, tag):
        return Endpoints(f"comptoir_client.api.{tag}")

    def model(self, name, body):
        return getattr(self.models, name).from_dict(body)

    def as_key(self, secret):
        return self.pkg.AuthenticatedClient(base_url=self.base_url, token=secret)


def expect(response, status, what):
    """The parsed answer of `response`, which must have `status` and a parsed body."""
    body = response.content.decode("utf-8", "replace")[:600]
    check(response.status_code == status,
          f"{what}: status {response.status_code}, expected {status}: {body}")
    check(response.parsed is not None, f"{what}: the generated client parsed nothing: {body}")
    return response.parsed


def expect_problem(shop, response, status, code, what):
    problem = expect(response, status, what)
    check(isinstance(problem, shop.models.ProblemDto), f"{what}: not a ProblemDto: {problem!r}")
    check(problem.type_ == f"https://comptoir.dev/problems/{code}",
          f"{what}: problem type {problem.type_}, expected {code}")
    check(response.headers.get("content-type") == "application/problem+json",
          f"{what}: content type {response.headers.get('content-type')}")


def set_up_shop(shop, fixture):
    shops = shop.api("shops")
    body = {
        "name": "Studio généré",
        "organisation": fixture["organisation"],
        "currency": fixture["shop"]["currency"],
        "prices_include_tax": fixture["shop"]["prices_include_tax"],
        "document_patterns": {
            "invoice": fixture["shop"]["invoice_pattern"],
            "credit_note": fixture["shop"]["credit_note_pattern"],
            "delivery_slip": fixture["shop"]["delivery_slip_pattern"],
        },
        "payment_terms": "Payable à la commande",
    }
    created = shops.create_shop.sync_detailed(client=shop.owner, body=shop.model("ShopDto", body))
    created = expect(created, 201, "create the shop")
    shop.shop_id = created.shop_id
    listed = expect(shops.list_shops.sync_detailed(client=shop.owner, limit=200,
                                                   min_position=created.position),
                    200, "list the shops")
    check(shop.shop_id in [item.shop_id for item in listed.items], "the new shop is not listed")
    keys = {}
    for role in ["manager", "storefront"]:
        key_body = shop.model("CreateApiKey", {"role": role, "label": f"{role} key"})
        answer = shops.create_api_key.sync_detailed(shop.shop_id, client=shop.owner, body=key_body)
        keys[role] = expect(answer, 201, f"create the {role} key").secret
    shop.manager = shop.as_key(keys["manager"])
    shop.storefront = shop.as_key(keys["storefront"])
    packs = shop.api("packs")
    terms = shop.model("PackTermsDto", {"level": "Pro", "validity": {"months": 12},
                                        "transfer_allowance_bytes": 10**9,
                                        "order_allowance": 1000})
    code = expect(packs.mint_activation_code.sync_detailed(client=shop.owner, body=terms),
                  201, "mint an activation code").code
    activation = shop.model("ActivationInput", {"code": code})
    expect(packs.activate_pack.sync_detailed(shop.shop_id, client=shop.manager, body=activation),
           200, "activate the pack")


def load_catalog(shop, fixture):
    """Returns the product id per SKU and the delivery method id per fixture key."""
    catalog = shop.api("catalog")
    categories = {}
    for category in fixture["categories"]:
        body = shop.model("CategoryInput", {"name": category["name"]})
        answer = catalog.add_category.sync_detailed(shop.shop_id, client=shop.manager, body=body)
        categories[category["key"]] = expect(answer, 201, "add a category").category_id
    products = {}
    for product in fixture["products"]:
        body = shop.model("ProductInput", {
            "sku": product["sku"], "name": product["name"],
            "category_id": str(categories[product["category"]]),
            "vat_rate": product["vat_rate"], "weight_g": product["weight_g"],
            "tiers": [{"min_quantity": t["min_qty"], "unit_price": t["unit_price"]}
                      for t in product["tiers"]],
        })
        answer = catalog.add_product.sync_detailed(shop.shop_id, client=shop.manager, body=body)
        products[product["sku"]] = expect(answer, 201, f"add {product['sku']}").product_id
    methods = {}
    for method in fixture["delivery_methods"]:
        mode = "card" if method["payment_mode"] == "stripe" else method["payment_mode"]
        body = shop.model("DeliveryMethodInput", {
            "name": method["name"], "kind": method["kind"], "payment_mode": mode,
            "visible": method["visible"], "price": method["price"], "vat_rate": "20",
            "min_weight_g": method["min_weight_g"],
        })
        answer = catalog.add_delivery_method.sync_detailed(shop.shop_id, client=shop.manager,
                                                           body=body)
        methods[method["key"]] = expect(answer, 201, "add a delivery method").delivery_method_id
    return products, methods


def order_body(methods):
    return {
        "customer": {"email": "integrateur@example.fr", "name": "Inès Intégratrice"},
        "lines": [{"sku": "TIR-10x15", "quantity": 120}, {"sku": "TIR-13x18", "quantity": 2}],
        "delivery_method_id": str(methods["colissimo"]),
        "shipping_address": {"line1": "3 place Bellecour", "postal_code": "69002",
                             "city": "Lyon", "country": "FR"},
    }


def place_twice(shop, body):
    """Places the order, then retries it with the same Idempotency-Key: one order."""
    orders = shop.api("orders")
    key = f"generated-{uuid.uuid4()}"
    placed = expect(orders.place_order.sync_detailed(
        shop.shop_id, client=shop.storefront, body=shop.model("PlaceOrderInput", body),
        idempotency_key=key), 201, "place the order")
    again = orders.place_order.sync_detailed(
        shop.shop_id, client=shop.storefront, body=shop.model("PlaceOrderInput", body),
        idempotency_key=key)
    replayed = expect(again, 201, "retry the order")
    check(replayed.order_id == placed.order_id,
          f"a retry placed another order: {placed.order_id} then {replayed.order_id}")
    # 120 prints at the 100+ tier (0.22) and 2 at the first (0.69), then Colissimo at 4.90.
    expected_total = Decimal("120") * Decimal("0.22") + 2 * Decimal("0.69") + Decimal("4.90")
    total = Decimal(placed.totals.total_incl_vat)
    check(total == expected_total, f"total {total}, expected {expected_total}")
    return placed


def pay_and_read_invoice(shop, placed):
    orders, documents = shop.api("orders"), shop.api("documents")
    payment = shop.model("PaymentInput", {"method": "card", "amount": placed.totals.total_incl_vat,
                                          "external_payment_id": f"pi_{uuid.uuid4().hex}"})
    paid = expect(orders.record_payment.sync_detailed(
        shop.shop_id, placed.order_id, client=shop.storefront, body=payment),
        200, "record the payment")
    invoice_ref = [d for d in paid.issued if str(d.kind) == "invoice"]
    check(len(invoice_ref) == 1, f"the payment issued {paid.issued!r}")
    number = invoice_ref[0].number
    invoice = expect(documents.get_invoice.sync_detailed(
        shop.shop_id, number, client=shop.manager, min_position=paid.position),
        200, "read the invoice")
    check(invoice.totals.total_incl_vat == placed.totals.total_incl_vat,
          f"invoice total {invoice.totals.total_incl_vat} for an order of "
          f"{placed.totals.total_incl_vat}")
    vat_sum = sum(Decimal(rate.vat_amount) for rate in invoice.totals.vat_breakdown)
    check(vat_sum == Decimal(invoice.totals.total_vat),
          f"VAT per rate {vat_sum} != {invoice.totals.total_vat}")
    listed = expect(documents.list_invoices.sync_detailed(
        shop.shop_id, client=shop.manager, min_position=paid.position), 200, "list invoices")
    check(number in [row.number for row in listed.items], f"{number} is not listed")
    return paid, number


def ship_and_credit(shop, placed, invoice_number):
    orders, documents = shop.api("orders"), shop.api("documents")
    shipped = expect(orders.ship_order.sync_detailed(
        shop.shop_id, placed.order_id, client=shop.manager,
        body=shop.model("ShipInput", {"tracking_number": "6A123"})), 200, "ship the order")
    check(any(str(d.kind) == "delivery_slip" for d in shipped.issued), "shipping issued no slip")
    returned = shop.model("ReturnInput", {"lines": [{"line_number": 2, "quantity": 1}],
                                          "settlement": {"type": "store_credit"}})
    credited = expect(orders.return_lines.sync_detailed(
        shop.shop_id, placed.order_id, client=shop.manager, body=returned),
        201, "return a line")
    note_refs = [d for d in credited.issued if str(d.kind) == "credit_note"]
    check(len(note_refs) == 1, f"the return issued {credited.issued!r}")
    note = expect(documents.get_credit_note.sync_detailed(
        shop.shop_id, note_refs[0].number, client=shop.manager, min_position=credited.position),
        200, "read the credit note")
    check(note.invoice_number == invoice_number,
          f"the credit note refers to {note.invoice_number}, not {invoice_number}")
    check(Decimal(note.totals.total_incl_vat) == Decimal("0.69"),
          f"credit note total {note.totals.total_incl_vat}")
    return credited


def bad_input_is_a_problem(shop, methods):
    orders = shop.api("orders")
    body = order_body(methods)
    body["lines"][0]["sku"] = "NOPE"
    unknown = orders.place_order.sync_detailed(shop.shop_id, client=shop.storefront,
                                               body=shop.model("PlaceOrderInput", body))
    expect_problem(shop, unknown, 404, "not-found", "an order of an unknown product")
    body = order_body(methods)
    body["lines"][0]["quantity"] = 0
    empty = orders.place_order.sync_detailed(shop.shop_id, client=shop.storefront,
                                             body=shop.model("PlaceOrderInput", body))
    expect_problem(shop, empty, 422, "validation", "an order line of no print")
    other_shop = orders.get_order.sync_detailed(uuid.uuid4(), uuid.uuid4(), client=shop.manager)
    expect_problem(shop, other_shop, 404, "not-found", "an order of another shop")


def coupon_order(shop, methods):
    """A 10 % coupon for all customers, typed by the manager, taken off an order; the coupon is
    read back with its scope and audience (both `oneOf` types)."""
    coupons, orders = shop.api("coupons"), shop.api("orders")
    terms = shop.model("CouponInput", {
        "name": "Printemps", "starts_on": "2024-01-01", "ends_on": "2030-12-31",
        "scope": {"order": {"reduction": {"percent": "10"}}},
        "audience": {"all_customers": {"max_total_uses": 5, "max_uses_per_customer": None}},
    })
    coupon = expect(coupons.create_coupon.sync_detailed(shop.shop_id, client=shop.manager,
                                                        body=terms), 201, "create a coupon")
    codes = shop.model("CodesInputTyped", {"kind": "typed", "code": "PRINTEMPS10"})
    expect(coupons.generate_codes.sync_detailed(shop.shop_id, coupon.coupon_id,
                                                client=shop.manager, body=codes),
           201, "type the coupon's code")
    body = order_body(methods)
    body["coupon_code"] = "printemps10"
    placed = expect(orders.place_order.sync_detailed(
        shop.shop_id, client=shop.storefront, body=shop.model("PlaceOrderInput", body)),
        201, "place an order with the coupon")
    goods = Decimal("120") * Decimal("0.22") + 2 * Decimal("0.69")
    expected = goods - (goods / 10).quantize(Decimal("0.01")) + Decimal("4.90")
    check(Decimal(placed.totals.total_incl_vat) == expected,
          f"total with the coupon {placed.totals.total_incl_vat}, expected {expected}")
    read = expect(coupons.get_coupon.sync_detailed(shop.shop_id, coupon.coupon_id,
                                                   client=shop.manager),
                  200, "read the coupon")
    check(read.active_uses == 1, f"coupon uses {read.active_uses}")
    scope = read.scope.to_dict()
    check(scope == {"order": {"reduction": {"percent": "10"}}}, f"scope read back as {scope}")
    audience = read.audience.to_dict()
    check(audience["all_customers"]["max_total_uses"] == 5, f"audience read back as {audience}")


def customer_messages(shop):
    """A registered customer, a message from the shop, its thread filtered by archive state,
    and the customer's space."""
    customers, messages = shop.api("customers"), shop.api("messages")
    registered = expect(customers.register_customer.sync_detailed(
        shop.shop_id, client=shop.manager,
        body=shop.model("CustomerInput", {"email": "Lea.Client@Example.fr", "first_name": "Léa",
                                          "last_name": "Client"})),
        201, "register a customer")
    sent = expect(messages.send_message.sync_detailed(
        shop.shop_id, registered.customer_id, client=shop.manager,
        body=shop.model("MessageInput", {"body": "Vos tirages sont prêts."})),
        201, "send a message")
    archived_filter = shop.models.ListMessagesArchived
    for wanted, count in [(archived_filter.ALL, 1), (archived_filter.ARCHIVED, 0)]:
        thread = expect(messages.list_messages.sync_detailed(
            shop.shop_id, registered.customer_id, client=shop.manager, archived=wanted,
            min_position=sent.position), 200, f"list {wanted} messages")
        check(len(thread.items) == count, f"{wanted}: {len(thread.items)} messages")
    space = expect(customers.customer_space.sync_detailed(
        shop.shop_id, registered.customer_id, client=shop.manager, min_position=sent.position),
        200, "read the customer space")
    check(space.customer.email.lower() == "lea.client@example.fr", f"space of {space.customer}")


def balanced_ledger(shop, position):
    ledger = shop.api("ledger")
    month = int(datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m"))
    # The shop's zone may already be in the next month at the turn of one: take both.
    following = month + 1 if month % 100 < 12 else (month // 100 + 1) * 100 + 1
    balance = expect(ledger.trial_balance.sync_detailed(
        shop.shop_id, client=shop.manager, from_month=month, to_month=following,
        min_position=position), 200, "read the trial balance")
    check(balance.total_debit == balance.total_credit and Decimal(balance.total_debit) > 0,
          f"trial balance {balance.total_debit} / {balance.total_credit}")


def storefront_settings(shop):
    """The manager sets the online shop's settings with the ETag its GET gave, the storefront
    key reads them back parsed, and the shop's QR code then answers an SVG."""
    shops = shop.api("shops")
    read = shops.get_storefront.sync_detailed(shop.shop_id, client=shop.manager)
    expect(read, 200, "read the storefront settings")
    body = shop.model("StorefrontDto", {
        "description": "Tirages en une heure.",
        "contact": {"email": "contact@studio.example", "phone": "+33 4 78 00 00 00"},
        "opening_hours": {"week": {"tuesday": [{"opens": "09:30", "closes": "19:00"}]},
                          "closed_days": [{"date": "2026-12-25", "note": "Noël"}]},
        "terms_of_sale": "Article 1 — Objet.",
        "online_payment": {"stripe": {"enabled": True, "publishable_key": "pk_test_51Hx0abcDEF"}},
        "links": {"storefront_url": "https://studio.example"},
    })
    written = shops.put_storefront.sync_detailed(shop.shop_id, client=shop.manager, body=body,
                                                 if_match=read.headers["etag"])
    written = expect(written, 200, "set the storefront settings")
    check(written.terms_version == 1, f"terms version {written.terms_version}")
    back = expect(shops.get_storefront.sync_detailed(shop.shop_id, client=shop.storefront), 200,
                  "read the storefront settings back")
    check(back.contact.email == "contact@studio.example", f"contact {back.contact}")
    check(back.payment_providers_offered == ["stripe"], f"{back.payment_providers_offered}")
    code = shops.shop_qr_code.sync_detailed(shop.shop_id, client=shop.manager)
    check(code.status_code == 200 and code.content.startswith(b"<?xml"),
          f"QR code: {code.status_code} {code.content[:80]!r}")


# GETs with the shop as only parameter whose answer the generator leaves as bytes (an SVG);
# `storefront_settings` checks it.
BYTE_ANSWERS = {"comptoir_client.api.shops.shop_qr_code"}


def every_shop_listing_parses(shop, position):
    """Every GET whose only path parameter is the shop and that needs no other parameter, called
    as the manager (who may read them all) with its defaults: a 200 the client parses."""
    import comptoir_client.api as api_package
    called = 0
    for module_info in pkgutil.walk_packages(api_package.__path__, "comptoir_client.api."):
        module = importlib.import_module(module_info.name)
        detailed = getattr(module, "sync_detailed", None)
        kwargs_of = getattr(module, "_get_kwargs", None)
        if detailed is None or kwargs_of is None:
            continue
        parameters = inspect.signature(detailed).parameters
        positional = [n for n, p in parameters.items() if p.kind == p.POSITIONAL_OR_KEYWORD]
        required = [n for n, p in parameters.items()
                    if p.kind == p.KEYWORD_ONLY and p.default is p.empty and n != "client"]
        if positional != ["shop_id"] or required:
            continue
        if kwargs_of(shop.shop_id)["method"] != "get":
            continue
        if module_info.name in BYTE_ANSWERS:
            continue
        extra = {"min_position": position} if "min_position" in parameters else {}
        answer = detailed(shop.shop_id, client=shop.manager, **extra)
        expect(answer, 200, module_info.name)
        called += 1
    check(called >= 20, f"only {called} listings called")
    return called


def main():
    if len(sys.argv) != 5:
        fail(__doc__)
    base_url, owner_token, fixture_path, work_dir = sys.argv[1:]
    fixture = json.loads(Path(fixture_path).read_text(encoding="utf-8"))
    client_package = generate_client(base_url, Path(work_dir))
    shop = Shop(client_package, base_url, owner_token)
    set_up_shop(shop, fixture)
    products, methods = load_catalog(shop, fixture)
    check(len(products) == len(fixture["products"]), f"products {products}")
    placed = place_twice(shop, order_body(methods))
    _, invoice_number = pay_and_read_invoice(shop, placed)
    credited = ship_and_credit(shop, placed, invoice_number)
    bad_input_is_a_problem(shop, methods)
    coupon_order(shop, methods)
    customer_messages(shop)
    balanced_ledger(shop, credited.position)
    storefront_settings(shop)
    listings = every_shop_listing_parses(shop, credited.position)
    version = importlib.metadata.version("openapi-python-client")
    print(f"generated client ok (openapi-python-client {version}): invoice {invoice_number}, "
          f"{listings} shop listings parsed")


if __name__ == "__main__":
    main()
