"""Markets, exchange rates, and the tax / duty / de-minimis reference datasets.

Reference data shared by every shop (ECB rates, tax rates, duty rates, de-minimis rules,
customs regimes) is plain `models.Model`, maintained by staff. What a shop owns (markets,
manual rates, tax overrides) is a TenantModel and protected by row-level security.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from localization.errors import LocalizationErrorCode
from localization.money import ROUNDING_PRESETS, RoundingRule, preset_for
from shopadmin.db.shop_keys import ShopForeignKey
from shopadmin.tenancy import CurrentShopId, TenantModel, TenantQuerySet
from shopadmin.validators import validate_country_code, validate_currency_code, validate_language

# The customs union: EU-wide reference rows use the pseudo-country "EU".
EU_MEMBERS = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
    ]
)
EU = "EU"

hs_code_validator = RegexValidator(
    r"^\d{2,10}$",
    _("An HS code is 6 digits (international) or up to 10 (national), digits only, e.g. 621410."),
    code="invalid_hs_code",
)


def validate_country_or_eu(value: str) -> None:
    if value != EU:
        validate_country_code(value)


def normalize_hs_code(value: str) -> str:
    """'6214.10' and '6214 10' mean 621410: customs codes are written with dots and spaces."""
    return "".join(ch for ch in (value or "") if ch not in ". -")


# --- Exchange rates ----------------------------------------------------------------------------


class RateSource(models.TextChoices):
    ECB = "ecb", _("European Central Bank reference rate")
    MANUAL = "manual", _("Manual rate set by the shop")
    # The deployment's second source (localization.rate_providers) for what the ECB lacks.
    PROVIDER = "provider", _("Rate provider configured by the platform")


class ExchangeRateManager(models.Manager.from_queryset(TenantQuerySet)):
    """Inside a shop: its own manual rates plus the shared ECB rows (shop NULL); fails closed.

    Like every tenant manager, the shop is read when the query runs (CurrentShopId).
    """

    def get_queryset(self):
        return super().get_queryset().filter(Q(shop_id=CurrentShopId()) | Q(shop__isnull=True))


class ExchangeRateAllShopsManager(models.Manager.from_queryset(TenantQuerySet)):
    """Every row, ECB and every shop's manual ones; only inside all_shops_access()."""

    def get_queryset(self):
        return super().get_queryset().filter(Q(shop_id=CurrentShopId(all_shops_only=True)) | Q(shop__isnull=True))


class ExchangeRate(TenantModel):
    """1 `base` = `rate` `quote`, from `effective_at`. ECB rows have no shop; manual rows have one.

    Row-level security hides other shops' manual rates; an extra SELECT-only policy (in the
    migration) lets every shop read the shared ECB rows.
    """

    shop = models.ForeignKey("shopadmin.Shop", on_delete=models.CASCADE, related_name="+", null=True, blank=True)
    base = models.CharField(max_length=3, validators=[validate_currency_code])
    quote = models.CharField(max_length=3, validators=[validate_currency_code])
    rate = models.DecimalField(max_digits=20, decimal_places=10, validators=[MinValueValidator(Decimal("0"))])
    date = models.DateField(help_text=_("The rate's reference date."))
    effective_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=10, choices=RateSource.choices)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ExchangeRateManager()
    all_shops = ExchangeRateAllShopsManager()

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "source", "base", "quote", "effective_at"],
                name="exchangerate_unique_shop_source_pair_time",
                nulls_distinct=False,
            ),
            models.CheckConstraint(condition=Q(rate__gt=0), name="exchangerate_rate_positive"),
            models.CheckConstraint(
                condition=(
                    Q(source__in=["ecb", "provider"], shop__isnull=True) | Q(source="manual", shop__isnull=False)
                ),
                name="exchangerate_shared_or_manual_per_shop",
            ),
        ]
        indexes = [models.Index(fields=["base", "quote", "-effective_at"], name="exchangerate_pair_time")]

    def __str__(self):
        return f"1 {self.base} = {self.rate.normalize()} {self.quote} ({self.source}, {self.date})"

    def clean(self):
        if self.base and self.base == self.quote:
            raise ValidationError(
                {
                    "quote": ValidationError(
                        _("The quote currency must differ from the base currency."),
                        code=LocalizationErrorCode.SAME_CURRENCY,
                    )
                }
            )
        if self.rate is not None and self.rate <= 0:
            raise ValidationError(
                {
                    "rate": ValidationError(
                        _("A rate must be greater than zero."), code=LocalizationErrorCode.RATE_NOT_POSITIVE
                    )
                }
            )


