# ruff: noqa: RUF001 — Urdu and Bengali texts keep their own punctuation.
"""The demo's second shop: a handloom and clothing seller in Dhaka, in Bengali and taka.

The demo user owns it too, so the shop switcher goes from the first shop to this one and the
UI shows Bengali amounts (৳, Bengali digits), and its Pakistan market's prices in rupees in
Urdu, right to left. It sells at home, to Pakistan and to India (West Bengal), through a
Facebook page (as most such sellers do) pointed at the sandbox, where its catalog is
published; its buyers pay cash on delivery, which they say in their message (an order has
no payment method of its own).
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from demo.dhaka_catalog import ITEMS, seed_dhaka_catalog
from demo.story import ensure_account, ensure_sandbox, history_rates, publish_catalog, sandbox_key

DHAKA_SLUG = "dhaka"
DHAKA_NAME = "ঢাকা তাঁতঘর · Dhaka Tantghor"

MARKETS = [
    {
        "name": "Pakistan",
        "countries": ["PK"],
        "currency": "PKR",
        "languages": ["ur", "en"],
        "tax_inclusive": True,
        "duty_mode": "DAP",
        "rounding": "nearest_10",
        "rate_mode": "manual",
    },
    {
        "name": "India (West Bengal)",
        "countries": ["IN"],
        "currency": "INR",
        "languages": ["bn", "en"],
        "tax_inclusive": True,
        "duty_mode": "DAP",
        "rounding": "whole",
        "rate_mode": "manual",
    },
]
# Demo values, not market data: round figures near the taka's rates in the mid-2020s (about
# 122 BDT, 280 PKR and 88 INR to the US dollar). The ECB publishes no BDT or PKR rate, so the
# shop prices these markets from manual rates, set for today.
RATES = {("BDT", "PKR"): "2.30", ("BDT", "INR"): "0.72"}

META_NAME = "Dhaka Tantghor on Facebook"
META_CREDENTIALS = {
    "catalog_id": "880000000000021",
    "commerce_account_id": "880000000000022",
    "access_token": "demo-dhaka-meta-access-token-0001",
    "app_secret": "demo-dhaka-meta-app-secret-0001",
    "verify_token": "demo-dhaka-verify-token",
}
# (name, phone, country, address): buyers in Bangladesh, a few in Pakistan and West Bengal.
BUYERS = [
    ("নুসরাত জাহান", "+8801700000101", "BD", "বাড়ি ১২, রোড ৫, ধানমন্ডি, ঢাকা ১২০৫"),
    ("তানভীর আহমেদ", "+8801700000102", "BD", "সেক্টর ৭, উত্তরা, ঢাকা ১২৩০"),
    ("ফারহানা ইসলাম", "+8801700000103", "BD", "জিইসি মোড়, চট্টগ্রাম ৪০০০"),
    ("রাশেদুল করিম", "+8801700000104", "BD", "জিন্দাবাজার, সিলেট ৩১০০"),
    ("সুমাইয়া আক্তার", "+8801700000105", "BD", "সাহেব বাজার, রাজশাহী ৬১০০"),
    ("মাহমুদ হাসান", "+8801700000106", "BD", "মিরপুর ১০, ঢাকা ১২১৬"),
    ("عائشہ خان", "+923000000107", "PK", "گلبرگ III، لاہور"),
    ("بلال احمد", "+923000000108", "PK", "ڈیفنس فیز 5، کراچی"),
    ("সুদীপা ঘোষ", "+919800000109", "IN", "সল্টলেক সেক্টর ২, কলকাতা ৭০০০৯১"),
]
# Couriers charge by zone: inside Dhaka, the rest of Bangladesh, abroad (in the order's currency).
SHIPPING = {"BD-dhaka": Decimal(60), "BD": Decimal(120), "PK": Decimal(3500), "IN": Decimal(950)}
CASH_ON_DELIVERY_NOTES = {
    "BD": "ক্যাশ অন ডেলিভারি। আসার আগে ফোন দেবেন।",
    "PK": "ڈیلیوری پر نقد ادائیگی کروں گی۔",
    "IN": "ডেলিভারির সময় টাকা দেব।",
}
ORDER_DAYS = 40
ORDER_COUNT = 18
AWAITING = 3  # the newest orders are still to ship


def seed_dhaka(*, owner, base_url: str) -> None:
    """The Dhaka shop, its catalog, markets and orders, with `owner` as its owner (idempotent)."""
    from shopadmin.models import Membership, Shop
    from shopadmin.roles import Role
    from shopadmin.services import shop_create
    from shopadmin.tenancy import shop_context

    shop = Shop.objects.filter(slug=DHAKA_SLUG).first()
    fresh = shop is None
    if fresh:
        shop = shop_create(
            name=DHAKA_NAME,
            slug=DHAKA_SLUG,
            currency="BDT",
            country="BD",
            language="bn",
            timezone_name="Asia/Dhaka",
            owner=owner,
        )
    with shop_context(shop):
        Membership.objects.get_or_create(shop=shop, user=owner, defaults={"role": Role.OWNER})
        seed_dhaka_catalog(shop=shop, base_url=base_url)
        if fresh:
            seed_dhaka_markets(shop=shop)
            seed_dhaka_shipping()
            seed_dhaka_storefront()
        # Every run: the page follows the demo to another host or port.
        page = facebook_page(shop, base_url)
        seed_dhaka_orders(shop=shop, account=page)
        if settings.SANDBOX_ENABLED:
            # No website of its own: listings link to the shop's hosted pages (/s/dhaka/).
            publish_catalog(page, owner, storefront_url="")


def seed_dhaka_shipping() -> None:
    """Courier rates as Dhaka sellers quote them: inside Dhaka, elsewhere in Bangladesh, abroad."""
    from localization.models import Market, ShippingKind
    from localization.services import shipping_rate_create

    rates = {
        "Bangladesh": [
            ("ঢাকার ভিতরে · Inside Dhaka", ShippingKind.FLAT, Decimal(60), None),
            ("ঢাকার বাইরে · Outside Dhaka", ShippingKind.FREE_OVER, Decimal(120), Decimal(5000)),
        ],
        "Pakistan": [("DHL Express", ShippingKind.FLAT, Decimal(3500), None)],
        "India (West Bengal)": [("Courier", ShippingKind.FLAT, Decimal(950), None)],
    }
    for market in Market.objects.filter(name__in=rates):
        if market.shipping_rates.exists():
            continue
        for position, (name, kind, amount, free_over) in enumerate(rates[market.name]):
            shipping_rate_create(
                market=market, name=name, kind=kind, amount=amount, free_over=free_over, position=position
            )


def seed_dhaka_storefront() -> None:
    """The shop's storefront: cash on delivery and bKash, and orders continued in WhatsApp."""
    from storefront.services import storefront_settings_update

    storefront_settings_update(
        cod_instructions="ডেলিভারির সময় কুরিয়ারকে নগদে দাম দিন। / Pay the courier in cash on delivery.",
        mobile_money_enabled=True,
        mobile_money_instructions="bKash (Send Money): 01712-345678. লেনদেনের আইডি (TrxID) লিখুন। / Enter the TrxID.",
        whatsapp_number="+880 1712 345678",
        contact_phone="+880 1712 345678",
    )


