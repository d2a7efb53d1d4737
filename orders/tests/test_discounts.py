"""Discount codes at checkout: every refusal with its reason, percentages and fixed amounts with
their rounding, conversion into another market's currency, redemption, the merchant's checks,
the audit log, and alice's and charlie's codes kept apart."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from localization.services import exchange_rate_set_manual, market_create
from orders.discounts import DiscountQuote, DiscountRefused, discount_quote, discount_record, discount_redeem
from orders.models import DiscountCode, DiscountRedemption
from orders.services.discounts import (
    discount_code_create,
    discount_code_deactivate,
    discount_code_delete,
    discount_code_update,
)
from orders.services.ingest import order_import
from orders.tests.conftest import channel_order, stocked_variant
from shopadmin.audit import Actor, acting_as
from shopadmin.models import AuditLogEntry, Door
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def code(shop, text="SUMMER10", kind="percentage", value="10", **fields) -> DiscountCode:
    with shop_context(shop), acting_as(Actor(door=Door.CLI, label="test")):
        return discount_code_create(shop=shop, code=text, kind=kind, value=value, **fields)


def quote(shop, text="SUMMER10", subtotal="100", currency="USD", **kwargs) -> DiscountQuote:
    with shop_context(shop):
        return discount_quote(code=text, subtotal=Decimal(subtotal), currency=currency, **kwargs)


def refusal(shop, text="SUMMER10", subtotal="100", currency="USD", **kwargs) -> DiscountRefused:
    with pytest.raises(DiscountRefused) as caught:
        quote(shop, text, subtotal, currency, **kwargs)
    return caught.value


@pytest.fixture
def yen_market(shop_a):
    """Japan, in yen at a manual 150 per dollar, prices raised by 2 %."""
    with shop_context(shop_a), acting_as(Actor(door=Door.CLI, label="test")):
        exchange_rate_set_manual(shop=shop_a, base="USD", quote="JPY", rate="150")
        return market_create(
            shop=shop_a,
            name="Japan",
            countries=["JP"],
            currency="JPY",
            languages=["ja"],
            rate_mode="manual",
            adjustment_percent=Decimal("2"),
        )


# --- What a code takes off ---------------------------------------------------------------------


def test_a_percentage_is_rounded_half_up_to_the_currencys_minor_unit(shop_a):
    made = code(shop_a, "Summer10", value="10")
    got = quote(shop_a, "summer10", subtotal="33.35")  # any case
    assert got == DiscountQuote(discount_id=made.pk, code="Summer10", amount=Decimal("3.34"), currency="USD")
    assert quote(shop_a, " SUMMER10 ", subtotal="0.04").amount == Decimal("0.00")  # 0.004 rounds down
    assert quote(shop_a, "SUMMER10", subtotal="0.05").amount == Decimal("0.01")  # 0.005 rounds up


def test_a_fixed_amount_is_never_more_than_the_subtotal(shop_a):
    code(shop_a, "FIVE", kind="fixed", value="5.00")
    code(shop_a, "FIFTY", kind="fixed", value="50")
    assert quote(shop_a, "FIVE", subtotal="30").amount == Decimal("5.00")
    assert quote(shop_a, "FIFTY", subtotal="30.00").amount == Decimal("30.00")
    assert quote(shop_a, "FIFTY", subtotal="0").amount == Decimal("0.00")
    code(shop_a, "ALL", value="100")
    assert quote(shop_a, "ALL", subtotal="19.99").amount == Decimal("19.99")


def test_a_fixed_amount_and_the_minimum_are_converted_as_the_market_converts_prices(shop_a, yen_market):
    code(shop_a, "FIVE", kind="fixed", value="5.01", minimum_subtotal="30")
    # 5.01 USD x 150 x 1.02 = 766.53 -> 767 JPY (no decimals in yen); the minimum 30 x 150 x 1.02 = 4,590 JPY.
    got = quote(shop_a, "FIVE", subtotal="4590", currency="JPY", market=yen_market)
    assert (got.amount, got.currency) == (Decimal("767"), "JPY")
    refused = refusal(shop_a, "FIVE", subtotal="4589", currency="JPY", market=yen_market)
    assert refused.code == "below_minimum"
    assert refused.message == "The code “FIVE” applies to baskets of ¥4,590 or more."
    # A percentage of a yen basket: 10 % of 1,235 is 123.5 -> 124.
    code(shop_a, "TEN", value="10")
    assert quote(shop_a, "TEN", subtotal="1235", currency="JPY", market=yen_market).amount == Decimal("124")


def test_without_a_market_the_shops_rate_converts(shop_a, yen_market):
    code(shop_a, "FIVE", kind="fixed", value="5")
    # No market: the shop's rate (manual first), without a market's adjustment.
    assert quote(shop_a, "FIVE", subtotal="5000", currency="JPY").amount == Decimal("750")


def test_no_rate_into_the_baskets_currency_refuses_the_code(shop_a):
    code(shop_a, "FIVE", kind="fixed", value="5")
    with shop_context(shop_a), acting_as(Actor(door=Door.CLI, label="test")):
        pounds = market_create(shop=shop_a, name="UK", countries=["GB"], currency="GBP", languages=["en"])
    refused = refusal(shop_a, "FIVE", subtotal="50", currency="GBP", market=pounds)
    assert refused.code == "currency"
    assert refused.message == "The code “FIVE” cannot be used with prices in GBP."
    assert refusal(shop_a, "FIVE", currency="XYZ").code == "currency"
    # A percentage takes its share of any basket: no rate needed.
    code(shop_a, "TEN", value="10")
    assert quote(shop_a, "TEN", subtotal="50", currency="GBP", market=pounds).amount == Decimal("5.00")
    code(shop_a, "TEN-OVER-30", value="10", minimum_subtotal="30")
    assert refusal(shop_a, "TEN-OVER-30", subtotal="50", currency="GBP", market=pounds).code == "currency"


# --- Every refusal, with its reason --------------------------------------------------------------


def test_unknown_codes(shop_a):
    code(shop_a, "SUMMER10")
    for typed in ("WINTER", "", "   ", "SUMMER 10", "x" * 500, "SUMMER10\u0000"):
        refused = refusal(shop_a, typed)
        assert refused.code == "unknown", typed
        assert refused.message.startswith("There is no discount code “")
    assert refusal(shop_a, "WINTER").message == "There is no discount code “WINTER”."


def test_an_inactive_code(shop_a):
    made = code(shop_a)
    with shop_context(shop_a):
        discount_code_deactivate(discount=made)
    refused = refusal(shop_a)
    assert (refused.code, refused.message) == ("inactive", "The code “SUMMER10” is no longer valid.")


def test_a_code_before_its_start_and_after_its_end(shop_a):
    start = dt.datetime(2027, 6, 1, 9, 30, tzinfo=dt.UTC)
    end = dt.datetime(2027, 9, 1, tzinfo=dt.UTC)
    code(shop_a, starts_at=start, ends_at=end)
    early = refusal(shop_a, at=start - dt.timedelta(seconds=1))
    assert early.code == "not_started"
    assert early.message.startswith("The code “SUMMER10” can be used from ") and "2027" in early.message
    assert quote(shop_a, at=start).amount == Decimal("10.00")
    assert quote(shop_a, at=end - dt.timedelta(seconds=1)).amount == Decimal("10.00")
    late = refusal(shop_a, at=end)
    assert late.code == "expired"
    assert late.message.startswith("The code “SUMMER10” expired on ") and "2027" in late.message


def test_a_used_up_code(shop_a):
    code(shop_a, usage_limit=1)
    with shop_context(shop_a):
        discount_redeem(quote=quote(shop_a))
    refused = refusal(shop_a)
    assert (refused.code, refused.message) == ("used_up", "The code “SUMMER10” has been used up.")


def test_a_basket_below_the_minimum(shop_a):
    code(shop_a, minimum_subtotal="30")
    refused = refusal(shop_a, subtotal="29.99")
    assert refused.code == "below_minimum"
    assert refused.message == "The code “SUMMER10” applies to baskets of $30.00 or more."
    assert quote(shop_a, subtotal="30").amount == Decimal("3.00")


def test_the_buyers_message_follows_the_active_language(shop_a):
    code(shop_a, minimum_subtotal="30")
    with translation.override("bn"):
        refused = refusal(shop_a, subtotal="29.99")
    # Amounts in the buyer's digits (the words come from the catalogue once translated).
    assert refused.code == "below_minimum" and "৩০.০০" in refused.message


def test_every_refusal_code_is_one_of_the_documented_ones():
    from orders.discounts import REFUSAL_CODES

    assert set(REFUSAL_CODES) == {
        "unknown",
        "inactive",
        "not_started",
        "expired",
        "used_up",
        "below_minimum",
        "currency",
    }


def test_a_subtotal_that_is_no_amount_is_the_callers_mistake(shop_a):
    code(shop_a)
    for bad in ("-1", "NaN", "Infinity", "abc", None):
        with shop_context(shop_a), pytest.raises(ValueError):
            discount_quote(code="SUMMER10", subtotal=bad, currency="USD")


# --- Redeeming -------------------------------------------------------------------------------------


@pytest.fixture
def order(shop_a, meta_account):
    stocked_variant(shop_a, on_hand=10)
    with shop_context(shop_a):
        placed, _created = order_import(account=meta_account, data=channel_order("D-1"))
        return placed


def test_redeeming_counts_one_use_and_records_the_order(shop_a, order):
    made = code(shop_a, usage_limit=2)
    got = quote(shop_a, subtotal="49.90")
    with shop_context(shop_a), acting_as(Actor(door=Door.CLI, label="checkout")):
        redemption = discount_redeem(quote=got, order=order)
        made.refresh_from_db()
        assert made.times_used == 1
        assert (redemption.order, redemption.code, redemption.amount, redemption.currency) == (
            order,
            "SUMMER10",
            Decimal("4.99"),
            "USD",
        )
        # The same order again (a retried checkout) counts nothing more.
        assert discount_redeem(quote=got, order=order).pk == redemption.pk
        made.refresh_from_db()
        assert made.times_used == 1
        entry = AuditLogEntry.objects.get(action="discount_code.redeem")
        assert entry.object_id == str(made.pk) and entry.changes["times_used"] == [0, 1]
        assert entry.changes["order"] == [None, order.pk]


def test_a_use_counted_before_the_order_exists_is_tied_to_it_later(shop_a, order):
    code(shop_a)
    got = quote(shop_a, subtotal="49.90")
    with shop_context(shop_a):
        counted = discount_redeem(quote=got)
        assert counted.order is None
        recorded = discount_record(quote=got, order=order)
        assert recorded.pk == counted.pk and recorded.order == order
        assert discount_record(quote=got, order=order).pk == counted.pk  # once per order
        assert DiscountCode.objects.get().times_used == 1
        assert DiscountRedemption.objects.count() == 1


def test_redeeming_rechecks_the_code(shop_a):
    made = code(shop_a, usage_limit=5)
    got = quote(shop_a)
    with shop_context(shop_a):
        discount_code_deactivate(discount=made)
        with pytest.raises(DiscountRefused) as caught:
            discount_redeem(quote=got)
        assert caught.value.code == "inactive"
        discount_code_update(discount=made, is_active=True, ends_at=NOW - dt.timedelta(minutes=1))
        with pytest.raises(DiscountRefused) as caught:
            discount_redeem(quote=got)
        assert caught.value.code == "expired"
        made.refresh_from_db()
        assert made.times_used == 0 and not DiscountRedemption.objects.exists()


def test_a_refused_redemption_leaves_the_callers_transaction_usable(shop_a):
    code(shop_a, usage_limit=1)
    got = quote(shop_a)
    with shop_context(shop_a), transaction.atomic():
        discount_redeem(quote=got)
        with pytest.raises(DiscountRefused):
            discount_redeem(quote=got)
        assert DiscountCode.objects.get().times_used == 1  # the transaction goes on


def test_the_database_refuses_more_uses_than_the_limit(shop_a):
    made = code(shop_a, usage_limit=1)
    with shop_context(shop_a), pytest.raises(IntegrityError), transaction.atomic():
        DiscountCode.objects.filter(pk=made.pk).update(times_used=2)


# --- The merchant's checks ----------------------------------------------------------------------


def errors_of(call) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        call()
    return {field: [e.code for e in errors] for field, errors in caught.value.error_dict.items()}


def test_a_code_is_unique_in_the_shop_whatever_its_case(shop_a):
    code(shop_a, "Summer10")
    assert errors_of(lambda: code(shop_a, "SUMMER10")) == {"code": ["discount_code_taken"]}
    other = code(shop_a, "WINTER")
    with shop_context(shop_a):
        assert errors_of(lambda: discount_code_update(discount=other, code="summer10")) == {
            "code": ["discount_code_taken"]
        }


def test_the_database_also_keeps_codes_unique_whatever_their_case(shop_a):
    code(shop_a, "Summer10")
    with shop_context(shop_a), pytest.raises(IntegrityError), transaction.atomic():
        DiscountCode.objects.create(shop=shop_a, code="SUMMER10", kind="percentage", value=5)


def test_what_a_code_may_be(shop_a):
    assert errors_of(lambda: code(shop_a, "SUMMER 10")) == {"code": ["discount_code_invalid"]}
    assert errors_of(lambda: code(shop_a, "ÉTÉ")) == {"code": ["discount_code_invalid"]}
    assert "code" in errors_of(lambda: code(shop_a, "X" * 41))
    assert errors_of(lambda: code(shop_a, "A", value="0")) == {"value": ["discount_value_invalid"]}
    assert errors_of(lambda: code(shop_a, "A", value="100.5")) == {"value": ["discount_value_invalid"]}
    assert errors_of(lambda: code(shop_a, "A", kind="fixed", value="-5")) == {"value": ["discount_value_invalid"]}
    assert errors_of(lambda: code(shop_a, "A", kind="fixed", value="4.995")) == {"value": ["discount_value_invalid"]}
    assert errors_of(lambda: code(shop_a, "A", minimum_subtotal="-1")) == {
        "minimum_subtotal": ["discount_value_invalid"]
    }
    assert errors_of(lambda: code(shop_a, "A", value="abc")) == {"value": ["amount_invalid"]}
    assert errors_of(lambda: code(shop_a, "A", starts_at=NOW, ends_at=NOW)) == {"ends_at": ["discount_dates_invalid"]}
    assert code(shop_a, "Spring_2027-A", value="12.5").value == Decimal("12.5")


def test_a_limit_below_the_uses_counted_is_refused(shop_a):
    made = code(shop_a, usage_limit=3)
    with shop_context(shop_a):
        discount_redeem(quote=quote(shop_a))
        discount_redeem(quote=quote(shop_a))
        assert errors_of(lambda: discount_code_update(discount=made, usage_limit=1)) == {
            "usage_limit": ["discount_limit_below_uses"]
        }
        assert discount_code_update(discount=made, usage_limit=2).usage_limit == 2


def test_a_used_code_is_deactivated_not_deleted(shop_a):
    used, unused = code(shop_a, "USED"), code(shop_a, "UNUSED")
    with shop_context(shop_a):
        discount_redeem(quote=quote(shop_a, "USED"))
        with pytest.raises(ValidationError) as caught:
            discount_code_delete(discount=used)
        assert caught.value.code == "discount_code_used"
        discount_code_delete(discount=unused)
        assert list(DiscountCode.objects.values_list("code", flat=True)) == ["USED"]


def test_every_change_is_in_the_audit_log(shop_a):
    made = code(shop_a, usage_limit=5)
    with shop_context(shop_a), acting_as(Actor(door=Door.UI, label="alice")):
        discount_code_update(discount=made, value="15", usage_limit=5)  # the limit is unchanged
        discount_code_deactivate(discount=made)
        gone = code(shop_a, "GONE")
        discount_code_delete(discount=gone)
        entries = list(AuditLogEntry.objects.filter(model="orders.DiscountCode").order_by("id"))
    assert [(e.action, e.object_id) for e in entries] == [
        ("discount_code.create", str(made.pk)),
        ("discount_code.update", str(made.pk)),
        ("discount_code.update", str(made.pk)),
        ("discount_code.create", str(gone.pk)),
        ("discount_code.delete", str(gone.pk)),
    ]
    assert entries[0].changes["code"] == "SUMMER10" and entries[0].changes["usage_limit"] == 5
    assert entries[1].changes == {"value": ["10.000", "15"]}
    assert entries[2].changes == {"is_active": [True, False]}
    assert entries[1].object_repr == "Discount code SUMMER10"


# --- alice and charlie ------------------------------------------------------------------------------


def test_the_same_code_in_two_shops_is_two_codes(shop_a, shop_b):
    alices = code(shop_a, "WELCOME", value="10", usage_limit=1)
    charlies = code(shop_b, "welcome", kind="fixed", value="3")
    assert quote(shop_a, "WELCOME", subtotal="50").amount == Decimal("5.00")
    got = quote(shop_b, "WELCOME", subtotal="50", currency="EUR")
    assert (got.discount_id, got.amount) == (charlies.pk, Decimal("3.00"))
    with shop_context(shop_b):
        discount_redeem(quote=got)
    # Charlie's use counts nothing of alice's.
    assert quote(shop_a, "WELCOME", subtotal="50").discount_id == alices.pk
    with shop_context(shop_a):
        assert DiscountCode.objects.get().times_used == 0


def test_charlies_checkout_never_applies_alices_code(shop_a, shop_b):
    alices = code(shop_a, "ALICEONLY")
    assert refusal(shop_b, "ALICEONLY", currency="EUR").code == "unknown"
    # Even with alice's id in hand, charlie's shop cannot count a use of her code.
    stolen = DiscountQuote(discount_id=alices.pk, code="ALICEONLY", amount=Decimal("10"), currency="EUR")
    with shop_context(shop_b), pytest.raises(DiscountRefused) as caught:
        discount_redeem(quote=stolen)
    assert caught.value.code == "unknown"
    with shop_context(shop_a):
        alices.refresh_from_db()
        assert alices.times_used == 0
    with shop_context(shop_b):
        assert not DiscountCode.objects.exists() and not DiscountRedemption.objects.exists()
