"""Placing a checkout order: one lifecycle through order_import on the shop's checkout account,
stock allocated, refused (never oversold) when stock is short, the customer's consent, the
attribution, the confirmation page and email, and the order in the merchant's list."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail

from catalog.models import StockLevel
from channels.models import Channel, ChannelAccount
from orders.models import Customer, Lifecycle, Order
from shopadmin.audit import Actor, acting_as
from shopadmin.models import AuditLogEntry, Door
from shopadmin.tenancy import shop_context
from storefront import services
from storefront.models import CheckoutReceipt

pytestmark = pytest.mark.django_db

BUYER = {
    "name": "Rahim Uddin",
    "phone": "+1 415 555 0100",
    "email": "rahim@example.com",
    "country": "US",
    "line1": "1 Market St",
    "city": "San Francisco",
    "region": "CA",
    "postcode": "94105",
    "payment_method": "cod",
}


def _post(client, url, **overrides):
    data = {**BUYER, **overrides}
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(url, data)


def test_a_cash_on_delivery_order_goes_through_order_import_on_the_checkout_channel(
    client, shop_a, store_a, django_capture_on_commit_callbacks
):
    url = "/s/alice/checkout/?products=AL-TEE-S:2,AL-TEE-M:1&cart_origin=facebook&utm_campaign=spring&fbclid=X1"
    page = client.get(url).content.decode()
    assert 'name="marketing_consent"' in page and "checked" not in page.split('name="marketing_consent"')[1][:40]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _post(
            client, url, marketing_consent="on", cart_origin="facebook", utm_campaign="spring", fbclid="X1"
        )
    assert response.status_code == 303, response.content.decode()[:2000]
    assert response["Location"].startswith("/s/alice/o/")
    with shop_context(shop_a):
        order = Order.objects.get()
        assert order.channel == Channel.CHECKOUT and order.external_id.startswith("CO-")
        assert order.account.channel == Channel.CHECKOUT
        assert ChannelAccount.objects.filter(channel=Channel.CHECKOUT).count() == 1
        assert order.status == Lifecycle.AWAITING_FULFILLMENT
        assert [
            (ln.sku, ln.quantity, ln.quantity_allocated, ln.quantity_short) for ln in order.lines.order_by("pk")
        ] == [
            ("AL-TEE-S", 2, 2, 0),
            ("AL-TEE-M", 1, 1, 0),
        ]
        assert order.subtotal == Decimal("59.97") and order.shipping == Decimal("5.00")
        assert order.total == order.subtotal + order.shipping + order.tax - order.discounts
        levels = {lvl.variant.sku: (lvl.on_hand, lvl.allocated) for lvl in StockLevel.objects.select_related("variant")}
        assert levels["AL-TEE-S"] == (20, 2) and levels["AL-TEE-M"] == (3, 1)
        assert order.buyer_name == "Rahim Uddin" and order.shipping_address["postcode"] == "94105"
        customer = Customer.objects.get(pk=order.customer_id)
        assert customer.marketing_consent and customer.marketing_consent_at is not None
        assert customer.marketing_consent_source == "checkout"
        # The landing reaches the order (orders.attribution): Meta's cart_origin names the app, and the campaign.
        assert order.source == "facebook" and order.campaign == "spring"
        assert order.landing.get("fbclid") == "X1"
        assert order.raw["checkout"]["payment_method"] == "cod"
        receipt = CheckoutReceipt.objects.get(order=order)
        assert AuditLogEntry.objects.filter(action="checkout.place", object_id=str(order.pk)).exists()
    assert len(callbacks) >= 1  # the confirmation email task, after the commit
    confirmation = client.get(response["Location"])
    assert confirmation.status_code == 200
    html = confirmation.content.decode()
    assert order.external_id in html and "Cash on delivery" in html
    assert confirmation["Cache-Control"] == "private, no-store" and not confirmation.cookies
    with shop_context(shop_a):
        assert services.confirmation_email_send(receipt=receipt) is True
        assert services.confirmation_email_send(receipt=receipt) is False  # once only
    assert len(mail.outbox) == 1 and order.external_id in mail.outbox[0].subject
    assert mail.outbox[0].to == ["rahim@example.com"] and receipt.token in mail.outbox[0].body


def test_the_order_appears_in_the_merchants_order_list_with_channel_checkout(client, alice_client, shop_a, store_a):
    response = _post(client, "/s/alice/checkout/?products=AL-TEE-S:1", email="")
    assert response.status_code == 303
    with shop_context(shop_a):
        order = Order.objects.get()
        assert order.customer.marketing_consent is False  # the box was not ticked
    listing = alice_client.get("/app/alice/orders/?channel=checkout").content.decode()
    assert order.external_id in listing
    assert "Shop checkout" in alice_client.get(f"/app/alice/orders/{order.pk}/").content.decode()
    # The checkout account is nobody's to connect, publish or see among the channel accounts.
    accounts = alice_client.get("/app/alice/channels/").content.decode()
    assert "/channels/connect/checkout/" not in accounts
    assert alice_client.get("/app/alice/channels/connect/checkout/").status_code == 404


def test_short_stock_refuses_the_order_and_keeps_what_was_typed(client, shop_a, store_a):
    response = _post(client, "/s/alice/checkout/?products=AL-TEE-M:5", name="Karim Typed")
    assert response.status_code == 409
    html = response.content.decode()
    assert "Only 3 of AL Tee (M) are left" in html
    assert 'value="Karim Typed"' in html and 'value="1 Market St"' in html
    with shop_context(shop_a):
        assert not Order.objects.exists()
        assert StockLevel.objects.get(variant__sku="AL-TEE-M").allocated == 0


def test_form_errors_keep_the_form_and_say_what_is_wrong(client, shop_a, store_a):
    response = _post(client, "/s/alice/checkout/?products=AL-TEE-S:1", phone="call me", postcode="ABC")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Give a phone number" in html and "That is not a postcode of this country." in html
    assert 'value="Rahim Uddin"' in html
    response = _post(client, "/s/alice/checkout/?products=AL-TEE-S:1", payment_method="bank_transfer")
    assert response.status_code == 400  # not enabled by the merchant
    with shop_context(shop_a):
        assert not Order.objects.exists()


def test_bank_transfer_needs_a_reference_and_shows_the_merchants_instructions(client, shop_a, store_a):
    with shop_context(shop_a), acting_as(Actor(door=Door.CLI, label="fixture")):
        services.storefront_settings_update(
            bank_transfer_enabled=True, bank_transfer_instructions="Pay to IBAN XX00 1234, reference your phone."
        )
    url = "/s/alice/checkout/?products=AL-TEE-S:1"
    assert "Pay to IBAN XX00 1234" in client.get(url).content.decode()
    response = _post(client, url, payment_method="bank_transfer")
    assert response.status_code == 400 and "Give the reference of your payment" in response.content.decode()
    response = _post(client, url, payment_method="bank_transfer", payment_reference="TRX-778")
    assert response.status_code == 303
    html = client.get(response["Location"]).content.decode()
    assert "TRX-778" in html and "Pay to IBAN XX00 1234" in html


def test_a_coupon_is_redeemed_in_the_same_transaction(client, shop_a, store_a):
    from orders.services.discounts import discount_code_create

    with shop_context(shop_a), acting_as(Actor(door=Door.CLI, label="fixture")):
        code = discount_code_create(shop=shop_a, code="ONCE", kind="percentage", value=Decimal("50"), usage_limit=1)
    url = "/s/alice/checkout/?products=AL-TEE-S:2&coupon=once"
    assert _post(client, url).status_code == 303
    response = _post(client, url)
    assert response.status_code == 400  # used up between the page and the order: refused with the reason
    with shop_context(shop_a):
        order = Order.objects.get()
        assert order.discounts == Decimal("19.99")
        code.refresh_from_db()
        assert code.times_used == 1


def test_whatsapp_and_messenger_links_carry_the_cart_as_text(client, shop_a, store_a):
    with shop_context(shop_a), acting_as(Actor(door=Door.CLI, label="fixture")):
        services.storefront_settings_update(whatsapp_number="+1 (415) 555-0199", messenger_page="aliceapparel")
    html = client.get("/s/alice/checkout/?products=AL-TEE-S:2").content.decode()
    assert 'href="https://wa.me/14155550199?text=' in html
    assert 'href="https://m.me/aliceapparel?text=' in html
    assert "AL-TEE-S" in html.split("https://wa.me/")[1].split('"')[0]
    with shop_context(shop_a):
        assert not Order.objects.exists()  # a chat creates no order


def test_address_fields_follow_the_country():
    from storefront.forms import CheckoutForm

    bd = CheckoutForm(countries=["BD"], methods=["cod"], country="BD")
    assert {"district", "region", "postcode"} <= set(bd.fields) and not bd.fields["postcode"].required
    assert str(bd.fields["region"].label) == "Division"
    us = CheckoutForm(countries=["US"], methods=["cod"], country="US")
    assert us.fields["postcode"].required and str(us.fields["postcode"].label) == "ZIP code"
    de = CheckoutForm(countries=["DE"], methods=["cod"], country="DE")
    assert de.fields["postcode"].required and "region" not in de.fields
    form = CheckoutForm(
        {
            "name": "Nadia",
            "phone": "০১৭১২ ৩৪৫৬৭৮",
            "country": "BD",
            "line1": "House 1, Road 2",
            "city": "Dhanmondi",
            "district": "Dhaka",
            "postcode": "১২০৫",
            "payment_method": "cod",
        },
        countries=["BD"],
        methods=["cod"],
        country="BD",
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["phone"] == "01712 345678" and form.cleaned_data["postcode"] == "1205"


def test_the_checkout_order_follows_the_one_lifecycle(client, shop_a, store_a, django_capture_on_commit_callbacks):
    from orders.services import lifecycle

    assert _post(client, "/s/alice/checkout/?products=AL-TEE-S:2").status_code == 303
    with shop_context(shop_a), acting_as(Actor(door=Door.CLI, label="fixture")):
        order = Order.objects.get()
        with django_capture_on_commit_callbacks(execute=False):
            lifecycle.order_fulfill(order=order, carrier="Courier", tracking_number="T1")
        order.refresh_from_db()
        assert order.status == Lifecycle.FULFILLED
        level = StockLevel.objects.get(variant__sku="AL-TEE-S")
        assert (level.on_hand, level.allocated) == (18, 0)


def test_page_views_and_checkout_starts_are_counted_per_source_and_campaign(client, shop_a, store_a):
    from orders.models import TrafficDaily

    client.get("/s/alice/p/al-tee/?utm_source=pinterest&utm_campaign=summer")
    client.get("/s/alice/?utm_source=pinterest&utm_campaign=summer")
    client.get("/s/alice/checkout/?products=AL-TEE-S:1&utm_source=pinterest&utm_campaign=summer")
    client.get("/s/alice/checkout/?products=AL-TEE-S:1&cart_origin=instagram")
    with shop_context(shop_a):
        rows = {(r.source, r.campaign): (r.page_views, r.checkout_starts) for r in TrafficDaily.objects.all()}
    assert rows[("pinterest", "summer")] == (2, 1)
    assert sum(starts for _views, starts in rows.values()) == 2
