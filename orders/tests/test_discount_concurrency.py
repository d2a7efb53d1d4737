"""A code with 10 uses, 50 buyers redeeming it at the same moment, each in their own transaction:
exactly 10 get the discount, 40 are told it has been used up, and the count never passes 10."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction

from orders.discounts import DiscountRefused, discount_quote, discount_redeem
from orders.models import DiscountCode, DiscountRedemption
from orders.services.discounts import discount_code_create
from shopadmin.audit import Actor, acting_as
from shopadmin.models import Door
from shopadmin.tenancy import shop_context

BUYERS = 50
USES = 10


@pytest.mark.django_db(transaction=True)
def test_fifty_buyers_redeem_a_ten_use_code_at_once(shop_a):
    with shop_context(shop_a), acting_as(Actor(door=Door.CLI, label="test")):
        discount = discount_code_create(shop=shop_a, code="LAUNCH", kind="percentage", value="20", usage_limit=USES)
        quote = discount_quote(code="launch", subtotal=Decimal("40"), currency="USD")
    barrier = threading.Barrier(BUYERS)
    redeemed: list[int] = []
    refused: list[DiscountRefused] = []
    errors: list[BaseException] = []
    overshoot: list[int] = []
    stop = threading.Event()

    def buy(i: int) -> None:
        try:
            barrier.wait(timeout=60)
            # Its own connection (Django's are per thread), shop context and transaction.
            with shop_context(shop_a), transaction.atomic():
                discount_redeem(quote=quote)
            redeemed.append(i)
        except DiscountRefused as exc:
            refused.append(exc)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    def watch() -> None:
        # Reads the count while the buyers redeem: it never passes the limit.
        try:
            with shop_context(shop_a):
                while not stop.is_set():
                    used = DiscountCode.objects.values_list("times_used", flat=True).get(pk=discount.pk)
                    if used > USES:
                        overshoot.append(used)
        finally:
            connection.close()

    watcher = threading.Thread(target=watch)
    watcher.start()
    threads = [threading.Thread(target=buy, args=(i,)) for i in range(BUYERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    stop.set()
    watcher.join(10)

    assert not errors, errors[:3]
    assert not overshoot
    assert len(redeemed) == USES
    assert len(refused) == BUYERS - USES
    assert {r.code for r in refused} == {"used_up"}
    assert {r.message for r in refused} == {"The code “LAUNCH” has been used up."}
    with shop_context(shop_a):
        discount.refresh_from_db()
        assert discount.times_used == USES
        assert DiscountRedemption.objects.filter(discount=discount).count() == USES
        assert {r.amount for r in DiscountRedemption.objects.all()} == {Decimal("8.000")}
