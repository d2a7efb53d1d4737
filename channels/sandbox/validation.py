"""Per-item validation as the real channels do it (the subset the adapters can get wrong)."""

from __future__ import annotations

import re

PRICE = re.compile(r"^\d+(\.\d{1,3})? [A-Z]{3}$")
CONDITIONS = ("new", "refurbished", "used")


def error(field: str, message: str, code: str = "invalid") -> dict:
    return {"field": field, "message": message, "code": code}
