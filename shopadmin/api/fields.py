"""Serializer field defaults that keep input inside what the database can store.

Every DRF IntegerField without explicit bounds gets the signed 64-bit range (PostgreSQL's
bigint): a larger number is a 400 naming the field, never an overflow deep in a query.
Every DecimalField reads a number written with any digits people use (`১২৫০.৫০`, `۱۲۵۰٫۵۰`;
shopadmin.numerals), as forms and CSV imports do; answers keep ASCII. (Python's int() already
reads any Unicode digits, so IntegerField needs nothing more.)
Installed once from ShopadminConfig.ready(), so it covers every serializer of every app.
"""

from __future__ import annotations

from rest_framework import fields

from shopadmin.numerals import ascii_digits

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    original_init = fields.IntegerField.__init__

    def __init__(self, **kwargs):
        if kwargs.get("max_value") is None:
            kwargs["max_value"] = INT64_MAX
        if kwargs.get("min_value") is None:
            kwargs["min_value"] = INT64_MIN
        original_init(self, **kwargs)

    fields.IntegerField.__init__ = __init__

    original_decimal = fields.DecimalField.to_internal_value

    def to_internal_value(self, data):
        return original_decimal(self, ascii_digits(data) if isinstance(data, str) else data)

    fields.DecimalField.to_internal_value = to_internal_value
    _installed = True
