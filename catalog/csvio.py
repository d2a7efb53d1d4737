"""CSV import and export of the catalog: one row per variant, product columns repeated.

Import validates every row first and reports every problem (unknown columns, bad money,
bad GTIN, duplicate SKU, unknown category or location…); only a file without errors is
written, in one transaction, all rows or none. Products are matched by handle (or by
title when there is no handle column), variants by SKU.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice

from babel.numbers import get_currency_precision
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from catalog import services, signals
from catalog.errors import CatalogErrorCode
from catalog.models import (
    Category,
    Location,
    MovementReason,
    Product,
    ProductMedia,
    ProductOption,
    ProductVariant,
    StockLevel,
)
from catalog.selectors import first_media_by_product
from catalog.services import MONEY_FIELDS, StockChange, to_money
from shopadmin.audit import audit_record
from shopadmin.models import Shop
from shopadmin.spreadsheets import SpreadsheetWriter, restore
from shopadmin.tenancy import current_shop_id
from shopadmin.words import Words

PRODUCT_COLUMNS = [
    "handle",
    "title",
    "description",
    "brand",
    "category",
    "condition",
    "status",
    "tags",
    "hs_code",
    "country_of_origin",
]
OPTION_COLUMNS = [f"option{i}_{part}" for i in (1, 2, 3) for part in ("name", "value")]
VARIANT_COLUMNS = [
    "sku",
    "variant_title",
    "gtin",
    "mpn",
    "weight_grams",
    "length_mm",
    "width_mm",
    "height_mm",
    "price",
    "compare_at_price",
    "cost",
]
MEDIA_COLUMNS = ["image_url", "image_alt"]
COLUMNS = [*PRODUCT_COLUMNS, *OPTION_COLUMNS, *VARIANT_COLUMNS, *MEDIA_COLUMNS]
STOCK_PREFIX = "stock:"
INT_COLUMNS = ("weight_grams", "length_mm", "width_mm", "height_mm")
MAX_ERRORS = 5000


@dataclass
class RowError:
    line: int
    column: str
    message: str

    def as_dict(self):
        return {"line": self.line, "column": self.column, "message": self.message}


@dataclass
class PlannedProduct:
    key: str
    line: int
    product: Product
    options: list[dict] = field(default_factory=list)
    images: list[tuple[str, str]] = field(default_factory=list)
    is_new: bool = True


@dataclass
class Plan:
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    products: dict[str, PlannedProduct] = field(default_factory=dict)
    variants: list[tuple[str, ProductVariant, bool]] = field(default_factory=list)  # (product key, variant, new)
    stock: list[tuple[ProductVariant, Location, int]] = field(default_factory=list)  # set on hand to

    def summary(self) -> dict:
        return {
            "rows": self.rows,
            "errors": [e.as_dict() for e in self.errors[:MAX_ERRORS]],
            "error_count": len(self.errors),
            "products_new": sum(1 for p in self.products.values() if p.is_new),
            "products_updated": sum(1 for p in self.products.values() if not p.is_new),
            "variants_new": sum(1 for _k, _v, new in self.variants if new),
            "variants_updated": sum(1 for _k, _v, new in self.variants if not new),
            "stock_rows": len(self.stock),
        }


def _chunks(items, size=1000):
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _messages(exc: ValidationError) -> dict[str, list[str]]:
    return exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}


class UnreadableFile(Exception):
    """The file is not CSV this import can read; `line` is where reading stopped."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


