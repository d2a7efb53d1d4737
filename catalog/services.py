"""Every write of the catalog: categories, products, options, variants, media, locations, stock.

Services are keyword-only, run in one transaction, validate with ``full_clean``, write the
audit log and announce changes with ``catalog_changed`` after commit. They run inside the
shop context (UI middleware, API key, task wrapper), so the default managers are scoped.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.numbers import get_currency_precision
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from djmoney.money import Money

from catalog import images, signals
from catalog.errors import CatalogErrorCode
from catalog.models import (
    ALLOCATION_REASONS,
    Category,
    Location,
    MovementReason,
    Product,
    ProductMedia,
    ProductOption,
    ProductVariant,
    StockLevel,
    StockMovement,
)
from shopadmin.audit import audit_record, current_actor, diff, snapshot
from shopadmin.models import Shop
from shopadmin.numerals import ascii_digits
from shopadmin.tenancy import current_shop_id
from shopadmin.words import Words

logger = logging.getLogger(__name__)

PRODUCT_FIELDS = (
    "title",
    "description",
    "brand",
    "category",
    "condition",
    "status",
    "tags",
    "hs_code",
    "country_of_origin",
    "handle",
)
VARIANT_FIELDS = (
    "sku",
    "title",
    "option_values",
    "gtin",
    "mpn",
    "weight_grams",
    "length_mm",
    "width_mm",
    "height_mm",
    "price",
    "compare_at_price",
    "cost",
    "position",
)
MONEY_FIELDS = ("price", "compare_at_price", "cost")
PRICE_FIELDS = frozenset(MONEY_FIELDS)
BULK_UPSERT_LIMIT = 1000


def _shop() -> Shop:
    return Shop.objects.get(pk=current_shop_id())


def money_out(money) -> str | None:
    """An amount as a string rounded to the currency's minor units (JPY 0, EUR 2, KWD 3)."""
    if money is None:
        return None
    places = get_currency_precision(str(money.currency))
    return str(money.amount.quantize(Decimal(1).scaleb(-places)))