# --- Markets -----------------------------------------------------------------------------------


class DutyMode(models.TextChoices):
    DDP = "DDP", _("DDP — seller pays duties and import tax")
    DAP = "DAP", _("DAP — buyer pays duties and import tax on delivery")


class DdpPricing(models.TextChoices):
    ABSORB = "absorb", _("Absorb duties and import tax (prices unchanged)")
    PRICE_IN = "price_in", _("Price duties and import tax into the listing price")


class RateMode(models.TextChoices):
    AUTOMATIC = "automatic", _("Automatic (ECB reference rates)")
    MANUAL = "manual", _("Manual (rates you set)")


class Rounding(models.TextChoices):
    UP = "up", _("Up (never below the converted price)")
    NEAREST = "nearest", _("Nearest")


class Market(TenantModel):
    name = models.CharField(max_length=80)
    is_home = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    countries = models.JSONField(default=list, help_text=_('ISO 3166-1 codes, e.g. ["FR", "DE"]'))
    currency = models.CharField(max_length=3, validators=[validate_currency_code])
    languages = models.JSONField(default=list, help_text=_("Language tags, first is the default"))
    tax_inclusive = models.BooleanField(default=False, help_text=_("Show prices with tax included."))
    duty_mode = models.CharField(max_length=3, choices=DutyMode.choices, default=DutyMode.DAP)
    ddp_pricing = models.CharField(max_length=10, choices=DdpPricing.choices, default=DdpPricing.ABSORB)
    rate_mode = models.CharField(max_length=10, choices=RateMode.choices, default=RateMode.AUTOMATIC)
    adjustment_percent = models.DecimalField(
        max_digits=7,
        decimal_places=3,
        default=Decimal("0"),
        help_text=_("Added to converted prices: +5 raises prices by 5%, -5 lowers them by 5%."),
    )
    rounding_increment = models.DecimalField(
        max_digits=12,
        decimal_places=3,
        null=True,
        blank=True,
        help_text=_("Step of the rounding (1 for endings and whole units, 5/10/100 for nearest N); empty: none."),
    )
    rounding_ending = models.DecimalField(
        max_digits=12, decimal_places=3, default=Decimal("0"), help_text=_("e.g. 0.99, 0.90, 0")
    )
    rounding_direction = models.CharField(max_length=8, choices=Rounding.choices, default=Rounding.UP)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("market")
        verbose_name_plural = _("markets")
        ordering = ["-is_home", "name"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "name"], name="market_unique_shop_name"),
            models.UniqueConstraint(fields=["shop"], condition=Q(is_home=True), name="market_one_home_per_shop"),
            models.CheckConstraint(
                condition=Q(adjustment_percent__gt=Decimal("-100")), name="market_adjustment_above_minus_100"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def rounding_rule(self) -> RoundingRule:
        return RoundingRule(
            increment=self.rounding_increment,
            ending=self.rounding_ending or Decimal("0"),
            direction=self.rounding_direction,
        )

    @property
    def rounding_preset(self) -> str | None:
        return preset_for(self.rounding_rule)

    @property
    def rounding_label(self) -> str:
        """The rounding rule in words, in the viewer's language."""
        preset = self.rounding_preset
        return str(ROUNDING_PRESETS[preset][0]) if preset else str(_("Custom rounding"))

    @property
    def default_language(self) -> str:
        return self.languages[0] if self.languages else ""

    def clean(self):
        errors: dict[str, list] = {}
        if not isinstance(self.countries, list) or not self.countries:
            errors.setdefault("countries", []).append(
                ValidationError(_("Choose at least one country."), code=LocalizationErrorCode.COUNTRY_REQUIRED)
            )
        else:
            for code in self.countries:
                try:
                    validate_country_code(code)
                except ValidationError as exc:
                    errors.setdefault("countries", []).extend(exc.error_list)
        if not isinstance(self.languages, list) or not self.languages:
            errors.setdefault("languages", []).append(
                ValidationError(_("Choose at least one language."), code=LocalizationErrorCode.LANGUAGE_REQUIRED)
            )
        else:
            for tag in self.languages:
                try:
                    validate_language(tag)
                except ValidationError as exc:
                    errors.setdefault("languages", []).extend(exc.error_list)
        if self.currency:
            try:
                validate_currency_code(self.currency)
            except ValidationError:
                pass  # the field validator reports it
            else:
                for problem in self.rounding_rule.validate_for(self.currency):
                    errors.setdefault("rounding_increment", []).append(
                        ValidationError(problem, code=LocalizationErrorCode.ROUNDING_INVALID)
                    )
        if self.adjustment_percent is not None and self.adjustment_percent <= -100:
            errors.setdefault("adjustment_percent", []).append(
                ValidationError(_("An adjustment must be above -100%."), code=LocalizationErrorCode.ADJUSTMENT_TOO_LOW)
            )
        if errors:
            raise ValidationError(errors)


# --- Tax ---------------------------------------------------------------------------------------


class TaxCategory(models.TextChoices):
    STANDARD = "standard", _("Standard")
    REDUCED = "reduced", _("Reduced")
    ZERO = "zero", _("Zero-rated")
    EXEMPT = "exempt", _("Exempt")


class TaxRate(models.Model):
    """Reference tax rate: VAT/GST/sales tax per country (and region: US states, CA provinces)."""

    country = models.CharField(max_length=2, validators=[validate_country_code])
    region = models.CharField(max_length=3, blank=True, help_text=_("State/province code, e.g. CA, ON"))
    category = models.CharField(max_length=10, choices=TaxCategory.choices, default=TaxCategory.STANDARD)
    name = models.CharField(max_length=120)
    rate = models.DecimalField(max_digits=7, decimal_places=5, validators=[MinValueValidator(Decimal("0"))])
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True, help_text=_("Exclusive; empty: still in force"))
    source = models.CharField(max_length=300)
    last_checked = models.DateField()

    class Meta:
        verbose_name = _("tax rate")
        verbose_name_plural = _("tax rates")
        ordering = ["country", "region", "category", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["country", "region", "category", "effective_from"], name="taxrate_unique_period"
            ),
            models.CheckConstraint(condition=Q(rate__gte=0) & Q(rate__lt=1), name="taxrate_rate_fraction"),
        ]

    def __str__(self):
        where = f"{self.country}-{self.region}" if self.region else self.country
        return f"{where} {self.category} {self.rate * 100:.3f}%"


