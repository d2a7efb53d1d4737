from django.core import exceptions as django_exceptions
from django.db import models
from rest_framework import pagination, serializers

INT64 = (-(2**63), 2**63 - 1)
INVALID_CURSOR = "This cursor is not one this API handed out; follow `next` or `previous` as given."


class CursorPagination(pagination.CursorPagination):
    """Stable, index-friendly paging: `?cursor=` from `next`, page size by `?limit=` (≤ 500).

    A cursor is opaque but not signed: one that does not decode, or whose position is not a
    value of the ordering field, is a 400 (field `cursor`), never a query that fails.
    """

    ordering = "-id"
    page_size_query_param = "limit"
    max_page_size = 500
    # An offset is only needed when many rows share one position; a huge one is an attack.
    offset_cutoff = 10000

    def paginate_queryset(self, queryset, request, view=None):
        self._queryset = queryset
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except Exception as exc:  # NotFound, and anything a crafted cursor makes the decoder raise
            raise serializers.ValidationError({self.cursor_query_param: [INVALID_CURSOR]}) from exc
        if cursor is not None and cursor.position is not None:
            self._check_position(cursor.position)
        return cursor

    def _ordering_field(self):
        name = self.ordering[0] if isinstance(self.ordering, list | tuple) else self.ordering
        name = name.lstrip("-")
        queryset = getattr(self, "_queryset", None)
        if queryset is None:
            return None
        annotation = queryset.query.annotations.get(name)
        if annotation is not None:
            return annotation.output_field
        try:
            return queryset.model._meta.get_field(name)
        except django_exceptions.FieldDoesNotExist:
            return None

    def _check_position(self, position: str) -> None:
        invalid = serializers.ValidationError({self.cursor_query_param: [INVALID_CURSOR]})
        if "\x00" in position or len(position) > 200:
            raise invalid
        field = self._ordering_field()
        if field is None:
            return
        try:
            value = field.to_python(position)
        except (django_exceptions.ValidationError, TypeError, ValueError, OverflowError) as exc:
            raise invalid from exc
        if isinstance(field, models.IntegerField | models.AutoField) and not INT64[0] <= int(value) <= INT64[1]:
            raise invalid
