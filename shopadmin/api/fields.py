"""Serializer field defaults that keep input inside what the database can store.

Every DRF IntegerField without explicit bounds gets the signed 64-bit range (PostgreSQL's
bigint): a larger number is a 400 naming the field, never an overflow deep in a query.
Installed once from ShopadminConfig.ready(), so it covers every serializer of every app.
"""

from __future__ import annotations

from rest_framework import fields

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
    _installed = True
