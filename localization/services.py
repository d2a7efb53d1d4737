"""Every write of the localization app: rates, markets, tax overrides.

Each service is keyword-only, runs in one transaction, validates with full_clean, writes the
audit log and schedules the market-price recompute on commit. Market writes also send
`signals.market_saved` on commit.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

import httpx
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from localization import signals
from localization.errors import LocalizationErrorCode
from localization.models import ExchangeRate, Market, MarketVariantPrice, RateSource, ShopTaxRate
from localization.money import ROUNDING_PRESETS
from localization.rates import ECB_URL, RATE_PLACES, ecb_effective_at, parse_ecb_daily
from shopadmin.audit import audit_record, diff, snapshot
from shopadmin.models import Shop
from shopadmin.tenancy import all_shops_access
from shopadmin.words import Words

MARKET_FIELDS = (
    "name",
    "is_active",
    "countries",
    "currency",
    "languages",
    "tax_inclusive",
    "duty_mode",
    "ddp_pricing",
    "rate_mode",
    "adjustment_percent",
    "rounding_increment",
    "rounding_ending",
    "rounding_direction",
)
# Changing these changes computed prices.
PRICE_INPUT_FIELDS = {
    "currency",
    "rate_mode",
    "adjustment_percent",
    "rounding_increment",
    "rounding_ending",
    "rounding_direction",
    "duty_mode",
    "ddp_pricing",
    "countries",
    "tax_inclusive",
}


def schedule_price_recompute(*, shop_id: int, market_ids: list[int] | None = None) -> None:
    """Recompute stored market prices after the transaction commits (a Celery tenant task)."""
    from localization.tasks import market_prices_recompute_task

    transaction.on_commit(lambda: market_prices_recompute_task.delay(shop_id, market_ids))


@transaction.atomic
def market_prices_recompute_start(*, market: Market, user=None):
    """Recompute a market's stored prices in the background, with a Job to follow (the
    market page's button, the API's `recompute-prices`). Returns the Job."""
    from localization.tasks import market_prices_recompute_task
    from shopadmin.services import job_create

    job = job_create(
        kind="market_prices",
        label=Words(gettext_noop("Recompute prices in %(market)s"), market=market.name),
        total=1,
        created_by=user,
    )
    audit_record(action="market.prices_recompute", instance=market, changes={"job": [None, job.pk]})
    shop_id, market_id = market.shop_id, market.pk
    transaction.on_commit(lambda: market_prices_recompute_task.delay(shop_id, [market_id], None, job.pk))
    return job


# --- Exchange rates ----------------------------------------------------------------------------


def _as_decimal(value, field: str) -> Decimal:
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError(
            {
                field: ValidationError(
                    _("Enter a decimal number such as 0.76."), code=LocalizationErrorCode.DECIMAL_INVALID
                )
            }
        ) from None
    if not result.is_finite():
        raise ValidationError(
            {
                field: ValidationError(
                    _("Enter a decimal number such as 0.76."), code=LocalizationErrorCode.DECIMAL_INVALID
                )
            }
        )
    return result


@transaction.atomic
def exchange_rate_set_manual(
    *, shop: Shop, base: str, quote: str, rate, effective_at: dt.datetime | None = None
) -> ExchangeRate:
    """A manual rate for the shop, effective now unless told otherwise."""
    effective_at = effective_at or timezone.now()
    row = ExchangeRate(
        shop=shop,
        base=(base or "").upper(),
        quote=(quote or "").upper(),
        rate=_as_decimal(rate, "rate"),
        date=timezone.localdate(effective_at),
        effective_at=effective_at,
        source=RateSource.MANUAL,
    )
    row.full_clean()
    row.save()
    audit_record(
        action="exchange_rate.set",
        instance=row,
        changes={"pair": [None, f"{row.base}/{row.quote}"], "rate": [None, str(row.rate)]},
    )
    affected = list(
        Market.objects.filter(rate_mode="manual", currency__in=[row.base, row.quote]).values_list("id", flat=True)
    )
    if affected:
        schedule_price_recompute(shop_id=shop.pk, market_ids=affected)
    return row


def ecb_rates_store(*, date: dt.date, rates: dict[str, Decimal]) -> int:
    """Store one ECB day (idempotent: a day already stored is left as it is). Platform write."""
    effective_at = ecb_effective_at(date)
    with all_shops_access(), transaction.atomic():
        existing = set(
            ExchangeRate.all_shops.filter(
                shop__isnull=True, source=RateSource.ECB, base="EUR", effective_at=effective_at
            ).values_list("quote", flat=True)
        )
        rows = [
            ExchangeRate(
                shop=None,
                base="EUR",
                quote=code,
                rate=value,
                date=date,
                effective_at=effective_at,
                source=RateSource.ECB,
            )
            for code, value in sorted(rates.items())
            if code not in existing
        ]
        ExchangeRate.all_shops.bulk_create(rows)
    return len(rows)


def ecb_rates_fetch(*, url: str = ECB_URL, client: httpx.Client | None = None) -> tuple[dt.date, int]:
    """Download today's ECB reference rates and store them."""
    client = client or httpx.Client(timeout=20, follow_redirects=True)
    response = client.get(url)
    response.raise_for_status()
    date, rates = parse_ecb_daily(response.content)
    return date, ecb_rates_store(date=date, rates=rates)


