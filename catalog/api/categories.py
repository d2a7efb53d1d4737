"""/api/v1/categories/: the shop's category tree."""

from __future__ import annotations

from django.db.models import (
    Count,
)
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status, viewsets
from rest_framework.response import Response

from catalog import services
from catalog.api.fields import service_fields
from catalog.models import (
    Category,
)
from shopadmin.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent


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
        fields = service_fields(serializer.validated_data, services.CATEGORY_FIELDS)
        services.category_update(category=Category.objects.get(pk=category.pk), **fields)
        return self._reply(category)

    def destroy(self, request, *args, **kwargs):
        category = self.get_object()
        move = request.query_params.get("move_to_parent", "").lower() in ("1", "true", "yes")
        services.category_delete(category=category, move_to_parent=move)
        return Response(status=status.HTTP_204_NO_CONTENT)
