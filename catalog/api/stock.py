"""/api/v1/stock/ and /api/v1/stock/movements/: stock levels and the movement ledger."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import ErrorDetail
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response

from catalog import services
from catalog.errors import CatalogErrorCode
from catalog.models import (
    Location,
    MovementReason,
    ProductVariant,
    StockLevel,
    StockMovement,
)
from shopadmin.api.filters import IsoDateTimeFilter
from shopadmin.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent


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
                line_errors["sku"] = [
                    ErrorDetail(f"No variant with SKU “{line.get('sku')}”.", code=CatalogErrorCode.VARIANT_NOT_FOUND)
                ]
            location_id = by_code.get(line["location"])
            if location_id is None:
                line_errors["location"] = [
                    ErrorDetail(
                        f"No location with code “{line['location']}”; see GET /api/v1/locations/.",
                        code=CatalogErrorCode.LOCATION_NOT_FOUND,
                    )
                ]
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
