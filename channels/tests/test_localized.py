"""Channels priced and worded per market from the localization app: stored market prices
(sale price with its dates, compare-at, minor units, DDP landed cost included as stored),
translations along the fallback chain, override feeds, localized batches to the sandbox,
custom labels in payloads, and the broker's visibility timeout."""

import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys
from decimal import Decimal

import defusedxml.ElementTree as ET
import pytest
from django.utils import timezone

from catalog.models import ProductVariant
from channels.adapters.base import ChannelItem
from channels.adapters.google_merchant import GoogleMerchantAdapter
from channels.adapters.meta import MetaAdapter
from channels.adapters.pinterest import PinterestAdapter
from channels.feeds import feed_check
from channels.items import iter_items
from channels.listings import listing_update, listings_sync
from channels.models import ChannelListing
from channels.publishing import publish_plan_apply, publish_plan_create
from channels.sandbox.control import control_headers
from channels.tests.listing_fixtures import price_markets, seeded_account
from channels.tests.test_feeds import G, body_of
from channels.tests.test_publish import meta_sandbox, pinterest_sandbox, run_all_batches
from localization.models import Market, MarketPrice
from localization.selectors import translated_texts
from localization.services import exchange_rate_set_manual, market_create, market_variant_price_set
from localization.translations import translation_set
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db

TWO_MARKETS = [
    {"market": "US", "country": "US", "currency": "USD", "language": "en"},
    {"market": "FR", "country": "FR", "currency": "EUR", "language": "fr"},
]


def france(shop):
    """A French market in EUR at a manual 0.9 rate, prices not rounded by a rule."""
    with shop_context(shop):
        exchange_rate_set_manual(shop=shop, base="USD", quote="EUR", rate="0.9")
        return market_create(
            shop=shop,
            name="France",
            countries=["FR"],
            currency="EUR",
            languages=["fr"],
            rate_mode="manual",
            rounding="none",
            tax_inclusive=True,
        )


def feed_rows(client, account, name):
    response = client.get(f"/feeds/{account.feed_token}/{name}")
    assert response.status_code == 200, name
    return list(csv.DictReader(io.StringIO(body_of(response))))


def test_feeds_carry_stored_prices_and_translations_per_market(client, shop_a):
    market = france(shop_a)
    with shop_context(shop_a):
        from catalog.models import Product
        from catalog.seeding import seed_catalog

        seed_catalog(shop=shop_a, variants=12, seed=5)
        Product.objects.update(status=Product.Status.ACTIVE)
        product = Product.objects.order_by("id").first()
        translation_set(shop=shop_a, kind="product", target_id=product.pk, field="title", language="fr", value="Titre")
        translation_set(
            shop=shop_a, kind="product", target_id=product.pk, field="description", language="fr", value="Texte"
        )
    account = seeded_account(shop_a, variants=0, markets=TWO_MARKETS)
    with shop_context(shop_a):
        stored = {
            sku: (amount, compare_at)
            for sku, amount, compare_at in MarketPrice.objects.filter(market=market).values_list(
                "variant__sku", "amount", "compare_at_amount"
            )
        }
        translated_skus = set(ProductVariant.objects.filter(product=product).values_list("sku", flat=True))
        titles = dict(ProductVariant.objects.values_list("sku", "product__title"))
    assert len(stored) == 12

    french = feed_rows(client, account, "meta-fr-fr.csv")
    assert len(french) == 12
    cent = Decimal("0.01")
    for row in french:
        amount, compare_at = stored[row["id"]]
        if compare_at is not None and compare_at > amount:
            # Compare-at: the struck-through price is the regular price, the price the sale price.
            assert (
                row["price"] == f"{compare_at.quantize(cent)} EUR"
                and row["sale_price"] == f"{amount.quantize(cent)} EUR"
            )
        else:
            assert row["price"] == f"{amount.quantize(cent)} EUR" and not row["sale_price"]
        assert row["title"] == ("Titre" if row["id"] in translated_skus else titles[row["id"]])
    home = feed_rows(client, account, "meta-us-en.csv")
    assert {r["price"].split()[1] for r in home} == {"USD"}
    assert all(r["title"] == titles[r["id"]] for r in home)  # English: the catalog's own text

    country = feed_rows(client, account, "meta-overrides-country.csv")
    assert {r["override"] for r in country} == {"FR"} and len(country) == 12
    assert all(r["price"].endswith(" EUR") and "utm_source=meta" in r["link"] for r in country)
    language = ET.fromstring(body_of(client.get(f"/feeds/{account.feed_token}/meta-overrides-language.xml")))
    overrides = {o.find(f"{G}id").text: o for o in language.findall("./channel/item")}
    assert {o.find(f"{G}override").text for o in overrides.values()} == {"fr_XX"}
    for sku in translated_skus:
        assert overrides[sku].find(f"{G}title").text == "Titre"
        assert overrides[sku].find(f"{G}description").text == "Texte"


