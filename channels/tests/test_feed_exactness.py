"""Every feed, served by the view, byte for byte what the item-by-item writer (the adapters'
payloads and checks, `plain_feed_stream`) makes of the same catalog — a catalog with awkward
values: quotes, commas, newlines, tabs, carriage returns, markup, non-Latin text, missing and
uploaded images, sales of every kind, missing prices, out-of-stock variants, listing overrides,
odd option values, several markets and currencies, translations and an exclusion rule."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import Location, Product, ProductMedia, ProductVariant, StockLevel
from channels.feeds import account_feed_specs, plain_feed_stream, sql_feed_supported
from channels.listings import listing_rule_add, listing_settings_update, listing_update, listings_sync
from channels.models import ChannelAccount, ChannelListing
from channels.tests.listing_fixtures import price_markets, seeded_account
from channels.tests.test_feeds import body_of
from localization.models import MarketPrice
from localization.services import exchange_rate_set_manual, market_create
from localization.translations import translation_set
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db

MARKETS = [
    {"market": "US", "country": "US", "currency": "USD", "language": "en"},
    {"market": "FR", "country": "FR", "currency": "EUR", "language": "fr"},
    {"market": "JP", "country": "JP", "currency": "JPY", "language": "ja"},
]
TITLES = [
    'Shirt, "the" best',
    "Line one\nline two",
    "Tab\tin the title",
    "Carriage\rreturn",
    "日本語のシャツ",
    "Ελληνικά & <b>markup</b>",
    "Emoji 👕 and 'single' quotes",
    "x" * 180,  # past Snapchat's and Google's 150, within Meta's 200
    "Trailing space ",
    "Semi;colon|pipe\\backslash",
]


def awkward_catalog(shop):
    """Twists the seeded catalog (run in the shop's context)."""
    products = list(Product.objects.order_by("id"))
    variants = list(ProductVariant.objects.order_by("id"))
    assert len(products) > len(TITLES) + 2 and len(variants) > 40
    for product, title in zip(products, TITLES, strict=False):
        Product.objects.filter(pk=product.pk).update(
            title=title, description=f"{title}\r\nSecond line, with a comma;\tand a tab"
        )
    Product.objects.filter(pk=products[1].pk).update(brand='Brand, "quoted"', condition="used")
    Product.objects.filter(pk=products[2].pk).update(brand="", condition="refurbished")
    Product.objects.filter(pk=products[3].pk).update(description="")
    Product.objects.filter(pk=products[4].pk).update(
        handle="a-very-long-product-handle-that-goes-well-past-fifty-chars"
    )
    ProductVariant.objects.filter(product=products[2]).update(gtin="", mpn="")  # no identifiers at all
    ProductVariant.objects.filter(pk=variants[5].pk).update(gtin="", mpn='MPN "7"')
    ProductVariant.objects.filter(pk=variants[6].pk).update(gtin="12345")  # not a GTIN length Google takes
    # Options: case variants, empty, non-string values, no options.
    ProductVariant.objects.filter(pk=variants[0].pk).update(option_values={"Colour": "", "color": "Red", "Size": 42})
    ProductVariant.objects.filter(pk=variants[1].pk).update(option_values={"SIZE": True, "size": None})
    ProductVariant.objects.filter(pk=variants[2].pk).update(option_values={})
    ProductVariant.objects.filter(pk=variants[3].pk).update(option_values={"Material": "wool, mixed", "Size": "L\tXL"})
    # Images: none, the variant's own, an uploaded file, an empty URL beside a file.
    ProductMedia.objects.filter(product=products[5]).delete()
    ProductMedia.objects.create(
        shop=shop, product=variants[8].product, variant=variants[8], url="https://cdn.example.com/own,1.jpg", position=9
    )
    ProductMedia.objects.filter(product=products[6]).update(url="", image="shops/alice/products/abc-123.jpg")
    # Stock: sold out, fully allocated, and a location switched off.
    StockLevel.objects.filter(variant__in=variants[-16:-13]).update(on_hand=0, allocated=0)
    StockLevel.objects.filter(variant=variants[-17]).update(allocated=models_f("on_hand"))
    Location.objects.filter(code="store").update(is_active=False)
    # Stored prices: sales running, coming, undated, expired, above the price; compare-at;
    # four decimals; and a variant with no stored price.
    now = timezone.now()
    day = dt.timedelta(days=1)
    prices = MarketPrice.objects.filter(market__is_home=True)
    prices.filter(variant=variants[-2]).update(
        sale_amount=Decimal("5.0000"), sale_starts_at=now - day, sale_ends_at=now + day
    )
    prices.filter(variant=variants[-3]).update(
        sale_amount=Decimal("5.0000"), sale_starts_at=now + day, sale_ends_at=now + 9 * day
    )
    prices.filter(variant=variants[-4]).update(sale_amount=Decimal("4.4450"))
    prices.filter(variant=variants[-5]).update(
        sale_amount=Decimal("3.0000"), sale_ends_at=now - day, compare_at_amount=Decimal("999.9950")
    )
    prices.filter(variant=variants[-6]).update(amount=Decimal("9.9950"), compare_at_amount=Decimal("14.0000"))
    prices.filter(variant=variants[-7]).update(sale_amount=Decimal("99999.0000"))
    prices.filter(variant=variants[-8]).update(sale_amount=Decimal("1.0000"), sale_starts_at=now - day)
    prices.filter(variant=variants[-9]).delete()
    MarketPrice.objects.filter(market__currency="JPY", variant=variants[-10]).update(amount=Decimal("1234.5000"))
    # Texts in French for two products (one with only a title).
    for product, title in ((products[0], "Chemise, « belle »\nsur deux lignes"), (products[7], "Pull & <gilet>")):
        translation_set(shop=shop, kind="product", target_id=product.pk, field="title", language="fr", value=title)
    translation_set(
        shop=shop, kind="product", target_id=products[0].pk, field="description", language="fr", value="Texte\tFR"
    )
    return products, variants


def models_f(name):
    from django.db.models import F

    return F(name)


def listing_twists(account, products, variants):
    listings_sync(account=account)
    listings = {listing.variant_id: listing for listing in ChannelListing.objects.filter(account=account)}
    listing_update(
        listing=listings[variants[-11].pk],
        title_override='Own "title", overridden',
        description_override="Own\ndescription",
        category_override="1604",
        custom_labels=["summer, sale", 'quote"d', "", "new\nline", "último"],
    )
    listing_update(listing=listings[variants[-12].pk], title_override="y" * 220)  # too long everywhere
    listing_update(listing=listings[variants[-13].pk], custom_labels=["only one"])
    listing_rule_add(account=account, action="exclude", product=products[9])


@pytest.mark.parametrize("storefront", [True, False], ids=["storefront", "hosted"])
def test_every_feed_is_byte_identical_to_the_plain_writer(client, shop_a, storefront):
    """With the merchant's storefront URL, and without one (links to the shop's hosted pages)."""
    with shop_context(shop_a):
        exchange_rate_set_manual(shop=shop_a, base="USD", quote="EUR", rate="0.9")
        exchange_rate_set_manual(shop=shop_a, base="USD", quote="JPY", rate="151.37")
        market_create(
            shop=shop_a, name="France", countries=["FR"], currency="EUR", languages=["fr"], rate_mode="manual"
        )
        market_create(shop=shop_a, name="Japan", countries=["JP"], currency="JPY", languages=["ja"], rate_mode="manual")
    meta = seeded_account(shop_a, variants=100, markets=MARKETS)
    pinterest = seeded_account(shop_a, variants=0, channel="pinterest", name="Pins, and more")
    snapchat = seeded_account(shop_a, variants=0, channel="snapchat")
    google = seeded_account(shop_a, variants=0, channel="google_merchant", name="Google & <co>")
    with shop_context(shop_a):
        price_markets(shop_a)
        pinterest.publish_method = ChannelAccount.PublishMethod.FEED
        pinterest.save(update_fields=["publish_method"])
        products, variants = awkward_catalog(shop_a)
        listing_twists(meta, products, variants)
        listing_twists(google, products, variants)
        if not storefront:
            for account in (meta, pinterest, snapchat, google):
                listing_settings_update(account=account, storefront_url="")
    compared = []
    for account in (meta, pinterest, snapchat, google):
        with shop_context(shop_a):
            specs = account_feed_specs(account)
        for spec in specs:
            response = client.get(f"/feeds/{account.feed_token}/{spec.name}")
            assert response.status_code == 200, spec.name
            served = body_of(response)
            with shop_context(shop_a):
                if spec.kind == "main":
                    assert sql_feed_supported(account, spec) is not None, spec.name
                expected = "".join(plain_feed_stream(account, spec))
            assert served == expected, spec.name
            if spec.kind != "language":  # the language overrides carry texts only
                assert ("/s/alice/p/" in served) is not storefront, spec.name
            compared.append(spec.name)
    assert sorted(compared) == sorted(
        [
            "meta-us-en.csv",
            "meta-us-en.xml",
            "meta-fr-fr.csv",
            "meta-fr-fr.xml",
            "meta-jp-ja.csv",
            "meta-jp-ja.xml",
            "meta-overrides-country.csv",
            "meta-overrides-country.xml",
            "meta-overrides-language.csv",
            "meta-overrides-language.xml",
            "pinterest-us-en.csv",
            "pinterest-us-en.tsv",
            "snapchat-us-en.csv",
            "google_merchant-us-en.xml",
        ]
    )


def test_the_awkward_values_reach_the_feeds(client, shop_a):
    """The comparison above is only as good as its catalog: the awkward values are served."""
    meta = seeded_account(shop_a, variants=100)
    with shop_context(shop_a):
        products, variants = awkward_catalog(shop_a)
        listing_twists(meta, products, variants)
    body = body_of(client.get(f"/feeds/{meta.feed_token}/meta-us-en.csv"))
    assert '"Shirt, ""the"" best"' in body and '"Line one\nline two"' in body and ";\tand a tab" in body
    assert variants[0].sku in body and "Tab\tin the title" not in body  # no brand, GTIN or MPN: left out
    assert "Carriage\rreturn" in body and "日本語のシャツ" in body
    assert '"summer, sale","quote""d",,"new\nline",último' in body
    assert variants[-9].sku not in body and variants[-12].sku not in body  # no price; title too long
    assert "https://cdn.example.com/own,1.jpg" in body and "/media/shops/alice/products/abc-123.jpg" in body
    assert "out of stock" in body and "+0000/" in body  # a sale window


def test_an_image_name_sql_cannot_repeat_sends_the_feed_through_the_plain_writer(client, shop_a):
    account = seeded_account(shop_a, variants=6)
    with shop_context(shop_a):
        product = Product.objects.order_by("id").first()
        ProductMedia.objects.filter(product=product).update(url="", image="shops/alice/ä photo (1).jpg")
        spec = account_feed_specs(account)[0]
        assert sql_feed_supported(account, spec) is None  # the storage quotes this name
        expected = "".join(plain_feed_stream(account, spec))
    served = body_of(client.get(f"/feeds/{account.feed_token}/{spec.name}"))
    assert served == expected and "/media/shops/alice/%C3%A4%20photo%20(1).jpg" in served
