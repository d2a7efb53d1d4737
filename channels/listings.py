"""Listings: which variants an account lists, and the channel items built for them.

Reads (selection, item building) and the writes that go with them (settings, rules,
overrides, syncing listing rows). Item building walks the catalog in keyset chunks so
feeds and plans run in constant memory however large the catalog is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from decimal import Decimal
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils.translation import gettext as _

from catalog.models import Product, ProductMedia, ProductVariant, StockLevel
from channels.adapters import adapter_for
from channels.adapters.base import Availability, ChannelAdapter, ChannelItem
from channels.models import ChannelAccount, ChannelListing, ListingRule, ListingSettings, ListingStatus
from channels.selectors import account_markets
from localization.models import Market
from shopadmin.audit import audit_record

CHUNK = 2000
MAX_CUSTOM_LABELS = 5


# --- Settings and rules (writes) -------------------------------------------------------------


def listing_settings_for(account: ChannelAccount) -> ListingSettings:
    """The account's settings; a new account gets the default (all active products)."""
    settings_ = ListingSettings.objects.filter(account=account).first()
    if settings_ is None:
        settings_, _created = ListingSettings.objects.get_or_create(
            account=account, defaults={"shop_id": account.shop_id}
        )
    return settings_


@transaction.atomic
def listing_settings_update(
    *,
    account: ChannelAccount,
    scope: str | None = None,
    storefront_url: str | None = None,
    auto_apply: bool | None = None,
) -> ListingSettings:
    settings_ = listing_settings_for(account)
    settings_ = ListingSettings.objects.select_for_update().get(pk=settings_.pk)
    before = {"scope": settings_.scope, "storefront_url": settings_.storefront_url, "auto_apply": settings_.auto_apply}
    if scope is not None:
        settings_.scope = scope
    if storefront_url is not None:
        settings_.storefront_url = storefront_url.strip().rstrip("/")
    if auto_apply is not None:
        settings_.auto_apply = auto_apply
    settings_.full_clean()
    settings_.save()
    after = {"scope": settings_.scope, "storefront_url": settings_.storefront_url, "auto_apply": settings_.auto_apply}
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if changes:
        audit_record(action="listing_settings.update", instance=account, changes=changes)
    return settings_


@transaction.atomic
def listing_rule_add(*, account: ChannelAccount, action: str, product=None, category=None) -> ListingRule:
    if (product is None) == (category is None):
        raise ValidationError(_("A rule names either a product or a category."))
    rule = ListingRule.objects.filter(account=account, action=action, product=product, category=category).first()
    if rule is not None:
        return rule
    rule = ListingRule(shop_id=account.shop_id, account=account, action=action, product=product, category=category)
    rule.full_clean(validate_constraints=False)
    rule.save()
    audit_record(
        action="listing_rule.add",
        instance=account,
        changes={"rule": [None, f"{action} {'product' if product else 'category'} {(product or category).pk}"]},
    )
    return rule


@transaction.atomic
def listing_rule_remove(*, rule: ListingRule) -> None:
    audit_record(action="listing_rule.remove", instance=rule.account, changes={"rule": [str(rule), None]})
    rule.delete()


@transaction.atomic
def listing_update(
    *,
    listing: ChannelListing,
    title_override: str | None = None,
    description_override: str | None = None,
    category_override: str | None = None,
    custom_labels: list[str] | None = None,
) -> ChannelListing:
    """Per-listing overrides; they change the planned payload, so the next plan shows them."""
    before = {
        "title_override": listing.title_override,
        "description_override": listing.description_override,
        "category_override": listing.category_override,
        "custom_labels": listing.custom_labels,
    }
    if title_override is not None:
        listing.title_override = title_override.strip()
    if description_override is not None:
        listing.description_override = description_override.strip()
    if category_override is not None:
        listing.category_override = category_override.strip()
    if custom_labels is not None:
        if not isinstance(custom_labels, list) or not all(isinstance(x, str) for x in custom_labels):
            raise ValidationError({"custom_labels": _('Custom labels are a list of words, e.g. ["summer"].')})
        if len(custom_labels) > MAX_CUSTOM_LABELS:
            raise ValidationError({"custom_labels": _("At most 5 custom labels (custom_label_0 to custom_label_4).")})
        if any(len(x) > 100 for x in custom_labels):
            raise ValidationError({"custom_labels": _("A custom label is at most 100 characters.")})
        listing.custom_labels = [x.strip() for x in custom_labels]
    listing.full_clean(validate_constraints=False)
    listing.save()
    after = {k: getattr(listing, k) for k in before}
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if changes:
        audit_record(action="listing.update", instance=listing, changes=changes)
    return listing


