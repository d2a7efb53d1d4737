"""REST API of localization: markets, exchange rates, market prices, landed-cost quotes. Thin."""

from __future__ import annotations

from decimal import Decimal

import django_filters
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ErrorDetail
from rest_framework.response import Response
from rest_framework.views import APIView

from localization import landed_cost, services
from localization.errors import LocalizationErrorCode
from localization.models import ExchangeRate, Market, RateSource, ShippingRate, normalize_hs_code
from localization.money import ROUNDING_PRESETS, currency_for_country
from localization.rates import RateNotFound, stale_after
from shopadmin.api.filters import IdFilter
from shopadmin.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from shopadmin.api.pagination import CursorPagination
from shopadmin.api.views import JobSerializer
from shopadmin.validators import validate_country_code, validate_currency_code, validate_language

ADJUSTMENT_HELP = (
    "Percent added to converted prices: a positive value raises prices (2.5 = +2.5%), a negative one lowers them."
)


class UpperCharField(serializers.CharField):
    def to_internal_value(self, data):
        return super().to_internal_value(data).upper()


# --- Markets -----------------------------------------------------------------------------------


class MarketSerializer(serializers.ModelSerializer):
    countries = serializers.ListField(child=UpperCharField(validators=[validate_country_code]), allow_empty=False)
    languages = serializers.ListField(child=serializers.CharField(validators=[validate_language]), allow_empty=False)
    currency = UpperCharField(validators=[validate_currency_code])
    adjustment_percent = serializers.DecimalField(
        max_digits=7, decimal_places=3, required=False, help_text=ADJUSTMENT_HELP
    )
    rounding = serializers.ChoiceField(
        choices=list(ROUNDING_PRESETS),
        required=False,
        write_only=True,
        help_text="Shorthand that sets rounding_increment/ending/direction: " + ", ".join(ROUNDING_PRESETS),
    )
    rounding_preset = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = Market
        fields = [
            "id",
            "name",
            "is_home",
            "is_active",
            "countries",
            "currency",
            "languages",
            "tax_inclusive",
            "duty_mode",
            "ddp_pricing",
            "rate_mode",
            "adjustment_percent",
            "rounding",
            "rounding_preset",
            "rounding_increment",
            "rounding_ending",
            "rounding_direction",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "is_home", "created_at", "updated_at"]
        extra_kwargs = {
            "duty_mode": {"help_text": "DDP: you pay duties and import tax; DAP: the buyer pays on delivery."},
            "ddp_pricing": {"help_text": "DDP markets only: absorb the landed cost, or price it in."},
            "rate_mode": {"help_text": "automatic: ECB reference rates; manual: rates set with POST exchange-rates/."},
        }


MARKET_EXAMPLE = {
    "name": "European Union",
    "countries": ["FR", "DE", "IT"],
    "currency": "EUR",
    "languages": ["fr", "de", "en"],
    "tax_inclusive": True,
    "duty_mode": "DDP",
    "ddp_pricing": "absorb",
    "rate_mode": "automatic",
    "adjustment_percent": "1.5",
    "rounding": "end_90",
}


