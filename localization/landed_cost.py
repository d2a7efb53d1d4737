"""The landed-cost engine: goods + shipping + insurance + duty + import tax + fees.

Everything is computed in the quote currency at full precision (amounts converted with the
rates it reports) and rounded to the quote currency's minor units at the edge. DESIGN.md §5
holds the facts: duty on CIF or FOB (or weight) by destination; import tax on CIF + duty or
on the value for duty + duty; de-minimis rules as dated data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from localization.errors import LocalizationErrorCode
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
    ShippingRate,
    ShopTaxRate,
    SpecificUnit,
    TaxCategory,
    TaxRate,
    ThresholdScope,
    ValueBasis,
)
from localization.money import ZERO, currency_for_country, quantize
from localization.rates import RateUsed, rate_for
from localization.shipping import ShippingOption, rate_fits_weight, shipping_option_for
from shopadmin.words import Words

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
    # A shipping rate of the shop (its id): the basket's shipping is then what that rate costs
    # for the items' weight and value (localization.shipping), and `shipping` is not used.
    shipping_rate_id: int | None = None


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
    return (*DEFAULT_REGIME, gettext_noop("import tax"))


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


def _rule_applies(rule, *, lines, extras: list[tuple[Decimal, str]], convert: Converter) -> bool:
    """Compare in the threshold's own currency, as customs does (value converted, threshold exact).
    `extras` are the freight and insurance, each in its own currency, added on a CIF basis."""
    into = rule.threshold_currency
    if rule.scope == ThresholdScope.ITEM:
        # Per item: every unit must be within the threshold for the consignment to qualify.
        return all(_within(rule, convert(line.item.unit_price, line.currency, into), rule.threshold) for line in lines)
    value = sum((convert(line.item.value, line.currency, into) for line in lines), ZERO)
    if rule.basis == ValueBasis.CIF:
        value += sum((convert(amount, currency, into) for amount, currency in extras), ZERO)
    return _within(rule, quantize(value, into), rule.threshold)


@dataclass
class _Line:
    item: QuoteItem
    currency: str
    value_q: Decimal = ZERO  # value in the quote currency


# --- The result --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DutyLine:
    """The duty of one item of the request, in the quote currency."""

    index: int  # in the request's items
    sku: str | None
    description: str
    hs_code: str
    origin_country: str | None
    quantity: int
    value: Decimal
    duty: Decimal
    duty_rate: Decimal | None  # the ad valorem rate applied, if any
    duty_rate_id: int | None  # the dataset row the duty comes from
    rule: str  # what decided the duty, with its source (English, as the API gives it)
    rule_words: Words | None = None  # the same for a page, in its reader's language


@dataclass(frozen=True)
class ImportTax:
    """The import tax (VAT, GST…): its rate, the base it is levied on, and where the rate came from."""

    name: str
    rate: Decimal
    base: str  # ImportTaxBase
    taxable_amount: Decimal
    amount: Decimal
    rule: str


@dataclass(frozen=True)
class DeMinimis:
    """The de-minimis rules that applied to the consignment, per levy."""

    duty_rule: DeMinimisRule | None = None
    tax_rule: DeMinimisRule | None = None

    @property
    def duty_exempt(self) -> bool:
        return self.duty_rule is not None and self.duty_rule.effect == DeMinimisEffect.EXEMPT

    @property
    def flat_duty(self) -> bool:
        return self.duty_rule is not None and self.duty_rule.effect == DeMinimisEffect.FLAT_DUTY

    @property
    def tax_exempt(self) -> bool:
        return self.tax_rule is not None and self.tax_rule.effect == DeMinimisEffect.EXEMPT

    @property
    def tax_collected_at_checkout(self) -> bool:
        return self.tax_rule is not None and self.tax_rule.effect == DeMinimisEffect.CHECKOUT

    @property
    def rule(self) -> DeMinimisRule | None:
        return self.duty_rule or self.tax_rule


@dataclass(frozen=True)
class LandedCostQuote:
    """A landed-cost quote. Every amount is in `quote_currency`, rounded to its minor units."""

    quote_currency: str
    goods: Decimal
    shipping: Decimal
    insurance: Decimal
    duty: Decimal
    import_tax: ImportTax
    fees: Decimal
    total: Decimal
    incoterm: str
    basis: str  # DutyBasis the duty was assessed on
    lines: list[DutyLine]
    de_minimis: DeMinimis
    exchange_rates: list[RateUsed]  # the conversions made, without identities
    dataset_version: str
    date: dt.date  # the date the rates and rules were taken in force
    warnings: list[str]  # English, as the API gives them
    warning_words: list[Words] = field(default_factory=list)  # the same for a page
    # The shipping rate that priced the shipping (in its market's currency), when one was asked for,
    # and the parcel weight it was priced for.
    shipping_rate: ShippingOption | None = None
    weight_grams: int | None = None

    @property
    def duties_paid_by(self) -> str:
        return "seller" if self.incoterm == "DDP" else "buyer"


# --- The steps ---------------------------------------------------------------------------------


@dataclass
class _Basket:
    """The request's amounts in the quote currency, and the customs regime they are quoted under."""

    request: QuoteRequest
    on: dt.date
    at: dt.datetime
    convert: Converter
    duty_basis: str
    tax_base: str
    tax_name: str
    lines: list[_Line]
    goods: Decimal
    shipping: Decimal
    insurance: Decimal
    # The shipping as asked for, before conversion: (amount, currency).
    shipping_source: tuple[Decimal, str] = (ZERO, "")
    shipping_option: ShippingOption | None = None
    weight_grams: int | None = None
    shipping_warnings: list[Words] = field(default_factory=list)

    @property
    def currency(self) -> str:
        return self.convert.quote_currency

    @property
    def cif(self) -> Decimal:
        return self.goods + self.shipping + self.insurance