class ShopTaxRate(TenantModel):
    """A shop's override of a reference tax rate (e.g. a registration-specific or local rate)."""

    country = models.CharField(max_length=2, validators=[validate_country_code])
    region = models.CharField(max_length=3, blank=True)
    category = models.CharField(max_length=10, choices=TaxCategory.choices, default=TaxCategory.STANDARD)
    rate = models.DecimalField(max_digits=7, decimal_places=5, validators=[MinValueValidator(Decimal("0"))])
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("tax rate override")
        verbose_name_plural = _("tax rate overrides")
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "country", "region", "category"], name="shoptaxrate_unique_shop_place"
            ),
            models.CheckConstraint(condition=Q(rate__gte=0) & Q(rate__lt=1), name="shoptaxrate_rate_fraction"),
        ]

    def __str__(self):
        return f"{self.country}{'-' + self.region if self.region else ''} {self.category} {self.rate}"


# --- Duties, customs valuation and de minimis --------------------------------------------------


class DutyBasis(models.TextChoices):
    CIF = "CIF", _("CIF: goods + freight + insurance")
    FOB = "FOB", _("FOB: goods only")
    WEIGHT = "WEIGHT", _("By weight")


class ImportTaxBase(models.TextChoices):
    CIF_PLUS_DUTY = "cif_plus_duty", _("CIF + duty")
    DUTY_BASE_PLUS_DUTY = "duty_base_plus_duty", _("Value for duty + duty")


