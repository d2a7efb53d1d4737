from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from catalog import services
from catalog.models import Product, ProductVariant, StockLevel, StockMovement
from catalog.services import StockChange
from catalog.signals import catalog_changed
from catalog.tests.factories import make_location, make_product

pytestmark = pytest.mark.django_db


def test_product_with_options_and_variants(in_shop_a):
    product = make_product(hs_code="6109.10.00", country_of_origin="pt")
    product.refresh_from_db()
    assert product.handle == "classic-tee"
    assert product.hs_code == "61091000"
    assert product.country_of_origin == "PT"
    assert [v.sku for v in product.variants.all()] == ["TEE-S", "TEE-M"]
    variant = product.variants.first()
    assert variant.price.amount == Decimal("19.99")
    assert str(variant.price.currency) == "USD"
    assert make_product(skus=("OTHER-1",)).handle == "classic-tee-2"


def test_duplicate_sku_is_a_field_error(in_shop_a):
    product = make_product()
    with pytest.raises(ValidationError) as info:
        services.variant_create(product=product, sku="TEE-S", price="5")
    assert "already used" in info.value.message_dict["sku"][0]


def test_same_sku_in_another_shop_is_fine(shop_a, shop_b):
    from shopadmin.tenancy import shop_context

    with shop_context(shop_a):
        make_product()
    with shop_context(shop_b):
        product = make_product()
        assert str(product.variants.first().price.currency) == "EUR"


def test_bad_gtin_money_and_hs_code_say_what_is_wrong(in_shop_a):
    product = make_product()
    with pytest.raises(ValidationError) as info:
        services.variant_create(product=product, sku="X", price="abc", gtin="4006381333932")
    errors = info.value.message_dict
    assert "not an amount" in errors["price"][0]
    with pytest.raises(ValidationError) as info:
        services.variant_create(product=product, sku="X", price="1", gtin="4006381333932")
    assert "check digit" in info.value.message_dict["gtin"][0]
    with pytest.raises(ValidationError) as info:
        services.product_update(product=product, hs_code="12")
    assert "6 to 10 digits" in info.value.message_dict["hs_code"][0]


def test_compare_at_must_exceed_price(in_shop_a):
    product = make_product()
    with pytest.raises(ValidationError) as info:
        services.variant_create(product=product, sku="X", price="10", compare_at_price="9")
    assert "compare_at_price" in info.value.message_dict


def test_post_movements_updates_levels_and_ledger(in_shop_a, django_capture_on_commit_callbacks):
    variant = make_product().variants.first()
    main = make_location()
    received = []
    catalog_changed.connect(lambda **kw: received.append(kw), weak=False, dispatch_uid="t1")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.stock_post_movements(
                movements=[StockChange(variant_id=variant.pk, location_id=main.pk, quantity=10, reason="received")]
            )
    finally:
        catalog_changed.disconnect(dispatch_uid="t1")
    level = StockLevel.objects.get(variant=variant, location=main)
    assert (level.on_hand, level.allocated, level.available) == (10, 0, 10)
    movement = StockMovement.objects.get()
    assert movement.on_hand_after == 10
    assert received and received[-1]["what"] == "stock" and received[-1]["variant_ids"] == [variant.pk]


def test_stock_never_goes_negative(in_shop_a):
    variant = make_product().variants.first()
    main = make_location()
    services.stock_post_movements(
        movements=[StockChange(variant_id=variant.pk, location_id=main.pk, quantity=2, reason="received")]
    )
    with pytest.raises(ValidationError, match="below zero"):
        services.stock_post_movements(
            movements=[StockChange(variant_id=variant.pk, location_id=main.pk, quantity=-3, reason="sale")]
        )
    assert StockLevel.objects.get(variant=variant).on_hand == 2


