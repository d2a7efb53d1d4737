"""Reads of the catalog that are more than one line: the product list, with keyset paging."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.postgres.lookups import TrigramWordSimilar
from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, Value
from django.db.models.functions import Upper

from catalog.models import Product, ProductMedia, ProductVariant, StockLevel
from catalog.validators import normalize_gtin

PAGE_SIZE = 50
# sort key -> (model field, descending)
SORTS = {
    "-updated": ("updated_at", True),
    "-created": ("created_at", True),
    "title": ("title", False),
    "-title": ("title", True),
}
DEFAULT_SORT = "-updated"


@dataclass
class ProductRow:
    product: Product
    variant_count: int = 0
    price_min: object = None
    price_max: object = None
    available: int | None = None
    image: str = ""


@dataclass
class ProductPage:
    rows: list[ProductRow]
    next_cursor: str | None
    prev_cursor: str | None
    sort: str
    filters: dict = field(default_factory=dict)


def _encode(value, pk: int) -> str:
    raw = json.dumps([value.isoformat() if isinstance(value, datetime) else value, pk])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, sort_field: str):
    try:
        value, pk = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if sort_field.endswith("_at"):
            value = datetime.fromisoformat(value)
        return value, int(pk)
    except (ValueError, TypeError):
        return None


def available_stock_exists():
    return Exists(StockLevel.objects.filter(variant__product_id=OuterRef("pk"), on_hand__gt=F("allocated")))


# A SKU or barcode is one product, a handful at most (a GTIN shared by a bundle); the cap
# keeps a pathological query from pinning a whole page.
EXACT_MATCH_LIMIT = 20


def exact_match_q(q: str) -> Q:
    """Products with a variant of exactly this SKU or GTIN, or exactly this handle.

    A merchant who types or scans a SKU or barcode wants that product, first; each part
    walks a unique or (shop, column) index.
    """
    q = (q or "").strip()
    variants = Q(sku=q)
    gtin = normalize_gtin(q)
    if gtin.isdigit():
        variants |= Q(gtin=gtin)
    return Q(handle=q) | Q(pk__in=ProductVariant.objects.filter(variants).values("product_id"))


def exact_match_ids(q: str) -> list[int]:
    if not (q or "").strip():
        return []
    return list(
        Product.objects.filter(exact_match_q(q)).order_by("pk").values_list("pk", flat=True)[:EXACT_MATCH_LIMIT]
    )


def title_matches(q: str):
    """Titles containing ``q``, or on PostgreSQL also with a word close to it (typos, plurals).

    Both sides go through the GIN trigram index on UPPER(title) (migration 0003): ILIKE by
    substring, and pg_trgm's word-similarity operator ``%>`` for the fuzzy part. SQLite has
    neither the extension nor the index, so it gets the substring match alone.
    """
    condition = Q(title__icontains=q)
    if connection.vendor == "postgresql":
        condition |= Q(TrigramWordSimilar(Upper("title"), Upper(Value(q))))
    return condition


def filter_products(queryset, *, q="", status="", category=None, brand="", stock=""):
    if q:
        q = q.strip()
        queryset = queryset.filter(title_matches(q) | exact_match_q(q))
    if status:
        queryset = queryset.filter(status=status)
    if category:
        queryset = queryset.filter(category_id=category)
    if brand:
        queryset = queryset.filter(brand=brand)
    if stock == "in":
        queryset = queryset.filter(available_stock_exists())
    elif stock == "out":
        queryset = queryset.filter(~available_stock_exists())
    return queryset


def product_page(*, filters: dict, sort: str = DEFAULT_SORT, after: str = "", before: str = "", size=PAGE_SIZE):
    """One page of products, by keyset on (sort field, id): no OFFSET, no COUNT(*).

    Deep pages cost the same as the first one: the (shop, field, id) indexes seek straight
    to the cursor. The page's numbers (variants, prices, stock, image) come from three
    queries over the page's ids only, so the query count does not grow with page size.
    """
    sort = sort if sort in SORTS else DEFAULT_SORT
    sort_field, descending = SORTS[sort]
    q = (filters.get("q") or "").strip()
    queryset = filter_products(Product.objects.select_related("category"), **{**filters, "q": ""})
    pinned = []
    if q:
        # Exact SKU/GTIN/handle matches are pinned above the first page and left out of the
        # keyset pages, so they come first whatever the sort and are never listed twice.
        pinned = list(queryset.filter(exact_match_q(q)).order_by("pk")[:EXACT_MATCH_LIMIT])
        queryset = queryset.filter(title_matches(q))
        if pinned:
            queryset = queryset.exclude(pk__in=[p.pk for p in pinned])
    cursor, backwards = (before, True) if before else (after, False)
    decoded = _decode(cursor, sort_field) if cursor else None
    # Going backwards flips the comparison and the order, then the page is reversed.
    forward_desc = descending != backwards
    if decoded is not None:
        op = "<" if forward_desc else ">"
        table = Product._meta.db_table
        queryset = queryset.extra(  # noqa: S610 — a row comparison Q() cannot express; values are parameters
            where=[f'("{table}"."{sort_field}", "{table}"."id") {op} (%s, %s)'], params=list(decoded)
        )
    order = [f"-{sort_field}", "-id"] if forward_desc else [sort_field, "id"]
    products = list(queryset.order_by(*order)[: size + 1])
    more = len(products) > size
    products = products[:size]
    if backwards:
        products.reverse()
    first_page = not decoded or (backwards and not more)
    rows = [ProductRow(product=p) for p in (pinned if first_page else []) + products]
    if rows:
        _fill_rows(rows)
    first, last = (products[0], products[-1]) if products else (None, None)
    has_next = more if not backwards else bool(decoded)
    has_prev = (more if backwards else bool(decoded)) and first is not None
    return ProductPage(
        rows=rows,
        next_cursor=_encode(getattr(last, sort_field), last.pk) if has_next and last else None,
        prev_cursor=_encode(getattr(first, sort_field), first.pk) if has_prev else None,
        sort=sort,
        filters=filters,
    )


def _fill_rows(rows: list[ProductRow]) -> None:
    by_id = {row.product.pk: row for row in rows}
    # Variants first, then stock by variant id: both walk an index straight to the page's
    # rows. (Stock joined to variants by product id made the planner scan every level.)
    variant_product = {}
    for variant_id, product_id, price in (
        ProductVariant.objects.filter(product_id__in=list(by_id)).order_by().values_list("id", "product_id", "price")
    ):
        variant_product[variant_id] = product_id
        row = by_id[product_id]
        row.variant_count += 1
        if price is not None:
            row.price_min = price if row.price_min is None else min(row.price_min, price)
            row.price_max = price if row.price_max is None else max(row.price_max, price)
    for variant_id, on_hand, allocated in (
        StockLevel.objects.filter(variant_id__in=list(variant_product))
        .order_by()
        .values_list("variant_id", "on_hand", "allocated")
    ):
        row = by_id[variant_product[variant_id]]
        row.available = (row.available or 0) + on_hand - allocated
    ids = list(by_id)
    for product_id, media in first_media_by_product(ids).items():
        by_id[product_id].image = media.thumbnail_src


def first_media_by_product(product_ids) -> dict:
    """{product id: its first image}. Portable (DISTINCT ON is PostgreSQL only): reading the
    images last-first, the first image is the one that stays in the dict."""
    return {
        media.product_id: media
        for media in ProductMedia.objects.filter(product_id__in=product_ids).order_by("product_id", "-position", "-id")
    }


def brands() -> list[str]:
    return list(Product.objects.exclude(brand="").order_by("brand").values_list("brand", flat=True).distinct()[:200])
