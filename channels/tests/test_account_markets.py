"""An account sells in markets the merchant picks from the shop's own markets (with their
currency and languages), never from free text: the connect and edit forms offer the shop's
active markets as checkboxes, the API refuses a market the shop does not have, and a UK (GBP)
account publishes GBP prices. Charlie's markets are never offered to alice."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from catalog.models import Product
from catalog.seeding import seed_catalog
from channels.forms import ChannelAccountForm
from channels.items import iter_items
from channels.listings import listing_settings_update
from channels.models import ChannelAccount, PublishPlan
from channels.services import normalise_markets
from channels.tests.listing_fixtures import STOREFRONT, price_markets
from localization.models import Market
from localization.services import exchange_rate_set_manual, market_create
from shopadmin.tenancy import shop_context
from shopadmin.testing.browser import assert_accessible, sign_in


def united_kingdom(shop) -> Market:
    with shop_context(shop):
        exchange_rate_set_manual(shop=shop, base=shop.default_currency, quote="GBP", rate="0.8")
        return market_create(
            shop=shop,
            name="United Kingdom",
            countries=["GB"],
            currency="GBP",
            languages=["en-GB"],
            rate_mode="manual",
            rounding="none",
        )


def japan(shop) -> Market:
    with shop_context(shop):
        exchange_rate_set_manual(shop=shop, base=shop.default_currency, quote="JPY", rate="150")
        return market_create(shop=shop, name="Japan", countries=["JP"], currency="JPY", languages=["ja"])


# --- The form ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_form_offers_the_shops_active_markets_and_ticks_the_home_market(shop_a, shop_b):
    uk = united_kingdom(shop_a)
    with shop_context(shop_b):
        market_create(shop=shop_b, name="Charlie Suisse", countries=["CH"], currency="CHF", languages=["fr"])
    with shop_context(shop_a):
        market_create(shop=shop_a, name="Dormant", countries=["MX"], currency="MXN", languages=["es"], is_active=False)
        home = Market.objects.get(is_home=True)
        form = ChannelAccountForm(channel="snapchat", credential_keys=())
        choices = dict(form.fields["markets"].choices)
        assert set(choices) == {home.pk, uk.pk}  # neither charlie's market nor an inactive one
        assert choices[uk.pk] == "United Kingdom — GBP · en-GB · GB"
        assert form.initial["markets"] == [home.pk]
        html = str(form["markets"])
        assert 'type="checkbox"' in html and "Charlie Suisse" not in html and "Dormant" not in html

        ticked = ChannelAccountForm(
            {"name": "Snap UK", "markets": [str(uk.pk)]}, channel="snapchat", credential_keys=()
        )
        assert ticked.is_valid(), ticked.errors
        assert ticked.market_choices() == [{"market_id": uk.pk}]
        stored = normalise_markets(ticked.market_choices(), shop=shop_a)
        assert stored == [{"market": "GB", "country": "GB", "language": "en-GB", "currency": "GBP", "market_id": uk.pk}]
    with shop_context(shop_b):
        charlie_market = Market.objects.get(name="Charlie Suisse")
    with shop_context(shop_a):
        refused = ChannelAccountForm(
            {"name": "Snap", "markets": [str(charlie_market.pk)]}, channel="snapchat", credential_keys=()
        )
        assert not refused.is_valid() and "markets" in refused.errors


@pytest.mark.django_db
def test_the_edit_form_ticks_the_accounts_markets(shop_a):
    uk, jp = united_kingdom(shop_a), japan(shop_a)
    from channels.tests.factories import make_account

    account = make_account(shop_a, "snapchat", name="Snap", markets=["GB", "JP"])
    with shop_context(shop_a):
        form = ChannelAccountForm(channel="snapchat", editing=True, credential_keys=(), account=account)
        assert form.initial["markets"] == [uk.pk, jp.pk]


@pytest.mark.django_db
def test_codes_resolve_to_the_shops_markets_with_their_currency_and_language(shop_a):
    """What the merchant typed on their first day, "GB, JP", sells in GBP and JPY."""
    uk, jp = united_kingdom(shop_a), japan(shop_a)
    with shop_context(shop_a):
        assert normalise_markets(["GB", "JP"], shop=shop_a) == [
            {"market": "GB", "country": "GB", "language": "en-GB", "currency": "GBP", "market_id": uk.pk},
            {"market": "JP", "country": "JP", "language": "ja", "currency": "JPY", "market_id": jp.pk},
        ]


@pytest.mark.django_db
def test_bob_edits_the_markets_and_charlie_sees_nothing(bob, charlie, shop_a, shop_b, client):
    uk = united_kingdom(shop_a)
    from channels.tests.factories import make_account

    account = make_account(shop_a, "snapchat", name="Snap")
    client.force_login(bob)
    page = client.get(f"/app/alice/channels/{account.pk}/").content.decode()
    assert "United Kingdom — GBP" in page
    response = client.post(f"/app/alice/channels/{account.pk}/", {"name": "Snap", "markets": [str(uk.pk)]})
    assert response.status_code == 302, response.content.decode()[:2000]
    with shop_context(shop_a):
        assert [m["currency"] for m in ChannelAccount.objects.get(pk=account.pk).markets] == ["GBP"]
    client.force_login(charlie)
    assert client.get(f"/app/alice/channels/{account.pk}/").status_code == 404
    assert client.get("/app/charlie/channels/connect/snapchat/").content.decode().count("United Kingdom") == 0


# --- In a browser -----------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_alice_connects_and_edits_an_account_in_the_uk_market_and_its_items_are_in_gbp(
    page, live_server, alice, shop_a, shop_b, screenshot
):
    uk = united_kingdom(shop_a)
    japan(shop_a)
    with shop_context(shop_b):
        market_create(shop=shop_b, name="Charlie Suisse", countries=["CH"], currency="CHF", languages=["fr"])
    with shop_context(shop_a):
        seed_catalog(shop=shop_a, variants=6, seed=3)
        Product.objects.update(status=Product.Status.ACTIVE)
        price_markets(shop_a)

    sign_in(page, live_server, alice)
    page.goto(f"{live_server.url}/app/alice/channels/connect/snapchat/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Connect Snapchat")
    home = page.get_by_role("checkbox", name="Home (US) — USD")
    expect(home).to_be_checked()  # the home market, unless the merchant picks otherwise
    expect(page.get_by_text("Charlie Suisse")).to_have_count(0)
    page.get_by_label("Name").fill("Snap UK")
    home.uncheck()
    page.get_by_role("checkbox", name="United Kingdom — GBP · en-GB · GB").check()
    assert_accessible(page)
    screenshot(page, "connect-markets")
    page.get_by_role("button", name="Connect", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Snap UK")
    expect(page.locator("body")).to_contain_text("GB (en-GB, GBP)")

    with shop_context(shop_a):
        account = ChannelAccount.objects.get(name="Snap UK")
        assert account.markets == [
            {"market": "GB", "country": "GB", "language": "en-GB", "currency": "GBP", "market_id": uk.pk}
        ]
        listing_settings_update(account=account, storefront_url=STOREFRONT)

    # Edit: add Japan, then take it away again; the UK stays ticked.
    japan_box = page.get_by_role("checkbox", name="Japan — JPY · ja · JP")
    expect(page.get_by_role("checkbox", name="United Kingdom — GBP · en-GB · GB")).to_be_checked()
    japan_box.check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator("body")).to_contain_text("JP (ja, JPY)")
    page.get_by_role("checkbox", name="Japan — JPY · ja · JP").uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.locator("body")).not_to_contain_text("JP (ja, JPY)")

    # Review changes: every item for GB is in GBP.
    page.goto(f"{live_server.url}/app/alice/channels/{account.pk}/listings/")
    page.get_by_role("button", name="Review changes").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Review changes")
    expect(page.locator("body")).to_contain_text("6 items to create")
    with shop_context(shop_a):
        plan = PublishPlan.objects.get(account=account)
        items = list(plan.items.all())
        built = list(iter_items(ChannelAccount.objects.get(pk=account.pk)))
    assert len(items) == 6 and plan.invalid == 0
    assert {i.item["currency"] for i in items} == {"GBP"}
    assert all(str(i.payload["price"]).endswith("GBP") for i in items)
    assert {b.item.currency for b in built} == {"GBP"}
    screenshot(page, "plan-gbp")


@pytest.mark.django_db
def test_a_market_of_several_countries_is_sold_in_each_of_them(shop_a):
    with shop_context(shop_a):
        exchange_rate_set_manual(shop=shop_a, base="USD", quote="EUR", rate="0.9")
        europe = market_create(
            shop=shop_a, name="Europe", countries=["FR", "DE"], currency="EUR", languages=["fr", "de"]
        )
        assert normalise_markets([{"market_id": europe.pk}], shop=shop_a) == [
            {"market": "FR", "country": "FR", "language": "fr", "currency": "EUR", "market_id": europe.pk},
            {"market": "DE", "country": "DE", "language": "fr", "currency": "EUR", "market_id": europe.pk},
        ]
        # One of its countries, in another of its languages, through the API's object form.
        assert normalise_markets([{"market": "DE", "language": "de"}], shop=shop_a) == [
            {"market": "DE", "country": "DE", "language": "de", "currency": "EUR", "market_id": europe.pk}
        ]