class CustomsRegime(models.Model):
    """How a destination values goods for duty and import tax."""

    country = models.CharField(max_length=2, unique=True, validators=[validate_country_or_eu])
    duty_basis = models.CharField(max_length=6, choices=DutyBasis.choices)
    tax_base = models.CharField(max_length=20, choices=ImportTaxBase.choices)
    import_tax_name = models.CharField(max_length=40, default="VAT")
    source = models.CharField(max_length=300)
    last_checked = models.DateField()

    class Meta:
        verbose_name = _("customs regime")
        verbose_name_plural = _("customs regimes")

    def __str__(self):
        return f"{self.country}: duty on {self.duty_basis}, tax on {self.get_tax_base_display()}"


class DutyKind(models.TextChoices):
    # xgettext:no-python-format
    AD_VALOREM = "ad_valorem", _("Ad valorem (% of value)")
    SPECIFIC = "specific", _("Specific (amount per kg or per unit)")
    # xgettext:no-python-format
    COMPOUND = "compound", _("Compound (% of value + amount per kg or unit)")


class SpecificUnit(models.TextChoices):
    KG = "kg", _("per kg")
    UNIT = "unit", _("per unit")


class DutyRate(models.Model):
    """A duty rate for goods whose HS code starts with `hs_prefix`; the longest prefix wins."""

    destination = models.CharField(max_length=2, validators=[validate_country_or_eu])
    origin = models.CharField(
        max_length=2, blank=True, validators=[validate_country_code], help_text=_("Preferential origin; empty: MFN")
    )
    hs_prefix = models.CharField(max_length=10, validators=[hs_code_validator])
    description = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=DutyKind.choices, default=DutyKind.AD_VALOREM)
    ad_valorem = models.DecimalField(max_digits=7, decimal_places=5, default=Decimal("0"))
    specific_amount = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal("0"))
    specific_currency = models.CharField(max_length=3, blank=True, validators=[validate_currency_code])
    specific_unit = models.CharField(max_length=4, choices=SpecificUnit.choices, blank=True)
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=300)
    last_checked = models.DateField()

    class Meta:
        verbose_name = _("duty rate")
        verbose_name_plural = _("duty rates")
        ordering = ["destination", "hs_prefix", "origin"]
        constraints = [
            models.UniqueConstraint(
                fields=["destination", "origin", "hs_prefix", "effective_from"], name="dutyrate_unique_period"
            ),
        ]

    def __str__(self):
        return f"{self.destination} {self.hs_prefix}{' from ' + self.origin if self.origin else ''}: {self.describe()}"

    def describe(self) -> str:
        parts = []
        if self.kind in (DutyKind.AD_VALOREM, DutyKind.COMPOUND):
            parts.append(f"{(self.ad_valorem * 100).normalize():f}%")
        if self.kind in (DutyKind.SPECIFIC, DutyKind.COMPOUND):
            parts.append(f"{self.specific_amount.normalize():f} {self.specific_currency}/{self.specific_unit}")
        return " + ".join(parts)

    def clean(self):
        if self.kind in (DutyKind.SPECIFIC, DutyKind.COMPOUND) and not (self.specific_currency and self.specific_unit):
            raise ValidationError(
                _("A specific or compound rate needs its currency and unit (kg or unit)."),
                code=LocalizationErrorCode.DUTY_RATE_INCOMPLETE,
            )