def test_translation_fallback_chain_selector(in_shop_a, shop_a):
    account = seeded_account(shop_a, variants=3)
    product_id = ProductVariant.objects.order_by("id").first().product_id
    translation_set(shop=shop_a, kind="product", target_id=product_id, field="title", language="fr", value="Titre fr")
    texts = translated_texts(product_ids=[product_id], language="fr-CA", default_language="en")
    assert texts[product_id]["title"] == ("Titre fr", "fr")  # fr-CA → fr
    translation_set(
        shop=shop_a, kind="product", target_id=product_id, field="title", language="fr-CA", value="Titre québécois"
    )
    texts = translated_texts(product_ids=[product_id], language="fr-CA", default_language="en")
    assert texts[product_id]["title"] == ("Titre québécois", "fr-CA")
    assert "description" not in texts[product_id]  # untranslated: the caller keeps the catalog text
    # The listing's own title (in the shop's language) still wins in the shop's language.
    listings_sync(account=account)
    variant = ProductVariant.objects.filter(product_id=product_id).order_by("id").first()
    listing_update(listing=ChannelListing.objects.get(variant=variant), title_override="Own title")
    built = next(b for b in iter_items(account) if b.variant_id == variant.pk)
    assert built.item.title == "Own title"
    fr_ca = {"market": "CA", "country": "US", "currency": "USD", "language": "fr-CA"}
    built = next(b for b in iter_items(account, fr_ca) if b.variant_id == variant.pk)
    assert built.item.title == "Titre québécois"


def test_sale_price_with_dates_in_meta_and_google_feeds(client, shop_a):
    account = seeded_account(shop_a, variants=4)
    google = seeded_account(shop_a, variants=0, channel="google_merchant", name="Google")
    starts = timezone.now() + dt.timedelta(days=1)
    ends = starts + dt.timedelta(days=7)
    with shop_context(shop_a):
        home = Market.objects.get(is_home=True)
        variant = ProductVariant.objects.order_by("id").first()
        regular = variant.price.amount
        market_variant_price_set(
            market=home, variant=variant, sale_price=Decimal("5.00"), sale_starts_at=starts, sale_ends_at=ends
        )
        price_markets(shop_a)
    rows = {r["id"]: r for r in feed_rows(client, account, "meta-us-en.csv")}
    row = rows[variant.sku]
    assert row["price"] == f"{regular:.2f} USD" and row["sale_price"] == "5.00 USD"
    start_text, end_text = row["sale_price_effective_date"].split("/")
    assert dt.datetime.strptime(start_text, "%Y-%m-%dT%H:%M%z") == starts.replace(second=0, microsecond=0)
    assert dt.datetime.strptime(end_text, "%Y-%m-%dT%H:%M%z") == ends.replace(second=0, microsecond=0)
    assert all(not r["sale_price_effective_date"] for sku, r in rows.items() if sku != variant.sku)
    xml = ET.fromstring(body_of(client.get(f"/feeds/{google.feed_token}/google_merchant-us-en.xml")))
    item = next(i for i in xml.findall("./channel/item") if i.find(f"{G}id").text == variant.sku)
    assert item.find(f"{G}sale_price").text == "5.00 USD"
    assert item.find(f"{G}sale_price_effective_date").text == row["sale_price_effective_date"]


def test_compare_at_and_minor_units(in_shop_a, shop_a):
    account = seeded_account(shop_a, variants=2)
    variant = ProductVariant.objects.order_by("id").first()
    MarketPrice.objects.filter(variant=variant).update(amount=Decimal("9.9950"), compare_at_amount=Decimal("14.0000"))
    built = next(b for b in iter_items(account) if b.variant_id == variant.pk)
    # Compare-at above the price: shown as the regular price, the price as the sale price.
    assert built.item.price == Decimal("14.00") and built.item.sale_price == Decimal("10.00")
    assert MetaAdapter().build_payload(built.item)["sale_price"] == "10.00 USD"


def test_missing_market_price_is_an_item_problem(in_shop_a, shop_a):
    account = seeded_account(shop_a, variants=5, channel="snapchat")
    variant = ProductVariant.objects.order_by("id").first()
    MarketPrice.objects.filter(variant=variant).delete()
    check = feed_check(account)
    assert check["invalid"] == 1
    problem = check["items"][0]
    assert problem["id"] == variant.sku and problem["problems"][0]["field"] == "price"
    assert "No stored price" in problem["problems"][0]["message"]
    plan = publish_plan_create(account=account)
    assert plan.creates == 4 and plan.invalid == 1
    listing = ChannelListing.objects.get(variant=variant)
    assert listing.status == "error" and "No stored price" in listing.errors[0]["message"]


