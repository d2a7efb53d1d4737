"""Input in the user's language: amounts typed as the language writes them,
currencies in use today with the shop's first, countries by name."""

import copy
import datetime as dt
from decimal import Decimal

import pytest
from django import forms
from django.test import Client
from django.urls import reverse
from django.utils import translation

from shopadmin.inputs import (
    CountryChoiceField,
    CountryMultipleChoiceField,
    CurrencyChoiceField,
    LocalizedDecimalField,
    _sort_key,
    current_currency_codes,
    shop_currency_first,
)
from shopadmin.tenancy import shop_context


def made(field):
    """The field as a form instance holds it (forms deep-copy their fields when made)."""
    return copy.deepcopy(field)


def codes(field):
    return [value for value, _label in field.choices if value]


# --- Currencies --------------------------------------------------------------------------------


def test_currencies_are_the_ones_in_use_today():
    offered = set(codes(made(CurrencyChoiceField())))
    assert {"EUR", "USD", "JPY", "GBP", "KWD", "CHF", "XOF", "XAF", "XPF"} <= offered
    # Historic, test, placeholder, precious metal and fund codes are not currencies to price in.
    assert not offered & {"ADP", "FRF", "DEM", "XTS", "XXX", "XAU", "XDR", "BOV", "CLF", "USN", "HRK"}
    assert offered == set(current_currency_codes(dt.date.today()))


def test_the_shop_currency_comes_first_then_names_in_order():
    field = made(CurrencyChoiceField())
    field.put_first("JPY")
    choices = list(field.choices)
    assert choices[0] == ("JPY", "JPY — Japanese Yen")
    names = [label.split(" — ", 1)[1] for _code, label in choices[1:]]
    assert names == sorted(names, key=_sort_key)  # accents folded: São Tomé sorts with Saudi
    assert "ADP" not in codes(field)  # the old first entry, the Andorran peseta


def test_currency_names_follow_the_active_language():
    with translation.override("fr"):
        field = made(CurrencyChoiceField())
        labels = dict(field.choices)
    assert labels["EUR"] == "EUR — euro"
    assert labels["USD"] == "EUR — euro".replace("EUR", "USD").replace("euro", "dollar des États-Unis")


def test_a_stored_currency_that_is_no_longer_current_stays_on_offer():
    class Form(forms.Form):
        currency = CurrencyChoiceField(label="Currency")

    form = Form(initial={"currency": "HRK"})
    shop_currency_first(form, "EUR")
    assert codes(form.fields["currency"])[0] == "EUR" and "HRK" in codes(form.fields["currency"])
    assert Form({"currency": "HRK"}).is_valid() is False  # but a new form does not offer it


def test_a_wrong_currency_is_a_field_error():
    field = made(CurrencyChoiceField())
    assert field.clean("eur") == "EUR"
    with pytest.raises(forms.ValidationError, match="ISO 4217"):
        field.clean("XTS")


# --- Countries ---------------------------------------------------------------------------------


def test_countries_are_named_in_the_active_language_and_sorted():
    with translation.override("fr"):
        field = made(CountryChoiceField())
        choices = list(field.choices)
    labels = dict(choices)
    assert labels["DE"] == "Allemagne" and labels["US"] == "États-Unis"
    # É sorts with E (between Espagne and Éthiopie), not after Z.
    names = [name for _code, name in choices]
    assert names.index("Espagne") < names.index("États-Unis") < names.index("Éthiopie") < names.index("Fidji")
    assert not {"EU", "ZZ", "UN", "001"} & set(labels)


def test_an_optional_country_starts_empty_and_codes_are_checked():
    field = made(CountryChoiceField(required=False))
    assert next(iter(field.choices))[0] == ""
    assert field.clean("") == "" and field.clean("pt") == "PT"
    with pytest.raises(forms.ValidationError, match="ISO 3166-1"):
        field.clean("XX")


def test_several_countries_are_checkboxes_with_the_chosen_ones_first():
    class Form(forms.Form):
        countries = CountryMultipleChoiceField(label="Countries")

    form = Form(initial={"countries": ["IT", "FR"]})
    html = str(form["countries"])
    assert 'type="checkbox"' in html and 'class="choice-list"' in html
    assert html.index('value="FR"') < html.index('value="AF"') and html.index('value="IT"') < html.index('value="AF"')
    bound = Form({"countries": ["fr", "de"]})
    assert bound.is_valid() and bound.cleaned_data["countries"] == ["FR", "DE"]
    assert not Form({"countries": ["FR", "EU"]}).is_valid()