def read_rows(text: str) -> tuple[list[str], list[dict]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    rows = []
    try:
        for row in reader:
            # Cells that an export neutralised against formula injection ('=…) read back as written.
            rows.append({k: restore(v) if isinstance(v, str) else v for k, v in row.items()})
    except csv.Error as exc:
        if "field limit" in str(exc):
            message = _(
                "A cell is longer than the %(limit)s characters a cell may have (an unclosed quote "
                "makes the rest of the file one cell)."
            ) % {"limit": f"{csv.field_size_limit():,}"}
        else:
            message = _("The file is not valid CSV here: %(error)s.") % {"error": exc}
        # The row that could not be read follows the header and the rows read so far.
        raise UnreadableFile(len(rows) + 2 if getattr(reader, "_fieldnames", None) else 1, message) from exc
    return [h.strip() for h in (reader.fieldnames or [])], rows


def _nul_errors(header: list[str], rows: list[dict]) -> list[RowError]:
    """NUL characters cannot be stored: each cell that holds one is an error."""
    message = _("This cell contains a NUL character, which cannot be stored; remove it.")
    errors = [RowError(1, name.replace("\x00", ""), message) for name in header if "\x00" in name]
    for index, raw in enumerate(rows):
        for key, value in raw.items():
            values = value if isinstance(value, list) else [value]
            if any("\x00" in (v or "") for v in values) or (key and "\x00" in key):
                errors.append(RowError(index + 2, (key or "").replace("\x00", ""), message))
    return errors


def plan_import(text: str, *, progress: Callable[[int, int], None] | None = None) -> Plan:
    """Check every row and work out what the import would do; writes nothing.

    In four steps: read the file, check its header, load what the catalog already has for
    the file's SKUs and handles (in chunks, a few queries whatever the size), then plan each
    row; the products are validated last, once all their rows are in."""
    plan = Plan()
    try:
        header, rows = read_rows(text)
    except UnreadableFile as exc:
        plan.errors.append(RowError(exc.line, "", exc.message))
        return plan
    plan.rows = len(rows)
    nul = _nul_errors(header, rows)
    if nul:
        plan.errors.extend(nul)
        return plan
    stock_columns = _check_header(plan, header)
    if plan.errors:
        return plan
    catalog = _CatalogNow.load(rows)
    seen_skus: dict[str, int] = {}
    for index, raw in enumerate(rows):
        _plan_row(plan, catalog, stock_columns, seen_skus, line=index + 2, raw=raw)  # the header is line 1
        if progress and index % 500 == 0:
            progress(index, len(rows))
    _check_products(plan)
    plan.errors.sort(key=lambda e: e.line)
    return plan


def _check_header(plan: Plan, header: list[str]) -> dict[str, Location]:
    """Errors for unknown, missing and stock columns; returns the stock columns' locations."""
    error = plan.errors.append
    if not header:
        error(RowError(1, "", _("The file is empty or has no header row.")))
        return {}
    locations = {loc.code: loc for loc in Location.objects.all()}
    stock_columns = {}
    unknown = []
    for name in header:
        if name.startswith(STOCK_PREFIX):
            code = name[len(STOCK_PREFIX) :].strip().lower()
            if code in locations:
                stock_columns[name] = locations[code]
            else:
                error(
                    RowError(
                        1,
                        name,
                        _("No location with code “%(code)s”. Known: %(known)s.")
                        % {"code": code, "known": ", ".join(sorted(locations)) or _("none yet")},
                    )
                )
        elif name not in COLUMNS:
            unknown.append(name)
    if unknown:
        error(
            RowError(
                1,
                ", ".join(unknown),
                _("Unknown columns: %(cols)s. Allowed: %(allowed)s, and stock:<location code>.")
                % {"cols": ", ".join(unknown), "allowed": ", ".join(COLUMNS)},
            )
        )
    if "sku" not in header:
        error(RowError(1, "sku", _("The file needs a sku column: variants are matched by SKU.")))
    if "handle" not in header and "title" not in header:
        error(RowError(1, "handle", _("The file needs a handle or a title column to group variants into products.")))
    return stock_columns


@dataclass
class _CatalogNow:
    """What the catalog already holds for a file: its categories, the variants of the file's
    SKUs, the products of its handles and those variants' products."""

    shop: Shop
    categories: dict[str, Category]
    variants: dict[str, ProductVariant]
    products: dict[str, Product]
    products_by_id: dict[int, Product]

    @classmethod
    def load(cls, rows: list[dict]) -> _CatalogNow:
        skus = {(r.get("sku") or "").strip() for r in rows} - {""}
        handles = {(r.get("handle") or "").strip() or slugify(r.get("title") or "") for r in rows} - {""}
        variants, products = {}, {}
        for chunk in _chunks(sorted(skus)):
            variants.update({v.sku: v for v in ProductVariant.objects.filter(sku__in=chunk)})
        for chunk in _chunks(sorted(handles)):
            products.update({p.handle: p for p in Product.objects.filter(handle__in=chunk)})
        products_by_id = {p.pk: p for p in products.values()}
        missing_ids = {v.product_id for v in variants.values()} - set(products_by_id)
        for chunk in _chunks(sorted(missing_ids)):
            products_by_id.update({p.pk: p for p in Product.objects.filter(pk__in=chunk)})
        return cls(
            shop=Shop.objects.get(pk=current_shop_id()),
            categories={c.full_path.casefold(): c for c in Category.objects.all()},
            variants=variants,
            products=products,
            products_by_id=products_by_id,
        )


def _plan_row(plan: Plan, catalog: _CatalogNow, stock_columns: dict, seen_skus: dict[str, int], *, line: int, raw):
    """One row: its product (the first row of a handle sets the product's fields), options,
    image, variant and stock counts; an error ends the row."""
    error = plan.errors.append
    if None in raw:
        error(RowError(line, "", _("This row has more cells than the header has columns.")))
        return
    row = {k.strip(): (v or "").strip() for k, v in raw.items()}
    handle = row.get("handle") or slugify(row.get("title", ""))
    if not handle:
        error(RowError(line, "handle", _("Give a handle or a title so the row belongs to a product.")))
        return
    planned = plan.products.get(handle)
    if planned is None:
        product = catalog.products.get(handle)
        planned = PlannedProduct(key=handle, line=line, product=product or Product(shop=catalog.shop, handle=handle))
        planned.is_new = product is None
        plan.products[handle] = planned
        _apply_product_row(plan, planned, row, line, catalog.categories)
    _collect_options(plan, planned, row, line)
    if row.get("image_url") and row["image_url"] not in [u for u, _a in planned.images]:
        planned.images.append((row["image_url"], row.get("image_alt", "")))

    sku = row.get("sku", "")
    if not sku:
        error(RowError(line, "sku", _("Every row needs a SKU.")))
        return
    if sku in seen_skus:
        error(
            RowError(
                line,
                "sku",
                _("Duplicate SKU “%(sku)s”: also on line %(other)d.") % {"sku": sku, "other": seen_skus[sku]},
            )
        )
        return
    seen_skus[sku] = line
    variant = catalog.variants.get(sku)
    is_new = variant is None
    if is_new:
        variant = ProductVariant(shop=catalog.shop, sku=sku)
    else:
        variant.shop = catalog.shop
        owner = catalog.products_by_id.get(variant.product_id)
        if planned.is_new or (owner is not None and owner.handle != handle):
            error(
                RowError(
                    line,
                    "sku",
                    _("SKU “%(sku)s” belongs to product “%(owner)s”; a variant cannot move to “%(handle)s”.")
                    % {"sku": sku, "owner": owner.handle if owner else "?", "handle": handle},
                )
            )
            return
    _apply_variant_row(plan, variant, row, line, catalog.shop.default_currency, is_new, planned)
    plan.variants.append((handle, variant, is_new))
    _plan_stock(plan, variant, row, line, stock_columns)


def _plan_stock(plan: Plan, variant: ProductVariant, row: dict, line: int, stock_columns: dict) -> None:
    for column, location in stock_columns.items():
        value = row.get(column, "")
        if value == "":
            continue
        if not value.lstrip("-").isdigit() or int(value) < 0:
            plan.errors.append(
                RowError(line, column, _("“%(v)s” is not a stock count; use a whole number, 0 or more.") % {"v": value})
            )
            continue
        plan.stock.append((variant, location, int(value)))


def _check_products(plan: Plan) -> None:
    """Each planned product against the model's own validation, once all its rows are in."""
    for planned in plan.products.values():
        try:
            planned.product.full_clean(exclude=["shop"], validate_constraints=False)
        except ValidationError as exc:
            for column, messages in _messages(exc).items():
                for message in messages:
                    plan.errors.append(RowError(planned.line, column if column != "__all__" else "", message))


def _apply_product_row(plan, planned, row, line, categories):
    product = planned.product
    for name in ("title", "description", "brand", "condition", "status", "hs_code", "country_of_origin"):
        if row.get(name):
            setattr(product, name, row[name])
    if row.get("tags"):
        product.tags = [t.strip() for t in row["tags"].split(",") if t.strip()]
    if row.get("category"):
        category = categories.get(" > ".join(p.strip() for p in row["category"].split(">")).casefold())
        if category is None:
            plan.errors.append(
                RowError(
                    line,
                    "category",
                    _(
                        "Unknown category “%(c)s”. Categories are managed under Catalog → Categories "
                        "(or POST /api/v1/categories/): add it there, or write the full path of an "
                        "existing one, like “Apparel > Tops”."
                    )
                    % {"c": row["category"]},
                )
            )
        else:
            product.category = category
    if planned.is_new and not product.title:
        plan.errors.append(RowError(line, "title", _("A new product needs a title.")))


def _collect_options(plan, planned, row, line):
    for i in (1, 2, 3):
        name, value = row.get(f"option{i}_name", ""), row.get(f"option{i}_value", "")
        if not name:
            if value:
                plan.errors.append(
                    RowError(line, f"option{i}_name", _("Name the option of value “%(v)s”.") % {"v": value})
                )
            continue
        option = next((o for o in planned.options if o["name"] == name), None)
        if option is None:
            option = {"name": name, "values": []}
            planned.options.append(option)
        if value and value not in option["values"]:
            option["values"].append(value)


def _apply_variant_row(plan, variant, row, line, currency, is_new, planned):
    errors = {}
    option_values = {}
    for i in (1, 2, 3):
        if row.get(f"option{i}_name") and row.get(f"option{i}_value"):
            option_values[row[f"option{i}_name"]] = row[f"option{i}_value"]
    if option_values:
        variant.option_values = option_values
    if row.get("variant_title"):
        variant.title = row["variant_title"]
    for name in ("gtin", "mpn"):
        if name in row:
            setattr(variant, name, row[name])
    for name in INT_COLUMNS:
        if row.get(name):
            if not row[name].isdigit():
                errors[name] = [
                    _("“%(v)s” is not a whole number of %(unit)s.") % {"v": row[name], "unit": name.split("_")[-1]}
                ]
            else:
                setattr(variant, name, int(row[name]))
    for name in MONEY_FIELDS:
        if name in row and (row[name] or name != "price"):
            try:
                setattr(variant, name, to_money(row[name], currency, field=name))
            except ValidationError as exc:
                errors.update(_messages(exc))
    if is_new and variant.price is None and "price" not in errors:
        errors["price"] = [_("A new SKU needs a price, e.g. 19.99.")]
    try:
        variant.full_clean(exclude=["shop", "product", *errors], validate_constraints=False)
    except ValidationError as exc:
        for key, messages in _messages(exc).items():
            errors.setdefault(key, []).extend(messages)
    for key, messages in errors.items():
        column = {"title": "variant_title", "__all__": ""}.get(key, key)
        for message in messages:
            plan.errors.append(RowError(line, column, message))


@transaction.atomic
def commit_import(text: str, *, progress: Callable[[int, int], None] | None = None) -> dict:
    """Plan again (the catalog may have changed since the preview) and write all rows or none."""
    plan = plan_import(text)
    if plan.errors:
        raise ValidationError(
            _("The file has %(n)d problems; nothing was imported. Fix them and upload again.")
            % {"n": len(plan.errors)},
            code=CatalogErrorCode.IMPORT_HAS_ERRORS,
        )
    now = timezone.now()
    shop_id = current_shop_id()
    new_products = [p.product for p in plan.products.values() if p.is_new]
    old_products = [p.product for p in plan.products.values() if not p.is_new]
    for product in [*new_products, *old_products]:
        product.updated_at = now
        product.shop_id = shop_id
    Product.objects.bulk_create(new_products, batch_size=1000)
    Product.objects.bulk_update(
        old_products, [f for f in services.PRODUCT_FIELDS if f != "handle"] + ["updated_at"], batch_size=1000
    )
    if progress:
        progress(1, 4)
    with_options = [p for p in plan.products.values() if p.options]
    ProductOption.objects.filter(product__in=[p.product for p in with_options]).delete()
    ProductOption.objects.bulk_create(
        [
            ProductOption(shop_id=shop_id, product=p.product, name=o["name"], values=o["values"], position=i)
            for p in with_options
            for i, o in enumerate(p.options)
        ],
        batch_size=1000,
    )
    new_variants, old_variants = [], []
    for key, variant, is_new in plan.variants:
        variant.product = plan.products[key].product
        variant.updated_at = now
        (new_variants if is_new else old_variants).append(variant)
    ProductVariant.objects.bulk_create(new_variants, batch_size=1000)
    ProductVariant.objects.bulk_update(
        old_variants,
        [f for f in services.VARIANT_FIELDS if f not in ("sku",)] + ["updated_at"],
        batch_size=1000,
    )
    if progress:
        progress(2, 4)
    known = set(
        ProductMedia.objects.filter(product__in=[p.product for p in plan.products.values()]).values_list(
            "product_id", "url"
        )
    )
    ProductMedia.objects.bulk_create(
        [
            ProductMedia(shop_id=shop_id, product=p.product, url=url, alt_text=alt, position=i)
            for p in plan.products.values()
            for i, (url, alt) in enumerate(p.images)
            if (p.product.pk, url) not in known
        ],
        batch_size=1000,
    )
    if plan.stock:
        pairs = {(v.pk, loc.pk) for v, loc, _q in plan.stock}
        levels = services._lock_levels(pairs)
        changes = [
            StockChange(
                variant_id=v.pk,
                location_id=loc.pk,
                quantity=count - levels[(v.pk, loc.pk)].on_hand,
                reason=MovementReason.IMPORT,
                reference="CSV import",
            )
            for v, loc, count in plan.stock
            if count != levels[(v.pk, loc.pk)].on_hand
        ]
        if changes:
            services.stock_post_movements(movements=changes)
    if progress:
        progress(3, 4)
    result = plan.summary()
    del result["errors"]
    audit_record(
        action="catalog.import",
        model_label="catalog.Product",
        shop_id=shop_id,
        object_repr=Words(gettext_noop("CSV file")),
        changes=result,
    )
    signals.send_on_commit(shop_id=shop_id, variant_ids=[v.pk for _k, v, _n in plan.variants], what=signals.CONTENT)
    return result


# --- Export -------------------------------------------------------------------------------


class _Echo:
    def write(self, value):
        return value


EXPORT_FIELDS = (
    "pk",
    "product_id",
    "product__handle",
    "product__title",
    "product__description",
    "product__brand",
    "product__category__full_path",
    "product__condition",
    "product__status",
    "product__tags",
    "product__hs_code",
    "product__country_of_origin",
    "option_values",
    "sku",
    "title",
    "gtin",
    "mpn",
    *INT_COLUMNS,
    "price",
    "compare_at_price",
    "cost",
    "price_currency",
)


def export_rows(variants, locations: list[Location]) -> Iterator[str]:
    """CSV lines for the variants (a queryset), streamed: memory stays flat for any catalog size.

    Rows are read as tuples, not model instances, through a server-side cursor in chunks;
    options, first images and stock come in one query each per chunk.
    """
    writer = SpreadsheetWriter(_Echo())
    yield writer.writerow([*COLUMNS, *[f"{STOCK_PREFIX}{loc.code}" for loc in locations]])
    iterator = variants.order_by("product_id", "position", "id").values_list(*EXPORT_FIELDS).iterator(chunk_size=5000)
    places_cache: dict[str, Decimal] = {}

    def amount(value, currency):
        if value is None:
            return ""
        if currency not in places_cache:
            places_cache[currency] = Decimal(1).scaleb(-get_currency_precision(currency))
        return str(value.quantize(places_cache[currency]))

    for batch in _chunks(iterator, 5000):
        product_ids = {row[1] for row in batch}
        options: dict[int, list[str]] = {}
        for product_id, name in (
            ProductOption.objects.filter(product_id__in=product_ids)
            .order_by("product_id", "position")
            .values_list("product_id", "name")
        ):
            options.setdefault(product_id, []).append(name)
        images = {pid: (m.src, m.alt_text) for pid, m in first_media_by_product(product_ids).items()}
        levels = dict(
            ((variant_id, location_id), on_hand)
            for variant_id, location_id, on_hand in StockLevel.objects.filter(
                variant_id__in=[row[0] for row in batch]
            ).values_list("variant_id", "location_id", "on_hand")
        )
        for row in batch:
            (pk, product_id, handle, title, description, brand, category, condition, status, tags, hs_code,
             origin, option_values, sku, variant_title, gtin, mpn, weight, length, width, height,
             price, compare_at, cost, currency) = row  # fmt: skip
            option_values = option_values or {}
            names = options.get(product_id) or list(option_values)
            option_cells = []
            for i in range(3):
                name = names[i] if i < len(names) else ""
                option_cells += [name, option_values.get(name, "") if name else ""]
            image_url, image_alt = images.get(product_id, ("", ""))
            yield writer.writerow(
                [
                    handle,
                    title,
                    description,
                    brand,
                    category or "",
                    condition,
                    status,
                    ", ".join(tags or []),
                    hs_code,
                    origin,
                    *option_cells,
                    sku,
                    variant_title,
                    gtin,
                    mpn,
                    *["" if v is None else v for v in (weight, length, width, height)],
                    amount(price, currency),
                    amount(compare_at, currency),
                    amount(cost, currency),
                    image_url,
                    image_alt,
                    *[levels.get((pk, loc.pk), 0) for loc in locations],
                ]
            )


def export_queryset(products):
    return ProductVariant.objects.filter(product__in=products)