def provider_rates_store(day) -> int:
    """Store one day of the configured provider's rates (a `ProviderDay`); a day already stored
    is left as it is. Platform write, like the ECB's."""
    with all_shops_access(), transaction.atomic():
        existing = set(
            ExchangeRate.all_shops.filter(
                shop__isnull=True, source=RateSource.PROVIDER, base=day.base, effective_at=day.effective_at
            ).values_list("quote", flat=True)
        )
        rows = [
            ExchangeRate(
                shop=None,
                base=day.base,
                quote=code,
                rate=value.quantize(RATE_PLACES),
                date=day.date,
                effective_at=day.effective_at,
                source=RateSource.PROVIDER,
            )
            for code, value in sorted(day.rates.items())
            if code not in existing
        ]
        ExchangeRate.all_shops.bulk_create(rows)
    return len(rows)


def provider_rates_fetch(*, client: httpx.Client | None = None) -> tuple[dt.date | None, int]:
    """Fetch and store the configured provider's rates; (None, 0) when none is configured."""
    from localization.rate_providers import configured_provider

    provider = configured_provider()
    if provider is None:
        return None, 0
    day = provider.fetch(client or httpx.Client(timeout=20, follow_redirects=True))
    return day.date, provider_rates_store(day)


# --- Markets -----------------------------------------------------------------------------------


def _apply_preset(fields: dict) -> dict:
    """`rounding: "end_90"` is shorthand for the general (increment, ending, direction)."""
    preset = fields.pop("rounding", None)
    if preset:
        if preset not in ROUNDING_PRESETS:
            raise ValidationError(
                {
                    "rounding": ValidationError(
                        _("Choose one of: %(all)s.") % {"all": ", ".join(ROUNDING_PRESETS)},
                        code=LocalizationErrorCode.UNKNOWN_ROUNDING,
                    )
                }
            )
        rule = ROUNDING_PRESETS[preset][1]
        fields["rounding_increment"] = rule.increment
        fields["rounding_ending"] = rule.ending
        fields["rounding_direction"] = rule.direction
    return fields


def _normalise(fields: dict) -> dict:
    if "currency" in fields and isinstance(fields["currency"], str):
        fields["currency"] = fields["currency"].upper()
    if "countries" in fields and isinstance(fields["countries"], list):
        fields["countries"] = [str(c).upper() for c in fields["countries"]]
    return fields


@transaction.atomic
def market_create(*, shop: Shop, is_home: bool = False, **fields) -> Market:
    fields = _normalise(_apply_preset(fields))
    unknown = set(fields) - set(MARKET_FIELDS)
    if unknown:
        raise ValueError(f"Not market fields: {', '.join(sorted(unknown))}")
    market = Market(shop=shop, is_home=is_home, **fields)
    if Market.objects.filter(name=market.name).exists():
        raise ValidationError(
            {
                "name": ValidationError(
                    _("A market named “%(name)s” exists already.") % {"name": market.name},
                    code=LocalizationErrorCode.MARKET_NAME_TAKEN,
                )
            }
        )
    market.full_clean()
    market.save()
    audit_record(action="market.create", instance=market, changes=snapshot(market, MARKET_FIELDS))
    schedule_price_recompute(shop_id=shop.pk, market_ids=[market.pk])
    signals.market_saved_send_on_commit(shop_id=shop.pk, market_id=market.pk, created=True)
    return market