def test_market_without_localization_market_is_reported(in_shop_a, shop_a):
    # The account was connected to the Japan market, which the merchant later switched off.
    japan = market_create(shop=shop_a, name="Japan", countries=["JP"], currency="JPY", languages=["ja"])
    account = seeded_account(
        shop_a, variants=2, markets=[{"market": "JP", "country": "JP", "currency": "JPY", "language": "ja"}]
    )
    assert account.markets[0]["market_id"] == japan.pk
    Market.objects.filter(pk=japan.pk).update(is_active=False)
    check = feed_check(account)
    assert check["invalid"] == 2 and "No active market" in check["items"][0]["problems"][0]["message"]


def test_multi_market_plan_shows_one_update_for_one_translation(in_shop_a, shop_a):
    france(shop_a)
    account = seeded_account(shop_a, variants=60, channel="meta", markets=TWO_MARKETS)
    first = publish_plan_create(account=account)
    assert first.creates == 60
    item = first.items.first()
    assert "FR:price" in item.payload and item.payload["FR:price"].endswith(" EUR") and "fr_XX:title" in item.payload
    # Record the plan as accepted (as the channel would), then change one text in French.
    for plan_item in first.items.select_related("listing"):
        ChannelListing.objects.filter(pk=plan_item.listing_id).update(
            status="published", accepted_hash=plan_item.payload_hash, accepted_payload=plan_item.payload
        )
    product_id = ProductVariant.objects.order_by("id").first().product_id
    variants = ProductVariant.objects.filter(product_id=product_id).count()
    translation_set(shop=shop_a, kind="product", target_id=product_id, field="title", language="fr", value="Neu")
    plan = publish_plan_create(account=account)
    assert (plan.creates, plan.updates, plan.unchanged) == (0, variants, 60 - variants)
    assert set(plan.items.first().changes) == {"fr_XX:title"}


def test_custom_labels_in_payloads():
    item = ChannelItem(
        id="S1",
        title="T",
        description="D",
        link="https://x.example/p",
        image_link="https://x.example/i.jpg",
        price=Decimal("9.99"),
        currency="USD",
        brand="B",
        custom_labels=["summer", "", "bestseller"],
    )
    meta = MetaAdapter().build_payload(item)
    assert meta["custom_label_0"] == "summer" and meta["custom_label_2"] == "bestseller"
    assert "custom_label_1" not in meta
    assert PinterestAdapter().build_payload(item)["attributes"]["custom_label_0"] == "summer"
    assert GoogleMerchantAdapter().build_payload(item)["custom_label_2"] == "bestseller"


@pytest.mark.django_db(transaction=True)
def test_meta_localized_batches_sent_and_accepted(live_server, shop_a):
    france(shop_a)
    account = seeded_account(shop_a, variants=30, markets=TWO_MARKETS, api_base_url=meta_sandbox(live_server))
    with shop_context(shop_a):
        variant = ProductVariant.objects.order_by("id").first()
        translation_set(
            shop=shop_a, kind="product", target_id=variant.product_id, field="title", language="fr", value="Titre"
        )
        listings_sync(account=account)
        listing_update(listing=ChannelListing.objects.get(variant=variant), custom_labels=["summer"])
        plan = publish_plan_create(account=account)
        publish_plan_apply(plan=plan)
        run_all_batches(plan)
        plan.refresh_from_db()
        batch = plan.batches.get()
        euro = MarketPrice.objects.get(market__name="France", variant=variant).amount
    assert plan.status == "applied", list(plan.items.values_list("listing__errors", flat=True))
    assert set(batch.handles) == {"main", "localized"}
    items = sandbox_details(live_server, "meta", "1234567890")
    assert len(items) == 30
    mine = items[variant.sku]
    assert mine["data"]["custom_label_0"] == "summer"
    assert mine["overrides"]["COUNTRY:FR"]["price"] == f"{euro.quantize(Decimal('0.01'))} EUR"
    assert "title" not in mine["overrides"]["COUNTRY:FR"]
    assert mine["overrides"]["LANGUAGE:fr_XX"]["title"] == "Titre"
    assert all(set(i["overrides"]) == {"COUNTRY:FR", "LANGUAGE:fr_XX"} for i in items.values())
    # A second apply of a change updates the overrides it created (UPDATE, accepted).
    with shop_context(shop_a):
        translation_set(
            shop=shop_a, kind="product", target_id=variant.product_id, field="title", language="fr", value="Nouveau"
        )
        again = publish_plan_create(account=account)
        assert again.updates >= 1 and again.creates == 0
        publish_plan_apply(plan=again)
        run_all_batches(again)
        again.refresh_from_db()
    assert again.status == "applied"
    assert sandbox_details(live_server, "meta", "1234567890")[variant.sku]["overrides"]["LANGUAGE:fr_XX"]["title"] == (
        "Nouveau"
    )


