"""A plan builds payloads only for the listings whose inputs changed since the channel accepted
their payload (inputs hashed in PostgreSQL), and says exactly what a plan that builds every
payload says: the same creates, updates, deletes, unchanged and invalid, items and payloads."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Count, F
from django.utils import timezone

from catalog.models import Category, Location, Product, ProductMedia, ProductVariant, StockLevel
from catalog.services import media_add, product_update, stock_set, variant_delete
from channels import publishing
from channels.listings import listing_settings_update
from channels.models import ChannelAccount, ChannelListing, ListingRule
from channels.publishing import plan_compute, publish_plan_apply, publish_plan_create
from channels.tests.factories import make_account
from channels.tests.listing_fixtures import price_markets, seeded_account
from channels.tests.test_localized import TWO_MARKETS, france
from localization.models import MarketPrice
from localization.translations import translation_set

pytestmark = pytest.mark.django_db

COMPARED = ("changes", "invalid", "unchanged", "deletes", "with_problems")


def fast_and_full(account):
    """The plan computed from the inputs hashes, then by building every payload."""
    fast = plan_compute(account=account)
    full = plan_compute(account=account, full=True)
    for key in COMPARED:
        assert fast[key] == full[key], key
    return fast, full


def feed_account(shop, variants):
    """A Meta account in two markets whose channel fetches the feed: applying a plan records
    its payloads as accepted, with no channel call."""
    france(shop)
    account = seeded_account(shop, variants=variants, channel="meta", markets=TWO_MARKETS)
    ChannelAccount.objects.filter(pk=account.pk).update(publish_method=ChannelAccount.PublishMethod.FEED)
    account.refresh_from_db()
    return account


def variants_of(product):
    return set(ProductVariant.objects.filter(product=product).values_list("id", flat=True))


# Few listings to build are read by their ids, many over the catalog in id ranges: both ways.
@pytest.mark.parametrize("dense_share", [1.0, 0.0], ids=["by_ids", "by_ranges"])
def test_fast_plan_equals_full_plan_over_a_mix_of_changes(in_shop_a, shop_a, monkeypatch, dense_share):
    monkeypatch.setattr(publishing, "DENSE_SHARE", dense_share)
    account = feed_account(shop_a, variants=80)
    products = list(Product.objects.order_by("id"))
    newcomer = products[-1]  # selected only after the first publish
    product_update(product=newcomer, status=Product.Status.DRAFT)
    publish_plan_apply(plan=publish_plan_create(account=account))
    assert ChannelListing.objects.exclude(accepted_inputs_hash="").count() == 80 - len(variants_of(newcomer))

    nothing, _full = fast_and_full(account)
    assert nothing["built"] == 0 and not nothing["changes"]

    variants = list(ProductVariant.objects.exclude(product=newcomer).order_by("id"))
    touched = set()
    # Price in the second market, a sale that starts tomorrow in the first.
    priced, on_sale = variants[0], variants[1]
    MarketPrice.objects.filter(variant=priced, currency="EUR").update(amount=Decimal("77.7700"))
    MarketPrice.objects.filter(variant=on_sale, currency="USD").update(
        sale_amount=Decimal("1.0000"),
        sale_starts_at=timezone.now() + dt.timedelta(days=1),
        sale_ends_at=timezone.now() + dt.timedelta(days=8),
    )
    touched |= {priced.pk, on_sale.pk}
    # Stock, and a weight Meta does not show (built again, unchanged).
    stocked, weighed = variants[2], variants[3]
    stock_set(variant=stocked, location=Location.objects.order_by("id").first(), on_hand=999)
    ProductVariant.objects.filter(pk=weighed.pk).update(weight_grams=(weighed.weight_grams or 0) + 5)
    touched |= {stocked.pk, weighed.pk}
    # Per product: the title, a French translation, a new first image.
    others = [p for p in products[:-1] if not variants_of(p) & touched]
    titled, translated, pictured = others[0], others[1], others[2]
    product_update(product=titled, title="A title written again")
    translation_set(shop=shop_a, kind="product", target_id=translated.pk, field="title", language="fr", value="Neu")
    ProductMedia.objects.filter(product=pictured).update(position=F("position") + 1)
    media_add(product=pictured, url="https://img.example.com/first.jpg", position=0)
    touched |= variants_of(titled) | variants_of(translated) | variants_of(pictured)
    # A deleted variant, a product selected now, an item the channel would refuse.
    spared = [v for v in variants if v.pk not in touched]
    doomed, refused = spared[0], spared[1]
    doomed_listing = ChannelListing.objects.get(variant=doomed)
    variant_delete(variant=doomed)
    ChannelListing.objects.filter(variant=refused).update(title_override="t" * 250)  # over Meta's 200
    product_update(product=newcomer, status=Product.Status.ACTIVE)
    touched |= {refused.pk} | variants_of(newcomer)

    fast, full = fast_and_full(account)
    assert fast["built"] == len(touched) < full["built"]
    listing_of = dict(ChannelListing.objects.values_list("variant_id", "id"))
    by_action = {}
    for listing_id, action, _item, _payload, _digest in fast["changes"]:
        by_action.setdefault(action, set()).add(listing_id)
    unchanged_again = {listing_of[weighed.pk]}
    assert by_action["create"] == {listing_of[v] for v in variants_of(newcomer)}
    assert by_action["update"] == {listing_of[v] for v in touched} - by_action["create"] - unchanged_again - {
        listing_of[refused.pk]
    }
    assert fast["deletes"] == [doomed_listing.pk]
    assert list(fast["invalid"]) == [listing_of[refused.pk]] and fast["with_problems"] == 1
    assert set(fast["inputs"]) == {listing_of[v] for v in touched}

    plan = publish_plan_create(account=account)
    assert (plan.creates, plan.updates, plan.deletes, plan.invalid, plan.unchanged) == (
        len(by_action["create"]),
        len(by_action["update"]),
        1,
        1,
        fast["unchanged"],
    )
    planned = {i.listing_id: (i.action, i.item, i.payload, i.payload_hash) for i in plan.items.exclude(action="delete")}
    assert planned == {c[0]: (c[1], c[2], c[3], c[4]) for c in full["changes"]}
    assert all(plan.items.exclude(action="delete").values_list("inputs_hash", flat=True))

    # Accepted: only the refused item is built again (its problems are checked every time);
    # the listing whose payload did not change keeps the inputs it was built from.
    publish_plan_apply(plan=plan)
    after, _full = fast_and_full(account)
    assert after["built"] == 1 and not after["changes"] and after["with_problems"] == 1


def test_account_settings_and_translations_change_every_payload_alike(in_shop_a, shop_a):
    account = feed_account(shop_a, variants=30)
    publish_plan_apply(plan=publish_plan_create(account=account))
    listing_settings_update(account=account, storefront_url="https://shop.example.org")
    fast, _full = fast_and_full(account)
    assert fast["built"] == 30 and len(fast["changes"]) == 30
    publish_plan_apply(plan=publish_plan_create(account=account))
    # A translation in the shop's language: the title in every market (French falls back to it).
    product = Product.objects.order_by("id").first()
    translation_set(shop=shop_a, kind="product", target_id=product.pk, field="title", language="en", value="Hello")
    fast, _full = fast_and_full(account)
    assert fast["built"] == len(variants_of(product)) == len(fast["changes"])
    assert all("title" in item[3] and item[3]["title"] == "Hello" for item in fast["changes"])


def test_prices_stored_again_unchanged_build_nothing(in_shop_a, shop_a):
    account = feed_account(shop_a, variants=20)
    publish_plan_apply(plan=publish_plan_create(account=account))
    price_markets(shop_a)  # every stored price written again, the same amounts
    fast, _full = fast_and_full(account)
    assert fast["built"] == 0 and fast["unchanged"] == 20


def test_a_change_in_each_kind_of_input_builds_exactly_the_listings_it_touches(in_shop_a, shop_a, monkeypatch):
    """Every input of a payload, changed behind the services' back (no timestamp moves): the
    plan builds the listings it touches, and no other, and says what the full plan says."""
    account = feed_account(shop_a, variants=40)
    publish_plan_apply(plan=publish_plan_create(account=account))
    listing_of = dict(ChannelListing.objects.filter(account=account).values_list("variant_id", "id"))
    variants = list(ProductVariant.objects.order_by("id"))
    products = list(Product.objects.order_by("id"))
    first, second = variants[0], variants[1]
    product = products[2]
    category = Category.objects.filter(products__isnull=False).order_by("id").first()
    location = Location.objects.filter(stock_levels__isnull=False).order_by("id").last()
    price = MarketPrice.objects.filter(variant=second).order_by("id").first()
    pictured = (
        Product.objects.annotate(images=Count("media")).filter(images__gte=2, pk__gt=product.pk).order_by("id").first()
    )
    media = ProductMedia.objects.filter(product=pictured).order_by("position", "id").first()
    stocked_there = set(StockLevel.objects.filter(location=location).values_list("variant_id", flat=True))

    def of_products(*chosen):
        return set(ProductVariant.objects.filter(product__in=chosen).values_list("id", flat=True))

    changes = [
        ("variant gtin", lambda: ProductVariant.objects.filter(pk=first.pk).update(gtin="00012345600012"), {first.pk}),
        ("variant sku", lambda: ProductVariant.objects.filter(pk=second.pk).update(sku="RENAMED-1"), {second.pk}),
        ("product brand", lambda: Product.objects.filter(pk=product.pk).update(brand="Other"), of_products(product)),
        (
            "product description",
            lambda: Product.objects.filter(pk=product.pk).update(description="Written again"),
            of_products(product),
        ),
        (
            "category",
            lambda: Category.objects.filter(pk=category.pk).update(
                google_product_category=(category.google_product_category or 0) + 1
            ),
            of_products(*category.products.all()),
        ),
        (
            "listing labels",
            lambda: ChannelListing.objects.filter(pk=listing_of[first.pk]).update(custom_labels=["sale"]),
            {first.pk},
        ),
        (
            "listing description",
            lambda: ChannelListing.objects.filter(pk=listing_of[second.pk]).update(description_override="Mine"),
            {second.pk},
        ),
        (
            "channel ids",
            lambda: ChannelListing.objects.filter(pk=listing_of[first.pk]).update(channel_item_id="ch-1"),
            {first.pk},
        ),
        (
            "image url",
            lambda: ProductMedia.objects.filter(pk=media.pk).update(url="https://img.example.com/new.jpg"),
            of_products(pictured),
        ),
        ("image removed", lambda: ProductMedia.objects.filter(pk=media.pk).delete(), of_products(pictured)),
        (
            "stock",
            lambda: StockLevel.objects.filter(variant=second).update(allocated=F("allocated") + 1),
            {second.pk},
        ),
        (
            "stock at a location",
            lambda: StockLevel.objects.filter(location=location).update(on_hand=F("on_hand") + 3),
            stocked_there,
        ),
        ("location closed", lambda: Location.objects.filter(pk=location.pk).update(is_active=False), stocked_there),
        (
            "compare-at price",
            lambda: MarketPrice.objects.filter(pk=price.pk).update(compare_at_amount=Decimal("999.0000")),
            {second.pk},
        ),
        (
            "sale ended",
            lambda: MarketPrice.objects.filter(pk=price.pk).update(
                sale_amount=Decimal("1.0000"), sale_ends_at=timezone.now() - dt.timedelta(days=1)
            ),
            {second.pk},
        ),
        (
            "payload code",
            lambda: monkeypatch.setattr(publishing, "_payload_code_digest", lambda channel: "another deployment"),
            set(listing_of),
        ),
    ]
    for kind, change, touched in changes:
        assert touched, kind
        change()
        fast, _full = fast_and_full(account)
        assert fast["built"] == len(touched), kind
        assert set(fast["inputs"]) == {listing_of[v] for v in touched}, kind
        publish_plan_apply(plan=publish_plan_create(account=account))
        assert fast_and_full(account)[0]["built"] == 0, kind


def test_deletes_are_the_listings_of_this_account_no_longer_selected(in_shop_a, shop_a):
    """The listings compared and deleted are this account's: another account's listings of the
    same variants, selected or not, are no part of its plan."""
    account = feed_account(shop_a, variants=20)
    other = make_account(shop_a, "meta", name="Other catalog")
    ChannelAccount.objects.filter(pk=other.pk).update(publish_method=ChannelAccount.PublishMethod.FEED)
    other.refresh_from_db()
    for each in (account, other):
        publish_plan_apply(plan=publish_plan_create(account=each))
    product = Product.objects.order_by("id").first()
    ListingRule.objects.create(shop=shop_a, account=account, action=ListingRule.Action.EXCLUDE, product=product)
    ListingRule.objects.create(
        shop=shop_a, account=other, action=ListingRule.Action.EXCLUDE, product=Product.objects.order_by("id").last()
    )
    fast, _full = fast_and_full(account)
    excluded = ChannelListing.objects.filter(account=account, variant__product=product).order_by("item_id", "id")
    assert fast["deletes"] == list(excluded.values_list("id", flat=True)) and fast["built"] == 0
    listings = ChannelListing.objects.count()
    plan = publish_plan_create(account=account)
    assert (plan.deletes, plan.creates, plan.updates) == (excluded.count(), 0, 0)
    assert ChannelListing.objects.count() == listings  # nothing new to list: no draft written
