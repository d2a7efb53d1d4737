"""Customer data rights: export, erasure and the retention sweep."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from orders.models import (
    Customer,
    Order,
    OrderEvent,
)
from orders.services.settings import settings_get
from orders.services.timeline import order_event
from shopadmin.audit import audit_record
from shopadmin.words import Words

# The landing parameters hold click ids (fbclid): they go with the personal fields; the order's
# source and campaign stay, like its amounts, for the report of what each channel earns.
PERSONAL_ORDER_FIELDS = (
    "buyer_name",
    "buyer_email",
    "buyer_phone",
    "shipping_address",
    "buyer_message",
    "raw",
    "landing",
)


def customer_export(*, customer: Customer) -> dict:
    """Everything held about a customer of this shop, as JSON-ready data; the export is audited."""
    orders = Order.objects.filter(
        Q(customer=customer) | Q(buyer_email__iexact=customer.email) if customer.email else Q(customer=customer)
    )
    data = {
        "customer": {
            "id": customer.pk,
            "name": customer.name,
            "email": customer.email,
            "phone": customer.phone,
            "addresses": customer.addresses,
            "marketing_consent": customer.marketing_consent,
            "marketing_consent_at": customer.marketing_consent_at.isoformat()
            if customer.marketing_consent_at
            else None,
            "marketing_consent_source": customer.marketing_consent_source,
            "created_at": customer.created_at.isoformat(),
            "updated_at": customer.updated_at.isoformat(),
        },
        "orders": [
            {
                "id": order.pk,
                "channel": order.channel,
                "external_id": order.external_id,
                "status": order.status,
                "placed_at": order.placed_at.isoformat() if order.placed_at else None,
                "currency": order.currency,
                "total": str(order.total),
                "buyer_name": order.buyer_name,
                "buyer_email": order.buyer_email,
                "buyer_phone": order.buyer_phone,
                "shipping_address": order.shipping_address,
                "buyer_message": order.buyer_message,
                "lines": [
                    {
                        "sku": line.sku,
                        "title": line.title,
                        "quantity": line.quantity,
                        "unit_price": str(line.unit_price),
                    }
                    for line in order.lines.all()
                ],
                "channel_payload": order.raw,
                "source": order.source,
                "campaign": order.campaign,
                "landing": order.landing,
            }
            for order in orders.distinct().prefetch_related("lines")
        ],
    }
    # The audit entry names the customer by id only: it must not become a copy of personal data.
    audit_record(
        action="customer.export",
        instance=customer,
        object_repr=Words(gettext_noop("Customer %(id)s"), id=customer.pk),
        changes={"orders": [None, len(data["orders"])]},
    )
    return data


ERASED = "erased"


@transaction.atomic
def customer_erase(*, customer: Customer) -> Customer:
    """Anonymise the customer and the personal fields of their orders; amounts stay for accounting.

    The channel's raw payload holds the same personal data, so it is emptied too; the audit
    entry records that an erasure happened, never what was erased.
    """
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    email = customer.email
    orders = Order.objects.filter(
        Q(customer=customer) | Q(buyer_email__iexact=email) if email else Q(customer=customer)
    )
    now = timezone.now()
    order_ids = list(orders.values_list("pk", flat=True))
    Order.objects.filter(pk__in=order_ids).update(
        buyer_name="",
        buyer_email="",
        buyer_phone="",
        shipping_address={},
        buyer_message="",
        raw={},
        landing={},
        erased_at=now,
    )
    from channels.models import WebhookEvent

    # Webhook bodies of these orders can carry the buyer too (TikTok sends ids only, Meta ids only,
    # but a channel may add more); drop their stored bodies.
    external_ids = list(Order.objects.filter(pk__in=order_ids).values_list("external_id", flat=True))
    for external_id in external_ids:
        WebhookEvent.objects.filter(raw_body__contains=external_id).update(raw_body="{}")
    if email:
        WebhookEvent.objects.filter(raw_body__icontains=email).update(raw_body="{}")
    for order in Order.objects.filter(pk__in=order_ids):
        order_event(order, OrderEvent.Kind.ERASED, Words(gettext_noop("Personal data erased on request")))
    customer.name = ""
    customer.email = ""
    customer.phone = ""
    customer.addresses = []
    customer.marketing_consent = False
    customer.marketing_consent_at = None
    customer.marketing_consent_source = ""
    customer.erased_at = now
    customer.updated_at = now
    customer.save()
    audit_record(
        action="customer.erase",
        model_label="orders.Customer",
        object_id=str(customer.pk),
        object_repr=Words(gettext_noop("Customer %(id)s (erased)"), id=customer.pk),
        shop_id=customer.shop_id,
        changes={"orders_anonymised": [None, len(order_ids)]},
    )
    return customer


def retention_sweep() -> int:
    """Erase customers whose last order is older than the shop's retention setting."""
    settings = settings_get()
    if not settings.retention_days:
        return 0
    cutoff = timezone.now() - dt.timedelta(days=settings.retention_days)
    stale = Customer.objects.filter(erased_at=None).exclude(orders__placed_at__gte=cutoff).filter(updated_at__lt=cutoff)
    count = 0
    for customer in stale.distinct():
        customer_erase(customer=customer)
        count += 1
    return count
