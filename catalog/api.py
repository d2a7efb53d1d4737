"""The catalog API: products, variants (with bulk upsert by SKU), stock levels, movements, locations.

Thin: serializers check shapes and types; the services own validation and writes, and
their Django ValidationErrors become problem+json field errors.
"""

from __future__ import annotations

from decimal import Decimal

import django_filters
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response

from catalog import selectors, services
from catalog.models import (
    Category,
    Location,
    MovementReason,
    Product,
    ProductMedia,
    ProductOption,
    ProductVariant,
    StockLevel,
    StockMovement,
)
from catalog.services import money_out
from shopadmin.api.filters import IsoDateTimeFilter
from shopadmin.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from shopadmin.api.pagination import CursorPagination


class MoneyAmountField(serializers.DecimalField):
    """In: "19.99" (shop currency). Out: the amount rounded to the currency's minor units."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 3)
        kwargs.setdefault("min_value", Decimal(0))
        kwargs.setdefault("coerce_to_string", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return money_out(value)


# --- Serializers --------------------------------------------------------------------------


class OptionSerializer(serializers.ModelSerializer):
    values = serializers.ListField(child=serializers.CharField(max_length=100))

    class Meta:
        model = ProductOption
        fields = ["name", "values"]


class MediaSerializer(serializers.ModelSerializer):
    src = serializers.CharField(read_only=True)
    variant = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True, help_text="null: the whole product")

    class Meta:
        model = ProductMedia
        fields = ["id", "src", "alt_text", "position", "variant"]


class VariantSerializer(serializers.ModelSerializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.none())
    price = MoneyAmountField()
    compare_at_price = MoneyAmountField(required=False, allow_null=True)
    cost = MoneyAmountField(required=False, allow_null=True)
    currency = serializers.SerializerMethodField()
    available = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="On hand minus allocated, all locations."
    )
    option_values = serializers.DictField(child=serializers.CharField(), required=False)

    class Meta:
        model = ProductVariant
        fields = [
            "id",
            "product",
            "sku",
            "title",
            "option_values",
            "gtin",
            "mpn",
            "weight_grams",
            "length_mm",
            "width_mm",
            "height_mm",
            "price",
            "compare_at_price",
            "cost",
            "currency",
            "position",
            "available",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        # Uniqueness, GTIN check digits and money rules are checked by the service, with
        # messages merchants understand; here only shapes and types.
        extra_kwargs = {"sku": {"validators": []}, "gtin": {"validators": []}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.all()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            self.fields["product"].read_only = True

    @extend_schema_field(OpenApiTypes.STR)
    def get_currency(self, obj) -> str:
        return str(obj.price.currency) if obj.price is not None else ""

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if data.get("available") is None:
            data["available"] = getattr(instance, "available", None)
        return data


class VariantSummarySerializer(serializers.ModelSerializer):
    price = MoneyAmountField(read_only=True)
    compare_at_price = MoneyAmountField(read_only=True, allow_null=True)

    class Meta:
        model = ProductVariant
        fields = ["id", "sku", "title", "option_values", "gtin", "price", "compare_at_price", "position"]


class ProductVariantInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    price = MoneyAmountField()
    compare_at_price = MoneyAmountField(required=False, allow_null=True)
    cost = MoneyAmountField(required=False, allow_null=True)
    option_values = serializers.DictField(child=serializers.CharField(), required=False)
    gtin = serializers.CharField(max_length=20, required=False, allow_blank=True)
    mpn = serializers.CharField(max_length=70, required=False, allow_blank=True)
    weight_grams = serializers.IntegerField(min_value=0, required=False, allow_null=True)


class ProductSerializer(serializers.ModelSerializer):
    category = serializers.PrimaryKeyRelatedField(queryset=Category.objects.none(), allow_null=True, required=False)
    category_path = serializers.SerializerMethodField()
    tags = serializers.ListField(child=serializers.CharField(max_length=60), required=False)
    options = OptionSerializer(many=True, required=False)
    variants = VariantSummarySerializer(many=True, read_only=True)
    media = MediaSerializer(many=True, read_only=True)
    new_variants = ProductVariantInputSerializer(
        many=True, required=False, write_only=True, help_text="On create: the product's variants."
    )

    class Meta:
        model = Product
        fields = [
            "id",
            "title",
            "handle",
            "description",
            "brand",
            "category",
            "category_path",
            "condition",
            "status",
            "tags",
            "hs_code",
            "country_of_origin",
            "options",
            "variants",
            "new_variants",
            "media",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {
            "handle": {"required": False, "validators": []},
            "hs_code": {"validators": []},
            "country_of_origin": {"validators": []},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.all()

    @extend_schema_field(serializers.CharField(allow_null=True, help_text="null: no category"))
    def get_category_path(self, obj) -> str | None:
        return obj.category.full_path if obj.category_id else None


PRODUCT_EXAMPLE = {
    "title": "Organic Cotton Tee",
    "description": "Heavyweight organic cotton.",
    "brand": "Northwind",
    "category": 3,
    "condition": "new",
    "status": "active",
    "tags": ["organic", "summer"],
    "hs_code": "6109.10",
    "country_of_origin": "PT",
    "options": [{"name": "Size", "values": ["S", "M"]}],
    "new_variants": [
        {"sku": "TEE-ORG-S", "price": "24.00", "option_values": {"Size": "S"}, "gtin": "4006381333931"},
        {"sku": "TEE-ORG-M", "price": "24.00", "option_values": {"Size": "M"}},
    ],
}


class ProductFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Product.Status.choices)
    brand = django_filters.CharFilter(lookup_expr="iexact")
    category = django_filters.NumberFilter(field_name="category_id")
    handle = django_filters.CharFilter()
    tag = django_filters.CharFilter(method="filter_tag", label="tag")
    sku = django_filters.CharFilter(method="filter_sku", label="SKU of one of its variants")
    updated_since = IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    search = django_filters.CharFilter(
        method="filter_search",
        label="Exact SKU, GTIN or handle (listed first), else words of the title; tolerates typos on PostgreSQL",
    )

    class Meta:
        model = Product
        fields = ["status", "brand", "category", "handle"]

    def filter_search(self, queryset, name, value):
        value = value.strip()[:200]
        if not value:
            return queryset
        exact = selectors.exact_match_ids(value)
        # One unique, ever-decreasing sort key puts exact matches first and keeps cursor
        # paging exact (no offsets): their ids are lifted above every real id.
        return queryset.filter(selectors.title_matches(value) | Q(pk__in=exact)).annotate(
            search_rank=Case(
                When(pk__in=exact, then=F("id") + Value(SEARCH_EXACT_BOOST)),
                default=F("id"),
                output_field=BigIntegerField(),
            )
        )

    def filter_tag(self, queryset, name, value):
        return queryset.filter(tags__contains=[value])

    def filter_sku(self, queryset, name, value):
        return queryset.filter(pk__in=ProductVariant.objects.filter(sku=value).values("product_id"))


# Above any bigint id a shop will reach, below the bigint maximum even when added to one.
SEARCH_EXACT_BOOST = 2**62


class SearchCursorPagination(CursorPagination):
    """Cursor paging over the search rank: exact SKU/GTIN/handle matches, then newest first."""

    ordering = "-search_rank"


def _service_fields(data: dict, allowed) -> dict:
    return {k: v for k, v in data.items() if k in allowed}


@extend_schema_view(
    list=extend_schema(
        tags=["catalog"],
        summary="List products",
        description=(
            "Cursor-paginated, newest first. With `?search=`, products with a variant of exactly that SKU "
            "or GTIN (or exactly that handle) come first, then products whose title contains the words "
            "or, on PostgreSQL, a word close to them (trigram similarity: `organc tee` finds “Organic Tee”)."
        ),
    ),
    retrieve=extend_schema(tags=["catalog"], summary="Get a product with its options, variants and media"),
    create=extend_schema(
        tags=["catalog"],
        summary="Create a product (optionally with options and variants)",
        parameters=[IDEMPOTENCY_PARAMETER],
        examples=[OpenApiExample("A tee in two sizes", value=PRODUCT_EXAMPLE, request_only=True)],
    ),
    partial_update=extend_schema(
        tags=["catalog"],
        summary="Change a product",
        examples=[OpenApiExample("Archive", value={"status": "archived"}, request_only=True)],
    ),
    update=extend_schema(tags=["catalog"], summary="Replace a product's fields"),
    destroy=extend_schema(tags=["catalog"], summary="Delete a product with its variants and stock"),
)
class ProductViewSet(viewsets.ModelViewSet):
    scope = "catalog"
    serializer_class = ProductSerializer
    filterset_class = ProductFilter

    @property
    def paginator(self):
        if not hasattr(self, "_paginator"):
            searching = self.action == "list" and self.request.query_params.get("search", "").strip()
            self._paginator = SearchCursorPagination() if searching else CursorPagination()
        return self._paginator

    def get_queryset(self):
        return Product.objects.select_related("category").prefetch_related(
            Prefetch("options", queryset=ProductOption.objects.order_by("position", "id")),
            Prefetch("variants", queryset=ProductVariant.objects.order_by("position", "id")),
            Prefetch("media", queryset=ProductMedia.objects.order_by("position", "id")),
        )

    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        product = services.product_create(
            options=data.pop("options", None),
            variants=[dict(v) for v in data.pop("new_variants", [])],
            **_service_fields(data, services.PRODUCT_FIELDS),
        )
        return Response(
            self.get_serializer(self.get_queryset().get(pk=product.pk)).data, status=status.HTTP_201_CREATED
        )

    def update(self, request, *args, **kwargs):
        product = self.get_object()
        serializer = self.get_serializer(product, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        options = data.pop("options", None)
        if data.pop("new_variants", None):
            raise DRFValidationError({"new_variants": ["Add variants to an existing product with POST /variants/."]})
        services.product_update(product=product, **_service_fields(data, services.PRODUCT_FIELDS))
        if options is not None:
            services.product_set_options(product=product, options=options)
        return Response(self.get_serializer(self.get_queryset().get(pk=product.pk)).data)

    def perform_destroy(self, instance):
        services.product_delete(product=instance)


class VariantFilter(django_filters.FilterSet):
    product = django_filters.NumberFilter(field_name="product_id")
    sku = django_filters.CharFilter()
    gtin = django_filters.CharFilter()
    status = django_filters.ChoiceFilter(field_name="product__status", choices=Product.Status.choices)
    updated_since = IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = ProductVariant
        fields = ["product", "sku", "gtin"]


def _available_subquery():
    return Coalesce(
        Subquery(
            StockLevel.objects.filter(variant_id=OuterRef("pk"))
            .values("variant_id")
            .annotate(total=Sum(F("on_hand") - F("allocated")))
            .values("total"),
            output_field=IntegerField(),
        ),
        0,
    )


class BulkUpsertSerializer(serializers.Serializer):
    items = serializers.ListField(child=serializers.DictField(), min_length=1, max_length=services.BULK_UPSERT_LIMIT)


BULK_EXAMPLE = {
    "items": [
        {"sku": "TEE-ORG-S", "price": "22.00"},
        {"sku": "TEE-ORG-L", "product": 42, "price": "24.00", "option_values": {"Size": "L"}},
    ]
}
BULK_ERROR_EXAMPLE = {
    "type": "urn:shopadmin:problem:validation_error",
    "title": "Invalid input.",
    "status": 400,
    "detail": "1 field is invalid.",
    "code": "validation_error",
    "errors": [
        {
            "field": "items.1.gtin",
            "code": "invalid",
            "message": "“123” has 3 digits; a GTIN has 8, 12 (UPC-A), 13 (EAN-13) or 14 digits.",
        }
    ],
}


class BulkUpsertResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    items = serializers.ListField(child=serializers.DictField())


def _variant_input(data: dict) -> dict:
    return {k: v for k, v in data.items() if k in services.VARIANT_FIELDS}


@extend_schema_view(
    list=extend_schema(tags=["catalog"], summary="List variants", description="Each with `available` stock."),
    retrieve=extend_schema(tags=["catalog"], summary="Get a variant"),
    create=extend_schema(
        tags=["catalog"],
        summary="Create a variant of a product",
        parameters=[IDEMPOTENCY_PARAMETER],
        examples=[
            OpenApiExample(
                "Size L",
                value={"product": 42, "sku": "TEE-ORG-L", "price": "24.00", "option_values": {"Size": "L"}},
                request_only=True,
            )
        ],
    ),
    partial_update=extend_schema(
        tags=["catalog"],
        summary="Change a variant",
        examples=[OpenApiExample("New price", value={"price": "21.50"}, request_only=True)],
    ),
    update=extend_schema(tags=["catalog"], summary="Replace a variant's fields"),
    destroy=extend_schema(tags=["catalog"], summary="Delete a variant and its stock"),
)
class VariantViewSet(viewsets.ModelViewSet):
    scope = "catalog"
    serializer_class = VariantSerializer
    filterset_class = VariantFilter

    def get_queryset(self):
        return ProductVariant.objects.annotate(available=_available_subquery())

    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        variant = services.variant_create(product=data.pop("product"), **_variant_input(data))
        return Response(
            self.get_serializer(self.get_queryset().get(pk=variant.pk)).data, status=status.HTTP_201_CREATED
        )

    def update(self, request, *args, **kwargs):
        variant = self.get_object()
        serializer = self.get_serializer(variant, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        services.variant_update(variant=variant, **_variant_input(dict(serializer.validated_data)))
        return Response(self.get_serializer(self.get_queryset().get(pk=variant.pk)).data)

    def perform_destroy(self, instance):
        services.variant_delete(variant=instance)

    @extend_schema(
        tags=["catalog"],
        summary="Create or update up to 1,000 variants by SKU (all or nothing)",
        description=(
            "Existing SKUs are updated with the fields given; new SKUs need `product`. If any item is "
            "invalid nothing is saved and the 400 lists every problem as `items.<index>.<field>`."
        ),
        request=BulkUpsertSerializer,
        responses={200: BulkUpsertResultSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
        examples=[
            OpenApiExample("Two items", value=BULK_EXAMPLE, request_only=True),
            OpenApiExample("Per-item errors", value=BULK_ERROR_EXAMPLE, response_only=True, status_codes=["400"]),
        ],
    )
    @action(detail=False, methods=["post"], url_path="bulk-upsert")
    @idempotent
    def bulk_upsert(self, request):
        serializer = BulkUpsertSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # Items go to the service as sent: it checks every item (types, money, GTINs, SKUs)
        # in one pass so the 400 lists all problems at once, not only the first kind.
        items, unknown_errors = [], []
        allowed = {*services.VARIANT_FIELDS, "product"}
        for raw in serializer.validated_data["items"]:
            unknown = sorted(set(raw) - allowed)
            unknown_errors.append(
                {name: [f"Unknown field; variants have {', '.join(sorted(allowed))}."] for name in unknown}
            )
            item = {k: v for k, v in raw.items() if k in allowed}
            if isinstance(item.get("product"), str) and item["product"].isdigit():
                item["product"] = int(item["product"])
            items.append(item)
        try:
            results = services.variant_bulk_upsert(items=items)
        except services.BulkItemsError as exc:
            merged = [{**known, **extra} for known, extra in zip(exc.item_errors, unknown_errors, strict=True)]
            raise DRFValidationError({"items": merged}) from None
        if any(unknown_errors):
            raise DRFValidationError({"items": unknown_errors})
        return Response(
            {
                "created": sum(1 for _v, created in results if created),
                "updated": sum(1 for _v, created in results if not created),
                "items": [{"sku": v.sku, "id": v.pk, "created": created} for v, created in results],
            }
        )


# --- Stock --------------------------------------------------------------------------------


class StockLevelSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="variant.sku", read_only=True)
    location = serializers.CharField(source="location.code", read_only=True)
    available = serializers.IntegerField(read_only=True)

    class Meta:
        model = StockLevel
        fields = ["id", "variant", "sku", "location", "on_hand", "allocated", "available", "updated_at"]
        read_only_fields = fields


class StockFilter(django_filters.FilterSet):
    sku = django_filters.CharFilter(field_name="variant__sku")
    variant = django_filters.NumberFilter(field_name="variant_id")
    location = django_filters.CharFilter(field_name="location__code")
    updated_since = IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = StockLevel
        fields = ["sku", "variant", "location"]


class MovementInputSerializer(serializers.Serializer):
    sku = serializers.CharField(required=False, help_text="The variant's SKU (or give `variant`).")
    variant = serializers.IntegerField(required=False, help_text="The variant's id (or give `sku`).")
    location = serializers.CharField(help_text="The location's code, e.g. main.")
    quantity = serializers.IntegerField(help_text="Signed change; allocation/release change the allocated count.")
    reason = serializers.ChoiceField(choices=MovementReason.choices)
    reference = serializers.CharField(required=False, allow_blank=True, max_length=200)
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)

    def validate(self, attrs):
        if not attrs.get("sku") and not attrs.get("variant"):
            raise serializers.ValidationError({"sku": "Give the variant's sku or its id (variant)."})
        if attrs["quantity"] == 0:
            raise serializers.ValidationError({"quantity": "A movement changes stock: use a number other than 0."})
        return attrs


class MovementsRequestSerializer(serializers.Serializer):
    movements = MovementInputSerializer(many=True, allow_empty=False, max_length=1000)


class MovementSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="variant.sku", read_only=True)
    location = serializers.CharField(source="location.code", read_only=True)

    class Meta:
        model = StockMovement
        fields = [
            "id",
            "variant",
            "sku",
            "location",
            "quantity",
            "reason",
            "reference",
            "note",
            "on_hand_after",
            "allocated_after",
            "actor_label",
            "created_at",
        ]
        read_only_fields = fields


class MovementFilter(django_filters.FilterSet):
    sku = django_filters.CharFilter(field_name="variant__sku")
    variant = django_filters.NumberFilter(field_name="variant_id")
    location = django_filters.CharFilter(field_name="location__code")
    reason = django_filters.ChoiceFilter(choices=MovementReason.choices)
    reference = django_filters.CharFilter()
    since = IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = StockMovement
        fields = ["sku", "variant", "location", "reason", "reference"]


MOVEMENTS_EXAMPLE = {
    "movements": [
        {"sku": "TEE-ORG-S", "location": "main", "quantity": 24, "reason": "received", "reference": "PO-1042"},
        {"sku": "TEE-ORG-M", "location": "store", "quantity": -1, "reason": "damage", "note": "stained"},
    ]
}


@extend_schema_view(
    list=extend_schema(tags=["stock"], summary="List stock levels (one per variant and location)"),
    retrieve=extend_schema(tags=["stock"], summary="Get a stock level"),
)
class StockViewSet(viewsets.ReadOnlyModelViewSet):
    scope = "catalog"
    serializer_class = StockLevelSerializer
    filterset_class = StockFilter

    def get_queryset(self):
        return StockLevel.objects.select_related("variant", "location")


@extend_schema_view(
    list=extend_schema(tags=["stock"], summary="List stock movements (the ledger), newest first"),
    retrieve=extend_schema(tags=["stock"], summary="Get a stock movement"),
)
class MovementViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    scope = "catalog"
    serializer_class = MovementSerializer
    filterset_class = MovementFilter

    def get_queryset(self):
        return StockMovement.objects.select_related("variant", "location")

    @extend_schema(
        tags=["stock"],
        summary="Post stock movements (all or none)",
        description=(
            "Each line changes one variant at one location. Lines are applied together with row "
            "locks; if any would take stock below zero, none is applied and the 400 says which."
        ),
        request=MovementsRequestSerializer,
        responses={201: MovementSerializer(many=True)},
        parameters=[IDEMPOTENCY_PARAMETER],
        examples=[OpenApiExample("Receive and write off", value=MOVEMENTS_EXAMPLE, request_only=True)],
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = MovementsRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        lines = serializer.validated_data["movements"]
        skus = {line["sku"] for line in lines if line.get("sku")}
        by_sku = dict(ProductVariant.objects.filter(sku__in=skus).values_list("sku", "pk"))
        codes = {line["location"] for line in lines}
        by_code = dict(Location.objects.filter(code__in=codes).values_list("code", "pk"))
        errors, changes = [], []
        for line in lines:
            line_errors = {}
            variant_id = line.get("variant") or by_sku.get(line.get("sku"))
            if variant_id is None:
                line_errors["sku"] = [f"No variant with SKU “{line.get('sku')}”."]
            location_id = by_code.get(line["location"])
            if location_id is None:
                line_errors["location"] = [f"No location with code “{line['location']}”; see GET /api/v1/locations/."]
            errors.append(line_errors)
            if not line_errors:
                changes.append(
                    services.StockChange(
                        variant_id=variant_id,
                        location_id=location_id,
                        quantity=line["quantity"],
                        reason=line["reason"],
                        reference=line.get("reference", ""),
                        note=line.get("note", ""),
                    )
                )
        if any(errors):
            raise DRFValidationError({"movements": errors})
        posted = services.stock_post_movements(movements=changes)
        fresh = self.get_queryset().filter(pk__in=[m.pk for m in posted]).order_by("pk")
        return Response(MovementSerializer(fresh, many=True).data, status=status.HTTP_201_CREATED)


# --- Categories ---------------------------------------------------------------------------


class CategorySerializer(serializers.ModelSerializer):
    parent = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.none(), allow_null=True, required=False, help_text="The parent's id; null at the top."
    )
    full_path = serializers.CharField(read_only=True, help_text="Names from the top, joined by “ > ”.")
    google_product_category = serializers.IntegerField(
        min_value=1, allow_null=True, required=False, help_text="Google product taxonomy id, e.g. 212."
    )
    product_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Category
        fields = ["id", "name", "parent", "full_path", "google_product_category", "product_count"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = Category.objects.all()


CATEGORY_EXAMPLE = {"name": "T-shirts", "parent": 3, "google_product_category": 212}
CATEGORY_RESPONSE_EXAMPLE = {
    "id": 7,
    "name": "T-shirts",
    "parent": 3,
    "full_path": "Apparel > Tops > T-shirts",
    "google_product_category": 212,
    "product_count": 0,
}
CATEGORY_IN_USE_EXAMPLE = {
    "type": "urn:shopadmin:problem:validation_error",
    "title": "Invalid input.",
    "status": 400,
    "code": "validation_error",
    "detail": "“Apparel > Tops” has 12 products and 1 subcategories. Move them to the parent category to "
    "delete it, or give them another category first.",
}
MOVE_TO_PARENT = OpenApiParameter(
    "move_to_parent",
    OpenApiTypes.BOOL,
    description="Move the category's products and subcategories to its parent (to no category at the top), "
    "then delete it. Without it, only an unused category can be deleted.",
)


@extend_schema_view(
    list=extend_schema(
        tags=["catalog"],
        summary="List categories",
        description="The whole tree, one category per item, ordered by `full_path` (parents before children).",
        examples=[OpenApiExample("A category", value=CATEGORY_RESPONSE_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(tags=["catalog"], summary="Get a category"),
    create=extend_schema(
        tags=["catalog"],
        summary="Create a category",
        description="Names are one level (no “ > ”); a name is unique among its siblings.",
        parameters=[IDEMPOTENCY_PARAMETER],
        examples=[
            OpenApiExample("Under a parent, mapped to Google", value=CATEGORY_EXAMPLE, request_only=True),
            OpenApiExample("Created", value=CATEGORY_RESPONSE_EXAMPLE, response_only=True, status_codes=["201"]),
        ],
    ),
    partial_update=extend_schema(
        tags=["catalog"],
        summary="Rename, move or map a category",
        description=(
            "Moving under another parent rewrites the paths of everything below it. A category cannot move "
            "inside itself or one of its subcategories (400 on `parent`)."
        ),
        examples=[
            OpenApiExample("Rename", value={"name": "Tees"}, request_only=True),
            OpenApiExample("Move to the top level", value={"parent": None}, request_only=True),
            OpenApiExample("Map to Google", value={"google_product_category": 212}, request_only=True),
        ],
    ),
    update=extend_schema(tags=["catalog"], summary="Replace a category's fields"),
    destroy=extend_schema(
        tags=["catalog"],
        summary="Delete a category",
        parameters=[MOVE_TO_PARENT],
        examples=[OpenApiExample("In use", value=CATEGORY_IN_USE_EXAMPLE, response_only=True, status_codes=["400"])],
    ),
)
class CategoryViewSet(viewsets.ModelViewSet):
    scope = "catalog"
    serializer_class = CategorySerializer
    pagination_class = None  # a shop's tree is small and is wanted whole

    def get_queryset(self):
        return Category.objects.annotate(product_count=Count("products")).order_by("full_path", "id")

    def _reply(self, category, status_code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.get_queryset().get(pk=category.pk)).data, status=status_code)

    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        category = services.category_create(**serializer.validated_data)
        return self._reply(category, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        category = self.get_object()
        serializer = self.get_serializer(category, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        fields = _service_fields(serializer.validated_data, services.CATEGORY_FIELDS)
        services.category_update(category=Category.objects.get(pk=category.pk), **fields)
        return self._reply(category)

    def destroy(self, request, *args, **kwargs):
        category = self.get_object()
        move = request.query_params.get("move_to_parent", "").lower() in ("1", "true", "yes")
        services.category_delete(category=category, move_to_parent=move)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LocationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Location
        fields = ["id", "name", "code", "country", "is_active"]
        extra_kwargs = {"code": {"validators": []}, "country": {"validators": []}}


@extend_schema_view(
    list=extend_schema(tags=["stock"], summary="List locations"),
    retrieve=extend_schema(tags=["stock"], summary="Get a location"),
    create=extend_schema(
        tags=["stock"],
        summary="Create a location",
        parameters=[IDEMPOTENCY_PARAMETER],
        examples=[
            OpenApiExample("Warehouse", value={"name": "Lisbon 3PL", "code": "lis", "country": "PT"}, request_only=True)
        ],
    ),
)
class LocationViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    scope = "catalog"
    serializer_class = LocationSerializer

    def get_queryset(self):
        return Location.objects.all()

    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        location = services.location_create(name=data["name"], code=data["code"], country=data["country"])
        return Response(self.get_serializer(location).data, status=status.HTTP_201_CREATED)
