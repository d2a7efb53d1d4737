"""Translations of catalog texts: fallback chain, status per language, CSV export and import.

Fallback: a request for fr-CA tries fr-CA, then fr, then the shop's default language, and
finally the catalog's own text (which is written in the shop's default language).
CSV import validates every row first and writes all rows or none (DESIGN.md §9).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from babel import Locale
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext_noop

from catalog.models import Product, ProductOption, ProductVariant
from localization.errors import LocalizationErrorCode
from localization.models import Market, Translation, TranslationKind
from shopadmin.audit import audit_record
from shopadmin.models import Shop
from shopadmin.spreadsheets import SpreadsheetWriter, restore
from shopadmin.validators import validate_language
from shopadmin.words import Words

CSV_COLUMNS = ["kind", "key", "field", "language", "value"]
PRODUCT_FIELDS = ("title", "description", "seo_title", "seo_description")
# Product SEO texts fall back to the title/description when untranslated.
SEO_FALLBACK = {"seo_title": "title", "seo_description": "description"}


def language_chain(language: str, default: str) -> list[str]:
    """fr-CA → [fr-CA, fr, <default>], without repeats."""
    chain = [language]
    if "-" in language:
        chain.append(language.split("-", 1)[0])
    chain.append(default)
    if "-" in default:
        chain.append(default.split("-", 1)[0])
    return list(dict.fromkeys(chain))


def shop_languages(shop: Shop) -> list[str]:
    """The shop's default language, then every language its active markets sell in."""
    languages = [shop.default_language]
    for market in Market.objects.filter(is_active=True):
        languages.extend(market.languages)
    return list(dict.fromkeys(languages))


def language_name(tag: str) -> str:
    try:
        return Locale.parse(tag, sep="-").get_display_name("en") or tag
    except (ValueError, TypeError):
        return tag


def _pick(texts: dict[str, str], chain: list[str]) -> str | None:
    for language in chain:
        if texts.get(language):
            return texts[language]
    return None


def product_texts(*, product_ids: list[int], language: str, shop: Shop) -> dict[int, dict]:
    """Product, variant and option texts in `language` with the fallback chain, in bulk."""
    chain = language_chain(language, shop.default_language)
    rows = Translation.objects.filter(language__in=chain)
    products = {p.pk: p for p in Product.objects.filter(pk__in=product_ids)}
    variants = list(ProductVariant.objects.filter(product_id__in=product_ids))
    options = list(ProductOption.objects.filter(product_id__in=product_ids))
    by_key: dict[tuple, dict[str, str]] = {}
    for row in rows.filter(product_id__in=product_ids):
        by_key.setdefault(("product", row.product_id, row.field), {})[row.language] = row.value
    for row in rows.filter(variant__product_id__in=product_ids):
        by_key.setdefault(("variant", row.variant_id, row.field), {})[row.language] = row.value
    for row in rows.filter(option__product_id__in=product_ids):
        by_key.setdefault(("option", row.option_id, row.field), {})[row.language] = row.value

    result = {}
    for pk, product in products.items():
        texts = {}
        for name in PRODUCT_FIELDS:
            original = getattr(product, SEO_FALLBACK.get(name, name))
            texts[name] = (
                _pick(by_key.get(("product", pk, name), {}), chain)
                or (_pick(by_key.get(("product", pk, SEO_FALLBACK[name]), {}), chain) if name in SEO_FALLBACK else None)
                or original
            )
        texts["options"] = [
            {
                "name": _pick(by_key.get(("option", o.pk, "name"), {}), chain) or o.name,
                "values": {v: _pick(by_key.get(("option", o.pk, f"value:{v}"), {}), chain) or v for v in o.values},
            }
            for o in options
            if o.product_id == pk
        ]
        texts["variants"] = {
            v.sku: _pick(by_key.get(("variant", v.pk, "title"), {}), chain) or v.display_title
            for v in variants
            if v.product_id == pk
        }
        result[pk] = texts
    return result


@dataclass
class LanguageStatus:
    language: str
    name: str
    products: int
    titles: int
    descriptions: int
    missing_titles: list[Product]

    @property
    def percent(self) -> int:
        return round(100 * self.titles / self.products) if self.products else 100


def translation_status(shop: Shop, *, sample_missing: int = 20) -> list[LanguageStatus]:
    """What is translated per language: titles and descriptions of products (not the default)."""
    total = Product.objects.count()
    counts = {
        (row["language"], row["field"]): row["n"]
        for row in Translation.objects.filter(kind=TranslationKind.PRODUCT, field__in=["title", "description"])
        .values("language", "field")
        .annotate(n=Count("product", distinct=True))
    }
    statuses = []
    for language in shop_languages(shop):
        if language == shop.default_language:
            continue
        translated = Translation.objects.filter(kind=TranslationKind.PRODUCT, field="title", language=language)
        missing = list(
            Product.objects.exclude(pk__in=translated.values("product_id")).order_by("title")[:sample_missing]
        )
        statuses.append(
            LanguageStatus(
                language=language,
                name=language_name(language),
                products=total,
                titles=counts.get((language, "title"), 0),
                descriptions=counts.get((language, "description"), 0),
                missing_titles=missing,
            )
        )
    return statuses


# --- CSV -------------------------------------------------------------------------------------


