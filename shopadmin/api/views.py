from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers

from shopadmin.models import Shop


class ShopSerializer(serializers.ModelSerializer):
    class Meta:
        model = Shop
        fields = [
            "id",
            "name",
            "slug",
            "default_currency",
            "default_language",
            "country",
            "timezone",
            "created_at",
        ]
        read_only_fields = fields


@extend_schema(tags=["shop"], summary="The shop this API key belongs to")
class ShopDetailView(generics.RetrieveAPIView):
    serializer_class = ShopSerializer
    required_scopes = {"GET": ""}  # any valid key may read its own shop

    def get_object(self):
        return self.request.auth.shop
