"""Properties of rounding and tax arithmetic, for 0-, 2- and 3-decimal currencies."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from localization.money import (
    ROUNDING_PRESETS,
    exclusive_from_inclusive,
    inclusive_from_exclusive,
    minor_unit,
    quantize,
)

CURRENCIES = st.sampled_from(["EUR", "USD", "JPY", "KRW", "KWD", "BHD", "GBP"])
AMOUNTS = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("1000000"), places=6)
RATES = st.decimals(min_value=Decimal("0"), max_value=Decimal("0.30"), places=4)


def fitting_rules(currency):
    return [(k, rule) for k, (_, rule) in ROUNDING_PRESETS.items() if not rule.validate_for(currency)]


@given(amount=AMOUNTS, currency=CURRENCIES, data=st.data())
def test_rounding_moves_a_price_by_at_most_one_step(amount, currency, data):
    _key, rule = data.draw(st.sampled_from(fitting_rules(currency)))
    step = rule.increment or minor_unit(currency)
    rounded = rule.apply(amount, currency)
    assert abs(rounded - amount) <= step
    assert rounded >= 0
    if rule.increment is not None:
        assert rounded > 0  # a rounding rule never turns a positive price into zero


@given(amount=AMOUNTS, currency=st.sampled_from(["JPY", "KRW", "ISK", "CLP"]), data=st.data())
def test_zero_decimal_currencies_never_get_fractions(amount, currency, data):
    _key, rule = data.draw(st.sampled_from(fitting_rules(currency)))
    rounded = rule.apply(amount, currency)
    assert rounded == rounded.to_integral_value()


@given(amount=AMOUNTS, currency=CURRENCIES, data=st.data())
def test_rounding_to_a_rule_is_idempotent(amount, currency, data):
    _key, rule = data.draw(st.sampled_from(fitting_rules(currency)))
    once = rule.apply(amount, currency)
    assert rule.apply(once, currency) == once


@given(amount=AMOUNTS, rate=RATES, currency=CURRENCIES)
def test_inclusive_exclusive_inclusive_round_trips_within_a_minor_unit(amount, rate, currency):
    inclusive = quantize(amount, currency)
    exclusive = exclusive_from_inclusive(inclusive, rate, currency)
    back = inclusive_from_exclusive(exclusive, rate, currency)
    assert abs(back - inclusive) <= minor_unit(currency)
