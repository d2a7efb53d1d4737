"""The landed-cost engine: goods + shipping + insurance + duty + import tax + fees.

Everything is computed in the quote currency at full precision (amounts converted with the
rates it reports) and rounded to the quote currency's minor units at the edge. DESIGN.md §5
holds the facts: duty on CIF or FOB (or weight) by destination; import tax on CIF + duty or
on the value for duty + duty; de-minimis rules as dated data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from localization.models import (
    EU,
    EU_MEMBERS,
    CustomsRegime,
    DatasetVersion,
    DeMinimisApplies,
    DeMinimisEffect,
    DeMinimisRule,
    DutyBasis,
    DutyKind,
    DutyRate,
    ImportTaxBase,
    ShopTaxRate,
    SpecificUnit,
    TaxCategory,
    TaxRate,
    ThresholdScope,
    ValueBasis,
)
from localization.money import ZERO, currency_for_country, quantize
from localization.rates import RateUsed, rate_for

DEFAULT_REGIME = (DutyBasis.CIF, ImportTaxBase.CIF_PLUS_DUTY)


@dataclass
class QuoteItem:
    quantity: int
    unit_price: Decimal  # in the request currency
    hs_code: str = ""
    weight_kg: Decimal = ZERO  # per unit
    origin_country: str = ""
    description: str = ""
    sku: str = ""
    duty_rate: Decimal | None = None  # ad valorem override
    currency: str = ""  # of unit_price; empty: the request currency

    @property
    def value(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass
class QuoteRequest:
    destination_country: str
    currency: str
    items: list[QuoteItem]
    origin_country: str = ""
    quote_currency: str = ""
    incoterm: str = "DDP"
    shipping: Decimal = ZERO
    insurance: Decimal = ZERO
    tax_rate: Decimal | None = None
    destination_region: str = ""
    date: dt.date | None = None


@dataclass
class Converter:
    """Converts to the quote currency and remembers every rate it used."""

    quote_currency: str
    shop_id: int | None
    at: dt.datetime
    used: dict[str, RateUsed] = field(default_factory=dict)

    def rate(self, currency: str, into: str = "") -> Decimal:
        into = into or self.quote_currency
        if currency == into:
            return Decimal(1)
        key = f"{currency}/{into}"
        if key not in self.used:
            self.used[key] = rate_for(currency, into, shop_id=self.shop_id, at=self.at)
        return self.used[key].rate

    def __call__(self, amount: Decimal, currency: str, into: str = "") -> Decimal:
        return amount * self.rate(currency, into)


def customs_area(country: str) -> list[str]:
    """The codes reference rows may be filed under for a destination, most specific first."""
    return [country, EU] if country in EU_MEMBERS else [country]


def in_force(on: dt.date) -> Q:
    return Q(effective_from__lte=on) & (Q(effective_to__isnull=True) | Q(effective_to__gt=on))


def regime_for(country: str) -> tuple[str, str, str]:
    for code in customs_area(country):
        regime = CustomsRegime.objects.filter(country=code).first()
        if regime:
            return regime.duty_basis, regime.tax_base, regime.import_tax_name
    return (*DEFAULT_REGIME, "import tax")


def tax_rate_lookup(
    *, country: str, region: str = "", category: str = TaxCategory.STANDARD, on: dt.date, shop_id: int | None
) -> tuple[Decimal, str]:
    """(rate, rule) — the shop's override first, then the reference rate for region, then country."""
    if shop_id is not None:
        for reg in dict.fromkeys([region, ""]):
            override = ShopTaxRate.objects.filter(country=country, region=reg, category=category).first()
            if override:
                return override.rate, f"shop override {override}"
    for reg in dict.fromkeys([region, ""]):
        row = (
            TaxRate.objects.filter(in_force(on), country=country, region=reg, category=category)
            .order_by("-effective_from")
            .first()
        )
        if row:
            return row.rate, f"{row} ({row.name}; {row.source}, checked {row.last_checked})"
    return ZERO, f"no {category} tax rate for {country} in the dataset"


def duty_rate_lookup(*, destination: str, origin: str, hs_code: str, on: dt.date) -> DutyRate | None:
    """The rate of the longest HS prefix; a preferential (origin) rate beats MFN at equal length."""
    if not hs_code:
        return None
    prefixes = [hs_code[:n] for n in range(len(hs_code), 1, -1)]
    candidates = list(
        DutyRate.objects.filter(in_force(on), destination__in=customs_area(destination), hs_prefix__in=prefixes).filter(
            Q(origin="") | Q(origin=origin)
        )
    )
    if not candidates:
        return None
    area = customs_area(destination)
    return max(candidates, key=lambda r: (len(r.hs_prefix), bool(r.origin), -area.index(r.destination)))