class DeMinimisApplies(models.TextChoices):
    DUTY = "duty", _("Duty")
    TAX = "tax", _("Import tax")


class DeMinimisEffect(models.TextChoices):
    EXEMPT = "exempt", _("Exempt at or below the threshold")
    CHECKOUT = "checkout", _("Tax collected by the seller at checkout at or below the threshold")
    FLAT_DUTY = "flat_duty", _("Flat duty per distinct tariff subheading at or below the threshold")


class ValueBasis(models.TextChoices):
    INTRINSIC = "intrinsic", _("Intrinsic value of the goods")
    CIF = "CIF", _("CIF value")


class ThresholdScope(models.TextChoices):
    CONSIGNMENT = "consignment", _("Per consignment")
    ITEM = "item", _("Per item")


class DeMinimisRule(models.Model):
    """A low-value rule as data: which levy, what threshold, on what value, from when."""

    code = models.SlugField(max_length=60, unique=True)
    country = models.CharField(max_length=2, validators=[validate_country_or_eu])
    applies_to = models.CharField(max_length=4, choices=DeMinimisApplies.choices)
    effect = models.CharField(max_length=10, choices=DeMinimisEffect.choices)
    threshold = models.DecimalField(max_digits=12, decimal_places=2)
    threshold_currency = models.CharField(max_length=3, validators=[validate_currency_code])
    threshold_inclusive = models.BooleanField(
        default=True, help_text=_("True: “up to and including”; False: “below” the threshold")
    )
    basis = models.CharField(max_length=10, choices=ValueBasis.choices, default=ValueBasis.INTRINSIC)
    scope = models.CharField(max_length=12, choices=ThresholdScope.choices, default=ThresholdScope.CONSIGNMENT)
    origins = models.JSONField(default=list, blank=True, help_text=_("Only for goods from these countries; empty: any"))
    flat_amount = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True, help_text=_("Exclusive; empty: still in force"))
    description = models.CharField(max_length=300)
    source = models.CharField(max_length=300)
    last_checked = models.DateField()

    class Meta:
        verbose_name = _("de minimis rule")
        verbose_name_plural = _("de minimis rules")
        ordering = ["country", "applies_to", "effective_from"]

    def __str__(self):
        return self.code


class DatasetVersion(models.Model):
    """Version of the shipped tax/duty/de-minimis reference data; bumped by staff on each edit."""

    version = models.CharField(max_length=40, unique=True)
    published_at = models.DateTimeField(default=timezone.now)
    notes = models.TextField(blank=True)

    class Meta:
        verbose_name = _("dataset version")
        verbose_name_plural = _("dataset versions")
        ordering = ["-published_at"]

    def __str__(self):
        return self.version


# --- Per-variant prices ------------------------------------------------------------------------