def translations_export_csv(*, language: str | None = None, include_missing: bool = True, shop: Shop) -> str:
    """Every translatable text with its current translation; blank values are the ones to fill."""
    languages = [language] if language else [lang for lang in shop_languages(shop) if lang != shop.default_language]
    existing = {
        (t.kind, t.product_id or t.variant_id or t.option_id, t.field, t.language): t.value
        for t in Translation.objects.filter(language__in=languages)
    }
    buffer = io.StringIO()
    writer = SpreadsheetWriter(buffer)
    writer.writerow([*CSV_COLUMNS, "source"])

    def emit(kind, pk, key, field, source):
        for lang in languages:
            value = existing.get((kind, pk, field, lang), "")
            if value or include_missing:
                writer.writerow([kind, key, field, lang, value, source])

    for product in Product.objects.order_by("pk").iterator(chunk_size=2000):
        for name in PRODUCT_FIELDS:
            emit("product", product.pk, product.handle, name, getattr(product, SEO_FALLBACK.get(name, name)))
    for variant in ProductVariant.objects.order_by("pk").iterator(chunk_size=2000):
        emit("variant", variant.pk, variant.sku, "title", variant.display_title)
    for option in ProductOption.objects.select_related("product").order_by("pk").iterator(chunk_size=2000):
        key = f"{option.product.handle}:{option.name}"
        emit("option", option.pk, key, "name", option.name)
        for value in option.values:
            emit("option", option.pk, key, f"value:{value}", value)
    return buffer.getvalue()


@dataclass
class ImportResult:
    written: int
    deleted: int


@transaction.atomic
def translations_import_csv(*, data: str, shop: Shop) -> ImportResult:
    """Validate every row, then write all (blank value: remove the translation) or raise with all errors."""
    reader = csv.DictReader(io.StringIO(data))
    missing_columns = set(CSV_COLUMNS) - set(reader.fieldnames or [])
    if missing_columns:
        raise ValidationError(
            {
                "file": [
                    ValidationError(
                        f"Missing columns: {', '.join(sorted(missing_columns))}. Expected: {', '.join(CSV_COLUMNS)}.",
                        code=LocalizationErrorCode.CSV_COLUMNS_MISSING,
                    )
                ]
            }
        )
    rows = list(reader)
    products = {p.handle: p.pk for p in Product.objects.only("pk", "handle")}
    variants = {v.sku: v.pk for v in ProductVariant.objects.only("pk", "sku")}
    options = {
        f"{o.product.handle}:{o.name}": (o.pk, set(o.values)) for o in ProductOption.objects.select_related("product")
    }
    errors, plan = [], []
    for line, row in enumerate(rows, start=2):
        # Cells that the export neutralised against formula injection ('=…) read back as written.
        row = {name: restore(cell) if isinstance(cell, str) else cell for name, cell in row.items()}
        kind, key, field = row.get("kind", "").strip(), row.get("key", "").strip(), row.get("field", "").strip()
        language, value = row.get("language", "").strip(), row.get("value") or ""
        problems = []
        try:
            validate_language(language)
        except ValidationError:
            problems.append(f"language “{language}” is not a language tag (e.g. fr, fr-CA)")
        target = None
        if kind == "product":
            target = products.get(key)
            if field not in PRODUCT_FIELDS:
                problems.append(f"field must be one of {', '.join(PRODUCT_FIELDS)}")
        elif kind == "variant":
            target = variants.get(key)
            if field != "title":
                problems.append("a variant has only the field title")
        elif kind == "option":
            found = options.get(key)
            target = found[0] if found else None
            if found and field != "name" and not (field.startswith("value:") and field[6:] in found[1]):
                problems.append(f"field must be name or value:<one of {', '.join(sorted(found[1]))}>")
        else:
            problems.append("kind must be product, variant or option")
        if kind in ("product", "variant", "option") and target is None:
            problems.append(f"no {kind} “{key}” in this shop")
        if problems:
            errors.append(
                ValidationError(
                    f"Row {line}: " + "; ".join(problems) + ".", code=LocalizationErrorCode.TRANSLATION_ROW_INVALID
                )
            )
        else:
            plan.append((kind, target, field, language, value.strip()))
    if errors:
        raise ValidationError({"file": errors})
    written = deleted = 0
    for kind, target, field, language, value in plan:
        lookup = {"kind": kind, f"{kind}_id": target, "field": field, "language": language}
        if not value:
            deleted += Translation.objects.filter(**lookup).delete()[0]
            continue
        Translation.objects.update_or_create(shop=shop, **lookup, defaults={"value": value})
        written += 1
    audit_record(
        action="translation.import",
        instance=shop,
        model_label="localization.Translation",
        object_repr=Words(gettext_noop("%(written)d written, %(deleted)d removed"), written=written, deleted=deleted),
        changes={"rows": [None, len(plan)]},
    )
    return ImportResult(written=written, deleted=deleted)


@transaction.atomic
def translation_set(*, shop: Shop, kind: str, target_id: int, field: str, language: str, value: str) -> Translation:
    validate_language(language)
    row, _created = Translation.objects.update_or_create(
        shop=shop,
        kind=kind,
        **{f"{kind}_id": target_id},
        field=field,
        language=language,
        defaults={"value": value},
    )
    row.full_clean()
    audit_record(action="translation.set", instance=row, changes={"value": [None, value[:200]]})
    return row