def _basket(request: QuoteRequest, *, shop_id: int | None, at: dt.datetime | None) -> _Basket:
    """Date the quote, choose its currency and convert the goods, shipping and insurance into it."""
    at = at or timezone.now()
    on = request.date or timezone.localdate(at)
    if request.date and at.date() != request.date:
        # A quote for another day takes the rates known at the end of that day.
        at = dt.datetime.combine(request.date, dt.time(23, 59, 59), tzinfo=dt.UTC)
    qc = request.quote_currency or currency_for_country(request.destination_country, on) or request.currency
    convert = Converter(quote_currency=qc, shop_id=shop_id, at=at)
    duty_basis, tax_base, tax_name = regime_for(request.destination_country)
    lines = [_Line(item=item, currency=item.currency or request.currency) for item in request.items]
    for line in lines:
        line.value_q = convert(line.item.value, line.currency)
    shipping_source, option, weight, shipping_warnings = (request.shipping, request.currency), None, None, []
    if request.shipping_rate_id is not None:
        option, weight, shipping_warnings = _rate_shipping(request, lines, convert, shop_id=shop_id)
        shipping_source = (option.amount, option.currency)
    return _Basket(
        request=request,
        on=on,
        at=at,
        convert=convert,
        duty_basis=duty_basis,
        tax_base=tax_base,
        tax_name=tax_name,
        lines=lines,
        goods=sum((line.value_q for line in lines), ZERO),
        shipping=convert(*shipping_source),
        insurance=convert(request.insurance, request.currency),
        shipping_source=shipping_source,
        shipping_option=option,
        weight_grams=weight,
        shipping_warnings=shipping_warnings,
    )


def basket_weight_grams(items: list[QuoteItem]) -> int:
    """The parcel's weight: every item's weight per unit times its quantity, in whole grams (up)."""
    kilograms = sum((item.weight_kg * item.quantity for item in items), ZERO)
    return int((kilograms * 1000).to_integral_value(rounding=ROUND_CEILING))