def test_database_refuses_negative_stock_even_around_the_service(in_shop_a):
    variant = make_product().variants.first()
    main = make_location()
    level = StockLevel.objects.create(variant=variant, location=main, on_hand=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockLevel.objects.filter(pk=level.pk).update(allocated=2)


def test_allocation_holds_stock_and_release_gives_it_back(in_shop_a):
    variant = make_product().variants.first()
    main, store = make_location(), make_location("store", "Store")
    services.stock_post_movements(
        movements=[
            {"variant_id": variant.pk, "location_id": main.pk, "quantity": 3, "reason": "received"},
            {"variant_id": variant.pk, "location_id": store.pk, "quantity": 2, "reason": "received"},
        ]
    )
    # Orders hold stock through the ledger, as allocation movements (orders.services.stock).
    services.stock_post_movements(
        movements=[
            {"variant_id": variant.pk, "location_id": main.pk, "quantity": 3, "reason": "allocation"},
            {"variant_id": variant.pk, "location_id": store.pk, "quantity": 2, "reason": "allocation"},
        ]
    )
    assert sum(lv.available for lv in StockLevel.objects.filter(variant=variant)) == 0
    services.stock_release(variant_id=variant.pk, location_id=store.pk, quantity=2, reference="order 1")
    assert StockLevel.objects.get(variant=variant, location=store).available == 2
    with pytest.raises(ValidationError, match="more than is allocated"):
        services.stock_release(variant_id=variant.pk, location_id=store.pk, quantity=1)


def test_stock_set_posts_the_difference(in_shop_a):
    variant = make_product().variants.first()
    main = make_location()
    services.stock_set(variant=variant, location=main, on_hand=7)
    movement = services.stock_set(variant=variant, location=main, on_hand=4, note="cycle count")
    assert movement.quantity == -3 and movement.reason == "correction"
    assert services.stock_set(variant=variant, location=main, on_hand=4) is None


def test_bulk_action_archives_and_tags(in_shop_a):
    one, two = make_product("One", skus=("A-1",)), make_product("Two", skus=("B-1",))
    assert services.product_bulk_action(product_ids=[one.pk, two.pk], action="archive") == 2
    assert services.product_bulk_action(product_ids=[one.pk], action="tag", tag="sale") == 1
    one.refresh_from_db()
    assert one.status == "archived" and one.tags == ["sale"]
    with pytest.raises(ValidationError):
        services.product_bulk_action(product_ids=[one.pk], action="tag", tag="")


def test_bulk_upsert_is_all_or_nothing_with_per_item_errors(in_shop_a):
    product = make_product()
    with pytest.raises(services.BulkItemsError) as info:
        services.variant_bulk_upsert(
            items=[
                {"sku": "TEE-S", "price": "21.00"},
                {"sku": "NEW-1", "product": product.pk, "price": "5", "gtin": "123"},
                {"sku": "NEW-2", "price": "5"},
            ]
        )
    items = info.value.item_errors
    assert items[0] == {}
    assert "gtin" in items[1]
    assert "product" in items[2]
    assert ProductVariant.objects.get(sku="TEE-S").price.amount == Decimal("19.99")
    results = services.variant_bulk_upsert(
        items=[{"sku": "TEE-S", "price": "21.00"}, {"sku": "NEW-1", "product": product.pk, "price": "5"}]
    )
    assert [created for _v, created in results] == [False, True]
    assert ProductVariant.objects.get(sku="TEE-S").price.amount == Decimal("21.00")


def test_delete_product_removes_its_stock(in_shop_a):
    product = make_product()
    main = make_location()
    services.stock_set(variant=product.variants.first(), location=main, on_hand=3)
    services.product_delete(product=product)
    assert not Product.objects.exists() and not StockLevel.objects.exists()


def test_seed_catalog_builds_a_consistent_catalog(shop_a, in_shop_a):
    from catalog.seeding import seed_catalog

    made = seed_catalog(shop=shop_a, variants=150, seed=1)
    assert made["variants"] == ProductVariant.objects.count() == 150
    assert StockLevel.objects.count() == 300
    for variant in ProductVariant.objects.all()[:20]:
        variant.full_clean(exclude=["shop", "product"], validate_constraints=False)
    seed_catalog(shop=shop_a, variants=10, seed=2)  # a second run adds, with no SKU clash
    assert ProductVariant.objects.count() == 160
