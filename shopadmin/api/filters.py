"""Filters for the API's filtersets: values the database cannot take are a 400, never a 500.

django-filter already answers an unknown choice (`?status=AAA`) or a malformed number or
date with a 400 (DjangoFilterBackend raises on an invalid filterset); these add what it lets
through: date-times are normalised to UTC, so an offset PostgreSQL does not accept
(`+19:48`) or a date-time that leaves the calendar once converted is refused here.
"""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField


class UtcIsoDateTimeField(IsoDateTimeField):
    default_error_messages = {"overflow": "This date-time is out of range."}

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None or parsed.tzinfo is None:
            return parsed
        try:
            return parsed.astimezone(dt.UTC)
        except OverflowError as exc:
            raise forms.ValidationError(self.error_messages["overflow"], code="overflow") from exc


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """`?since=2026-01-01T00:00:00+01:00` — ISO 8601, compared in UTC."""

    field_class = UtcIsoDateTimeField


class IdFilter(django_filters.NumberFilter):
    """An object id: a whole number (`?account=1.5` is a 400, not account 1)."""

    field_class = forms.IntegerField