@transaction.atomic
def market_update(*, market: Market, **fields) -> Market:
    fields = _normalise(_apply_preset(fields))
    unknown = set(fields) - set(MARKET_FIELDS)
    if unknown:
        raise ValueError(f"Not market fields: {', '.join(sorted(unknown))}")
    market = Market.objects.select_for_update().get(pk=market.pk)
    before = snapshot(market, MARKET_FIELDS)
    for name, value in fields.items():
        setattr(market, name, value)
    if "name" in fields and Market.objects.filter(name=market.name).exclude(pk=market.pk).exists():
        raise ValidationError(
            {
                "name": ValidationError(
                    _("A market named “%(name)s” exists already.") % {"name": market.name},
                    code=LocalizationErrorCode.MARKET_NAME_TAKEN,
                )
            }
        )
    market.full_clean()
    market.save()
    changes = diff(before, snapshot(market, MARKET_FIELDS))
    if changes:
        audit_record(action="market.update", instance=market, changes=changes)
        if PRICE_INPUT_FIELDS & set(changes):
            schedule_price_recompute(shop_id=market.shop_id, market_ids=[market.pk])
    signals.market_saved_send_on_commit(shop_id=market.shop_id, market_id=market.pk, created=False)
    return market


@transaction.atomic
def market_delete(*, market: Market) -> None:
    if market.is_home:
        raise ValidationError(
            _("The home market cannot be deleted; every shop sells in its home market."),
            code=LocalizationErrorCode.HOME_MARKET_UNDELETABLE,
        )
    audit_record(action="market.delete", instance=market)
    market.delete()


def home_market_create(*, shop: Shop) -> Market:
    """The market every shop starts with: its own country, currency and language."""
    return market_create(
        shop=shop,
        is_home=True,
        name=_("Home (%(country)s)") % {"country": shop.country},
        countries=[shop.country],
        currency=shop.default_currency,
        languages=[shop.default_language],
        tax_inclusive=shop.country not in ("US", "CA"),
        rounding="none",
    )


# --- Tax overrides -----------------------------------------------------------------------------


@transaction.atomic
def shop_tax_rate_set(
    *, shop: Shop, country: str, rate, region: str = "", category: str = "standard", note: str = ""
) -> ShopTaxRate:
    row, _created = ShopTaxRate.objects.get_or_create(
        shop=shop,
        country=(country or "").upper(),
        region=(region or "").upper(),
        category=category,
        defaults={"rate": _as_decimal(rate, "rate"), "note": note},
    )
    before = snapshot(row, ["rate", "note"]) if not _created else {}
    row.rate = _as_decimal(rate, "rate")
    row.note = note
    row.full_clean()
    row.save()
    audit_record(action="shop_tax_rate.set", instance=row, changes=diff(before, snapshot(row, ["rate", "note"])))
    schedule_price_recompute(shop_id=shop.pk)
    return row


# --- Per-variant prices ------------------------------------------------------------------------

VARIANT_PRICE_FIELDS = ("fixed_price", "compare_at_price", "sale_price", "sale_starts_at", "sale_ends_at")


@transaction.atomic
def market_variant_price_set(*, market: Market, variant, **fields) -> MarketVariantPrice:
    """Set a variant's fixed and/or sale price in a market; the stored price follows on commit."""
    from localization.models import MarketVariantPrice

    unknown = set(fields) - set(VARIANT_PRICE_FIELDS)
    if unknown:
        raise ValueError(f"Not price fields: {', '.join(sorted(unknown))}")
    row = MarketVariantPrice.objects.filter(market=market, variant=variant).first()
    before = snapshot(row, VARIANT_PRICE_FIELDS) if row else {}
    row = row or MarketVariantPrice(shop_id=market.shop_id, market=market, variant=variant)
    for name, value in fields.items():
        setattr(row, name, value)
    row.full_clean()
    row.save()
    audit_record(
        action="market_variant_price.set", instance=row, changes=diff(before, snapshot(row, VARIANT_PRICE_FIELDS))
    )
    schedule_price_recompute(shop_id=market.shop_id, market_ids=[market.pk])
    return row


