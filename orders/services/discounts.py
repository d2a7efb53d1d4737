"""The merchant's discount codes: create, change, deactivate, delete (an unused one).

Checkout's side (quote a code, count a use) is orders.discounts. Codes are unique per shop
whatever their case: SUMMER10 and summer10 are one code, checked here with a clear message
and by the database's unique index on (shop, UPPER(code)).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from localization.money import minor_unit
from orders.errors import OrdersErrorCode
from orders.models import DiscountCode
from shopadmin.audit import audit_record, diff, snapshot
from shopadmin.models import Shop

FIELDS = ("code", "kind", "value", "starts_at", "ends_at", "usage_limit", "minimum_subtotal", "is_active")
UNIQUE_CONSTRAINT = "discountcode_unique_code_per_shop"


def _taken(code: str) -> ValidationError:
    return ValidationError(
        {
            "code": ValidationError(
                _("The shop has a code “%(code)s” already (upper and lower case are the same code).") % {"code": code},
                code=OrdersErrorCode.DISCOUNT_CODE_TAKEN,
            )
        }
    )


def _decimal(value, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        result = None
    if result is None or not result.is_finite():
        raise ValidationError(
            {field: ValidationError(_("Enter a number such as 10 or 4.50."), code=OrdersErrorCode.AMOUNT_INVALID)}
        )
    return result


def _normalise(fields: dict) -> dict:
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"Not discount code fields: {', '.join(sorted(unknown))}")
    if isinstance(fields.get("code"), str):
        fields["code"] = fields["code"].strip()
    for name in ("value", "minimum_subtotal"):
        if name in fields:
            fields[name] = _decimal(fields[name], name)
    return fields


def _check_amounts(discount: DiscountCode, currency: str) -> None:
    """Amounts in the shop currency are whole minor units of it (no 0.005 USD, no 2.5 JPY)."""
    unit = minor_unit(currency)
    errors = {}
    amounts = [("minimum_subtotal", discount.minimum_subtotal)]
    if discount.kind == DiscountCode.Kind.FIXED:
        amounts.append(("value", discount.value))
    for name, amount in amounts:
        if amount is not None and amount % unit:
            errors[name] = ValidationError(
                _("%(currency)s amounts go down to %(unit)s; round this amount to it.")
                % {"currency": currency, "unit": unit},
                code=OrdersErrorCode.DISCOUNT_VALUE_INVALID,
            )
    if errors:
        raise ValidationError(errors)


def _save(discount: DiscountCode) -> None:
    """Save, turning a lost race for the same code into the same field error as the check."""
    try:
        with transaction.atomic():
            discount.save()
    except IntegrityError as exc:
        if UNIQUE_CONSTRAINT in str(exc):
            raise _taken(discount.code) from None
        raise


def _check_code_free(discount: DiscountCode) -> None:
    if discount.code and DiscountCode.objects.filter(code__iexact=discount.code).exclude(pk=discount.pk).exists():
        raise _taken(discount.code)


@transaction.atomic
def discount_code_create(*, shop: Shop, **fields) -> DiscountCode:
    """A new code for the shop: `code`, `kind` (percentage or fixed), `value` (the percentage, or
    the amount in the shop currency), and optionally `starts_at`, `ends_at`, `usage_limit`,
    `minimum_subtotal` (shop currency) and `is_active`."""
    fields = _normalise(fields)
    discount = DiscountCode(shop=shop, **fields)
    # The constraints are checked above and in clean() with their own messages and codes.
    discount.full_clean(validate_constraints=False)
    _check_amounts(discount, shop.default_currency)
    _check_code_free(discount)
    _save(discount)
    audit_record(action="discount_code.create", instance=discount, changes=snapshot(discount, FIELDS))
    return discount


@transaction.atomic
def discount_code_update(*, discount: DiscountCode, **fields) -> DiscountCode:
    """Change some of a code's fields; `times_used` is counted by checkout only."""
    fields = _normalise(fields)
    discount = DiscountCode.objects.select_for_update(of=("self",)).select_related("shop").get(pk=discount.pk)
    before = snapshot(discount, FIELDS)
    for name, value in fields.items():
        setattr(discount, name, value)
    # The constraints are checked above and in clean() with their own messages and codes.
    discount.full_clean(validate_constraints=False)
    _check_amounts(discount, discount.shop.default_currency)
    _check_code_free(discount)
    changes = diff(before, snapshot(discount, FIELDS))
    if changes:
        discount.updated_at = timezone.now()
        _save(discount)
        audit_record(action="discount_code.update", instance=discount, changes=changes)
    return discount


def discount_code_deactivate(*, discount: DiscountCode) -> DiscountCode:
    """Stop the code from applying to new baskets; the orders that used it keep it."""
    return discount_code_update(discount=discount, is_active=False)


@transaction.atomic
def discount_code_delete(*, discount: DiscountCode) -> None:
    """Delete a code no order has used; a used code is deactivated instead (orders keep it)."""
    discount = DiscountCode.objects.select_for_update().get(pk=discount.pk)
    if discount.times_used or discount.redemptions.exists():
        raise ValidationError(
            _("Orders have used this code: deactivate it instead, so they keep it."),
            code=OrdersErrorCode.DISCOUNT_CODE_USED,
        )
    audit_record(action="discount_code.delete", instance=discount)
    discount.delete()
