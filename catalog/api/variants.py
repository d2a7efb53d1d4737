"""/api/v1/variants/: variants, with bulk upsert by SKU (all rows or none)."""

from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import (
    F,
    IntegerField,
    OuterRef,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.fields import get_error_detail
from rest_framework.response import Response

from catalog import services
from catalog.api.products import VariantSerializer
from catalog.models import (
    Product,
    ProductVariant,
    StockLevel,
)
from shopadmin.api.filters import IsoDateTimeFilter
from shopadmin.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent


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
            # Each item's errors keep their codes (sku_taken, product_not_found, …).
            merged = [
                {**(get_error_detail(DjangoValidationError(known)) if known else {}), **extra}
                for known, extra in zip(exc.item_errors, unknown_errors, strict=True)
            ]
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
