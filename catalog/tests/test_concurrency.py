"""Stock under concurrent adjustments: real threads, each in its own PostgreSQL connection."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from catalog import services
from catalog.models import StockLevel, StockMovement
from catalog.services import StockChange
from catalog.tests.factories import make_location, make_product
from shopadmin.tenancy import shop_context


@pytest.mark.django_db(transaction=True)
def test_concurrent_sales_never_oversell(shop_a):
    with shop_context(shop_a):
        variants = list(make_product(skus=("C-1", "C-2")).variants.all())
        main, store = make_location(), make_location("store", "Store")
        services.stock_post_movements(
            movements=[
                StockChange(variant_id=v.pk, location_id=loc.pk, quantity=10, reason="received")
                for v in variants
                for loc in (main, store)
            ]
        )
    pairs = [(v.pk, loc.pk) for v in variants for loc in (main, store)]
    threads, outcomes, barrier = [], [], threading.Barrier(8)

    def worker(index):
        try:
            with shop_context(shop_a):
                barrier.wait()
                for round_ in range(6):
                    # Each post touches two levels in a different order, which would deadlock
                    # without the primary-key lock order.
                    a, b = pairs[(index + round_) % 4], pairs[(index + round_ + 1) % 4]
                    if index % 2:
                        a, b = b, a
                    try:
                        with transaction.atomic():
                            services.stock_post_movements(
                                movements=[
                                    StockChange(variant_id=a[0], location_id=a[1], quantity=-1, reason="sale"),
                                    StockChange(variant_id=b[0], location_id=b[1], quantity=-1, reason="sale"),
                                ]
                            )
                        outcomes.append("ok")
                    except ValidationError:
                        outcomes.append("refused")
        except Exception as exc:  # surfaced to the main thread below
            outcomes.append(exc)
        finally:
            connection.close()

    for index in range(8):
        thread = threading.Thread(target=worker, args=(index,))
        threads.append(thread)
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert not errors, errors
    with shop_context(shop_a):
        levels = list(StockLevel.objects.all())
        assert all(level.on_hand >= 0 for level in levels)
        sold = -sum(m.quantity for m in StockMovement.objects.filter(reason="sale"))
        assert sold == 40 - sum(level.on_hand for level in levels)
        assert outcomes.count("ok") * 2 == sold
        assert sold == 40  # 48 attempted line pairs for 40 units: everything sold, nothing oversold