# --- Selection (reads) -----------------------------------------------------------------------


def selected_variants(account: ChannelAccount):
    """The variants the account should list now: active products, narrowed by its rules."""
    settings_ = listing_settings_for(account)
    rules = list(ListingRule.objects.filter(account=account).values_list("action", "product_id", "category_id"))
    variants = ProductVariant.objects.filter(product__status=Product.Status.ACTIVE)
    if settings_.scope == ListingSettings.Scope.SELECTED:
        include = Q(pk__in=[])
        for action, product_id, category_id in rules:
            if action == ListingRule.Action.INCLUDE:
                include |= Q(product_id=product_id) if product_id else Q(product__category_id=category_id)
        variants = variants.filter(include)
    for action, product_id, category_id in rules:
        if action == ListingRule.Action.EXCLUDE:
            variants = (
                variants.exclude(product_id=product_id)
                if product_id
                else variants.exclude(product__category_id=category_id)
            )
    return variants


@transaction.atomic
def listings_sync(*, account: ChannelAccount) -> dict:
    """Make the listing rows match the selection: a draft for each newly selected variant.

    Rows of variants no longer selected stay (with their accepted hash) so the next plan
    deletes them from the channel; the plan decides, this only adds.
    """
    existing = set(ChannelListing.objects.filter(account=account).values_list("item_id", flat=True))
    missing = [
        ChannelListing(shop_id=account.shop_id, account=account, variant_id=vid, item_id=sku[:100])
        for vid, sku in selected_variants(account).order_by("id").values_list("id", "sku").iterator(chunk_size=CHUNK)
        if sku[:100] not in existing
    ]
    ChannelListing.objects.bulk_create(missing, batch_size=CHUNK, ignore_conflicts=True)
    return {"created": len(missing)}


# --- Markets and prices --------------------------------------------------------------------------


@dataclass
class MarketPricing:
    """How shop-currency prices become this account market's prices (localization's rule)."""

    market: dict
    currency: str
    rate: Decimal | None
    adjustment: Decimal
    rule: object | None  # localization.money.RoundingRule
    problem: str = ""

    def price(self, amount: Decimal) -> Decimal | None:
        from localization.money import convert_price, quantize

        if self.rate is None:
            return None
        if self.rule is None:
            return quantize(amount * self.rate, self.currency)
        return convert_price(
            amount=amount, rate=self.rate, adjustment_percent=self.adjustment, rule=self.rule, currency=self.currency
        )


def market_for(account_market: dict) -> Market | None:
    """The localization Market that sells to this account market's country in its currency."""
    country, currency = account_market["country"].upper(), account_market["currency"].upper()
    candidates = Market.objects.filter(is_active=True, currency=currency).order_by("-is_home", "id")
    for market in candidates:
        if country in [c.upper() for c in market.countries]:
            return market
    return None