def to_money(value: Any, currency: str, *, field: str) -> Money | None:
    """Money from "19.99", Decimal, int or Money; None for empty. Bad input names the field."""
    if value is None or value == "":
        return None
    if isinstance(value, Money):
        return value
    try:
        # Any digits people write (১২.৫০, ۱۲٫۵۰) read as the amount they mean.
        amount = Decimal(ascii_digits(str(value)).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(
            {
                field: ValidationError(
                    _("“%(value)s” is not an amount; write it like 19.99 (a dot, no currency sign).")
                    % {"value": value},
                    code=CatalogErrorCode.AMOUNT_INVALID,
                )
            }
        ) from None
    if not amount.is_finite():
        raise ValidationError(
            {
                field: ValidationError(
                    _("“%(value)s” is not an amount.") % {"value": value}, code=CatalogErrorCode.AMOUNT_INVALID
                )
            }
        )
    if amount < 0:
        raise ValidationError(
            {field: ValidationError(_("An amount cannot be negative."), code=CatalogErrorCode.AMOUNT_NEGATIVE)}
        )
    if amount.as_tuple().exponent < -3:
        raise ValidationError(
            {field: ValidationError(_("Use at most 3 decimal places."), code=CatalogErrorCode.AMOUNT_TOO_PRECISE)}
        )
    return Money(amount, currency)


# --- Categories ---------------------------------------------------------------------------


@transaction.atomic
def category_create(
    *, name: str, parent: Category | None = None, google_product_category: int | None = None
) -> Category:
    category = Category(name=(name or "").strip(), parent=parent, google_product_category=google_product_category)
    category.full_clean(exclude=["shop"], validate_constraints=False)
    if Category.objects.filter(full_path=category.full_path).exists():
        raise ValidationError(
            {
                "name": ValidationError(
                    _("The category “%(path)s” exists already.") % {"path": category.full_path},
                    code=CatalogErrorCode.CATEGORY_EXISTS,
                )
            }
        )
    category.save()
    audit_record(action="category.create", instance=category, changes={"full_path": [None, category.full_path]})
    return category


CATEGORY_FIELDS = ("name", "parent", "google_product_category")


def _category_tree() -> dict[int | None, list[Category]]:
    """Children by parent id, from one query: a shop's category tree is hundreds of rows."""
    children: dict[int | None, list[Category]] = {}
    for node in Category.objects.order_by("full_path", "pk"):
        children.setdefault(node.parent_id, []).append(node)
    return children


def _subtree_ids(category: Category, children: dict[int | None, list[Category]]) -> list[int]:
    ids, stack = [], [category.pk]
    while stack:
        pk = stack.pop()
        ids.append(pk)
        stack.extend(child.pk for child in children.get(pk, []))
    return ids


def _refresh_descendant_paths(category: Category) -> int:
    """Rewrite the stored paths below a renamed or moved category; returns how many changed."""
    children = _category_tree()
    changed, stack = [], [(category.pk, category.full_path)]
    while stack:
        parent_id, parent_path = stack.pop()
        for child in children.get(parent_id, []):
            path = f"{parent_path} > {child.name}"
            if len(path) > Category._meta.get_field("full_path").max_length:
                raise ValidationError(
                    {
                        "name": ValidationError(
                            _("The path of “%(name)s” would be too long; use shorter names.") % {"name": child.name},
                            code=CatalogErrorCode.CATEGORY_PATH_TOO_LONG,
                        )
                    }
                )
            if child.full_path != path:
                child.full_path = path
                changed.append(child)
            stack.append((child.pk, path))
    Category.objects.bulk_update(changed, ["full_path"], batch_size=500)
    return len(changed)


def _category_variant_ids(category_ids: Iterable[int]):
    return ProductVariant.objects.filter(product__category_id__in=list(category_ids)).values_list("pk", flat=True)


@transaction.atomic
def category_update(*, category: Category, **fields) -> Category:
    """Rename, move under another parent (never inside itself) or map to a Google taxonomy id.

    The stored paths of every category below are rewritten in the same transaction, and
    channels hear about the products in the subtree (their payloads carry the category).
    """
    unknown = set(fields) - set(CATEGORY_FIELDS)
    if unknown:
        raise ValidationError(
            _("Unknown category fields: %s.") % ", ".join(sorted(unknown)), code=CatalogErrorCode.UNKNOWN_FIELDS
        )
    before = snapshot(category, (*CATEGORY_FIELDS, "full_path"))
    for name, value in fields.items():
        setattr(category, name, value.strip() if name == "name" and isinstance(value, str) else value)
    # Model.clean walks up from the new parent: finding the category itself there is a cycle.
    category.full_clean(exclude=["shop"], validate_constraints=False)
    if Category.objects.filter(full_path=category.full_path).exclude(pk=category.pk).exists():
        raise ValidationError(
            {
                "name": ValidationError(
                    _("The category “%(path)s” exists already.") % {"path": category.full_path},
                    code=CatalogErrorCode.CATEGORY_EXISTS,
                )
            }
        )
    category.save()
    if category.full_path != before["full_path"]:
        _refresh_descendant_paths(category)
    changes = diff(before, snapshot(category, (*CATEGORY_FIELDS, "full_path")))
    if changes:
        audit_record(action="category.update", instance=category, changes=changes)
        subtree = _subtree_ids(category, _category_tree()) if "full_path" in changes else [category.pk]
        signals.send_on_commit(
            shop_id=category.shop_id, variant_ids=_category_variant_ids(subtree), what=signals.CONTENT
        )
    return category


def category_usage(*, category: Category) -> dict[str, int]:
    """What keeps a category from being deleted as it is: products, subcategories, other references.

    Other apps (channel listing rules) point at categories too; they are found through the
    model's reverse relations, so the catalog never imports the apps above it.
    """
    usage = {
        "products": Product.objects.filter(category=category).count(),
        "children": Category.objects.filter(parent=category).count(),
    }
    for relation in Category._meta.related_objects:
        if relation.related_model in (Category, Product) or not relation.one_to_many:
            continue
        count = relation.related_model._base_manager.filter(**{relation.field.name: category}).count()
        if count:
            usage[str(relation.related_model._meta.verbose_name_plural)] = count
    return usage


@transaction.atomic
def category_delete(*, category: Category, move_to_parent: bool = False) -> dict[str, int]:
    """Delete an unused category, or with ``move_to_parent`` first move its products and
    subcategories up to its parent (to no category at the top level). Returns what moved."""
    usage = category_usage(category=category)
    others = {k: v for k, v in usage.items() if k not in ("products", "children") and v}
    if others:
        raise ValidationError(
            _("Other settings still use this category (%(what)s); remove them first.")
            % {"what": ", ".join(f"{n} {k}" for k, n in others.items())},
            code=CatalogErrorCode.CATEGORY_IN_USE,
        )
    if (usage["products"] or usage["children"]) and not move_to_parent:
        raise ValidationError(
            _(
                "“%(path)s” has %(p)d products and %(c)d subcategories. Move them to the parent category "
                "to delete it, or give them another category first."
            )
            % {"path": category.full_path, "p": usage["products"], "c": usage["children"]},
            code=CatalogErrorCode.CATEGORY_NOT_EMPTY,
        )
    parent = category.parent
    variant_ids = list(_category_variant_ids([category.pk]))
    moved_products = Product.objects.filter(category=category).update(category=parent, updated_at=timezone.now())
    children = list(Category.objects.filter(parent=category))
    for child in children:
        child.parent = parent
        child.full_path = child.compute_path()
        if Category.objects.filter(full_path=child.full_path).exclude(pk=child.pk).exists():
            raise ValidationError(
                _("“%(path)s” exists already, so “%(name)s” cannot move up; rename one of them first.")
                % {"path": child.full_path, "name": child.name},
                code=CatalogErrorCode.CATEGORY_EXISTS,
            )
        child.save(update_fields=["parent", "full_path"])
        _refresh_descendant_paths(child)
    audit_record(
        action="category.delete",
        instance=category,
        changes={
            "full_path": [category.full_path, None],
            "moved_to": [None, parent.full_path if parent else None],
            "products_moved": [None, moved_products],
            "children_moved": [None, [c.name for c in children]],
        },
    )
    category.delete()
    signals.send_on_commit(shop_id=current_shop_id(), variant_ids=variant_ids, what=signals.CONTENT)
    return {"products": moved_products, "children": len(children)}


# --- Products -----------------------------------------------------------------------------


def _unique_handle(base: str, *, exclude_pk: int | None = None) -> str:
    base = (slugify(base) or "product")[:240]
    taken = set(Product.objects.filter(handle__startswith=base).exclude(pk=exclude_pk).values_list("handle", flat=True))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _check_handle(product: Product) -> None:
    if Product.objects.filter(handle=product.handle).exclude(pk=product.pk).exists():
        raise ValidationError(
            {
                "handle": ValidationError(
                    _("Another product already uses the handle “%(h)s”.") % {"h": product.handle},
                    code=CatalogErrorCode.HANDLE_TAKEN,
                )
            }
        )


@transaction.atomic
def product_create(
    *,
    title: str,
    options: Sequence[dict] | None = None,
    variants: Sequence[dict] | None = None,
    **fields,
) -> Product:
    unknown = set(fields) - set(PRODUCT_FIELDS)
    if unknown:
        raise ValidationError(
            _("Unknown product fields: %s.") % ", ".join(sorted(unknown)), code=CatalogErrorCode.UNKNOWN_FIELDS
        )
    product = Product(title=(title or "").strip(), **fields)
    if not product.handle:
        product.handle = _unique_handle(product.title)
    product.full_clean(exclude=["shop"], validate_constraints=False)
    _check_handle(product)
    product.save()
    audit_record(action="product.create", instance=product, changes=snapshot(product, PRODUCT_FIELDS))
    if options:
        product_set_options(product=product, options=options)
    for index, data in enumerate(variants or []):
        try:
            variant_create(product=product, **{"position": index, **data})
        except ValidationError as exc:
            errors = exc.error_dict if hasattr(exc, "error_dict") else {"__all__": exc.error_list}
            raise ValidationError(
                {f"variants.{index}" + ("" if key == "__all__" else f".{key}"): msgs for key, msgs in errors.items()}
            ) from None
    return product


@transaction.atomic
def product_update(*, product: Product, **fields) -> Product:
    unknown = set(fields) - set(PRODUCT_FIELDS)
    if unknown:
        raise ValidationError(
            _("Unknown product fields: %s.") % ", ".join(sorted(unknown)), code=CatalogErrorCode.UNKNOWN_FIELDS
        )
    before = snapshot(product, PRODUCT_FIELDS)
    for name, value in fields.items():
        setattr(product, name, value)
    if not product.handle:
        product.handle = _unique_handle(product.title, exclude_pk=product.pk)
    product.full_clean(exclude=["shop"], validate_constraints=False)
    _check_handle(product)
    product.updated_at = timezone.now()
    product.save()
    changes = diff(before, snapshot(product, PRODUCT_FIELDS))
    if changes:
        audit_record(action="product.update", instance=product, changes=changes)
        signals.send_on_commit(
            shop_id=product.shop_id, variant_ids=product.variants.values_list("pk", flat=True), what=signals.CONTENT
        )
    return product


@transaction.atomic
def product_delete(*, product: Product) -> None:
    variant_ids = list(product.variants.values_list("pk", flat=True))
    audit_record(action="product.delete", instance=product, changes={"title": [product.title, None]})
    StockMovement.objects.filter(variant_id__in=variant_ids).delete()
    StockLevel.objects.filter(variant_id__in=variant_ids).delete()
    product.delete()
    signals.send_on_commit(shop_id=current_shop_id(), variant_ids=variant_ids, what=signals.CONTENT)


class BulkAction:
    ACTIVATE = "activate"
    ARCHIVE = "archive"
    DRAFT = "draft"
    TAG = "tag"
    UNTAG = "untag"
    CHOICES = (ACTIVATE, ARCHIVE, DRAFT, TAG, UNTAG)


@transaction.atomic
def product_bulk_action(*, product_ids: Iterable[int], action: str, tag: str = "") -> int:
    """Activate, archive, draft, tag or untag many products; returns how many changed."""
    if action not in BulkAction.CHOICES:
        raise ValidationError(
            {
                "action": ValidationError(
                    _("Choose one of: %s.") % ", ".join(BulkAction.CHOICES), code=CatalogErrorCode.UNKNOWN_ACTION
                )
            }
        )
    tag = (tag or "").strip()
    if action in (BulkAction.TAG, BulkAction.UNTAG) and not tag:
        raise ValidationError(
            {"tag": ValidationError(_("Type the tag to add or remove."), code=CatalogErrorCode.TAG_REQUIRED)}
        )
    products = list(Product.objects.filter(pk__in=list(product_ids)).order_by("pk").select_for_update())
    if not products:
        raise ValidationError(_("Select at least one product."), code=CatalogErrorCode.NO_PRODUCTS_SELECTED)
    now = timezone.now()
    changed = []
    for product in products:
        before = snapshot(product, ("status", "tags"))
        if action in (BulkAction.ACTIVATE, BulkAction.ARCHIVE, BulkAction.DRAFT):
            product.status = {"activate": "active", "archive": "archived", "draft": "draft"}[action]
        elif action == BulkAction.TAG:
            product.tags = sorted({*product.tags, tag})
        else:
            product.tags = [t for t in product.tags if t != tag]
        changes = diff(before, snapshot(product, ("status", "tags")))
        if changes:
            product.updated_at = now
            changed.append(product)
            audit_record(action=f"product.bulk_{action}", instance=product, changes=changes)
    Product.objects.bulk_update(changed, ["status", "tags", "updated_at"])
    variant_ids = ProductVariant.objects.filter(product__in=changed).values_list("pk", flat=True)
    signals.send_on_commit(shop_id=current_shop_id(), variant_ids=variant_ids, what=signals.CONTENT)
    return len(changed)


# --- Options ------------------------------------------------------------------------------


@transaction.atomic
def product_set_options(*, product: Product, options: Sequence[dict]) -> list[ProductOption]:
    """Replace the product's options with [{"name": "Size", "values": ["S", "M"]}, …]."""
    names = [str(o.get("name", "")).strip() for o in options]
    if any(not n for n in names):
        raise ValidationError(
            {
                "options": ValidationError(
                    _("Every option needs a name, e.g. Size or Color."), code=CatalogErrorCode.OPTION_NAME_REQUIRED
                )
            }
        )
    if len({n.casefold() for n in names}) != len(names):
        raise ValidationError(
            {
                "options": ValidationError(
                    _("Each option name may appear only once."), code=CatalogErrorCode.OPTION_NAME_DUPLICATE
                )
            }
        )
    if len(names) > 3:
        raise ValidationError(
            {
                "options": ValidationError(
                    _("A product can have at most 3 options (channels accept no more)."),
                    code=CatalogErrorCode.TOO_MANY_OPTIONS,
                )
            }
        )
    existing = {o.name: o for o in product.options.all()}
    kept = []
    for position, data in enumerate(options):
        option = existing.pop(names[position], None) or ProductOption(product=product, name=names[position])
        option.position = position
        option.values = [str(v).strip() for v in data.get("values", [])]
        option.full_clean(exclude=["shop", "product"], validate_constraints=False)
        option.save()
        kept.append(option)
    for stale in existing.values():
        stale.delete()
    audit_record(
        action="product.set_options",
        instance=product,
        changes={"options": [None, [{"name": o.name, "values": o.values} for o in kept]]},
    )
    return kept


# --- Variants -----------------------------------------------------------------------------


def _apply_variant_fields(variant: ProductVariant, fields: dict, currency: str) -> None:
    unknown = set(fields) - set(VARIANT_FIELDS)
    if unknown:
        raise ValidationError(
            _("Unknown variant fields: %s.") % ", ".join(sorted(unknown)), code=CatalogErrorCode.UNKNOWN_FIELDS
        )
    errors = {}
    for name, value in fields.items():
        if name in MONEY_FIELDS:
            try:
                value = to_money(value, currency, field=name)
            except ValidationError as exc:
                errors.update(exc.error_dict)
                continue
        setattr(variant, name, value)
    if errors:
        raise ValidationError(errors)


def _validate_variant(variant: ProductVariant, *, check_sku: bool = True, known: dict | None = None) -> None:
    """Check everything about a variant and raise all problems at once (with ``known`` ones)."""
    errors = {k: list(v) for k, v in (known or {}).items()}
    try:
        variant.full_clean(exclude=["shop", "product", *errors], validate_constraints=False)
    except ValidationError as exc:
        for key, messages in exc.error_dict.items():
            errors.setdefault(key, []).extend(messages)
    if variant.price is None and "price" not in errors:
        errors["price"] = [ValidationError(_("Give a price, e.g. 19.99."), code=CatalogErrorCode.PRICE_REQUIRED)]
    option_names = {o.name for o in variant.product.options.all()} if variant.product_id else set()
    if isinstance(variant.option_values, dict) and option_names:
        stray = set(variant.option_values) - option_names
        if stray:
            errors.setdefault("option_values", []).append(
                ValidationError(
                    _("The product has no option named %(names)s; its options are %(known)s.")
                    % {"names": ", ".join(sorted(stray)), "known": ", ".join(sorted(option_names))},
                    code=CatalogErrorCode.UNKNOWN_OPTION,
                )
            )
    if (
        check_sku
        and variant.sku
        and "sku" not in errors
        and ProductVariant.objects.filter(sku=variant.sku).exclude(pk=variant.pk).exists()
    ):
        errors["sku"] = [
            ValidationError(
                _("The SKU “%(sku)s” is already used by another variant.") % {"sku": variant.sku},
                code=CatalogErrorCode.SKU_TAKEN,
            )
        ]
    if errors:
        raise ValidationError(errors)


def _prepare_variant(variant: ProductVariant, fields: dict, currency: str, *, check_sku: bool = True) -> None:
    known = {}
    try:
        _apply_variant_fields(variant, fields, currency)
    except ValidationError as exc:
        known = exc.error_dict if hasattr(exc, "error_dict") else {"__all__": exc.error_list}
    _validate_variant(variant, check_sku=check_sku, known=known)


@transaction.atomic
def variant_create(*, product: Product, **fields) -> ProductVariant:
    shop = _shop()
    variant = ProductVariant(product=product, shop=shop)
    _prepare_variant(variant, fields, shop.default_currency)
    variant.save()
    audit_record(action="variant.create", instance=variant, changes=snapshot(variant, VARIANT_FIELDS))
    signals.send_on_commit(shop_id=shop.pk, variant_ids=[variant.pk], what=signals.CONTENT)
    return variant


@transaction.atomic
def variant_update(*, variant: ProductVariant, **fields) -> ProductVariant:
    shop = _shop()
    variant.shop = shop
    before = snapshot(variant, VARIANT_FIELDS)
    _prepare_variant(variant, fields, shop.default_currency)
    variant.updated_at = timezone.now()
    variant.save()
    changes = diff(before, snapshot(variant, VARIANT_FIELDS))
    if changes:
        audit_record(action="variant.update", instance=variant, changes=changes)
        what = signals.PRICE if set(changes) <= PRICE_FIELDS else signals.CONTENT
        signals.send_on_commit(shop_id=shop.pk, variant_ids=[variant.pk], what=what)
    return variant


@transaction.atomic
def variant_delete(*, variant: ProductVariant) -> None:
    audit_record(action="variant.delete", instance=variant, changes={"sku": [variant.sku, None]})
    pk = variant.pk
    StockMovement.objects.filter(variant_id=pk).delete()
    StockLevel.objects.filter(variant_id=pk).delete()
    variant.delete()
    signals.send_on_commit(shop_id=current_shop_id(), variant_ids=[pk], what=signals.CONTENT)


class BulkItemsError(ValidationError):
    """Per-item errors of a bulk request: ``item_errors[i]`` is {field: [ValidationError]} ({} when fine)."""

    def __init__(self, item_errors: list[dict]):
        self.item_errors = item_errors
        bad = sum(1 for e in item_errors if e)
        super().__init__(
            _("%(bad)d of %(n)d items are invalid; nothing was saved.") % {"bad": bad, "n": len(item_errors)},
            code=CatalogErrorCode.BULK_ITEMS_INVALID,
        )


@transaction.atomic
def variant_bulk_upsert(*, items: Sequence[dict]) -> list[tuple[ProductVariant, bool]]:
    """Create or update variants by SKU, all or nothing.

    Each item has ``sku`` and either ``product`` (an id) for new variants or just the
    fields to change for existing ones. On any error nothing is written and
    BulkItemsError.item_errors holds the errors of item 0, item 1, … (an empty dict for a
    valid item), so a client can fix every item at once.
    """
    if not items:
        raise ValidationError(
            {"items": [ValidationError(_("Send at least one item."), code=CatalogErrorCode.NO_ITEMS)]}
        )
    if len(items) > BULK_UPSERT_LIMIT:
        raise ValidationError(
            {
                "items": [
                    ValidationError(
                        _("Send at most %(n)d items per request (got %(got)d).")
                        % {"n": BULK_UPSERT_LIMIT, "got": len(items)},
                        code=CatalogErrorCode.TOO_MANY_ITEMS,
                    )
                ]
            }
        )
    shop = _shop()
    skus = [str(item.get("sku") or "").strip() for item in items]
    existing = {
        v.sku: v for v in ProductVariant.objects.filter(sku__in=[s for s in skus if s]).select_related("product")
    }
    product_ids = {item.get("product") for item in items if item.get("product") is not None}
    products = {
        p.pk: p
        for p in Product.objects.filter(pk__in=[p for p in product_ids if isinstance(p, int)]).prefetch_related(
            "options"
        )
    }
    for variant in existing.values():
        products.setdefault(variant.product_id, variant.product)
    errors: list[dict] = []
    seen: dict[str, int] = {}
    results: list[tuple[ProductVariant, bool]] = []
    for index, item in enumerate(items):
        item_errors: dict[str, list[ValidationError]] = {}
        sku = skus[index]
        fields = {k: v for k, v in item.items() if k != "product"}
        fields["sku"] = sku
        if not sku:
            item_errors["sku"] = [ValidationError(_("Every item needs a SKU."), code=CatalogErrorCode.SKU_REQUIRED)]
        elif sku in seen:
            item_errors["sku"] = [
                ValidationError(
                    _("The SKU “%(sku)s” also appears in item %(i)d.") % {"sku": sku, "i": seen[sku]},
                    code=CatalogErrorCode.SKU_DUPLICATE,
                )
            ]
        else:
            seen[sku] = index
        variant = existing.get(sku)
        created = variant is None
        if created:
            product = products.get(item.get("product"))
            if product is None:
                item_errors.setdefault("product", []).append(
                    ValidationError(
                        _("No product with id %(id)s; a new SKU needs the id of an existing product.")
                        % {"id": item.get("product")},
                        code=CatalogErrorCode.PRODUCT_NOT_FOUND,
                    )
                    if item.get("product") is not None
                    else ValidationError(
                        _("“%(sku)s” is a new SKU: give the id of its product.") % {"sku": sku},
                        code=CatalogErrorCode.PRODUCT_REQUIRED,
                    )
                )
                variant = None
            else:
                variant = ProductVariant(product=product, shop=shop)
        else:
            variant.shop = shop
            if item.get("product") is not None and item.get("product") != variant.product_id:
                item_errors.setdefault("product", []).append(
                    ValidationError(
                        _("SKU “%(sku)s” belongs to product %(id)d; a variant cannot move to another product.")
                        % {"sku": sku, "id": variant.product_id},
                        code=CatalogErrorCode.VARIANT_CANNOT_MOVE,
                    )
                )
        if variant is not None:
            try:
                _prepare_variant(variant, fields, shop.default_currency, check_sku=False)
            except ValidationError as exc:
                for key, messages in (
                    exc.error_dict if hasattr(exc, "error_dict") else {"__all__": exc.error_list}
                ).items():
                    item_errors.setdefault(key, []).extend(messages)
        errors.append(item_errors)
        if variant is not None:
            results.append((variant, created))
    if any(errors):
        raise BulkItemsError(errors)
    now = timezone.now()
    to_create = [v for v, created in results if created]
    to_update = [v for v, created in results if not created]
    for v in to_update:
        v.updated_at = now
    ProductVariant.objects.bulk_create(to_create, batch_size=500)
    if to_update:
        ProductVariant.objects.bulk_update(
            to_update,
            [f for f in VARIANT_FIELDS if f not in MONEY_FIELDS] + ["price", "compare_at_price", "cost", "updated_at"],
            batch_size=500,
        )
    audit_record(
        action="variant.bulk_upsert",
        model_label="catalog.ProductVariant",
        shop_id=shop.pk,
        object_repr=Words(
            gettext_noop("%(created)d created, %(updated)d updated"), created=len(to_create), updated=len(to_update)
        ),
        changes={"created": [v.sku for v in to_create], "updated": [v.sku for v in to_update]},
    )
    signals.send_on_commit(shop_id=shop.pk, variant_ids=[v.pk for v, _c in results], what=signals.CONTENT)
    return results


# --- CSV import ------------------------------------------------------------------------------

IMPORT_CHECK = "catalog_import_check"
IMPORT_COMMIT = "catalog_import_commit"
IMPORT_MAX_BYTES = 50 * 1024 * 1024


@transaction.atomic
def catalog_import_start(*, upload, user=None):
    """Store an uploaded CSV and check it in the background: every row's errors, nothing
    written yet. Returns the check's Job, whose result holds the preview.

    `upload` is a Django File with a name (an uploaded file, or a ContentFile/File the API or
    the command line opened)."""
    import uuid

    from django.core.files.storage import default_storage

    from catalog.tasks import import_check_task
    from shopadmin.services import job_create

    if upload.size > IMPORT_MAX_BYTES:
        raise ValidationError(
            {
                "file": ValidationError(
                    _("The file is larger than 50 MB; split it into several imports."),
                    code=CatalogErrorCode.FILE_TOO_LARGE,
                )
            }
        )
    if not (upload.name or "").lower().endswith((".csv", ".txt")):
        raise ValidationError(
            {
                "file": ValidationError(
                    _("Upload a .csv file (export one from your spreadsheet as CSV UTF-8)."),
                    code=CatalogErrorCode.FILE_NOT_CSV,
                )
            }
        )
    shop_id = current_shop_id()
    name = default_storage.save(f"imports/{shop_id}/{uuid.uuid4().hex}.csv", upload)
    job = job_create(kind=IMPORT_CHECK, label=(upload.name or "")[:200], created_by=user)
    job.result = {"file": name, "filename": upload.name}
    job.save(update_fields=["result"])
    audit_record(action="catalog.import_check", instance=job, changes={"file": [None, upload.name]})
    transaction.on_commit(lambda: import_check_task.delay(shop_id, job.pk))
    return job


@transaction.atomic
def catalog_import_commit(*, check, user=None):
    """Import a checked file (all rows or none), in the background. A file checked with
    errors is refused; asking twice returns the import already started."""
    from catalog.tasks import import_commit_task
    from shopadmin.models import Job
    from shopadmin.services import job_create

    check = Job.objects.select_for_update().get(pk=check.pk, kind=IMPORT_CHECK)
    if check.status != Job.Status.SUCCEEDED or check.result.get("error_count", 1):
        raise ValidationError(
            _("Only a checked file without errors can be imported."), code=CatalogErrorCode.NOT_CHECKED
        )
    if check.result.get("commit_job"):
        return Job.objects.get(pk=check.result["commit_job"])
    job = job_create(kind=IMPORT_COMMIT, label=check.label, created_by=user)
    job.result = {"file": check.result["file"], "filename": check.result.get("filename", ""), "check_job": check.pk}
    job.save(update_fields=["result"])
    check.result = {**check.result, "commit_job": job.pk}
    check.save(update_fields=["result"])
    audit_record(action="catalog.import_commit", instance=job, changes={"check_job": [None, check.pk]})
    shop_id = current_shop_id()
    transaction.on_commit(lambda: import_commit_task.delay(shop_id, job.pk))
    return job


# --- Media --------------------------------------------------------------------------------


@transaction.atomic
def media_add(
    *,
    product: Product,
    url: str = "",
    image=None,
    alt_text: str = "",
    variant: ProductVariant | None = None,
    position: int | None = None,
) -> ProductMedia:
    if position is None:
        last = product.media.order_by("-position").values_list("position", flat=True).first()
        position = 0 if last is None else last + 1
    media = ProductMedia(
        product=product, url=(url or "").strip(), alt_text=alt_text or "", variant=variant, position=position
    )
    if image:
        _media_set_upload(media, image)
    media.full_clean(exclude=["shop", "product"], validate_constraints=False)
    media.save()
    audit_record(action="media.add", instance=media, changes={"src": [None, media.src]})
    signals.send_on_commit(
        shop_id=product.shop_id, variant_ids=product.variants.values_list("pk", flat=True), what=signals.CONTENT
    )
    return media


def _media_set_upload(media: ProductMedia, upload) -> None:
    """Check an uploaded picture (catalog.images) and attach it with its channel rendition;
    the model's save writes both through the default storage."""
    try:
        info = images.check_image(upload)
        rendition, width, height = images.make_rendition(upload)
        thumbnail = images.make_thumbnail(upload)
    except ValidationError as exc:
        raise ValidationError({"image": exc}) from exc
    upload.seek(0)
    media.original = File(upload, name=f"original.{info.extension}")
    media.image = ContentFile(rendition, name="image.jpg")
    media.thumbnail = ContentFile(thumbnail, name="thumbnail.jpg")
    media.width, media.height = width, height


def _delete_stored_files(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:  # already gone, or the storage refused: the row is what matters
            logger.warning("Could not delete the stored image %s", name, exc_info=True)


@transaction.atomic
def media_delete(*, media: ProductMedia) -> None:
    audit_record(action="media.delete", instance=media, changes={"src": [media.src, None]})
    product = media.product
    stored = [f.name for f in (media.image, media.original, media.thumbnail) if f]
    media.delete()
    # The files go once the row is gone for good (a rolled-back delete keeps them).
    transaction.on_commit(lambda: _delete_stored_files(stored))
    signals.send_on_commit(
        shop_id=product.shop_id, variant_ids=product.variants.values_list("pk", flat=True), what=signals.CONTENT
    )


# --- Locations ----------------------------------------------------------------------------


@transaction.atomic
def location_create(*, name: str, code: str, country: str) -> Location:
    location = Location(name=(name or "").strip(), code=(code or "").strip().lower(), country=(country or "").upper())
    location.full_clean(exclude=["shop"], validate_constraints=False)
    if Location.objects.filter(code=location.code).exists():
        raise ValidationError(
            {
                "code": ValidationError(
                    _("Another location already uses the code “%(c)s”.") % {"c": location.code},
                    code=CatalogErrorCode.LOCATION_CODE_TAKEN,
                )
            }
        )
    location.save()
    audit_record(action="location.create", instance=location, changes=snapshot(location, ("name", "code", "country")))
    return location


# --- Stock --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class StockChange:
    """One line to post: a signed quantity at a variant and location, with why and a reference."""

    variant_id: int
    location_id: int
    quantity: int
    reason: str
    reference: str = ""
    note: str = ""


def _lock_levels(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], StockLevel]:
    """Create missing rows, then lock them in primary-key order so concurrent posts never deadlock."""
    shop_id = current_shop_id()
    StockLevel.objects.bulk_create(
        [StockLevel(shop_id=shop_id, variant_id=v, location_id=loc) for v, loc in sorted(pairs)],
        ignore_conflicts=True,
        batch_size=1000,
    )
    if len(pairs) <= 100:
        condition = Q()
        for v, loc in pairs:
            condition |= Q(variant_id=v, location_id=loc)
    else:
        condition = Q(variant_id__in={v for v, _l in pairs}, location_id__in={loc for _v, loc in pairs})
    levels = StockLevel.objects.select_for_update().filter(condition).order_by("pk")
    return {(lv.variant_id, lv.location_id): lv for lv in levels}


@transaction.atomic
def stock_post_movements(*, movements: Sequence[StockChange | dict]) -> list[StockMovement]:
    """Post ledger lines and update stock levels together; all lines or none.

    Raises ValidationError (``{"movements": [...]}``, one message per bad line) when a line
    names an unknown variant or location, has a bad reason, or would take on hand or
    allocated below zero, or allocate more than is on hand.
    """
    changes = [m if isinstance(m, StockChange) else StockChange(**m) for m in movements]
    if not changes:
        raise ValidationError(
            {"movements": [ValidationError(_("Post at least one movement."), code=CatalogErrorCode.NO_MOVEMENTS)]}
        )
    variants = dict(ProductVariant.objects.filter(pk__in={c.variant_id for c in changes}).values_list("pk", "sku"))
    locations = dict(Location.objects.filter(pk__in={c.location_id for c in changes}).values_list("pk", "code"))
    problems = []
    for index, c in enumerate(changes):
        if c.variant_id not in variants:
            problems.append(
                ValidationError(
                    _("Line %(i)d: no variant with id %(id)s.") % {"i": index, "id": c.variant_id},
                    code=CatalogErrorCode.VARIANT_NOT_FOUND,
                )
            )
        if c.location_id not in locations:
            problems.append(
                ValidationError(
                    _("Line %(i)d: no location with id %(id)s.") % {"i": index, "id": c.location_id},
                    code=CatalogErrorCode.LOCATION_NOT_FOUND,
                )
            )
        if c.reason not in MovementReason.values:
            problems.append(
                ValidationError(
                    _("Line %(i)d: “%(r)s” is not a reason; use one of %(all)s.")
                    % {"i": index, "r": c.reason, "all": ", ".join(MovementReason.values)},
                    code=CatalogErrorCode.UNKNOWN_REASON,
                )
            )
        if not isinstance(c.quantity, int) or isinstance(c.quantity, bool) or c.quantity == 0:
            problems.append(
                ValidationError(
                    _("Line %(i)d: the quantity must be a whole number other than 0.") % {"i": index},
                    code=CatalogErrorCode.QUANTITY_INVALID,
                )
            )
    if problems:
        raise ValidationError({"movements": problems})

    levels = _lock_levels({(c.variant_id, c.location_id) for c in changes})
    shop_id = current_shop_id()
    actor = current_actor()
    user = actor.user if getattr(actor.user, "is_authenticated", False) else None
    now = timezone.now()
    ledger = []
    for index, c in enumerate(changes):
        level = levels[(c.variant_id, c.location_id)]
        if c.reason in ALLOCATION_REASONS:
            level.allocated += c.quantity if c.reason == MovementReason.ALLOCATION else -abs(c.quantity)
        else:
            level.on_hand += c.quantity
        where = {"i": index, "sku": variants[c.variant_id], "loc": locations[c.location_id]}
        if level.on_hand < 0:
            problems.append(
                ValidationError(
                    _("Line %(i)d: %(sku)s at %(loc)s would go below zero on hand (%(n)d).")
                    % {**where, "n": level.on_hand},
                    code=CatalogErrorCode.INSUFFICIENT_STOCK,
                )
            )
        elif level.allocated < 0:
            problems.append(
                ValidationError(
                    _("Line %(i)d: %(sku)s at %(loc)s would release more than is allocated.") % where,
                    code=CatalogErrorCode.RELEASE_EXCEEDS_ALLOCATED,
                )
            )
        elif level.allocated > level.on_hand:
            problems.append(
                ValidationError(
                    _("Line %(i)d: %(sku)s at %(loc)s has only %(a)d available; allocated stock cannot exceed on hand.")
                    % {**where, "a": level.on_hand - (level.allocated - abs(c.quantity))},
                    code=CatalogErrorCode.INSUFFICIENT_STOCK,
                )
            )
        level.updated_at = now
        ledger.append(
            StockMovement(
                shop_id=shop_id,
                variant_id=c.variant_id,
                location_id=c.location_id,
                quantity=c.quantity,
                reason=c.reason,
                reference=c.reference[:200],
                note=c.note[:500],
                on_hand_after=level.on_hand,
                allocated_after=level.allocated,
                actor_user=user,
                actor_label=actor.description[:200],
                created_at=now,
            )
        )
    if problems:
        raise ValidationError({"movements": problems})
    StockLevel.objects.bulk_update(list(levels.values()), ["on_hand", "allocated", "updated_at"], batch_size=1000)
    StockMovement.objects.bulk_create(ledger, batch_size=1000)
    _audit_stock(changes, variants, locations, shop_id)
    signals.send_on_commit(shop_id=shop_id, variant_ids=variants.keys(), what=signals.STOCK)
    return ledger


def _reason_words(reason: str) -> Words | str:
    return Words.of(MovementReason(reason).label) if reason in MovementReason.values else reason


# Lines spelled out in one audit entry; the ledger holds every line, the entry says what
# the post was, so a 10,000-row import writes one small row, not 10,000.
AUDIT_STOCK_LINES = 50


def _audit_stock(changes: Sequence[StockChange], variants: dict, locations: dict, shop_id: int) -> None:
    summary: dict[str, list] = {}
    for c in changes[:AUDIT_STOCK_LINES]:
        key = f"{variants[c.variant_id]} @ {locations[c.location_id]}"
        n = 2
        while key in summary:
            key, n = f"{variants[c.variant_id]} @ {locations[c.location_id]} #{n}", n + 1
        summary[key] = [None, f"{c.quantity:+d} {c.reason}" + (f" · {c.reference}" if c.reference else "")]
    if len(changes) > AUDIT_STOCK_LINES:
        summary["more lines"] = [None, len(changes) - AUDIT_STOCK_LINES]
    reasons = sorted({c.reason for c in changes})
    references = sorted({c.reference for c in changes if c.reference})
    if len(changes) == 1:
        c = changes[0]
        what = Words(
            gettext_noop("%(item)s at %(location)s: %(quantity)+d, %(reason)s"),
            item=variants[c.variant_id],
            location=locations[c.location_id],
            quantity=c.quantity,
            reason=_reason_words(c.reason),
        )
    elif len(reasons) == 1:
        what = Words(
            gettext_noop("%(n)d stock movements: %(reason)s"), n=len(changes), reason=_reason_words(reasons[0])
        )
    else:
        what = Words(gettext_noop("%(n)d stock movements"), n=len(changes))
    if references:
        what = Words(gettext_noop("%(what)s · %(references)s"), what=what, references=", ".join(references[:3]))
    audit_record(
        action="stock.post_movements",
        model_label="catalog.StockMovement",
        shop_id=shop_id,
        object_repr=what,
        changes=summary,
    )


@transaction.atomic
def stock_set(
    *,
    variant: ProductVariant,
    location: Location,
    on_hand: int,
    reason: str = MovementReason.CORRECTION,
    note: str = "",
) -> StockMovement | None:
    """Count correction: post whatever delta brings on hand to the counted number."""
    if on_hand < 0:
        raise ValidationError(
            {
                "on_hand": ValidationError(
                    _("A counted quantity cannot be negative."), code=CatalogErrorCode.QUANTITY_INVALID
                )
            }
        )
    level = _lock_levels({(variant.pk, location.pk)})[(variant.pk, location.pk)]
    delta = on_hand - level.on_hand
    if delta == 0:
        return None
    return stock_post_movements(
        movements=[
            StockChange(variant_id=variant.pk, location_id=location.pk, quantity=delta, reason=reason, note=note)
        ]
    )[0]


@transaction.atomic
def stock_release(*, variant_id: int, location_id: int, quantity: int, reference: str = "") -> StockMovement:
    """Give back allocated stock (an order line cancelled or edited down)."""
    if quantity <= 0:
        raise ValidationError(
            {"quantity": ValidationError(_("Release a positive quantity."), code=CatalogErrorCode.QUANTITY_INVALID)}
        )
    return stock_post_movements(
        movements=[
            StockChange(
                variant_id=variant_id,
                location_id=location_id,
                quantity=-quantity,
                reason=MovementReason.RELEASE,
                reference=reference,
            )
        ]
    )[0]