@transaction.atomic
def market_variant_price_clear(*, market: Market, variant) -> None:
    row = MarketVariantPrice.objects.filter(market=market, variant=variant).first()
    if row is None:
        return
    audit_record(action="market_variant_price.clear", instance=row)
    row.delete()
    schedule_price_recompute(shop_id=market.shop_id, market_ids=[market.pk])


# --- Shipping rates ----------------------------------------------------------------------------

SHIPPING_RATE_FIELDS = (
    "name",
    "kind",
    "amount",
    "per_kg_amount",
    "free_over",
    "min_weight_grams",
    "max_weight_grams",
    "is_active",
    "position",
)
_SHIPPING_AUDIT_FIELDS = ("market", "currency", *SHIPPING_RATE_FIELDS)


def _shipping_fields(fields: dict) -> dict:
    unknown = set(fields) - set(SHIPPING_RATE_FIELDS)
    if unknown:
        raise ValueError(f"Not shipping rate fields: {', '.join(sorted(unknown))}")
    for name in ("amount", "per_kg_amount", "free_over"):
        if name in fields and fields[name] is not None and not isinstance(fields[name], Decimal):
            fields[name] = _as_decimal(fields[name], name)
    if isinstance(fields.get("name"), str):
        fields["name"] = fields["name"].strip()
    return fields


def _shipping_rate_drop_unused(rate) -> None:
    """A kind's unused amounts are cleared, so what is stored is what prices the rate."""
    from localization.models import ShippingKind

    if rate.kind != ShippingKind.WEIGHT:
        rate.per_kg_amount = None
    if rate.kind != ShippingKind.FREE_OVER:
        rate.free_over = None


def _shipping_rate_amounts_stored(rate) -> None:
    """Amounts as the database gives them back (4 places), so a later diff sees only real changes.
    Runs after full_clean, which refuses more places: the quantize is exact."""
    for name in ("amount", "per_kg_amount", "free_over"):
        value = getattr(rate, name)
        if value is not None:
            setattr(rate, name, value.quantize(Decimal("0.0001")))


@transaction.atomic
def shipping_rate_create(*, market: Market, **fields):
    """A shipping rate of `market`, its amounts in the market's currency."""
    from localization.models import ShippingRate

    fields = _shipping_fields(fields)
    rate = ShippingRate(shop_id=market.shop_id, market=market, currency=market.currency, **fields)
    _shipping_rate_drop_unused(rate)
    rate.full_clean()
    _shipping_rate_amounts_stored(rate)
    rate.save()
    audit_record(action="shipping_rate.create", instance=rate, changes=snapshot(rate, _SHIPPING_AUDIT_FIELDS))
    return rate


@transaction.atomic
def shipping_rate_update(*, rate, **fields):
    """Change a rate (`market=` moves it to another market of the shop); saving it also puts its
    amounts in its market's current currency."""
    from localization.models import ShippingRate

    market = fields.pop("market", None)
    fields = _shipping_fields(fields)
    rate = ShippingRate.objects.select_for_update().select_related("market").get(pk=rate.pk)
    before = snapshot(rate, _SHIPPING_AUDIT_FIELDS)
    if market is not None:
        if market.shop_id != rate.shop_id:
            raise ValueError("A shipping rate moves only to a market of its own shop.")
        rate.market = market
    for name, value in fields.items():
        setattr(rate, name, value)
    rate.currency = rate.market.currency
    _shipping_rate_drop_unused(rate)
    rate.full_clean()
    _shipping_rate_amounts_stored(rate)
    rate.save()
    changes = diff(before, snapshot(rate, _SHIPPING_AUDIT_FIELDS))
    if changes:
        audit_record(action="shipping_rate.update", instance=rate, changes=changes)
    return rate


@transaction.atomic
def shipping_rate_delete(*, rate) -> None:
    audit_record(action="shipping_rate.delete", instance=rate, changes=snapshot(rate, _SHIPPING_AUDIT_FIELDS))
    rate.delete()
