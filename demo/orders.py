"""The demo shop's first orders: a dozen orders from a TikTok Shop account pointed at the
sandbox, in every state the merchant meets (to ship, shipped, cancelled, oversold, an unknown
item), each imported, fulfilled or cancelled through the orders services."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.utils import timezone

DEMO_ACCOUNT = "Demo TikTok Shop"
DEMO_TIKTOK_CREDENTIALS = {
    "app_key": "demo-app-key",
    "app_secret": "demo-app-secret-0001",
    "access_token": "demo-access-token-0001",
    "shop_cipher": "DEMO_CIPHER",
}
DEMO_BUYERS = [
    ("Ana Souza", "ana.souza@example.com", "BR"),
    ("Ben Carter", "ben.carter@example.com", "US"),
    ("Chloé Martin", "chloe.martin@example.com", "FR"),
    ("Daiki Sato", "daiki.sato@example.com", "JP"),
    ("Emma Jones", "emma.jones@example.com", "GB"),
    ("Femi Adeyemi", "femi.adeyemi@example.com", "US"),
]


def _account(shop, base_url: str):
    from channels.models import ChannelAccount
    from channels.services import channel_account_create

    existing = ChannelAccount.objects.filter(channel__in=("meta", "tiktok_shop")).order_by("pk").first()
    if existing is not None:
        return existing
    return channel_account_create(
        shop=shop,
        channel="tiktok_shop",
        name=DEMO_ACCOUNT,
        credentials=dict(DEMO_TIKTOK_CREDENTIALS),
        api_base_url=f"{base_url.rstrip('/')}/sandbox/tiktok",
    )


def seed_demo_orders(*, shop, owner, fresh, base_url) -> None:
    from catalog.models import ProductVariant
    from channels.adapters.base import ChannelOrder, ChannelOrderLine
    from orders.models import Order
    from orders.services.ingest import order_import
    from orders.services.lifecycle import order_cancel, order_fulfill

    if Order.objects.exists():
        return  # idempotent: keep whatever the demo merchant has done
    variants = list(ProductVariant.objects.order_by("pk")[:40])
    if not variants:
        return
    account = _account(shop, base_url)
    rng = random.Random(11)
    now = timezone.now()
    for n in range(12):
        name, email, country = DEMO_BUYERS[n % len(DEMO_BUYERS)]
        picked = rng.sample(variants, k=rng.randint(1, 3))
        lines = [
            ChannelOrderLine(
                channel_item_id=v.sku, sku=v.sku, quantity=rng.randint(1, 2), unit_price=v.price.amount, title=v.title
            )
            for v in picked
        ]
        if n == 7:
            lines.append(
                ChannelOrderLine(
                    channel_item_id="LEGACY-404", sku="LEGACY-404", quantity=1, unit_price=Decimal("12.00")
                )
            )
        subtotal = sum((ln.unit_price * ln.quantity for ln in lines), Decimal("0"))
        placed = now - dt.timedelta(hours=6 * (12 - n))
        order, _outcome = order_import(
            account=account,
            data=ChannelOrder(
                external_id=f"5770{n:06d}",
                channel_status="AWAITING_SHIPMENT",
                lifecycle="awaiting_fulfillment",
                currency=shop.default_currency,
                subtotal=subtotal,
                shipping=Decimal("4.90"),
                total=subtotal + Decimal("4.90"),
                lines=lines,
                placed_at=placed,
                updated_at=placed,
                buyer_name=name,
                buyer_email=email,
                shipping_address={"name": name, "region_code": country, "full_address": f"{n + 1} Demo Street"},
                country=country,
            ),
            via="demo",
        )
        if n < 4:
            order_fulfill(order=order, carrier="UPS", tracking_number=f"1Z999AA1{n:010d}")
        elif n == 10:
            order_cancel(order=order, reason="Buyer changed their mind")