class MarketVariantPrice(TenantModel):
    """The merchant's own price for a variant in a market: a fixed price and/or a dated sale price.

    A fixed price overrides the market's rule. A sale price applies between its start and end
    (either may be open) and shows the regular price as compare-at.
    """

    market = models.ForeignKey(Market, on_delete=models.CASCADE, related_name="variant_prices")
    variant = models.ForeignKey("catalog.ProductVariant", on_delete=models.CASCADE, related_name="+")
    fixed_price = models.DecimalField(
        max_digits=14, decimal_places=4, null=True, blank=True, validators=[MinValueValidator(Decimal("0"))]
    )
    compare_at_price = models.DecimalField(
        max_digits=14, decimal_places=4, null=True, blank=True, validators=[MinValueValidator(Decimal("0"))]
    )
    sale_price = models.DecimalField(
        max_digits=14, decimal_places=4, null=True, blank=True, validators=[MinValueValidator(Decimal("0"))]
    )
    sale_starts_at = models.DateTimeField(null=True, blank=True)
    sale_ends_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("fixed and sale price")
        verbose_name_plural = _("fixed and sale prices")
        constraints = [
            models.UniqueConstraint(fields=["shop", "market", "variant"], name="marketvariantprice_unique"),
            models.CheckConstraint(
                condition=Q(sale_starts_at__isnull=True)
                | Q(sale_ends_at__isnull=True)
                | Q(sale_ends_at__gt=models.F("sale_starts_at")),
                name="marketvariantprice_sale_window_ordered",
            ),
        ]

    def __str__(self):
        return f"{self.market} · variant {self.variant_id}"

    def clean(self):
        if self.fixed_price is None and self.sale_price is None:
            raise ValidationError(
                _("Give a fixed price, a sale price, or both."), code=LocalizationErrorCode.PRICE_REQUIRED
            )
        if self.sale_starts_at and self.sale_ends_at and self.sale_ends_at <= self.sale_starts_at:
            raise ValidationError(
                {
                    "sale_ends_at": ValidationError(
                        _("The sale must end after it starts."), code=LocalizationErrorCode.SALE_WINDOW_INVALID
                    )
                }
            )
        if self.market_id and self.market.currency:
            from localization.money import minor_unit

            unit = minor_unit(self.market.currency)
            for name in ("fixed_price", "compare_at_price", "sale_price"):
                value = getattr(self, name)
                if value is not None and value % unit:
                    raise ValidationError(
                        {
                            name: ValidationError(
                                _("%(currency)s prices are in steps of %(unit)s.")
                                % {"currency": self.market.currency, "unit": unit},
                                code=LocalizationErrorCode.PRICE_NOT_IN_MINOR_UNITS,
                            )
                        }
                    )


class PriceOrigin(models.TextChoices):
    RULE = "rule", _("Market rule")
    FIXED = "fixed", _("Fixed price")