@extend_schema_view(
    list=extend_schema(summary="List markets"),
    retrieve=extend_schema(summary="A market"),
    create=extend_schema(
        summary="Create a market",
        description="Adjustment: " + ADJUSTMENT_HELP,
        parameters=[IDEMPOTENCY_PARAMETER],
        examples=[OpenApiExample("EU market, .90 endings", value=MARKET_EXAMPLE, request_only=True)],
    ),
    partial_update=extend_schema(summary="Change a market"),
    update=extend_schema(summary="Replace a market"),
    destroy=extend_schema(summary="Delete a market (not the home market)"),
)
@extend_schema(tags=["localization"])
class MarketViewSet(viewsets.ModelViewSet):
    scope = "localization"
    serializer_class = MarketSerializer
    pagination_class = CursorPagination

    def get_queryset(self):
        return Market.objects.all()

    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        market = services.market_create(shop=request.shop, **serializer.validated_data)
        return Response(self.get_serializer(market).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        market = self.get_object()
        serializer = self.get_serializer(market, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        market = services.market_update(market=market, **serializer.validated_data)
        return Response(self.get_serializer(market).data)

    def perform_destroy(self, instance):
        services.market_delete(market=instance)

    @extend_schema(
        summary="Recompute the market's stored prices",
        description=(
            "Prices are recomputed by themselves when the catalog, the market or a rate changes; this "
            "asks for it now. Follow the job at `/api/v1/jobs/{id}/`."
        ),
        request=None,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={202: OpenApiResponse(JobSerializer, description="The recomputation, queued.")},
    )
    @action(detail=True, methods=["post"], url_path="recompute-prices")
    @idempotent
    def recompute_prices(self, request, pk=None):
        job = services.market_prices_recompute_start(market=self.get_object())
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


# --- Shipping rates ----------------------------------------------------------------------------

MAX_INT = 2_147_483_647  # PostgreSQL's integer


def _rate_amount(**kwargs):
    return serializers.DecimalField(max_digits=14, decimal_places=4, min_value=Decimal("0"), **kwargs)


class ShippingRateSerializer(serializers.ModelSerializer):
    market = serializers.IntegerField(
        source="market_id",
        min_value=1,
        max_value=2**63 - 1,
        help_text="The market's id; the rate's amounts are in its currency.",
    )
    currency = serializers.CharField(
        read_only=True, help_text="The market's currency when the rate was saved; the amounts are in it."
    )
    amount = _rate_amount(
        required=False,
        help_text="flat: the price; weight: the base amount; free_over: the price below the threshold.",
    )
    per_kg_amount = _rate_amount(
        required=False, allow_null=True, help_text="weight only: added for every started kilogram (1,001 g is 2 kg)."
    )
    free_over = _rate_amount(
        required=False,
        allow_null=True,
        help_text="free_over only: shipping is free when the basket subtotal is this amount or more.",
    )
    min_weight_grams = serializers.IntegerField(
        min_value=0, max_value=MAX_INT, required=False, allow_null=True, help_text="Inclusive; null: no minimum."
    )
    max_weight_grams = serializers.IntegerField(
        min_value=0, max_value=MAX_INT, required=False, allow_null=True, help_text="Inclusive; null: no maximum."
    )
    position = serializers.IntegerField(
        min_value=0, max_value=MAX_INT, required=False, help_text="Lower first; equal positions: cheapest first."
    )
    is_current = serializers.BooleanField(
        read_only=True,
        help_text="False when the market has changed currency since the rate was saved: it is not offered "
        "until it is saved again with amounts in the new currency.",
    )

    class Meta:
        model = ShippingRate
        fields = [
            "id",
            "market",
            "name",
            "kind",
            "currency",
            "amount",
            "per_kg_amount",
            "free_over",
            "min_weight_grams",
            "max_weight_grams",
            "is_active",
            "position",
            "is_current",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "currency", "is_current", "created_at", "updated_at"]
        extra_kwargs = {
            "name": {"help_text": "Shown to buyers exactly as written, e.g. “Courier, 2–3 days”."},
            "kind": {
                "help_text": "flat: `amount`; weight: `amount` + `per_kg_amount` per started kg; "
                "free_over: free from `free_over`, else `amount`."
            },
        }

    def validate_market(self, value):
        market = Market.objects.filter(pk=value).first()
        if market is None:
            raise serializers.ValidationError(
                ErrorDetail("No such market in this shop.", code=LocalizationErrorCode.MARKET_NOT_FOUND)
            )
        return market

    def validate(self, attrs):
        if "market_id" in attrs:
            attrs["market"] = attrs.pop("market_id")  # the Market, for the services
        return attrs


class ShippingRateFilter(django_filters.FilterSet):
    market = IdFilter(
        field_name="market", min_value=1, max_value=2**63 - 1, help_text="Only this market's rates (its id)."
    )
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = ShippingRate
        fields = ["market", "is_active"]


SHIPPING_RATE_EXAMPLE = {
    "market": 2,
    "name": "Courier, 2–3 days",
    "kind": "weight",
    "amount": "5.00",
    "per_kg_amount": "2.00",
    "max_weight_grams": 20000,
    "position": 1,
}


@extend_schema_view(
    list=extend_schema(summary="List shipping rates (filter by market)"),
    retrieve=extend_schema(summary="A shipping rate"),
    create=extend_schema(
        summary="Create a shipping rate in a market",
        description="Amounts are in the market's currency, in steps of its minor unit (0.01 EUR, 1 JPY).",
        parameters=[IDEMPOTENCY_PARAMETER],
        examples=[OpenApiExample("Courier by weight", value=SHIPPING_RATE_EXAMPLE, request_only=True)],
    ),
    partial_update=extend_schema(summary="Change a shipping rate"),
    update=extend_schema(summary="Replace a shipping rate"),
    destroy=extend_schema(summary="Delete a shipping rate"),
)
@extend_schema(tags=["localization"])
class ShippingRateViewSet(viewsets.ModelViewSet):
    scope = "localization"
    serializer_class = ShippingRateSerializer
    pagination_class = CursorPagination
    filterset_class = ShippingRateFilter

    def get_queryset(self):
        return ShippingRate.objects.select_related("market")

    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        rate = services.shipping_rate_create(market=data.pop("market"), **data)
        return Response(self.get_serializer(rate).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        rate = self.get_object()
        serializer = self.get_serializer(rate, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        rate = services.shipping_rate_update(rate=rate, **serializer.validated_data)
        return Response(self.get_serializer(rate).data)

    def perform_destroy(self, instance):
        services.shipping_rate_delete(rate=instance)


# --- Exchange rates ----------------------------------------------------------------------------


class ExchangeRateSerializer(serializers.ModelSerializer):
    base = UpperCharField(validators=[validate_currency_code])
    quote = UpperCharField(validators=[validate_currency_code])
    rate = serializers.DecimalField(max_digits=20, decimal_places=10, min_value=Decimal("0.0000000001"))
    stale = serializers.SerializerMethodField()

    class Meta:
        model = ExchangeRate
        fields = ["id", "base", "quote", "rate", "date", "effective_at", "source", "stale"]
        read_only_fields = ["id", "date", "effective_at", "source", "stale"]

    def get_stale(self, obj) -> bool:
        return timezone.now() - obj.effective_at > stale_after()


class UpperCharFilter(django_filters.CharFilter):
    def filter(self, qs, value):
        return super().filter(qs, value.upper() if value else value)


class ExchangeRateFilter(django_filters.FilterSet):
    base = UpperCharFilter(help_text="Filter by base currency")
    quote = UpperCharFilter(help_text="Filter by quote currency")
    source = django_filters.ChoiceFilter(choices=RateSource.choices)

    class Meta:
        model = ExchangeRate
        fields = ["base", "quote", "source"]


@extend_schema_view(
    list=extend_schema(summary="Exchange rates: ECB reference rates and the shop's manual rates"),
    create=extend_schema(
        summary="Set a manual rate for the shop, effective now",
        parameters=[IDEMPOTENCY_PARAMETER],
        examples=[
            OpenApiExample("1 USD = 0.76 GBP", value={"base": "USD", "quote": "GBP", "rate": "0.76"}, request_only=True)
        ],
    ),
)
@extend_schema(tags=["localization"])
class ExchangeRateViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    scope = "localization"
    serializer_class = ExchangeRateSerializer
    pagination_class = CursorPagination
    filterset_class = ExchangeRateFilter

    def get_queryset(self):
        return ExchangeRate.objects.all()

    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        row = services.exchange_rate_set_manual(shop=request.shop, **serializer.validated_data)
        return Response(self.get_serializer(row).data, status=status.HTTP_201_CREATED)


# --- Landed cost -------------------------------------------------------------------------------


def _amount(**kwargs):
    return serializers.DecimalField(max_digits=14, decimal_places=4, min_value=Decimal("0"), **kwargs)


class HsCodeField(serializers.CharField):
    default_error_messages = {
        "invalid_hs_code": "An HS code has 6 to 10 digits (dots and spaces allowed), e.g. 6214.10."
    }

    def to_internal_value(self, data):
        value = normalize_hs_code(super().to_internal_value(data))
        if not (value.isdigit() and 6 <= len(value) <= 10):
            self.fail("invalid_hs_code")
        return value


class QuoteItemSerializer(serializers.Serializer):
    sku = serializers.CharField(required=False, max_length=64)
    description = serializers.CharField(required=False, allow_blank=True, max_length=200)
    hs_code = HsCodeField(required=False)
    unit_price = _amount(required=False)
    # Bounded so quantity times price stays within the amounts' precision.
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)
    weight_kg = _amount(required=False)
    origin_country = UpperCharField(required=False, validators=[validate_country_code])
    duty_rate = serializers.DecimalField(
        max_digits=7, decimal_places=5, min_value=Decimal("0"), max_value=Decimal("10"), required=False
    )

    def validate(self, attrs):
        if not attrs.get("sku") and "unit_price" not in attrs:
            raise serializers.ValidationError(
                {"unit_price": "Send either a sku of the shop or an inline item with unit_price (and hs_code)."}
            )
        return attrs


class QuoteRequestSerializer(serializers.Serializer):
    destination_country = UpperCharField(validators=[validate_country_code])
    destination_region = UpperCharField(required=False, allow_blank=True, max_length=3)
    origin_country = UpperCharField(required=False, validators=[validate_country_code])
    currency = UpperCharField(validators=[validate_currency_code])
    quote_currency = UpperCharField(required=False, validators=[validate_currency_code])
    incoterm = serializers.ChoiceField(choices=["DDP", "DAP"], default="DDP")
    shipping = _amount(default=Decimal("0"))
    insurance = _amount(default=Decimal("0"))
    tax_rate = serializers.DecimalField(
        max_digits=7, decimal_places=5, min_value=Decimal("0"), max_value=Decimal("1"), required=False
    )
    date = serializers.DateField(required=False, help_text="Quote as of this date (default today).")
    shipping_rate = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=2**63 - 1,
        help_text=(
            "Id of one of the shop's shipping rates (`/api/v1/shipping-rates/`): the shipping is then what the "
            "rate costs for the items' weight and value in its market, instead of `shipping`."
        ),
    )
    items = QuoteItemSerializer(many=True, allow_empty=False)

    def validate(self, attrs):
        if attrs.get("shipping_rate") is not None and attrs.get("shipping"):
            raise serializers.ValidationError(
                {"shipping": ["Send either shipping (an amount) or shipping_rate (a rate's id), not both."]}
            )
        if not attrs.get("quote_currency"):
            attrs["quote_currency"] = currency_for_country(attrs["destination_country"]) or attrs["currency"]
        skus = [item["sku"] for item in attrs["items"] if item.get("sku")]
        resolved = resolve_skus(skus)
        errors = []
        for item in attrs["items"]:
            sku = item.get("sku")
            if sku and sku not in resolved:
                errors.append({"sku": [f"Unknown SKU “{sku}” in this shop."]})
            else:
                errors.append({})
            if sku and sku in resolved:
                for key, value in resolved[sku].items():
                    item.setdefault(key, value)
        if any(errors):
            raise serializers.ValidationError({"items": errors})
        return attrs

    def quote_request(self) -> landed_cost.QuoteRequest:
        """The validated request for the landed-cost engine (the API and the calculator page)."""
        data = self.validated_data
        return landed_cost.QuoteRequest(
            destination_country=data["destination_country"],
            destination_region=data.get("destination_region", ""),
            origin_country=data.get("origin_country", ""),
            currency=data["currency"],
            quote_currency=data["quote_currency"],
            incoterm=data["incoterm"],
            shipping=data["shipping"],
            insurance=data["insurance"],
            tax_rate=data.get("tax_rate"),
            date=data.get("date"),
            shipping_rate_id=data.get("shipping_rate"),
            items=[
                landed_cost.QuoteItem(
                    quantity=item["quantity"],
                    unit_price=item["unit_price"],
                    hs_code=item.get("hs_code", ""),
                    weight_kg=item.get("weight_kg") or Decimal("0"),
                    origin_country=item.get("origin_country", ""),
                    description=item.get("description", ""),
                    sku=item.get("sku", ""),
                    duty_rate=item.get("duty_rate"),
                    # A SKU's catalog price is in the shop currency; inline prices in `currency`.
                    currency=item.get("currency_of_price", ""),
                )
                for item in data["items"]
            ],
        )


def resolve_skus(skus: list[str]) -> dict[str, dict]:
    """Price (in the shop currency), HS code, weight and origin of the shop's variants by SKU."""
    if not skus:
        return {}
    from catalog.models import ProductVariant

    found = {}
    rows = ProductVariant.objects.filter(sku__in=skus).select_related("product")
    for variant in rows:
        found[variant.sku] = {
            "unit_price": variant.price.amount,
            "currency_of_price": str(variant.price.currency),
            "hs_code": normalize_hs_code(variant.product.hs_code or ""),
            "weight_kg": Decimal(variant.weight_grams or 0) / 1000,
            "origin_country": variant.product.country_of_origin or "",
            "description": variant.product.title,
        }
    return found


QUOTE_EXAMPLE = {
    "destination_country": "GB",
    "origin_country": "US",
    "currency": "USD",
    "quote_currency": "USD",
    "incoterm": "DDP",
    "shipping": "30.00",
    "insurance": "0.00",
    "tax_rate": "0.20",
    "items": [
        {"sku": "TEE-RED-M", "quantity": 1},
        {
            "description": "Silk scarf",
            "hs_code": "6214.10",
            "unit_price": "180.00",
            "quantity": 1,
            "weight_kg": "0.2",
            "origin_country": "CN",
            "duty_rate": "0.045",
        },
    ],
}


# The quote as the API answers it: amounts as decimal strings, exactly as computed and rounded.


@extend_schema_field({"type": "string", "format": "decimal"})
class DecimalStringField(serializers.Field):
    """A Decimal as `str()` writes it (the quote's own digits: no padding or re-rounding)."""

    def to_representation(self, value) -> str:
        return str(value)


class DutyLineSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the item in the request's items.")
    sku = serializers.CharField(allow_null=True)
    description = serializers.CharField()
    hs_code = serializers.CharField()
    origin_country = serializers.CharField(allow_null=True)
    quantity = serializers.IntegerField()
    value = DecimalStringField()
    duty = DecimalStringField()
    duty_rate = DecimalStringField(allow_null=True, help_text="The ad valorem rate applied, if any.")
    duty_rate_id = serializers.IntegerField(allow_null=True)
    rule = serializers.CharField(help_text="What decided the duty, with its source.")


class ImportTaxSerializer(serializers.Serializer):
    name = serializers.CharField()
    rate = DecimalStringField()
    base = serializers.CharField()
    taxable_amount = DecimalStringField()
    rule = serializers.CharField()


class DeMinimisRuleSerializer(serializers.Serializer):
    code = serializers.CharField()
    applies_to = serializers.CharField()
    effect = serializers.CharField()
    threshold = DecimalStringField()
    threshold_currency = serializers.CharField()
    basis = serializers.CharField()
    scope = serializers.CharField()
    effective_from = serializers.DateField()
    effective_to = serializers.DateField(allow_null=True)
    description = serializers.CharField()
    source = serializers.CharField()


class DeMinimisSerializer(serializers.Serializer):
    duty_exempt = serializers.BooleanField()
    tax_exempt = serializers.BooleanField()
    tax_collected_at_checkout = serializers.BooleanField()
    rule = DeMinimisRuleSerializer(allow_null=True, help_text="The duty rule, else the tax rule.")
    duty_rule = DeMinimisRuleSerializer(allow_null=True)
    tax_rule = DeMinimisRuleSerializer(allow_null=True)


class RateUsedSerializer(serializers.Serializer):
    pair = serializers.CharField()
    rate = DecimalStringField()
    date = serializers.DateField(allow_null=True)
    source = serializers.CharField()

    def to_representation(self, instance):
        return instance.as_dict()


class ShippingOptionSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="rate_id")
    name = serializers.CharField()
    amount = DecimalStringField(help_text="In the rate's market currency, before conversion into quote_currency.")
    currency = serializers.CharField()


class LandedCostQuoteSerializer(serializers.Serializer):
    quote_currency = serializers.CharField()
    goods = DecimalStringField()
    shipping = DecimalStringField()
    insurance = DecimalStringField()
    duty = DecimalStringField()
    import_tax = DecimalStringField(source="import_tax.amount")
    fees = DecimalStringField()
    total = DecimalStringField()
    incoterm = serializers.CharField()
    duties_paid_by = serializers.ChoiceField(choices=["seller", "buyer"])
    lines = DutyLineSerializer(many=True)
    basis = serializers.CharField(help_text="What the duty is assessed on: CIF or FOB.")
    import_tax_detail = ImportTaxSerializer(source="import_tax")
    de_minimis = DeMinimisSerializer()
    exchange_rates = RateUsedSerializer(many=True)
    dataset_version = serializers.CharField()
    date = serializers.DateField()
    warnings = serializers.ListField(child=serializers.CharField())
    shipping_rate = ShippingOptionSerializer(
        allow_null=True, help_text="The shipping rate that priced `shipping`, when the request named one."
    )
    weight_grams = serializers.IntegerField(
        allow_null=True, help_text="The parcel weight the shipping rate was priced for (items' weight x quantity)."
    )


class LandedCostQuoteView(APIView):
    scope = "localization"
    # A quote writes nothing: partners with read access may ask for one.
    required_scopes = {"POST": "localization:read"}

    @extend_schema(
        tags=["localization"],
        summary="Quote landed cost (goods + shipping + insurance + duty + import tax + fees)",
        description=(
            "Items are a SKU of the shop (price, HS code, weight and origin come from the catalog; the price is "
            "in the shop currency) or described inline in `currency`. `duty_rate` per item and `tax_rate` "
            "override the datasets. `shipping_rate` (a shipping rate's id) prices the shipping with that rate "
            "for the items' weight and value, as a checkout in its market would. All amounts in the response "
            "are in `quote_currency` (default: the destination's currency), rounded to its minor units."
        ),
        request=QuoteRequestSerializer,
        responses={200: LandedCostQuoteSerializer},
        examples=[OpenApiExample("Tee and silk scarf to the UK", value=QUOTE_EXAMPLE, request_only=True)],
    )
    def post(self, request):
        serializer = QuoteRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            quote = landed_cost.quote_landed_cost(serializer.quote_request(), shop_id=request.shop.pk)
        except RateNotFound as exc:
            raise serializers.ValidationError(
                {"quote_currency": [ErrorDetail(str(exc), code=LocalizationErrorCode.RATE_NOT_FOUND)]}
            ) from exc
        return Response(LandedCostQuoteSerializer(quote).data)


# --- Market prices -----------------------------------------------------------------------------


class MarketPriceSerializer(serializers.Serializer):
    market = serializers.IntegerField(source="market_id")
    sku = serializers.CharField(source="variant.sku")
    variant = serializers.IntegerField(source="variant_id")
    currency = serializers.CharField()
    price = serializers.SerializerMethodField(help_text="What the buyer pays now (sale price inside its window).")
    compare_at_price = serializers.SerializerMethodField()
    regular_price = serializers.DecimalField(source="amount", max_digits=14, decimal_places=4)
    sale_price = serializers.DecimalField(source="sale_amount", max_digits=14, decimal_places=4, allow_null=True)
    sale_starts_at = serializers.DateTimeField(allow_null=True)
    sale_ends_at = serializers.DateTimeField(allow_null=True)
    origin = serializers.CharField(help_text="rule: computed by the market rule; fixed: the merchant's fixed price")
    rule = serializers.CharField()
    rate = serializers.DecimalField(max_digits=20, decimal_places=10)
    rate_source = serializers.CharField()
    rate_date = serializers.DateField(allow_null=True)
    base_price = serializers.DecimalField(source="base_amount", max_digits=14, decimal_places=4)
    base_currency = serializers.CharField()
    landed_cost_included = serializers.DecimalField(source="landed_cost_amount", max_digits=14, decimal_places=4)
    computed_at = serializers.DateTimeField()

    def get_price(self, obj) -> str:
        return _money_str(obj.effective()[0], obj.currency)

    def get_compare_at_price(self, obj) -> str | None:
        value = obj.effective()[1]
        return None if value is None else _money_str(value, obj.currency)


def _money_str(value, currency):
    from localization.money import quantize

    return str(quantize(value, currency))


@extend_schema(
    tags=["localization"],
    summary="Stored prices of variants in markets",
    parameters=[
        OpenApiParameter("market", int, description="Market id"),
        OpenApiParameter("sku", str, description="Variant SKU (repeatable)", many=True),
    ],
)
class MarketPriceViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    scope = "localization"
    serializer_class = MarketPriceSerializer
    pagination_class = CursorPagination

    def get_queryset(self):
        from localization.models import MarketPrice

        queryset = MarketPrice.objects.select_related("variant")
        market = self.request.query_params.get("market")
        if market:
            if not market.isdigit():
                raise serializers.ValidationError({"market": ["A market id is a number."]})
            queryset = queryset.filter(market_id=int(market))
        skus = self.request.query_params.getlist("sku")
        if skus:
            queryset = queryset.filter(variant__sku__in=skus)
        return queryset


class PriceOverrideSerializer(serializers.Serializer):
    market = serializers.IntegerField()
    sku = serializers.CharField()
    fixed_price = _amount(required=False, allow_null=True)
    compare_at_price = _amount(required=False, allow_null=True)
    sale_price = _amount(required=False, allow_null=True)
    sale_starts_at = serializers.DateTimeField(required=False, allow_null=True)
    sale_ends_at = serializers.DateTimeField(required=False, allow_null=True)

    def validate(self, attrs):
        from catalog.models import ProductVariant

        errors = {}
        attrs["market_obj"] = Market.objects.filter(pk=attrs["market"]).first()
        if attrs["market_obj"] is None:
            errors["market"] = [
                ErrorDetail("No such market in this shop.", code=LocalizationErrorCode.MARKET_NOT_FOUND)
            ]
        attrs["variant_obj"] = ProductVariant.objects.filter(sku=attrs["sku"]).first()
        if attrs["variant_obj"] is None:
            errors["sku"] = [
                ErrorDetail(f"Unknown SKU “{attrs['sku']}” in this shop.", code=LocalizationErrorCode.SKU_NOT_FOUND)
            ]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


@extend_schema(
    tags=["localization"],
    summary="Set a variant's fixed price and/or dated sale price in a market",
    request=PriceOverrideSerializer,
    responses={200: dict},
    examples=[
        OpenApiExample(
            "Fixed €9.90, on sale at €7.90 in December",
            value={
                "market": 2,
                "sku": "TEE-RED-M",
                "fixed_price": "9.90",
                "sale_price": "7.90",
                "sale_starts_at": "2026-12-01T00:00:00Z",
                "sale_ends_at": "2027-01-01T00:00:00Z",
            },
            request_only=True,
        )
    ],
)
class PriceOverrideView(APIView):
    scope = "localization"

    def post(self, request):
        serializer = PriceOverrideSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        market, variant = data.pop("market_obj"), data.pop("variant_obj")
        data.pop("market"), data.pop("sku")
        row = services.market_variant_price_set(market=market, variant=variant, **data)
        return Response(
            {
                "market": market.pk,
                "sku": variant.sku,
                **{
                    k: (None if getattr(row, k) is None else str(getattr(row, k)))
                    for k in services.VARIANT_PRICE_FIELDS
                },
            }
        )