def _shipping_refused(message: str, code: str) -> ValidationError:
    return ValidationError({"shipping_rate": ValidationError(message, code=code)})


def _rate_shipping(
    request: QuoteRequest, lines: list[_Line], convert: Converter, *, shop_id: int | None
) -> tuple[ShippingOption, int, list[Words]]:
    """What the request's shipping rate costs for this basket: the parcel's weight and the goods'
    value in the rate's market currency (converted with the quote's rates) priced by
    `shipping_options`, exactly as a checkout in that market would. Raises ValidationError
    (field `shipping_rate`) when the shop has no such rate or its market does not offer it."""
    rate = None
    if shop_id is not None:
        rates = ShippingRate.objects.select_related("market").filter(shop_id=shop_id)
        rate = rates.filter(pk=request.shipping_rate_id).first()
    if rate is None:
        raise _shipping_refused(
            gettext("No shipping rate with this id in your shop."), LocalizationErrorCode.SHIPPING_RATE_NOT_FOUND
        )
    market = rate.market
    weight = basket_weight_grams(request.items)
    subtotal = quantize(
        sum((convert(line.item.value, line.currency, market.currency) for line in lines), ZERO), market.currency
    )
    option = shipping_option_for(market=market, rate_id=rate.pk, weight_grams=weight, subtotal=subtotal)
    if option is None:
        if not rate.is_active:
            message = gettext("The shipping rate “%(name)s” is not active.") % {"name": rate.name}
        elif not rate.is_current:
            message = gettext(
                "The shipping rate “%(name)s” has its amounts in %(old)s, but its market now sells in %(new)s; "
                "save the rate again with amounts in %(new)s."
            ) % {"name": rate.name, "old": rate.currency, "new": market.currency}
        elif not rate_fits_weight(rate, weight):
            message = gettext(
                "The shipping rate “%(name)s” is for parcels of %(min)s to %(max)s grams; these items weigh "
                "%(weight)s grams."
            ) % {
                "name": rate.name,
                "min": rate.min_weight_grams if rate.min_weight_grams is not None else 0,
                "max": rate.max_weight_grams if rate.max_weight_grams is not None else "…",
                "weight": weight,
            }
        else:  # pragma: no cover - every reason a rate of the shop is not offered is named above
            message = gettext("The shipping rate “%(name)s” is not offered for these items.") % {"name": rate.name}
        raise _shipping_refused(message, LocalizationErrorCode.SHIPPING_RATE_NOT_OFFERED)
    warnings = []
    if market.countries and request.destination_country not in market.countries:
        warnings.append(
            Words(
                gettext_noop(
                    "shipping rate “%(rate)s” is of the market %(market)s, which does not ship to %(country)s"
                ),
                rate=rate.name,
                market=market.name,
                country=request.destination_country,
            )
        )
    return option, weight, warnings


def _de_minimis(basket: _Basket) -> DeMinimis:
    """The de-minimis rules in force whose threshold the consignment stays within."""
    request = basket.request
    origins = {line.item.origin_country or request.origin_country for line in basket.lines} - {""}
    rules = de_minimis_rules(destination=request.destination_country, origins=origins, on=basket.on)
    applied = {
        levy: rule
        for levy, rule in rules.items()
        if _rule_applies(
            rule,
            lines=basket.lines,
            extras=[basket.shipping_source, (request.insurance, request.currency)],
            convert=basket.convert,
        )
    }
    return DeMinimis(duty_rule=applied.get(DeMinimisApplies.DUTY), tax_rule=applied.get(DeMinimisApplies.TAX))


@dataclass
class _Assessed:
    duty: Decimal = ZERO
    ad_valorem: Decimal | None = None
    rate_row: DutyRate | None = None
    rule: Words = field(default_factory=lambda: Words("—"))