class MarketPrice(TenantModel):
    """A computed price of a variant in a market, and what made it (rate, rule, landed cost).

    Written in bulk by `localization.pricing` (one statement per market that updates the rows
    whose price changed and inserts the missing ones), never one row at a time. A market holds a
    price per variant, so every index and every foreign key is paid for a million times: the
    shop's and the market's own indexes are left out, the unique (market, variant, shop) index
    serves their lookups, and the duty rate's index holds only the prices that name one. The
    market and the variant are kept by their composite (shop_id, id) keys alone, and the shop
    through the market's: Django's own three keys would check again, row by row, what those
    already refuse. (Those checks are still about half of a first computation's time:
    `bench/bench_localization.py --breakdown`.)
    """

    shop = models.ForeignKey(
        "shopadmin.Shop", on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    market = ShopForeignKey(Market, on_delete=models.CASCADE, related_name="prices", db_index=False)
    variant = ShopForeignKey("catalog.ProductVariant", on_delete=models.CASCADE, related_name="+")
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(max_digits=14, decimal_places=4)
    compare_at_amount = models.DecimalField(max_digits=14, decimal_places=4, null=True)
    sale_amount = models.DecimalField(max_digits=14, decimal_places=4, null=True)
    sale_starts_at = models.DateTimeField(null=True)
    sale_ends_at = models.DateTimeField(null=True)
    base_amount = models.DecimalField(max_digits=14, decimal_places=4, help_text=_("Variant price used"))
    base_currency = models.CharField(max_length=3)
    origin = models.CharField(max_length=6, choices=PriceOrigin.choices)
    rate = models.DecimalField(max_digits=20, decimal_places=10)
    rate_source = models.CharField(max_length=24)
    rate_date = models.DateField(null=True)
    rule = models.CharField(max_length=120, help_text=_("Adjustment and rounding that made the price"))
    landed_cost_amount = models.DecimalField(
        max_digits=14, decimal_places=4, default=Decimal("0"), help_text=_("Duty and import tax priced in (DDP)")
    )
    duty_rate = models.ForeignKey(DutyRate, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("market price")
        verbose_name_plural = _("market prices")
        constraints = [
            # Market and variant first: the one index serves every (market, variant) lookup, and
            # the shop is in it for a sharded database's unique constraints.
            models.UniqueConstraint(fields=["market", "variant", "shop"], name="marketprice_unique"),
        ]
        indexes = [
            # Only prices with duty priced in name a duty rate; the others add no index entry.
            models.Index(fields=["duty_rate"], name="marketprice_duty_rate", condition=Q(duty_rate__isnull=False)),
        ]

    def __str__(self):
        return f"{self.amount} {self.currency} ({self.market_id}/{self.variant_id})"

    def effective(self, now=None) -> tuple[Decimal, Decimal | None]:
        """(price, compare_at) at `now`: the sale price inside its window, else the regular price."""
        now = now or timezone.now()
        on_sale = self.sale_amount is not None and (
            (self.sale_starts_at is None or self.sale_starts_at <= now)
            and (self.sale_ends_at is None or now < self.sale_ends_at)
        )
        if on_sale:
            return self.sale_amount, self.amount
        return self.amount, self.compare_at_amount


# --- Translations ------------------------------------------------------------------------------


class TranslationKind(models.TextChoices):
    PRODUCT = "product", _("Product")
    VARIANT = "variant", _("Variant")
    OPTION = "option", _("Option")


# What can be translated, per kind. Option values are keyed "value:<original value>".
TRANSLATABLE_FIELDS = {
    TranslationKind.PRODUCT: ("title", "description", "seo_title", "seo_description"),
    TranslationKind.VARIANT: ("title",),
    TranslationKind.OPTION: ("name", "value:*"),
}


class Translation(TenantModel):
    """One translated text of a product, a variant or an option, in one language."""

    kind = models.CharField(max_length=8, choices=TranslationKind.choices)
    product = models.ForeignKey("catalog.Product", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    variant = models.ForeignKey(
        "catalog.ProductVariant", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    option = models.ForeignKey(
        "catalog.ProductOption", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    field = models.CharField(max_length=80)
    language = models.CharField(max_length=10, validators=[validate_language])
    value = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("translation")
        verbose_name_plural = _("translations")
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "kind", "product", "variant", "option", "field", "language"],
                name="translation_unique_text_language",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="product", product__isnull=False, variant__isnull=True, option__isnull=True)
                    | Q(kind="variant", variant__isnull=False, product__isnull=True, option__isnull=True)
                    | Q(kind="option", option__isnull=False, product__isnull=True, variant__isnull=True)
                ),
                name="translation_one_target",
            ),
        ]
        indexes = [models.Index(fields=["language", "kind", "field"], name="translation_lang_kind_field")]

    def __str__(self):
        return f"{self.kind} {self.field} [{self.language}]"


# --- Shipping rates ----------------------------------------------------------------------------


class ShippingKind(models.TextChoices):
    FLAT = "flat", _("Flat amount")
    WEIGHT = "weight", _("By weight: base amount + amount per started kg")
    FREE_OVER = "free_over", _("Free from a basket subtotal, else an amount")


