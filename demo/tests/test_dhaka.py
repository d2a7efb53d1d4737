"""The demo's second shop, in Dhaka: Bengali and taka at home, Urdu and rupees in Pakistan."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from shopadmin.tenancy import all_shops_access, shop_context

pytestmark = pytest.mark.django_db

BENGALI_DIGIT = re.compile("[০-৯]")


@pytest.fixture
def demo_owner(db):
    from conftest import make_user

    return make_user("demo@shopadmin.local", first_name="Dana")


@pytest.fixture
def dhaka(demo_owner):
    from demo.dhaka import DHAKA_SLUG, seed_dhaka
    from shopadmin.audit import Actor, acting_as
    from shopadmin.models import Door, Shop

    with acting_as(Actor(door=Door.CLI, label="seed_demo")):
        seed_dhaka(owner=demo_owner, base_url="http://127.0.0.1:8000")
    return Shop.objects.get(slug=DHAKA_SLUG)


def _seeded(shop) -> dict:
    from catalog.models import Product, ProductMedia, ProductVariant, StockLevel, StockMovement
    from channels.models import ChannelAccount, PublishPlan
    from channels.sandbox.models import SandboxOrder
    from localization.models import ExchangeRate, Market, Translation
    from orders.models import Order

    with shop_context(shop):
        return {
            "sandbox orders, every shop": SandboxOrder.objects.count(),
        } | {
            model.__name__: model.objects.count()
            for model in (
                Product,
                ProductVariant,
                ProductMedia,
                StockLevel,
                StockMovement,
                Translation,
                Market,
                ExchangeRate,
                ChannelAccount,
                PublishPlan,
                Order,
            )
        }


def test_seed_demo_gives_the_demo_user_a_second_shop_in_dhaka_once(client):
    from conftest import make_user
    from shopadmin.models import Membership, Shop, User

    make_user("demo@shopadmin.local", language="fr")  # a demo user from before, who chose French
    call_command("seed_demo", base_url="http://127.0.0.1:8000")
    user = User.objects.get(email="demo@shopadmin.local")
    dhaka = Shop.objects.get(slug="dhaka")
    with all_shops_access():
        assert set(Membership.objects.filter(user=user).values_list("shop__slug", "role")) == {
            ("demo", "owner"),
            ("dhaka", "owner"),
        }
    assert (dhaka.default_currency, dhaka.default_language, dhaka.country, dhaka.timezone) == (
        "BDT",
        "bn",
        "BD",
        "Asia/Dhaka",
    )
    assert user.language == "fr"  # the user's own choice is left alone
    client.force_login(user)
    switcher = client.get(reverse("shop-home", args=["demo"])).content.decode()
    assert "Demo Outfitters" in switcher and "ঢাকা তাঁতঘর · Dhaka Tantghor" in switcher
    demo = Shop.objects.get(slug="demo")
    first = _seeded(demo), _seeded(dhaka)

    call_command("seed_demo", base_url="http://127.0.0.1:8000")
    assert (_seeded(demo), _seeded(dhaka)) == first
    assert Shop.objects.filter(slug__in=["demo", "dhaka"]).count() == 2
    with all_shops_access():
        assert Membership.objects.filter(user=user).count() == 2


def test_the_dhaka_catalog_is_bengali_with_english_and_urdu_translations(dhaka):
    from catalog.models import Product, ProductVariant, StockLevel
    from localization.translations import product_texts, translation_status

    with shop_context(dhaka):
        assert 30 <= Product.objects.count() <= 40
        assert ProductVariant.objects.count() >= 150
        saree = Product.objects.get(handle="dhakai-jamdani-saree")
        assert saree.title == "ঢাকাই জামদানি শাড়ি"
        english = product_texts(product_ids=[saree.pk], language="en", shop=dhaka)[saree.pk]
        assert english["title"] == "Dhakai Jamdani Saree"
        assert english["options"][0] == {
            "name": "Colour",
            "values": {"লাল": "Red", "ঘিয়ে": "Cream", "নীল": "Blue"},
        }
        assert product_texts(product_ids=[saree.pk], language="ur", shop=dhaka)[saree.pk]["title"] == (
            "ڈھاکائی جامدانی ساڑھی"
        )
        # Every offered language is complete: English and Urdu titles and descriptions.
        statuses = {s.language: s for s in translation_status(dhaka)}
        assert {"en", "ur"} <= set(statuses)
        for language in ("en", "ur"):
            assert statuses[language].percent == 100 and statuses[language].descriptions == Product.objects.count()
        prices = set(ProductVariant.objects.values_list("price_currency", flat=True))
        assert prices == {"BDT"}
        assert ProductVariant.objects.get(sku="DT01-RED-FREE-SIZE").price.amount == Decimal("14500")
        assert set(StockLevel.objects.values_list("location__code", "location__country").distinct()) == {
            ("dhaka", "BD")
        }
        assert all(m.url.endswith(".png") for m in saree.media.all()) and saree.media.count() == 3


def test_the_dhaka_shop_sells_at_home_in_pakistan_and_india_from_manual_rates(dhaka):
    from localization.models import ExchangeRate, Market
    from orders.models import Lifecycle, Order

    with shop_context(dhaka):
        markets = {m.name: m for m in Market.objects.all()}
        assert {name: (m.currency, m.languages, m.is_home) for name, m in markets.items()} == {
            "Bangladesh": ("BDT", ["bn", "en"], True),
            "Pakistan": ("PKR", ["ur", "en"], False),
            "India (West Bengal)": ("INR", ["bn", "en"], False),
        }
        today = ExchangeRate.objects.filter(shop=dhaka, source="manual").order_by("-effective_at")
        assert {(r.base, r.quote) for r in today} == {("BDT", "PKR"), ("BDT", "INR")}
        orders = Order.objects.all()
        assert 10 <= orders.count() <= 30
        assert {o.channel for o in orders} == {"meta"}
        assert {Lifecycle.FULFILLED, Lifecycle.AWAITING_FULFILLMENT} <= {o.status for o in orders}
        # Orders from Pakistan are in rupees, converted to taka with the shop's rate of the day.
        abroad = orders.filter(currency="PKR").first()
        assert abroad is not None and abroad.market == markets["Pakistan"]
        assert abroad.shop_currency == "BDT" and abroad.total_shop < abroad.total


def test_the_dhaka_catalog_passes_its_facebook_pages_rules_and_is_being_published(dhaka):
    from channels.feeds import feed_check
    from channels.listings import listing_settings_for
    from channels.models import ChannelAccount, PublishPlan
    from channels.sandbox.models import SandboxAccount
    from localization.pricing import market_prices_recompute

    with shop_context(dhaka):
        market_prices_recompute(shop_id=dhaka.pk)  # as the worker does once the seed commits
        page = ChannelAccount.objects.get()
        assert page.channel == "meta" and page.api_base_url == "http://127.0.0.1:8000/sandbox/meta"
        check = feed_check(page)
        assert check["total"] >= 150 and check["invalid"] == 0, check["items"][:1]
        # Published once the prices are stored: the automatic re-plan applies itself.
        settings_ = listing_settings_for(page)
        # No website of its own: listings link to the shop's hosted pages.
        assert settings_.storefront_url == "" and settings_.auto_apply
        assert PublishPlan.objects.filter(account=page).exists()
    assert SandboxAccount.objects.filter(channel="meta", key=page.credentials["catalog_id"]).exists()


def test_the_dhaka_home_page_speaks_bengali_in_taka(dhaka, demo_owner, client):
    demo_owner.language = "bn"
    demo_owner.save(update_fields=["language"])
    client.force_login(demo_owner)
    response = client.get(reverse("shop-home", args=["dhaka"]))
    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="bn" dir="ltr">' in page
    amounts = re.findall(r"[০-৯][০-৯,.]*\s*৳", page)
    assert amounts, "no amount in taka with Bengali digits on the dashboard"
    assert "ঢাকা তাঁতঘর" in page


def test_the_pakistan_market_prices_in_rupees_in_urdu_right_to_left(dhaka, demo_owner, client):
    from localization.models import Market, MarketPrice
    from localization.pricing import market_prices_recompute

    with shop_context(dhaka):
        market_prices_recompute(shop_id=dhaka.pk)
        pakistan = Market.objects.get(name="Pakistan")
        panjabi = MarketPrice.objects.get(market=pakistan, variant__sku="DT08-WHITE-40")
    # 1,850 taka at 2.30 rupees to the taka, to the nearest 10 rupees.
    assert (panjabi.currency, panjabi.amount) == ("PKR", Decimal("4260"))
    demo_owner.language = "ur"
    demo_owner.save(update_fields=["language"])
    client.force_login(demo_owner)
    url = reverse("localization:market-prices", kwargs={"shop_slug": "dhaka", "pk": pakistan.pk})
    response = client.get(url, {"q": "DT08-WHITE-40"})
    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="ur" dir="rtl">' in page
    assert "Rs4,260.00" in page
    assert not BENGALI_DIGIT.search(re.sub(r"<[^>]*>", "", page).replace("ঢাকা তাঁতঘর", ""))


def test_the_dhaka_shop_ships_by_courier_and_links_to_its_own_pages(dhaka):
    """No website of its own: its listings link to its hosted pages, and buyers there choose a
    courier rate as Dhaka sellers quote them."""
    from channels.feeds import iter_rows
    from channels.models import ChannelAccount
    from channels.selectors import account_markets
    from localization.models import Market
    from localization.pricing import market_prices_recompute
    from localization.shipping import shipping_options

    with shop_context(dhaka):
        market_prices_recompute(shop_id=dhaka.pk)
        page = ChannelAccount.objects.get()
        built, _listing, _problems = next(iter(iter_rows(page, account_markets(page)[0])))
        assert built.item.link.startswith("http://127.0.0.1:8000/s/dhaka/p/")
        bangladesh = Market.objects.get(name="Bangladesh")
        options = shipping_options(market=bangladesh, weight_grams=500, subtotal=Decimal(4800))
        assert [(o.amount, o.currency) for o in options] == [(Decimal(60), "BDT"), (Decimal(120), "BDT")]
        assert [o.amount for o in shipping_options(market=bangladesh, weight_grams=500, subtotal=Decimal(5000))] == [
            Decimal(60),
            Decimal(0),
        ]
