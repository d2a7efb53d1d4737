"""/api/v1/locations/: where stock is kept."""

from __future__ import annotations

from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from catalog import services
from catalog.models import (
    Location,
)
from shopadmin.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent


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