@pytest.mark.django_db(transaction=True)
def test_pinterest_one_batch_per_country_and_language(live_server, shop_a):
    france(shop_a)
    account = seeded_account(
        shop_a, variants=12, channel="pinterest", markets=TWO_MARKETS, api_base_url=pinterest_sandbox(live_server)
    )
    with shop_context(shop_a):
        plan = publish_plan_create(account=account)
        publish_plan_apply(plan=plan)
        run_all_batches(plan)
        plan.refresh_from_db()
        handles = plan.batches.get().handles
    assert plan.status == "applied"
    assert set(handles) == {"US|en", "FR|fr"}
    items = sandbox_details(live_server, "pinterest", "549755885175")
    assert len(items) == 12
    for item in items.values():
        assert item["overrides"]["US|EN"]["price"].endswith(" USD")
        assert item["overrides"]["FR|FR"]["price"].endswith(" EUR")


def sandbox_details(live_server, channel, key):
    import httpx

    response = httpx.get(
        f"{live_server.url}/sandbox/_control/{channel}/{key}/?details=1", headers=control_headers(), timeout=60
    )
    return response.json()["items"]


def test_meta_sandbox_refuses_prices_in_a_language_override():
    from channels.sandbox.meta import meta_override

    problems = meta_override({"type": "LANGUAGE", "value": "fr_XX"}, {"title": "T", "price": "1.00 EUR"})
    assert [p["field"] for p in problems] == ["price"]
    assert meta_override({"type": "COUNTRY", "value": "FR"}, {"price": "1.00 EUR"}) == []


@pytest.mark.parametrize(
    "url,expected",
    [
        ("redis://127.0.0.1:6379/9", {"visibility_timeout": 900}),
        ("sqs://", {"visibility_timeout": 900}),
        ("amqp://guest@localhost//", {}),
    ],
)
def test_broker_visibility_timeout(url, expected):
    code = (
        "import json, os; os.environ['DJANGO_SETTINGS_MODULE']='shopadmin.settings'; "
        "import django; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.CELERY_BROKER_TRANSPORT_OPTIONS))"
    )
    env = {k: v for k, v in os.environ.items() if k != "CELERY_VISIBILITY_TIMEOUT"}
    env.update({"CELERY_BROKER_URL": url, "DEBUG": "true", "DJANGO_SETTINGS_MODULE": "shopadmin.settings"})
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == expected
    env["CELERY_VISIBILITY_TIMEOUT"] = "120"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == ({"visibility_timeout": 120} if expected else {})


def test_stored_prices_re_plan_the_shops_accounts(in_shop_a, shop_a, monkeypatch, django_capture_on_commit_callbacks):
    from channels.listings import listing_settings_for
    from localization import pricing

    account = seeded_account(shop_a, variants=2)
    assert listing_settings_for(account).replan_requested_at is None

    def failing(market, shop):
        raise RuntimeError("no rate service")

    with monkeypatch.context() as patched:
        patched.setattr(pricing, "market_params", failing)
        with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
            pricing.market_prices_recompute(shop_id=shop_a.pk)
    assert listing_settings_for(account).replan_requested_at is None
    with django_capture_on_commit_callbacks(execute=True):
        pricing.market_prices_recompute(shop_id=shop_a.pk)
    assert listing_settings_for(account).replan_requested_at is not None


def test_ddp_market_publishes_the_landed_cost_priced_in(client, shop_a):
    with shop_context(shop_a):
        exchange_rate_set_manual(shop=shop_a, base="USD", quote="GBP", rate="0.8")
        market = market_create(
            shop=shop_a,
            name="United Kingdom",
            countries=["GB"],
            currency="GBP",
            languages=["en-GB"],
            rate_mode="manual",
            rounding="none",
            tax_inclusive=True,
            duty_mode="DDP",
            ddp_pricing="price_in",
        )
    account = seeded_account(
        shop_a,
        variants=6,
        markets=[
            {"market": "US", "country": "US", "currency": "USD", "language": "en"},
            {"market": "GB", "country": "GB", "currency": "GBP", "language": "en-GB"},
        ],
    )
    with shop_context(shop_a):
        stored = {
            sku: (amount, compare_at, landed)
            for sku, amount, compare_at, landed in MarketPrice.objects.filter(market=market).values_list(
                "variant__sku", "amount", "compare_at_amount", "landed_cost_amount"
            )
        }
    assert stored and all(landed > 0 for _a, _c, landed in stored.values())  # import VAT priced in
    cent = Decimal("0.01")
    for row in feed_rows(client, account, "meta-gb-en-gb.csv"):
        amount, compare_at, _landed = stored[row["id"]]
        shown = row["sale_price"] if compare_at is not None and compare_at > amount else row["price"]
        assert shown == f"{amount.quantize(cent)} GBP"
