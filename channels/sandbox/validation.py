"""Per-item validation as the real channels do it (the subset the adapters can get wrong)."""

from __future__ import annotations

import re

PRICE = re.compile(r"^\d+(\.\d{1,3})? [A-Z]{3}$")
META_AVAILABILITY = ("in stock", "out of stock", "preorder", "available for order", "discontinued")
PINTEREST_AVAILABILITY = ("in stock", "out of stock", "preorder")
CONDITIONS = ("new", "refurbished", "used")


def _error(field: str, message: str, code: str = "invalid") -> dict:
    return {"field": field, "message": message, "code": code}


def meta_item(data: dict) -> list[dict]:
    errors = []
    for name in ("id", "title", "description", "availability", "condition", "price", "link", "image_link"):
        if not data.get(name):
            errors.append(_error(name, f"Missing required field: {name}", "missing"))
    if not (data.get("brand") or data.get("gtin") or data.get("mpn")):
        errors.append(_error("brand", "Missing required field: brand (or gtin, mpn)", "missing"))
    for name in ("price", "sale_price"):
        if data.get(name) and not PRICE.match(str(data[name])):
            errors.append(
                _error(name, f'Invalid {name} "{data[name]}": use a number and ISO currency, e.g. "9.99 USD"')
            )
    if len(str(data.get("title", ""))) > 200:
        errors.append(_error("title", "Title is longer than 200 characters"))
    if len(str(data.get("description", ""))) > 9999:
        errors.append(_error("description", "Description is longer than 9999 characters"))
    if len(str(data.get("id", ""))) > 100:
        errors.append(_error("id", "id is longer than 100 characters"))
    if data.get("availability") and data["availability"] not in META_AVAILABILITY:
        errors.append(
            _error(
                "availability", f'Invalid availability "{data["availability"]}": one of {", ".join(META_AVAILABILITY)}'
            )
        )
    if data.get("condition") and data["condition"] not in CONDITIONS:
        errors.append(_error("condition", f'Invalid condition "{data["condition"]}"'))
    return errors


def pinterest_item(item: dict) -> list[dict]:
    attributes = item.get("attributes") or {}
    errors = []
    if not item.get("item_id"):
        errors.append(_error("item_id", "item_id is required", "MISSING_REQUIRED_FIELD"))
    for name in ("title", "description", "link", "image_link", "price", "availability"):
        if not attributes.get(name):
            errors.append(_error(name, f"{name} is required", "MISSING_REQUIRED_FIELD"))
    if attributes.get("price") and not PRICE.match(str(attributes["price"])):
        errors.append(_error("price", "price must look like 24.99 USD", "INVALID_PRICE"))
    if len(str(attributes.get("title", ""))) > 500:
        errors.append(_error("title", "title is longer than 500 characters", "TITLE_TOO_LONG"))
    if attributes.get("availability") and attributes["availability"] not in PINTEREST_AVAILABILITY:
        errors.append(
            _error("availability", "availability must be in stock, out of stock or preorder", "INVALID_AVAILABILITY")
        )
    image = attributes.get("image_link")
    if image is not None and not isinstance(image, list):
        errors.append(_error("image_link", "image_link is a list of URLs", "INVALID_IMAGE_LINK"))
    return errors


def tiktok_product(body: dict) -> list[dict]:
    errors = []
    if not body.get("title"):
        errors.append(_error("title", "title is required"))
    elif len(body["title"]) > 255:
        errors.append(_error("title", "title is longer than 255 characters"))
    if not body.get("description"):
        errors.append(_error("description", "description is required"))
    if not body.get("main_images"):
        errors.append(_error("main_images", "at least one main image is required"))
    skus = body.get("skus") or []
    if not skus:
        errors.append(_error("skus", "at least one SKU is required"))
    for index, sku in enumerate(skus):
        price = (sku.get("price") or {}).get("amount")
        if not sku.get("seller_sku"):
            errors.append(_error(f"skus.{index}.seller_sku", "seller_sku is required"))
        if not price or not re.fullmatch(r"\d+(\.\d{1,3})?", str(price)):
            errors.append(_error(f"skus.{index}.price.amount", "price amount must be a decimal string"))
    return errors


META_LOCALIZATION_TYPES = ("LANGUAGE", "COUNTRY", "LANGUAGE_AND_COUNTRY")
META_COUNTRY_ONLY = ("price", "sale_price", "unit_price", "base_price", "status", "availability")
LANGUAGE_KEY = re.compile(r"^[a-z]{2,3}_[A-Z]{2}$")
COUNTRY_KEY = re.compile(r"^[A-Z]{2}$")


def meta_override(localization: dict, data: dict) -> list[dict]:
    """A localized override as Meta checks it: the key's shape per type; prices and availability
    only in a country override (Meta refuses them in a language override)."""
    kind, value = localization.get("type"), str(localization.get("value") or "")
    errors = []
    if kind == "COUNTRY" and not COUNTRY_KEY.match(value):
        errors.append(_error("localization", f'Invalid country "{value}"'))
    if kind == "LANGUAGE" and not LANGUAGE_KEY.match(value):
        errors.append(_error("localization", f'Invalid language "{value}": use e.g. fr_XX'))
    if kind == "LANGUAGE":
        errors.extend(
            _error(name, f"{name} can only be overridden per country") for name in META_COUNTRY_ONLY if name in data
        )
    for name in ("price", "sale_price"):
        if data.get(name) and not PRICE.match(str(data[name])):
            errors.append(_error(name, f'Invalid {name} "{data[name]}"'))
    if len(str(data.get("title", ""))) > 200:
        errors.append(_error("title", "Title is longer than 200 characters"))
    if data.get("availability") and data["availability"] not in META_AVAILABILITY:
        errors.append(_error("availability", f'Invalid availability "{data["availability"]}"'))
    return errors