def seed_dhaka_markets(*, shop) -> None:
    """Bangladesh (the home market, renamed), Pakistan and India, priced from manual rates."""
    from localization.models import ExchangeRate, Market
    from localization.services import exchange_rate_set_manual, market_create, market_update

    home = Market.objects.filter(is_home=True).first()
    if home is not None:
        market_update(market=home, name="Bangladesh", languages=["bn", "en"], rounding="whole")
    for (base, quote), rate in RATES.items():
        if not ExchangeRate.objects.filter(shop=shop, source="manual", base=base, quote=quote).exists():
            exchange_rate_set_manual(shop=shop, base=base, quote=quote, rate=rate)
    for spec in MARKETS:
        if not Market.objects.filter(name=spec["name"]).exists():
            market_create(shop=shop, **spec)


def facebook_page(shop, base_url: str):
    """The shop's Facebook page (a Meta account) on the sandbox, which holds it too."""
    account = ensure_account(
        shop,
        channel="meta",
        name=META_NAME,
        credentials=dict(META_CREDENTIALS),
        api_base_url=f"{base_url.rstrip('/')}/sandbox/meta",
    )
    if settings.SANDBOX_ENABLED:
        ensure_sandbox(account, base_url.rstrip("/"))
    return account


def seed_dhaka_orders(*, shop, account) -> None:
    """Six weeks of orders from the shop's Facebook page: delivered, and the newest to ship.

    Imported with `order_import` as the channel reports them (delivered ones take their units
    off the shelf and fill the dashboard); with the sandbox on, the simulated Facebook page
    holds the same orders, so acknowledging, polling and reconciliation agree.
    """
    from catalog.models import ProductVariant, StockLevel
    from channels.adapters.base import ChannelOrder, ChannelOrderLine
    from channels.sandbox.control import ORDER_SIMULATORS
    from localization.money import quantize
    from localization.rates import rate_for
    from orders.models import Lifecycle, Order
    from orders.services.ingest import order_import

    if Order.objects.exists():
        return  # idempotent: keep whatever the merchant has done
    stocked = list(
        ProductVariant.objects.filter(stock_levels__on_hand__gte=5, product__status="active")
        .select_related("product")
        .order_by("pk")
    )
    if not stocked:
        return
    rng = random.Random(1952)
    now = timezone.now()
    since = now - dt.timedelta(days=ORDER_DAYS + 1)
    history_rates(shop, {"PKR", "INR"}, since)
    simulator = ORDER_SIMULATORS["meta"]
    # The page shows buyers in Pakistan the Urdu title, everyone else the Bengali one.
    titles = {item.handle: (item.titles[0], item.titles[2]) for item in ITEMS}
    free = dict(StockLevel.objects.filter(variant__in=stocked).values_list("variant", "on_hand"))
    orders = []
    for n in range(ORDER_COUNT):
        name, phone, country, address = BUYERS[rng.randrange(len(BUYERS))]
        awaiting = n >= ORDER_COUNT - AWAITING
        placed = now - dt.timedelta(
            days=ORDER_DAYS * (ORDER_COUNT - 1 - n) / ORDER_COUNT, hours=rng.randint(0, 8), minutes=rng.randint(0, 59)
        )
        currency = {"PK": "PKR", "IN": "INR"}.get(country, shop.default_currency)
        rate = rate_for(shop.default_currency, currency, shop_id=shop.pk, mode="auto", at=placed).rate
        picked = []
        on_shelf = [v for v in stocked if free[v.pk] >= 2]
        for variant in rng.sample(on_shelf, k=min(rng.choice([1, 1, 2]), len(on_shelf))):
            quantity = rng.choice([1, 1, 2])
            free[variant.pk] -= quantity
            picked.append((variant, quantity, quantize(variant.price.amount * rate, currency)))
        subtotal = sum((price * quantity for _v, quantity, price in picked), Decimal(0))
        shipping = SHIPPING["BD-dhaka" if "ঢাকা" in address else country]
        external_id = f"88{n + 1:08d}"
        status = simulator.NEW_ORDER_STATUS if awaiting else simulator.DELIVERED_ORDER_STATUS
        updated = placed if awaiting else placed + dt.timedelta(days=2)
        orders.append(
            ChannelOrder(
                external_id=external_id,
                channel_status=status,
                lifecycle=Lifecycle.AWAITING_FULFILLMENT if awaiting else Lifecycle.FULFILLED,
                currency=currency,
                subtotal=subtotal,
                shipping=shipping,
                total=subtotal + shipping,
                lines=[
                    ChannelOrderLine(
                        channel_item_id=v.sku,
                        sku=v.sku,
                        quantity=quantity,
                        unit_price=price,
                        title=titles[v.product.handle][country == "PK"],
                    )
                    for v, quantity, price in picked
                ],
                placed_at=placed,
                updated_at=updated,
                buyer_name=name,
                buyer_phone=phone,
                buyer_message=CASH_ON_DELIVERY_NOTES[country] if n % 3 == 0 else "",
                shipping_address={"name": name, "region_code": country, "full_address": address},
                country=country,
            )
        )
    if settings.SANDBOX_ENABLED:
        from channels.sandbox.models import SandboxAccount, SandboxOrder

        sandbox = SandboxAccount.objects.get(channel="meta", key=sandbox_key(account))
        SandboxOrder.objects.bulk_create(
            [
                SandboxOrder(
                    account=sandbox,
                    order_id=data.external_id,
                    status=data.channel_status,
                    lines=[
                        {"item_id": ln.sku, "product_id": "", "quantity": ln.quantity, "price": str(ln.unit_price)}
                        for ln in data.lines
                    ],
                    total=str(data.total),
                    currency=data.currency,
                    created_at=data.placed_at,
                    updated_at=data.updated_at,
                    merchant_order_reference=data.external_id,
                )
                for data in orders
            ],
            ignore_conflicts=True,
        )
    for data in orders:
        order_import(account=account, data=data, via="demo")
