"""/api/v1/products/: products with their options, variants and media; search."""

from __future__ import annotations

import django_filters
from django.db.models import (
    BigIntegerField,
    Case,
    F,
    Prefetch,
    Q,
    Value,
    When,
)
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from catalog import selectors, services
from catalog.api.fields import MoneyAmountField, service_fields
from catalog.models import (
    Category,
    Product,
    ProductMedia,
    ProductOption,
    ProductVariant,
)
from shopadmin.api.filters import IsoDateTimeFilter
from shopadmin.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from shopadmin.api.pagination import CursorPagination
from shopadmin.api.parsers import StrictJSONParser


class OptionSerializer(serializers.ModelSerializer):
    values = serializers.ListField(child=serializers.CharField(max_length=100))

    class Meta:
        model = ProductOption
        fields = ["name", "values"]


class MediaSerializer(serializers.ModelSerializer):
    src = serializers.CharField(
        read_only=True,
        help_text="The image's URL: the uploaded image's channel rendition (a JPEG), or the URL given.",
    )
    variant = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True, help_text="null: the whole product")
    width = serializers.IntegerField(read_only=True, allow_null=True, help_text="Pixels; null for a URL")
    height = serializers.IntegerField(read_only=True, allow_null=True, help_text="Pixels; null for a URL")

    class Meta:
        model = ProductMedia
        fields = ["id", "src", "alt_text", "position", "variant", "width", "height"]


class MediaInputSerializer(serializers.Serializer):
    image = serializers.FileField(
        required=False,
        help_text="A JPEG, PNG, WebP or GIF picture (multipart), at least 500 x 500 px, at most 20 MB and "
        "25 megapixels. Stored as given, and as the JPEG channels get (longest side at most 2048 px).",
    )
    url = serializers.URLField(
        required=False, allow_blank=True, max_length=1000, help_text="Or the URL of an image hosted elsewhere."
    )
    alt_text = serializers.CharField(required=False, allow_blank=True, max_length=255)
    variant = serializers.PrimaryKeyRelatedField(
        queryset=ProductVariant.objects.none(), required=False, allow_null=True, help_text="Only for this variant."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["variant"].queryset = ProductVariant.objects.all()


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
            **service_fields(data, services.PRODUCT_FIELDS),
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
        services.product_update(product=product, **service_fields(data, services.PRODUCT_FIELDS))
        if options is not None:
            services.product_set_options(product=product, options=options)
        return Response(self.get_serializer(self.get_queryset().get(pk=product.pk)).data)

    def perform_destroy(self, instance):
        services.product_delete(product=instance)

    @extend_schema(
        tags=["catalog"],
        summary="Add an image to a product (upload or URL)",
        description=(
            "Multipart with `image` (a file), or JSON with `url`. An upload must be a real JPEG, PNG, "
            "WebP or GIF picture (a file that only has the name is refused with `image_invalid`), at "
            "least 500 x 500 px, at most 20 MB and 25 megapixels; channels get a JPEG rendition of it."
        ),
        request={"multipart/form-data": MediaInputSerializer, "application/json": MediaInputSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: MediaSerializer},
    )
    @action(detail=True, methods=["post"], url_path="media", parser_classes=[MultiPartParser, StrictJSONParser])
    @idempotent
    def add_media(self, request, pk=None):
        product = self.get_object()
        serializer = MediaInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        media = services.media_add(
            product=product,
            url=data.get("url", ""),
            image=data.get("image"),
            alt_text=data.get("alt_text", ""),
            variant=data.get("variant"),
        )
        return Response(MediaSerializer(media).data, status=status.HTTP_201_CREATED)
