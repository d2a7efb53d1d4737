"""Background work of the storefront: the buyer's confirmation email, after the order commits."""

from __future__ import annotations

from shopadmin.tasks import tenant_task
from storefront.models import CheckoutReceipt
from storefront.services import confirmation_email_send


@tenant_task(name="storefront.checkout_confirmation_email")
def checkout_confirmation_email_task(shop_id: int, receipt_id: int) -> None:
    receipt = CheckoutReceipt.objects.filter(pk=receipt_id).first()
    if receipt is not None:
        confirmation_email_send(receipt=receipt)
