"""Listings: selection by product/category/all with exclusions, overrides, item building."""

from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest

from catalog.models import Category, Product, ProductVariant
from channels.items import iter_items
from channels.listings import (
    listing_rule_add,
    listing_settings_update,
    listing_update,
    listings_sync,
    selected_variants,
)
from channels.models import ChannelListing, ListingSettings
from channels.tests.listing_fixtures import seeded_account

pytestmark = pytest.mark.django_db


def test_new_account_lists_all_active_products(in_shop_a):
    account = seeded_account(in_shop_a, variants=20)
    Product.objects.filter(pk=Product.objects.order_by("id").first().pk).update(status=Product.Status.DRAFT)
    active = ProductVariant.objects.filter(product__status="active").count()
    assert 0 < active < 20
    assert selected_variants(account).count() == active
    assert listings_sync(account=account) == {"created": active}
    assert listings_sync(account=account) == {"created": 0}
    assert set(ChannelListing.objects.values_list("status", flat=True)) == {"draft"}


def test_selection_by_product_and_category_with_exclusions(in_shop_a):
    account = seeded_account(in_shop_a, variants=40)
    listing_settings_update(account=account, scope=ListingSettings.Scope.SELECTED)
    assert selected_variants(account).count() == 0
    category = Category.objects.filter(products__isnull=False).first()
    listing_rule_add(account=account, action="include", category=category)
    in_category = ProductVariant.objects.filter(product__category=category).count()
    assert selected_variants(account).count() == in_category
    other = Product.objects.exclude(category=category).first()
    listing_rule_add(account=account, action="include", product=other)
    assert selected_variants(account).count() == in_category + other.variants.count()
    excluded = Product.objects.filter(category=category).first()
    listing_rule_add(account=account, action="exclude", product=excluded)
    assert selected_variants(account).count() == in_category + other.variants.count() - excluded.variants.count()


def test_items_carry_market_price_stock_utm_and_overrides(in_shop_a):
    account = seeded_account(in_shop_a, variants=6, name="Spring US")
    listings_sync(account=account)
    variant = ProductVariant.objects.order_by("id").first()
    listing = ChannelListing.objects.get(variant=variant)
    listing_update(
        listing=listing,
        title_override="Better title",
        category_override="1604",
        custom_labels=["summer", "bestseller"],
    )
    built = next(iter_items(account))
    item = built.item
    assert item.id == variant.sku
    assert item.title == "Better title"
    assert item.google_product_category == "1604"
    assert built.custom_labels == ["summer", "bestseller"]
    assert item.price == Decimal(variant.price.amount)
    assert item.currency == "USD"
    available = sum(s.on_hand - s.allocated for s in variant.stock_levels.all())
    assert item.quantity == max(0, available)
    assert item.availability == ("in_stock" if available > 0 else "out_of_stock")
    query = parse_qs(urlparse(item.link).query)
    assert query["utm_source"] == ["meta"]
    assert query["utm_medium"] == ["social"]
    assert query["utm_campaign"] == ["Spring US"]
    assert item.link.startswith(f"https://alice.example.com/products/{variant.product.handle}?")
    with pytest.raises(Exception, match="custom label"):
        listing_update(listing=listing, custom_labels=["a", "b", "c", "d", "e", "f"])