def de_minimis_rules(*, destination: str, origins: set[str], on: dt.date) -> dict[str, DeMinimisRule]:
    """The rule in force per levy; an origin-specific rule beats the general one."""
    chosen: dict[str, DeMinimisRule] = {}
    rows = DeMinimisRule.objects.filter(in_force(on), country__in=customs_area(destination))
    for rule in sorted(rows, key=lambda r: bool(r.origins)):
        if rule.origins and not origins <= set(rule.origins):
            continue
        chosen[rule.applies_to] = rule
    return chosen


def dataset_version() -> str:
    latest = DatasetVersion.objects.order_by("-published_at").first()
    return latest.version if latest else "none"


def _within(rule: DeMinimisRule, value: Decimal, threshold: Decimal) -> bool:
    return value <= threshold if rule.threshold_inclusive else value < threshold


def _rule_applies(rule, *, lines, extra: Decimal, extra_currency: str, convert: Converter) -> bool:
    """Compare in the threshold's own currency, as customs does (value converted, threshold exact)."""
    into = rule.threshold_currency
    if rule.scope == ThresholdScope.ITEM:
        # Per item: every unit must be within the threshold for the consignment to qualify.
        return all(_within(rule, convert(line.item.unit_price, line.currency, into), rule.threshold) for line in lines)
    value = sum((convert(line.item.value, line.currency, into) for line in lines), ZERO)
    if rule.basis == ValueBasis.CIF:
        value += convert(extra, extra_currency, into)
    return _within(rule, quantize(value, into), rule.threshold)


def _rule_dict(rule: DeMinimisRule | None) -> dict | None:
    if rule is None:
        return None
    return {
        "code": rule.code,
        "applies_to": rule.applies_to,
        "effect": rule.effect,
        "threshold": str(rule.threshold),
        "threshold_currency": rule.threshold_currency,
        "basis": rule.basis,
        "scope": rule.scope,
        "effective_from": rule.effective_from.isoformat(),
        "effective_to": rule.effective_to.isoformat() if rule.effective_to else None,
        "description": rule.description,
        "source": rule.source,
    }


@dataclass
class _Line:
    item: QuoteItem
    currency: str
    value_q: Decimal = ZERO  # value in the quote currency