class ShippingRate(TenantModel):
    """A way to ship to a market's buyers, at a price the merchant sets in the market's currency.

    - flat: `amount`;
    - weight: `amount` + `per_kg_amount` x every started kilogram (1 g–1,000 g is 1 kg, 1,001 g is 2);
    - free_over: free when the basket's subtotal is `free_over` or more, else `amount`.

    `min_weight_grams`/`max_weight_grams` (both inclusive, either optional) bound the parcels the
    rate is offered for. Amounts are kept in `currency`, the market's currency when the rate was
    last saved: a rate whose market has since changed currency is not offered until it is saved
    again with amounts in the new currency. `localization.shipping.shipping_options` prices them.
    """

    market = models.ForeignKey(Market, on_delete=models.CASCADE, related_name="shipping_rates")
    name = models.CharField(max_length=80, help_text=_("Shown to buyers as you write it, e.g. “Courier, 2–3 days”."))
    kind = models.CharField(max_length=10, choices=ShippingKind.choices, default=ShippingKind.FLAT)
    currency = models.CharField(max_length=3, validators=[validate_currency_code])
    amount = models.DecimalField(
        max_digits=14,
        decimal_places=4,
        default=Decimal("0"),
        help_text=_("Flat: the price. By weight: the base amount. Free over: the price below the threshold."),
    )
    per_kg_amount = models.DecimalField(
        max_digits=14,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("By weight: added for every started kilogram."),
    )
    free_over = models.DecimalField(
        max_digits=14,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("Free over: shipping is free when the basket subtotal is at least this amount."),
    )
    min_weight_grams = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Offered only for parcels of at least this weight (grams).")
    )
    max_weight_grams = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Offered only for parcels of at most this weight (grams).")
    )
    is_active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0, help_text=_("Lower first in the buyer's list."))
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("shipping rate")
        verbose_name_plural = _("shipping rates")
        ordering = ["market_id", "position", "amount", "id"]
        indexes = [models.Index(fields=["market", "position"], name="shippingrate_market_position")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="shippingrate_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(per_kg_amount__isnull=True) | Q(per_kg_amount__gte=0),
                name="shippingrate_per_kg_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(free_over__isnull=True) | Q(free_over__gte=0), name="shippingrate_free_over_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(min_weight_grams__isnull=True)
                | Q(max_weight_grams__isnull=True)
                | Q(max_weight_grams__gte=models.F("min_weight_grams")),
                name="shippingrate_weight_band_ordered",
            ),
            models.CheckConstraint(
                condition=~Q(kind="weight") | Q(per_kg_amount__isnull=False), name="shippingrate_weight_has_per_kg"
            ),
            models.CheckConstraint(
                condition=~Q(kind="free_over") | Q(free_over__isnull=False), name="shippingrate_free_over_has_threshold"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.market_id})"

    def audit_words(self):
        from django.utils.translation import gettext_noop

        from shopadmin.words import Words

        return Words(gettext_noop("Shipping rate “%(name)s”"), name=self.name)

    def clean(self):
        errors: dict[str, list] = {}

        def add(field, message, code):
            errors.setdefault(field, []).append(ValidationError(message, code=code))

        if self.kind == ShippingKind.WEIGHT and self.per_kg_amount is None:
            add(
                "per_kg_amount",
                _("A rate by weight needs its amount per kg (0 for none)."),
                LocalizationErrorCode.SHIPPING_PER_KG_REQUIRED,
            )
        if self.kind == ShippingKind.FREE_OVER and self.free_over is None:
            add(
                "free_over",
                _("Say from which basket subtotal shipping is free."),
                LocalizationErrorCode.SHIPPING_THRESHOLD_REQUIRED,
            )
        if (
            self.min_weight_grams is not None
            and self.max_weight_grams is not None
            and self.min_weight_grams > self.max_weight_grams
        ):
            add(
                "max_weight_grams",
                _("The maximum weight must be at least the minimum weight."),
                LocalizationErrorCode.SHIPPING_WEIGHT_BAND_INVALID,
            )
        for name in ("amount", "per_kg_amount", "free_over"):
            value = getattr(self, name)
            if value is not None and value < 0:
                add(name, _("An amount cannot be negative."), LocalizationErrorCode.SHIPPING_AMOUNT_NEGATIVE)
        if self.currency:
            from localization.money import minor_unit

            try:
                validate_currency_code(self.currency)
            except ValidationError:
                pass  # the field validator reports it
            else:
                unit = minor_unit(self.currency)
                for name in ("amount", "per_kg_amount", "free_over"):
                    value = getattr(self, name)
                    if value is not None and value >= 0 and value % unit:
                        add(
                            name,
                            _("%(currency)s amounts are in steps of %(unit)s.")
                            % {"currency": self.currency, "unit": unit},
                            LocalizationErrorCode.PRICE_NOT_IN_MINOR_UNITS,
                        )
        if errors:
            raise ValidationError(errors)

    @property
    def is_current(self) -> bool:
        """False when the market has changed currency since the rate was saved (it is then not offered)."""
        return self.currency == self.market.currency