def _dataset_duty(basket: _Basket, item: QuoteItem, duty_value: Decimal) -> _Assessed:
    """Duty at the dataset's rate for the item's HS code (ad valorem, specific or both)."""
    request = basket.request
    rate_row = duty_rate_lookup(
        destination=request.destination_country,
        origin=item.origin_country or request.origin_country,
        hs_code=item.hs_code,
        on=basket.on,
    )
    if rate_row is None:
        return _Assessed(
            rule=Words(
                gettext_noop("no duty rate for HS %(hs)s to %(country)s"),
                hs=item.hs_code or "—",
                country=request.destination_country,
            )
        )
    assessed = _Assessed(rate_row=rate_row)
    if rate_row.kind in (DutyKind.AD_VALOREM, DutyKind.COMPOUND):
        assessed.ad_valorem = rate_row.ad_valorem
        assessed.duty += duty_value * rate_row.ad_valorem
    if rate_row.kind in (DutyKind.SPECIFIC, DutyKind.COMPOUND):
        per = item.weight_kg * item.quantity if rate_row.specific_unit == SpecificUnit.KG else item.quantity
        assessed.duty += basket.convert(rate_row.specific_amount, rate_row.specific_currency) * per
    assessed.rule = Words(
        gettext_noop("dataset %(country)s HS %(hs)s: %(rate)s (%(source)s)"),
        country=rate_row.destination,
        hs=rate_row.hs_prefix,
        rate=rate_row.describe(),
        source=rate_row.source,
    )
    return assessed


def _duties(basket: _Basket, de_minimis: DeMinimis, warnings: list[Words]) -> list[DutyLine]:
    """The duty of each item: exempt, a flat de-minimis duty per tariff subheading, the item's own
    rate, or the dataset's. Freight and insurance are shared out over the lines by value."""
    request, qc, rule = basket.request, basket.currency, de_minimis.duty_rule
    out: list[DutyLine] = []
    subheadings_charged: set[str] = set()
    for index, line in enumerate(basket.lines):
        item = line.item
        share = (line.value_q / basket.goods) if basket.goods else ZERO
        line_cif = line.value_q + (basket.shipping + basket.insurance) * share
        duty_value = line.value_q if basket.duty_basis == DutyBasis.FOB else line_cif
        if de_minimis.duty_exempt:
            assessed = _Assessed(
                rule=Words(gettext_noop("de minimis %(code)s: %(rule)s"), code=rule.code, rule=rule.description)
            )
        elif de_minimis.flat_duty:
            subheading = item.hs_code[:6]
            if subheading and subheading not in subheadings_charged:
                subheadings_charged.add(subheading)
                assessed = _Assessed(
                    duty=basket.convert(rule.flat_amount, rule.threshold_currency),
                    rule=Words(
                        gettext_noop("%(code)s: flat %(amount)s %(currency)s per tariff subheading %(hs)s"),
                        code=rule.code,
                        amount=rule.flat_amount,
                        currency=rule.threshold_currency,
                        hs=subheading,
                    ),
                )
            else:
                assessed = _Assessed(
                    rule=Words(
                        gettext_noop("%(code)s: subheading %(hs)s already charged"),
                        code=rule.code,
                        hs=subheading or "?",
                    )
                )
        elif item.duty_rate is not None:
            assessed = _Assessed(
                duty=duty_value * item.duty_rate,
                ad_valorem=item.duty_rate,
                rule=Words(
                    gettext_noop("the item's own rate, %(rate)s ad valorem on %(basis)s"),
                    rate=f"{item.duty_rate.normalize():f}",
                    basis=basket.duty_basis,
                ),
            )
        else:
            assessed = _dataset_duty(basket, item, duty_value)
            if assessed.rate_row is None:
                warnings.append(
                    Words(gettext_noop("items.%(i)s: %(rule)s; duty 0 assumed"), i=index, rule=assessed.rule)
                )
        out.append(
            DutyLine(
                index=index,
                sku=item.sku or None,
                description=item.description,
                hs_code=item.hs_code,
                origin_country=item.origin_country or request.origin_country or None,
                quantity=item.quantity,
                value=quantize(line.value_q, qc),
                duty=quantize(assessed.duty, qc),
                duty_rate=assessed.ad_valorem,
                duty_rate_id=assessed.rate_row.pk if assessed.rate_row else None,
                rule=_english(assessed.rule),
                rule_words=assessed.rule,
            )
        )
    return out