# --- Amounts -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "typed", "value"),
    [
        ("fr", "12,50", "12.50"),
        ("fr", "12.50", "12.50"),
        ("fr", "1 234,50", "1234.50"),
        ("fr", "1\u202f234,50", "1234.50"),
        ("fr", "1\u00a0234,50", "1234.50"),
        ("en", "12.50", "12.50"),
        ("en", "1,234.50", "1234.50"),
        ("en", " 7 ", "7"),
    ],
)
def test_amounts_are_read_in_the_users_language(language, typed, value):
    with translation.override(language):
        assert made(LocalizedDecimalField(min_value=0)).clean(typed) == Decimal(value)


@pytest.mark.parametrize(
    ("language", "typed"),
    [
        ("en", "12,50"),
        ("en", "abc"),
        ("fr", "douze"),
        ("fr", "1e5"),
        ("en", "NaN"),
        ("fr", "1.234,50"),
        ("en", "1,2,3"),
    ],
)
def test_garbage_is_a_field_error_that_shows_the_format(language, typed):
    with translation.override(language):
        field = made(LocalizedDecimalField(min_value=0))
        with pytest.raises(forms.ValidationError) as caught:
            field.clean(typed)
    example = "1,234.50" if language == "en" else "1\u202f234,50"
    assert caught.value.code == "invalid" and example in caught.value.messages[0]


def test_initial_amounts_are_shown_in_the_users_language():
    class Form(forms.Form):
        price = LocalizedDecimalField(label="Price", min_value=0)

    with translation.override("fr"):
        html = str(Form(initial={"price": Decimal("12.5")})["price"])
        assert 'value="12,50"' in html and 'inputmode="decimal"' in html
        # What the person typed comes back as typed when the form has an error elsewhere.
        assert 'value="12,5"' in str(Form({"price": "12,5"})["price"])
    with translation.override("en"):
        assert 'value="12.50"' in str(Form(initial={"price": Decimal("12.5")})["price"])


# --- Pages -------------------------------------------------------------------------------------


@pytest.fixture
def french_alice(alice, shop_a):
    alice.language = "fr"
    alice.save(update_fields=["language"])
    client = Client()
    client.force_login(alice)
    return client


@pytest.mark.django_db
def test_a_french_merchant_saves_a_price_written_12_50(french_alice, shop_a):
    from catalog.models import ProductVariant
    from catalog.tests.factories import make_product

    with shop_context(shop_a):
        make_product("Linen shirt", skus=["LIN-S"], price="19.99")
        variant = ProductVariant.objects.get(sku="LIN-S")
    url = reverse("catalog:variant-edit", args=[shop_a.slug, variant.pk])
    page = french_alice.get(url).content.decode()
    assert 'value="19,99"' in page
    response = french_alice.post(url, {"sku": "LIN-S", "price": "12,50", "compare_at_price": "1 234,50"})
    assert response.status_code == 302, response.content.decode()[:2000]
    with shop_context(shop_a):
        variant.refresh_from_db()
    assert variant.price.amount == Decimal("12.50") and variant.compare_at_price.amount == Decimal("1234.50")
    # Nonsense stays on the page with the field's error, in French, and nothing is saved.
    response = french_alice.post(url, {"sku": "LIN-S", "price": "douze"})
    assert response.status_code == 400
    assert "douze" in response.content.decode()
    with shop_context(shop_a):
        variant.refresh_from_db()
    assert variant.price.amount == Decimal("12.50")


@pytest.mark.django_db
def test_an_english_merchant_saves_12_50_and_the_market_form_offers_the_shop_currency_first(alice_client, shop_a):
    from localization.models import Market

    response = alice_client.get(reverse("localization:market-create", args=[shop_a.slug]))
    form = response.context["form"]
    assert codes(form.fields["currency"])[0] == "USD"
    response = alice_client.post(
        reverse("localization:market-create", args=[shop_a.slug]),
        {
            "name": "Europe",
            "countries": ["FR", "DE"],
            "currency": "EUR",
            "languages": "fr, de",
            "duty_mode": "DAP",
            "ddp_pricing": "absorb",
            "rate_mode": "manual",
            "adjustment_percent": "2.50",
            "rounding": "end_90",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    with shop_context(shop_a):
        market = Market.objects.get(name="Europe")
    assert market.countries == ["FR", "DE"] and market.adjustment_percent == Decimal("2.5")
