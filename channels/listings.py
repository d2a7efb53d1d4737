"""Listings: which variants an account lists, its settings and rules, and the listing rows
(the writes, and the selection they decide). The channel items built for the listings are
in channels/items.py."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from catalog.models import Product, ProductVariant
from channels.adapters.base import MAX_CUSTOM_LABELS
from channels.errors import ChannelsErrorCode
from channels.models import ChannelAccount, ChannelListing, ListingRule, ListingSettings
from shopadmin.audit import audit_record

CHUNK = 2000


# --- Settings and rules (writes) -------------------------------------------------------------


def listing_settings_for(account: ChannelAccount) -> ListingSettings:
    """The account's settings, read only: an account that never changed them gets the
    defaults (all active products), unsaved — a feed GET writes nothing."""
    return ListingSettings.objects.filter(account=account).first() or ListingSettings(
        shop_id=account.shop_id, account=account
    )


def listing_settings_ensure(account: ChannelAccount) -> ListingSettings:
    """The account's settings row, created with the defaults if needed (for writes)."""
    settings_, _created = ListingSettings.objects.get_or_create(account=account, defaults={"shop_id": account.shop_id})
    return settings_


@transaction.atomic
def listing_settings_update(
    *,
    account: ChannelAccount,
    scope: str | None = None,
    storefront_url: str | None = None,
    auto_apply: bool | None = None,
) -> ListingSettings:
    settings_ = listing_settings_ensure(account)
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
        raise ValidationError(
            _("A rule names either a product or a category."), code=ChannelsErrorCode.RULE_TARGET_INVALID
        )
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
            raise ValidationError(
                {
                    "custom_labels": ValidationError(
                        _('Custom labels are a list of words, e.g. ["summer"].'),
                        code=ChannelsErrorCode.CUSTOM_LABELS_INVALID,
                    )
                }
            )
        if len(custom_labels) > MAX_CUSTOM_LABELS:
            raise ValidationError(
                {
                    "custom_labels": ValidationError(
                        _("At most 5 custom labels (custom_label_0 to custom_label_4)."),
                        code=ChannelsErrorCode.CUSTOM_LABELS_INVALID,
                    )
                }
            )
        if any(len(x) > 100 for x in custom_labels):
            raise ValidationError(
                {
                    "custom_labels": ValidationError(
                        _("A custom label is at most 100 characters."), code=ChannelsErrorCode.CUSTOM_LABELS_INVALID
                    )
                }
            )
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
    # The anti-join runs in SQL (usually nothing is missing), so a plan of 100k listings does
    # not read 100k ids twice; an item id taken by a row of a deleted variant stays taken.
    listed = ChannelListing.objects.filter(account=account, variant_id__isnull=False).values("variant_id")
    candidates = list(
        selected_variants(account)
        .exclude(id__in=listed)
        .order_by("id")
        .values_list("id", "sku")
        .iterator(chunk_size=CHUNK)
    )
    taken = set(
        ChannelListing.objects.filter(account=account, item_id__in=[sku[:100] for _vid, sku in candidates]).values_list(
            "item_id", flat=True
        )
    )
    missing = [
        ChannelListing(shop_id=account.shop_id, account=account, variant_id=vid, item_id=sku[:100])
        for vid, sku in candidates
        if sku[:100] not in taken
    ]
    ChannelListing.objects.bulk_create(missing, batch_size=CHUNK, ignore_conflicts=True)
    return {"created": len(missing)}