def _import_tax(basket: _Basket, duty: Decimal, de_minimis: DeMinimis, *, shop_id: int | None) -> ImportTax:
    """Import tax at the request's rate or the destination's, on CIF + duty or on goods + duty."""
    request, qc = basket.request, basket.currency
    if request.tax_rate is not None:
        rate, rule = request.tax_rate, "override"
    else:
        rate, rule = tax_rate_lookup(
            country=request.destination_country, region=request.destination_region, on=basket.on, shop_id=shop_id
        )
    cif_base = basket.tax_base == ImportTaxBase.CIF_PLUS_DUTY or basket.duty_basis != DutyBasis.FOB
    taxable = (basket.cif if cif_base else basket.goods) + duty
    return ImportTax(
        name=basket.tax_name,
        rate=rate,
        base=basket.tax_base,
        taxable_amount=quantize(taxable, qc),
        amount=ZERO if de_minimis.tax_exempt else quantize(taxable * rate, qc),
        rule=rule,
    )


def quote_landed_cost(request: QuoteRequest, *, shop_id: int | None, at: dt.datetime | None = None) -> LandedCostQuote:
    """Quote what delivering `request`'s items to its destination costs in all.

    Goods, shipping and insurance are converted into the quote currency (the request's, else the
    destination's, else the request currency) with the shop's rates as of `request.date` (or
    `at`, default now); the de-minimis rules, duty rates and tax rates in force that day decide
    the duty of each line and the import tax. Every rate used, the rule behind each amount and
    the warnings (no duty rate, stale exchange rates) come with the result, so the quote can be
    checked. With `request.shipping_rate_id`, the shipping is what that rate of the shop costs for
    the basket (`localization.shipping`), converted like the rest. Raises RateNotFound when a
    currency cannot be converted, ValidationError (field `shipping_rate`) when the rate is unknown
    or not offered for the basket.
    """
    basket = _basket(request, shop_id=shop_id, at=at)
    qc = basket.currency
    warnings: list[Words] = list(basket.shipping_warnings)
    de_minimis = _de_minimis(basket)
    lines = _duties(basket, de_minimis, warnings)
    duty = sum((line.duty for line in lines), ZERO)
    tax = _import_tax(basket, duty, de_minimis, shop_id=shop_id)
    for used in basket.convert.used.values():
        if used.is_stale(basket.at):
            warnings.append(
                Words(
                    gettext_noop("exchange rate %(pair)s from %(date)s is older than the allowed age"),
                    pair=used.pair,
                    date=used.date,
                )
            )
    goods, shipping, insurance = (quantize(v, qc) for v in (basket.goods, basket.shipping, basket.insurance))
    fees = quantize(ZERO, qc)
    return LandedCostQuote(
        quote_currency=qc,
        goods=goods,
        shipping=shipping,
        insurance=insurance,
        duty=duty,
        import_tax=tax,
        fees=fees,
        total=quantize(goods + shipping + insurance + duty + tax.amount + fees, qc),
        incoterm=request.incoterm,
        basis=basket.duty_basis,
        lines=lines,
        de_minimis=de_minimis,
        exchange_rates=[rate for rate in basket.convert.used.values() if rate.source != "identity"],
        dataset_version=dataset_version(),
        date=basket.on,
        warnings=[_english(w) for w in warnings],
        warning_words=warnings,
        shipping_rate=basket.shipping_option,
        weight_grams=basket.weight_grams,
    )


def _english(words: Words) -> str:
    """The API's text: English whatever the caller's language."""
    with translation.override("en"):
        return str(words)