def market_pricing(account: ChannelAccount, account_market: dict) -> MarketPricing:
    from localization.rates import RateNotFound, rate_for

    shop = account.shop
    currency = account_market["currency"].upper()
    market = market_for(account_market)
    mode = getattr(market, "rate_mode", "auto") if market else "auto"
    try:
        rate = rate_for(shop.default_currency, currency, shop_id=shop.pk, mode=mode).rate
        problem = ""
    except RateNotFound:
        rate = None
        problem = _("No exchange rate from %(base)s to %(quote)s.") % {"base": shop.default_currency, "quote": currency}
    if market is None:
        return MarketPricing(account_market, currency, rate, Decimal(0), None, problem)
    adjustment = market.adjustment_percent if currency != shop.default_currency else Decimal(0)
    rule = market.rounding_rule if currency != shop.default_currency else None
    return MarketPricing(account_market, currency, rate, adjustment or Decimal(0), rule, problem)


# --- Building items --------------------------------------------------------------------------------


@dataclass
class BuiltItem:
    listing_id: int | None
    variant_id: int
    item: ChannelItem
    custom_labels: list[str]


def utm_link(base: str, *, channel: str, account: ChannelAccount, extra: dict | None = None) -> str:
    if not base:
        return ""
    params = dict(extra or {})
    params.update({"utm_source": channel, "utm_medium": "social", "utm_campaign": account.name})
    return f"{base}{'&' if '?' in base else '?'}{urlencode(params)}"


def _first_images(product_ids: list[int], variant_ids: list[int]) -> tuple[dict, dict]:
    """First image per product and per variant (the variant's own image wins)."""
    by_product, by_variant = {}, {}
    rows = (
        ProductMedia.objects.filter(product_id__in=product_ids)
        .order_by("product_id", "position", "id")
        .values_list("product_id", "variant_id", "url", "image")
    )
    wanted = set(variant_ids)
    for product_id, variant_id, url, image in rows:
        src = url or (_media_url(image) if image else "")
        if not src:
            continue
        by_product.setdefault(product_id, src)
        if variant_id in wanted:
            by_variant.setdefault(variant_id, src)
    return by_product, by_variant


def _media_url(name: str) -> str:
    from django.conf import settings
    from django.core.files.storage import default_storage

    url = default_storage.url(name)
    return url if url.startswith("http") else settings.SITE_URL + url


def _available(variant_ids: list[int]) -> dict[int, int]:
    rows = (
        StockLevel.objects.filter(variant_id__in=variant_ids, location__is_active=True)
        .values("variant_id")
        .annotate(available=Sum(F("on_hand") - F("allocated")))
        .values_list("variant_id", "available")
    )
    return {vid: max(0, int(avail or 0)) for vid, avail in rows}


VARIANT_FIELDS = (
    "id",
    "sku",
    "title",
    "option_values",
    "gtin",
    "mpn",
    "price",
    "product_id",
    "product__title",
    "product__description",
    "product__brand",
    "product__condition",
    "product__handle",
    "product__status",
    "product__category__google_product_category",
)


def iter_items(
    account: ChannelAccount,
    account_market: dict | None = None,
    *,
    variants=None,
    chunk: int = CHUNK,
) -> Iterator[BuiltItem]:
    """Each selected variant as a ChannelItem priced for the market, in id order, chunk by chunk.

    Memory stays bounded by `chunk`: each chunk reads its variants, images, stock and
    listing overrides with four queries.
    """
    account_market = account_market or account_markets(account)[0]
    pricing = market_pricing(account, account_market)
    settings_ = listing_settings_for(account)
    queryset = (variants if variants is not None else selected_variants(account)).order_by("id")
    last_id = 0
    while True:
        rows = list(queryset.filter(id__gt=last_id).values(*VARIANT_FIELDS)[:chunk])
        if not rows:
            return
        last_id = rows[-1]["id"]
        ids = [r["id"] for r in rows]
        by_product, by_variant = _first_images(list({r["product_id"] for r in rows}), ids)
        stock = _available(ids)
        listings = {
            row["variant_id"]: row
            for row in ChannelListing.objects.filter(account=account, variant_id__in=ids).values(
                "id", "variant_id", "title_override", "description_override", "category_override", "custom_labels"
            )
        }
        for row in rows:
            yield _build(account, settings_, pricing, row, by_product, by_variant, stock, listings.get(row["id"]))


