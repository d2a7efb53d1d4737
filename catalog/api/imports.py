"""/api/v1/catalog-imports/: the CSV import of the merchant UI, for partners.

Upload a file (multipart, field `file`): it is checked in the background, nothing written;
follow the check at /api/v1/jobs/{id}/ (its result lists every row's errors). A check without
errors can be committed: all rows in one transaction, or none.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.services import IMPORT_CHECK, catalog_import_commit, catalog_import_start
from shopadmin.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from shopadmin.api.views import JobSerializer
from shopadmin.models import Job


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="The catalog as CSV (UTF-8, comma-separated, with a header row; the columns of the "
        "merchant UI's export). At most 50 MB."
    )


class CatalogImportCreate(APIView):
    scope = "catalog"
    parser_classes = [MultiPartParser]

    @extend_schema(
        tags=["catalog"],
        summary="Upload a catalog CSV to check",
        request={"multipart/form-data": ImportUploadSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={202: OpenApiResponse(JobSerializer, description="The check, queued.")},
    )
    @idempotent
    def post(self, request):
        serializer = ImportUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        job = catalog_import_start(upload=serializer.validated_data["file"])
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class CatalogImportCommit(APIView):
    scope = "catalog"

    @extend_schema(
        tags=["catalog"],
        summary="Import a checked CSV (all rows or none)",
        description="Refused unless the check succeeded without errors. Asking twice returns the same import.",
        request=None,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={202: OpenApiResponse(JobSerializer, description="The import, queued.")},
    )
    @idempotent
    def post(self, request, pk: int):
        check = get_object_or_404(Job, pk=pk, kind=IMPORT_CHECK)
        job = catalog_import_commit(check=check)
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