def quote_landed_cost(request: QuoteRequest, *, shop_id: int | None, at: dt.datetime | None = None) -> dict:
    at = at or timezone.now()
    on = request.date or timezone.localdate(at)
    if request.date and at.date() != request.date:
        at = dt.datetime.combine(request.date, dt.time(23, 59, 59), tzinfo=dt.UTC)
    qc = request.quote_currency or currency_for_country(request.destination_country, on) or request.currency
    convert = Converter(quote_currency=qc, shop_id=shop_id, at=at)
    duty_basis, tax_base, tax_name = regime_for(request.destination_country)

    lines = [_Line(item=item, currency=item.currency or request.currency) for item in request.items]
    for line in lines:
        line.value_q = convert(line.item.value, line.currency)
    goods = sum((line.value_q for line in lines), ZERO)
    shipping = convert(request.shipping, request.currency)
    insurance = convert(request.insurance, request.currency)
    cif = goods + shipping + insurance
    warnings: list[str] = []

    origins = {line.item.origin_country or request.origin_country for line in lines} - {""}
    rules = de_minimis_rules(destination=request.destination_country, origins=origins, on=on)
    applied = {
        levy: rule
        for levy, rule in rules.items()
        if _rule_applies(
            rule,
            lines=lines,
            extra=request.shipping + request.insurance,
            extra_currency=request.currency,
            convert=convert,
        )
    }
    duty_rule = applied.get(DeMinimisApplies.DUTY)
    tax_rule = applied.get(DeMinimisApplies.TAX)
    duty_exempt = duty_rule is not None and duty_rule.effect == DeMinimisEffect.EXEMPT
    flat_duty = duty_rule is not None and duty_rule.effect == DeMinimisEffect.FLAT_DUTY
    tax_exempt = tax_rule is not None and tax_rule.effect == DeMinimisEffect.EXEMPT
    at_checkout = tax_rule is not None and tax_rule.effect == DeMinimisEffect.CHECKOUT

    # Freight and insurance are shared out over the lines in proportion to their value.
    out_lines, duty_total, subheadings_charged = [], ZERO, set()
    for index, line in enumerate(lines):
        item = line.item
        share = (line.value_q / goods) if goods else ZERO
        line_cif = line.value_q + (shipping + insurance) * share
        duty_value = line.value_q if duty_basis == DutyBasis.FOB else line_cif
        rate_row, rule_text, ad_valorem, duty = None, "", None, ZERO
        if duty_exempt:
            rule_text = f"de minimis {duty_rule.code}: {duty_rule.description}"
        elif flat_duty:
            subheading = item.hs_code[:6]
            if subheading and subheading not in subheadings_charged:
                subheadings_charged.add(subheading)
                duty = convert(duty_rule.flat_amount, duty_rule.threshold_currency)
                rule_text = (
                    f"{duty_rule.code}: flat {duty_rule.flat_amount} {duty_rule.threshold_currency} "
                    f"per tariff subheading {subheading}"
                )
            else:
                rule_text = f"{duty_rule.code}: subheading {subheading or '?'} already charged"
        elif item.duty_rate is not None:
            ad_valorem = item.duty_rate
            duty = duty_value * ad_valorem
            rule_text = f"override {ad_valorem.normalize():f} ad valorem on {duty_basis}"
        else:
            rate_row = duty_rate_lookup(
                destination=request.destination_country,
                origin=item.origin_country or request.origin_country,
                hs_code=item.hs_code,
                on=on,
            )
            if rate_row is None:
                rule_text = f"no duty rate for HS {item.hs_code or '(none)'} to {request.destination_country}"
                warnings.append(f"items.{index}: {rule_text}; duty 0 assumed")
            else:
                if rate_row.kind in (DutyKind.AD_VALOREM, DutyKind.COMPOUND):
                    ad_valorem = rate_row.ad_valorem
                    duty += duty_value * rate_row.ad_valorem
                if rate_row.kind in (DutyKind.SPECIFIC, DutyKind.COMPOUND):
                    per = item.weight_kg * item.quantity if rate_row.specific_unit == SpecificUnit.KG else item.quantity
                    duty += convert(rate_row.specific_amount, rate_row.specific_currency) * per
                rule_text = (
                    f"dataset {rate_row.destination} HS {rate_row.hs_prefix}: {rate_row.describe()} ({rate_row.source})"
                )
        duty = quantize(duty, qc)
        duty_total += duty
        out_lines.append(
            {
                "index": index,
                "sku": item.sku or None,
                "description": item.description,
                "hs_code": item.hs_code,
                "origin_country": item.origin_country or request.origin_country or None,
                "quantity": item.quantity,
                "value": str(quantize(line.value_q, qc)),
                "duty": str(duty),
                "duty_rate": None if ad_valorem is None else str(ad_valorem),
                "duty_rate_id": rate_row.pk if rate_row else None,
                "rule": rule_text,
            }
        )

    # Import tax.
    if request.tax_rate is not None:
        tax_rate, tax_rule_text = request.tax_rate, "override"
    else:
        tax_rate, tax_rule_text = tax_rate_lookup(
            country=request.destination_country, region=request.destination_region, on=on, shop_id=shop_id
        )
    base_value = cif if (tax_base == ImportTaxBase.CIF_PLUS_DUTY or duty_basis != DutyBasis.FOB) else goods
    tax_base_amount = base_value + duty_total
    import_tax = ZERO if tax_exempt else quantize(tax_base_amount * tax_rate, qc)

    for used in convert.used.values():
        if used.is_stale(at):
            warnings.append(f"exchange rate {used.pair} from {used.date} is older than the allowed age")
    fees = ZERO
    amounts = {
        "goods": quantize(goods, qc),
        "shipping": quantize(shipping, qc),
        "insurance": quantize(insurance, qc),
        "duty": duty_total,
        "import_tax": import_tax,
        "fees": quantize(fees, qc),
    }
    total = sum(amounts.values(), ZERO)
    return {
        "quote_currency": qc,
        **{name: str(value) for name, value in amounts.items()},
        "total": str(quantize(total, qc)),
        "incoterm": request.incoterm,
        "duties_paid_by": "seller" if request.incoterm == "DDP" else "buyer",
        "lines": out_lines,
        "basis": duty_basis,
        "import_tax": str(import_tax),
        "import_tax_detail": {
            "name": tax_name,
            "rate": str(tax_rate),
            "base": tax_base,
            "taxable_amount": str(quantize(tax_base_amount, qc)),
            "rule": tax_rule_text,
        },
        "de_minimis": {
            "duty_exempt": duty_exempt,
            "tax_exempt": tax_exempt,
            "tax_collected_at_checkout": at_checkout,
            "rule": _rule_dict(duty_rule or tax_rule),
            "duty_rule": _rule_dict(duty_rule),
            "tax_rule": _rule_dict(tax_rule),
        },
        "exchange_rates": [rate.as_dict() for rate in convert.used.values() if rate.source != "identity"],
        "dataset_version": dataset_version(),
        "date": on.isoformat(),
        "warnings": warnings,
    }