def _build(account, settings_, pricing, row, by_product, by_variant, stock, listing) -> BuiltItem:
    listing = listing or {}
    options = row["option_values"] or {}
    size = str(next((v for k, v in options.items() if k.lower() == "size"), ""))
    color = str(next((v for k, v in options.items() if k.lower() in ("color", "colour")), ""))
    # The product's title: variants of one product share item_group_id and differ by size/color.
    title = listing.get("title_override") or row["product__title"]
    quantity = stock.get(row["id"], 0)
    base = f"{settings_.storefront_url}/products/{row['product__handle']}" if settings_.storefront_url else ""
    link = utm_link(base, channel=account.channel, account=account, extra={"variant": row["id"]} if base else None)
    category = listing.get("category_override") or row["product__category__google_product_category"] or ""
    price = pricing.price(Decimal(row["price"])) if row["price"] is not None else None
    item = ChannelItem(
        id=row["sku"],
        title=title,
        description=listing.get("description_override") or row["product__description"] or row["product__title"],
        link=link,
        image_link=by_variant.get(row["id"]) or by_product.get(row["product_id"], ""),
        price=price,
        currency=pricing.currency,
        availability=Availability.IN_STOCK if quantity > 0 else Availability.OUT_OF_STOCK,
        condition=row["product__condition"],
        brand=row["product__brand"],
        gtin=row["gtin"],
        mpn=row["mpn"],
        item_group_id=row["product__handle"][:100],
        quantity=quantity,
        google_product_category=str(category),
        size=size,
        color=color,
    )
    return BuiltItem(listing.get("id"), row["id"], item, list(listing.get("custom_labels") or []))


# --- Payloads ---------------------------------------------------------------------------------------


def item_to_json(item: ChannelItem) -> dict:
    data = asdict(item)
    data["price"] = None if item.price is None else str(item.price)
    return data


def item_from_json(data: dict) -> ChannelItem:
    values = dict(data)
    values["price"] = None if values.get("price") is None else Decimal(values["price"])
    return ChannelItem(**values)


def payload_for(adapter: ChannelAdapter, built: BuiltItem) -> dict:
    payload = adapter.build_payload(built.item) if built.item.price is not None else {"id": built.item.id}
    for index, label in enumerate(built.custom_labels[:MAX_CUSTOM_LABELS]):
        if label:
            payload[f"custom_label_{index}"] = label
    return payload


def payload_hash(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def item_problems(adapter: ChannelAdapter, built: BuiltItem, pricing_problem: str = "") -> list[dict]:
    """The channel's rules checked locally, before anything is sent or served."""
    item = built.item
    problems = []
    if item.price is None:
        problems.append({"field": "price", "code": "missing_field", "message": pricing_problem or _("No price.")})
        return problems
    if not item.link:
        problems.append(
            {
                "field": "link",
                "code": "missing_field",
                "message": _("link is required: set the storefront URL in this account's listing settings."),
            }
        )
    for error in adapter.validate_item(item):
        if error.field == "link" and not item.link:
            continue
        problems.append({"field": error.field, "code": error.code, "message": error.message})
    return problems


def listings_for_status(account: ChannelAccount, statuses: Iterable[str]):
    return ChannelListing.objects.filter(account=account, status__in=list(statuses))


def adapter_for_account(account: ChannelAccount, account_market: dict | None = None, **options) -> ChannelAdapter:
    """The adapter, told the market where the channel needs it (Pinterest batches name one)."""
    from channels.adapters.pinterest import PinterestAdapter

    market = account_market or account_markets(account)[0]
    if account.channel == "pinterest":
        return PinterestAdapter(
            base_url=account.api_base_url,
            credentials=dict(account.credentials),
            country=market["country"],
            language=market["language"],
            **options,
        )
    return adapter_for(account, **options)


STATUS_LABELS = dict(ListingStatus.choices)
