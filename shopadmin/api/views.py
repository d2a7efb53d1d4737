from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, serializers

from shopadmin.models import Job, Shop


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


# Which scope family reads which kind of job: a key that may read the catalog may follow its
# imports, one that may read markets their price recomputations, and so on. Other kinds (the
# audit log export, for instance) belong to the merchant UI and are not found here.
JOB_KIND_SCOPES = {
    "catalog_import_check": "catalog",
    "catalog_import_commit": "catalog",
    "market_prices": "localization",
    "publish": "channels",
    "reconciliation": "orders",
}


class JobSerializer(serializers.ModelSerializer):
    percent = serializers.IntegerField(read_only=True)
    result = serializers.JSONField(
        read_only=True,
        help_text="What the job produced; for a catalog import check: rows, error_count, errors "
        "(row, column, message) and what would be created or updated.",
    )

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "label",
            "status",
            "done",
            "total",
            "percent",
            "error",
            "result",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


@extend_schema(
    tags=["jobs"],
    summary="Follow a background job",
    description=(
        "Imports, price recomputations, publishing and reconciliation run in the background: the "
        "endpoint that starts one answers 202 with the job. Poll here until `status` is `succeeded` "
        "or `failed`. Reading a job needs the read scope of what it works on (`catalog:read` for "
        "catalog imports, `localization:read` for price recomputations, `channels:read` for "
        "publishing, `orders:read` for reconciliation)."
    ),
)
class JobDetailView(generics.RetrieveAPIView):
    serializer_class = JobSerializer
    required_scopes = {"GET": ""}  # checked per job kind below

    def get_object(self):
        job = get_object_or_404(Job.objects.filter(kind__in=JOB_KIND_SCOPES), pk=self.kwargs["pk"])
        scope = f"{JOB_KIND_SCOPES[job.kind]}:read"
        if not self.request.auth.has_scope(scope):
            raise exceptions.PermissionDenied(f"This API key lacks the scope `{scope}`.", code="missing_scope")
        return job
