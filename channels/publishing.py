"""Plan-then-publish (DESIGN.md §6).

A plan compares each listing's desired payload with the hash of what the channel last
accepted and lists only the differences. Applying it splits the changes into batches
within the channel's limits; each batch is sent by its own Celery task, which is
idempotent: the batch row records how far it got (queued → sent with the channel's
handle → done), and a lease says which worker holds it. A worker that dies mid-batch
leaves the lease to expire; the redelivered task (acks late) or the resume sweep picks
the batch up where the row says it stopped.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import re
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from functools import cache, partial
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from catalog.models import StockLevel
from channels import health
from channels.adapters import adapter_class
from channels.adapters.base import AdapterError, BatchStatus, ItemResult, RateLimited, TransientError
from channels.errors import ChannelsErrorCode
from channels.items import (
    LISTING_FIELDS,
    VARIANT_FIELDS,
    _Builder,
    _first_images,
    adapter_for_account,
    item_from_json,
    iter_items_markets,
    listing_item_json,
    listing_payload,
    listing_problems,
    market_context,
    market_key,
    payload_hash,
    publish_markets,
)
from channels.links import listing_link_format
from channels.listings import CHUNK, listing_settings_ensure, listing_settings_for, listings_sync, selected_variants
from channels.models import (
    INTERNAL_CHANNELS,
    ChannelAccount,
    ChannelListing,
    ListingSettings,
    ListingStatus,
    PublishBatch,
    PublishPlan,
    PublishPlanItem,
)
from channels.selectors import publishes_by_api
from localization.selectors import stored_prices_for, translated_texts
from shopadmin.audit import audit_record
from shopadmin.models import Job
from shopadmin.services import job_create, job_finish, job_progress
from shopadmin.words import Words

logger = logging.getLogger(__name__)

# A plan the channel refused as a whole (its account's credentials), and the outcome of the
# items it never sent.
PLAN_FAILED = PublishPlan.Status.FAILED
NOT_SENT = "not_sent"

# Operational knobs, read from the environment so workers and tests can tune them.
LEASE_SECONDS = float(os.environ.get("CHANNELS_PUBLISH_LEASE_SECONDS", "120"))
POLL_BUDGET_SECONDS = float(os.environ.get("CHANNELS_PUBLISH_POLL_SECONDS", "60"))
HTTP_BACKOFF_BASE = float(os.environ.get("CHANNELS_HTTP_BACKOFF_BASE", "0.5"))
REPLAN_DEBOUNCE_SECONDS = float(os.environ.get("CHANNELS_REPLAN_DEBOUNCE_SECONDS", "30"))
CHANGE_FIELDS_SHOWN = 40  # plan items shown per page of the review


class Retry(Exception):
    """The batch is not finished; run the task again after `countdown` seconds."""

    def __init__(self, countdown: float, reason: str):
        super().__init__(reason)
        self.countdown = countdown


def http_options() -> dict:
    return {"backoff_base": HTTP_BACKOFF_BASE}


def field_changes(before: dict, after: dict) -> dict:
    """{field: [accepted, planned]} for each field that differs."""
    return {k: [before.get(k), after.get(k)] for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)}


# --- Computing a plan ------------------------------------------------------------------------------


# Above this share of the selection to build, a plan builds items over the catalog in id-range
# chunks (as feeds do); below it, only the listings to build, read by their ids.
DENSE_SHARE = 0.1

# What a listing's payload is built from, hashed per selected variant in one statement that
# reads each table once: its catalog rows, the listing's overrides and channel ids, the
# product's images, the stock over active locations, the stored price in each published
# market (with whether its sale has started or ended by `now`) and the product's translations
# in the markets' language chains; the fingerprint covers what the account's listings share.
# Rows are hashed by their columns' own hash functions (no text output; NULL and "" differ),
# lists of rows as text. With a subset of variants, the side tables are read by its ids;
# `{prices}` is one join per market.
_INPUTS_SQL = """
WITH scope AS {materialized} (
    SELECT id, product_id,
           hash_record_extended(ROW(sku, option_values, gtin, mpn, product_id, weight_grams), 0) AS h
      FROM ({selection}) selected WHERE true {subset}
), listings AS (
    SELECT l.id, l.variant_id, l.item_id, l.accepted_hash, l.status, l.accepted_inputs_hash,
           hash_record_extended(ROW(l.title_override, l.description_override, l.category_override, l.custom_labels,
                                    l.channel_item_id, l.channel_sku_id), 0) AS h
      FROM {listings}
), products AS MATERIALIZED (
    SELECT p.id,
           hash_record_extended(ROW(p.title, p.description, p.brand, p.condition, p.handle,
                                    c.google_product_category), 0) AS h
      FROM catalog_product p LEFT JOIN catalog_category c ON c.id = p.category_id
     WHERE true {scope_products:p.id}
), media AS (
    SELECT m.product_id, md5(string_agg(ROW(m.variant_id, m.url, m.image)::text, ',' ORDER BY m.position, m.id)) AS h
      FROM catalog_productmedia m WHERE true {scope_products:m.product_id} GROUP BY m.product_id
), stock AS (
    SELECT s.variant_id, SUM(s.on_hand - s.allocated) AS available
      FROM catalog_stocklevel s JOIN catalog_location loc ON loc.id = s.location_id AND loc.is_active
     WHERE true {scope_variants:s} GROUP BY s.variant_id
), prices AS (
    SELECT mp.variant_id, mp.market_id,
           hash_record_extended(ROW(mp.currency, mp.amount, mp.compare_at_amount, mp.sale_amount,
                                    mp.sale_starts_at, mp.sale_ends_at,
                                    mp.sale_starts_at IS NULL OR mp.sale_starts_at <= %(now)s,
                                    mp.sale_ends_at IS NULL OR mp.sale_ends_at > %(now)s), 0) AS h
      FROM localization_marketprice mp WHERE mp.market_id = ANY(%(market_ids)s::bigint[]) {scope_variants:mp}
), texts AS (
    SELECT t.product_id, md5(string_agg(ROW(t.field, t.language, t.value)::text, ',' ORDER BY t.field, t.language)) AS h
      FROM localization_translation t
     WHERE t.kind = %(kind)s AND t.field IN ('title', 'description') AND t.language = ANY(%(languages)s::text[])
           {scope_products:t.product_id}
     GROUP BY t.product_id
)
SELECT scope.id AS variant_id,
       hash_record_extended(ROW(
           %(fingerprint)s::text, scope.h, products.h, l.h, media.h, stock.available, texts.h{price_values}
       ), 0)::text AS inputs_hash,
       COALESCE(l.accepted_hash <> '' AND l.status NOT IN (%(delisted)s, %(error)s), false) AS live,
       l.accepted_inputs_hash,
       l.id AS listing_id, l.item_id,
       COALESCE(l.accepted_hash <> '' AND l.status <> %(delisted)s, false) AS on_channel
  FROM scope
  JOIN products ON products.id = scope.product_id
  {listings_join} listings l ON l.variant_id = scope.id
  LEFT JOIN media ON media.product_id = scope.product_id
  LEFT JOIN stock ON stock.variant_id = scope.id
  LEFT JOIN texts ON texts.product_id = scope.product_id{prices}
"""
_SCOPE_VARIANTS = "AND {alias}.variant_id = ANY(%(variant_ids)s::bigint[])"
_ACCOUNT_LISTINGS = "channels_channellisting l WHERE l.shop_id = %(shop)s AND l.account_id = %(account)s"
# Some variants' listings, each looked up by the (shop, account, variant) index: a filter on
# the account's listings would read all of them (the planner cannot tell how many there are).
# LIMIT (there is one at most) keeps the lookup a lookup rather than a join the planner redoes.
_LISTINGS_OF_VARIANTS = """unnest(%(variant_ids)s::bigint[]) AS wanted(id) CROSS JOIN LATERAL (
          SELECT * FROM channels_channellisting l
           WHERE l.shop_id = %(shop)s AND l.account_id = %(account)s AND l.variant_id = wanted.id LIMIT 1) l"""
_SCOPE_PRODUCTS = "AND {column} = ANY(ARRAY(SELECT DISTINCT product_id FROM scope))"
_PRICE_JOIN = """
  LEFT JOIN prices price{n}
         ON price{n}.variant_id = scope.id AND price{n}.market_id = (%(market_ids)s::bigint[])[{n}]"""


# One row, from one pass over the account's listings: how many listings are unchanged, the
# variant ids and inputs hashes of the others, the listings on the channel whose variant is no
# longer selected (to delete, in the listings' order) and how many selected variants have no
# listing row yet.
_TO_BUILD_SQL = """
SELECT count(*) FILTER (WHERE skip),
       array_agg(variant_id ORDER BY variant_id) FILTER (WHERE build),
       array_agg(inputs_hash ORDER BY variant_id) FILTER (WHERE build),
       array_agg(listing_id ORDER BY item_id, listing_id) FILTER (WHERE variant_id IS NULL AND on_channel),
       count(*) FILTER (WHERE variant_id IS NOT NULL AND listing_id IS NULL)
  FROM (SELECT variant_id, inputs_hash, listing_id, item_id, on_channel, skip,
               variant_id IS NOT NULL AND NOT skip AS build
          FROM (SELECT *, variant_id IS NOT NULL AND NOT %(full)s AND live
                          AND accepted_inputs_hash = inputs_hash AS skip
                  FROM ({inputs}) inputs) skipped) compared
"""


class _PlanInputs:
    """The listings' inputs hashes of one account, computed in PostgreSQL."""

    def __init__(self, account: ChannelAccount, markets: list[dict], now):
        from localization.models import TranslationKind
        from localization.translations import language_chain

        contexts = [market_context(account, m) for m in markets]
        default_language = account.shop.default_language
        languages = {lang for c in contexts for lang in language_chain(c.language, default_language)}
        storefront = listing_settings_for(account).storefront_url
        link = listing_link_format(account, storefront)
        fingerprint = {
            "channel": account.channel,
            "name": account.name,
            "storefront": storefront,
            # Every listing's link: the storefront's or the shop's hosted page (SITE_URL, the
            # shop's slug), with the channel's UTM parameters.
            "link": [link.before, link.between, link.after],
            "default_language": default_language,
            "markets": [
                [c.account_market, c.market_id, c.market_name, c.currency, c.language, bool(c.problem)]
                for c in contexts
            ],
            "media": [getattr(settings, "SITE_URL", ""), settings.MEDIA_URL],
            "code": _payload_code_digest(account.channel),
        }
        market_ids = [c.market_id for c in contexts if c.market_id]
        selection, selection_params = (
            selected_variants(account)
            .order_by()
            .values("id", "product_id", "sku", "option_values", "gtin", "mpn", "weight_grams")
            .query.sql_with_params()
        )
        self.sql = (
            _INPUTS_SQL.replace("{selection}", selection)
            .replace("{price_values}", "".join(f", price{n}.h" for n in range(1, len(market_ids) + 1)))
            .replace("{prices}", "".join(_PRICE_JOIN.format(n=n) for n in range(1, len(market_ids) + 1)))
        )
        # The selection's parameters named like the others (Django writes them as %s).
        names = iter(range(len(selection_params)))
        self.sql = re.sub(r"(?<!%)%s", lambda _m: f"%(selection{next(names)})s", self.sql)
        self.params = {f"selection{i}": value for i, value in enumerate(selection_params)} | {
            "now": now,
            "market_ids": market_ids,
            "kind": TranslationKind.PRODUCT,
            "languages": sorted(languages),
            "fingerprint": payload_hash(fingerprint),
            "delisted": ListingStatus.DELISTED,
            "error": ListingStatus.ERROR,
            "account": account.pk,
            "shop": account.shop_id,
        }

    def _sql(self, *, subset: bool) -> str:
        sql = self.sql.replace("{subset}", "AND id = ANY(%(variant_ids)s::bigint[])" if subset else "")
        # Over the whole selection, the listings of no selected variant come along (deletes).
        sql = sql.replace("{listings_join}", "LEFT JOIN" if subset else "FULL JOIN")
        # A subset's scope is read again for its products' ids; the whole selection is read once.
        sql = sql.replace("{materialized}", "MATERIALIZED" if subset else "NOT MATERIALIZED")
        sql = sql.replace("{listings}", _LISTINGS_OF_VARIANTS if subset else _ACCOUNT_LISTINGS)
        for alias in ("s", "mp"):
            sql = sql.replace(f"{{scope_variants:{alias}}}", _SCOPE_VARIANTS.format(alias=alias) if subset else "")
        for column in ("p.id", "m.product_id", "t.product_id"):
            sql = sql.replace(f"{{scope_products:{column}}}", _SCOPE_PRODUCTS.format(column=column) if subset else "")
        return sql

    def to_build(self, *, full: bool) -> tuple[int, dict[int, str], list[int], int]:
        """(listings unchanged, {variant id: inputs hash} of the listings to build, listing ids
        to delete, selected variants with no listing row): a listing live on the channel whose
        inputs hash equals the one of its accepted payload is unchanged, without building it;
        with `full` every listing is built."""
        sql = _TO_BUILD_SQL.replace("{inputs}", self._sql(subset=False))
        [(unchanged, variant_ids, hashes, deletes, unlisted)] = _fetch_hash_joined(sql, {**self.params, "full": full})
        return unchanged, dict(zip(variant_ids or [], hashes or [], strict=True)), deletes or [], unlisted

    def of(self, variant_ids: list[int] | None) -> dict[int, str]:
        """{variant id: inputs hash} of some selected variants (None: all), read again."""
        if variant_ids is None:
            rows = _fetch_hash_joined(self._sql(subset=False), self.params)
        else:
            rows = _fetch_hash_joined(self._sql(subset=True), {**self.params, "variant_ids": variant_ids})
        return {row[0]: row[1] for row in rows if row[0] is not None}  # not the listings to delete


def _fetch_hash_joined(sql: str, params: dict) -> list[tuple]:
    """The rows of a statement planned with hash joins and run without JIT compilation. The
    row-level security filter on every table hides how many rows a shop has from the planner,
    which then nests loops over the side tables' aggregates (quadratic), or expects billions
    of rows and spends seconds compiling the statement; hash joins read each table once."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('enable_nestloop'), current_setting('jit'),"
            " set_config('enable_nestloop', 'off', true), set_config('jit', 'off', true)"
        )
        [(nestloop, jit, _off, _jit_off)] = cursor.fetchall()
        cursor.execute(sql, params)
        rows = cursor.fetchall()
        cursor.execute("SELECT set_config('enable_nestloop', %s, true), set_config('jit', %s, true)", [nestloop, jit])
    return rows


@cache
def _payload_code_digest(channel: str) -> str:
    """A digest of the code that turns catalog rows into a channel's payloads: a deployment that
    changes it builds every listing's payload once more."""
    import localization.money
    import localization.selectors
    import localization.translations
    from channels import items, links
    from channels.adapters import base

    modules = [items, links, base, sys.modules[adapter_class(channel).__module__], localization.selectors,
               localization.translations, localization.money]  # fmt: skip
    digest = hashlib.sha256()
    for module in modules:
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()


class _ListedBuilder(_Builder):
    """The item builder reading each chunk's side data by id lists: the listings a plan builds
    are few and scattered, and their id range would span the whole catalog."""

    def chunk(self, rows: list[tuple]) -> Iterator[tuple[tuple, tuple | None, list]]:
        variant_ids = [row[0] for row in rows]
        product_ids = sorted({row[5] for row in rows})
        self.by_product, self.by_variant = _first_images(product_ids)
        self.stock = _available_of(variant_ids)
        per_market, texts_by_language = [], {}
        for context in self.contexts:
            prices = stored_prices_for(context.market_id, variant_ids) if context.market_id else {}
            if context.language not in texts_by_language:
                texts_by_language[context.language] = translated_texts(
                    language=context.language, product_ids=product_ids, default_language=self.default_language
                )
            per_market.append((prices, texts_by_language[context.language]))
        for row in rows:
            yield row, self.listings.get(row[0]), per_market


def _available_of(variant_ids: list[int]) -> dict[int, int]:
    """Available stock (on hand minus allocated over active locations) of some variants."""
    rows = (
        StockLevel.objects.filter(variant_id__in=variant_ids, location__is_active=True)
        .values("variant_id")
        .annotate(available=Sum(F("on_hand") - F("allocated")))
        .values_list("variant_id", "available")
    )
    return {vid: max(0, int(avail or 0)) for vid, avail in rows}


def _items_of(account: ChannelAccount, markets: list[dict], variant_ids: list[int], listings: dict):
    """The items of some selected variants in every market, in id order, CHUNK variants at a time."""
    builder = _ListedBuilder(account, [market_context(account, m) for m in markets], listings)
    selection = selected_variants(account).order_by("id")
    for start in range(0, len(variant_ids), CHUNK):
        rows = list(selection.filter(id__in=variant_ids[start : start + CHUNK]).values_list(*VARIANT_FIELDS))
        if rows:
            for row, listing, per_market in builder.chunk(rows):
                yield [
                    builder.build(context, row, listing, *per_market[i]) for i, context in enumerate(builder.contexts)
                ]


def _listing_state(account: ChannelAccount, variant_ids: list[int] | None) -> tuple[dict, dict]:
    """({variant id: (listing id, accepted hash, status, channel item id, channel sku id,
    accepted inputs hash)}, {variant id: LISTING_FIELDS row}) of every listing of the
    account, or of some variants' listings."""
    fields = ("variant_id", "id", "accepted_hash", "status", "channel_item_id", "channel_sku_id",
              "accepted_inputs_hash", *LISTING_FIELDS[2:])  # fmt: skip
    if variant_ids is None:
        chunks = [ChannelListing.objects.filter(account=account, variant_id__isnull=False).values_list(*fields)]
    elif connection.vendor == "postgresql":
        chunks = [_listings_of_variants(account, fields, variant_ids)]
    else:
        listings = ChannelListing.objects.filter(account=account, variant_id__isnull=False)
        chunks = [
            listings.filter(variant_id__in=variant_ids[start : start + CHUNK]).values_list(*fields)
            for start in range(0, len(variant_ids), CHUNK)
        ]
    state, overrides = {}, {}
    for rows in chunks:
        for row in rows:
            state[row[0]] = row[1:7]
            overrides[row[0]] = (row[0], row[1], *row[7:])
    return state, overrides


def _listings_of_variants(account: ChannelAccount, fields: tuple[str, ...], variant_ids: list[int]) -> list[tuple]:
    """Rows of `fields` of some variants' listings, each looked up by its index."""
    columns = ", ".join(f"l.{ChannelListing._meta.get_field(name).column}" for name in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns} FROM {_LISTINGS_OF_VARIANTS}",  # noqa: S608 (column names of the model)
            {"variant_ids": variant_ids, "shop": account.shop_id, "account": account.pk},
        )
        rows = cursor.fetchall()
    # JSON columns come back as text from a plain cursor; decoded as the model's field does.
    decoders = [ChannelListing._meta.get_field(name) for name in fields]
    return [
        tuple(field.from_db_value(value, None, connection) if hasattr(field, "from_db_value") else value
              for field, value in zip(decoders, row, strict=True))
        for row in rows
    ]  # fmt: skip


def plan_compute(*, account: ChannelAccount, full: bool = False) -> dict:
    """What would change on the channel: creates, updates (with field diffs), deletes.

    Returns {"changes": [(listing_id, action, item_json, payload, hash)], "invalid":
    {listing_id: problems}, "unchanged": n, "deletes": [listing_id], "with_problems": n,
    "inputs": {listing_id: inputs hash}, "built": n}. Reads only, apart from the draft rows
    `listings_sync` adds for newly selected variants and the inputs hashes it refreshes.

    PostgreSQL hashes every listing's inputs and compares them with those of its accepted
    payload: a live listing whose inputs are the same is unchanged, and no payload is built
    for it (with `full`, every payload is built). The payloads of the others are built and
    compared with the accepted hash: a different hash is a change; an equal one is unchanged
    and not validated again (the channel accepted that very payload).
    """
    markets = publish_markets(account)
    adapter = adapter_for_account(account, markets[0])
    if connection.vendor == "postgresql":
        inputs = _PlanInputs(account, markets, timezone.now())
        unchanged, to_build, deletes, unlisted = inputs.to_build(full=full)
        if unlisted:  # newly selected variants: their draft rows first, then compared again
            listings_sync(account=account)
            unchanged, to_build, deletes, unlisted = inputs.to_build(full=full)
    else:  # the demo's SQLite: every payload is built, and no inputs hash is kept
        listings_sync(account=account)
        inputs, unchanged = None, 0
        to_build = dict.fromkeys(selected_variants(account).values_list("id", flat=True), "")
        deletes = list(
            ChannelListing.objects.filter(account=account)
            .exclude(accepted_hash="")
            .exclude(status=ListingStatus.DELISTED)
            .exclude(variant_id__in=selected_variants(account).values("id"))
            .values_list("id", flat=True)
        )
    dense = full or inputs is None or len(to_build) > DENSE_SHARE * (unchanged + len(to_build))
    state, overrides = _listing_state(account, None if dense else list(to_build))
    errors_of = dict(
        ChannelListing.objects.filter(account=account, status=ListingStatus.ERROR).values_list("id", "errors")
    )
    if dense:
        builds = iter_items_markets(account, markets, listings=overrides)
    else:
        builds = _items_of(account, markets, list(to_build), overrides)
    changes, invalid, with_problems, built, accepted_again = [], {}, 0, 0, []
    delisted, error = ListingStatus.DELISTED, ListingStatus.ERROR
    for builts in builds:
        primary = builts[0]
        if primary.variant_id not in to_build:
            continue  # unchanged, counted above
        built += 1
        listing_id, accepted_hash, status, channel_item_id, channel_sku_id, accepted_inputs = state[primary.variant_id]
        errors = errors_of.get(listing_id)
        primary.item.channel_item_id, primary.item.channel_sku_id = channel_item_id, channel_sku_id
        live = bool(accepted_hash) and status != delisted
        digest = payload = None
        if all(b.item.price is not None for b in builts):
            payload = listing_payload(adapter, builts, markets)
            digest = payload_hash(payload)
            if live and digest == accepted_hash:
                accepted_again.append((primary.variant_id, listing_id, accepted_inputs))
            if live and digest == accepted_hash and status != error:
                unchanged += 1
                continue
        problems = listing_problems(adapter, builts, markets)
        if problems:
            with_problems += 1  # counted whether or not an earlier plan already recorded them
            if errors != problems or status != error:
                invalid[listing_id] = problems
            continue
        if live and digest == accepted_hash:
            unchanged += 1
            invalid[listing_id] = []  # fixed: back to published below
            continue
        action = PublishPlanItem.Action.UPDATE if live else PublishPlanItem.Action.CREATE
        changes.append((listing_id, action, listing_item_json(builts, markets), payload, digest))
    # The hashes read before the build stand for what was built only if they still hold after
    # it (a change committed meanwhile may or may not be in the payload).
    still = inputs.of(None if dense else list(to_build)) if inputs is not None and built else {}
    held = {vid: digest for vid, digest in to_build.items() if digest and still.get(vid) == digest}
    listing_of = {vid: state[vid][0] for vid in held if vid in state}
    _refresh_accepted_inputs(
        [(listing_id, held[vid]) for vid, listing_id, had in accepted_again if vid in held and had != held[vid]]
    )
    return {
        "changes": changes,
        "invalid": invalid,
        "unchanged": unchanged,
        "deletes": deletes,
        "with_problems": with_problems,
        "inputs": {listing_of[vid]: digest for vid, digest in held.items() if vid in listing_of},
        "built": built,
    }


def _refresh_accepted_inputs(rows: list[tuple[int, str]]) -> None:
    """Listings whose payload was built again and equals the accepted one keep the inputs it
    was built from: the next plan need not build them (a stock change a channel does not
    show, a deployment that changed the payload code)."""
    if not rows:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE channels_channellisting l SET accepted_inputs_hash = x.inputs_hash"
            " FROM unnest(%s::bigint[], %s::text[]) AS x(id, inputs_hash) WHERE l.id = x.id",
            [[pk for pk, _h in rows], [h for _pk, h in rows]],
        )


@transaction.atomic
def publish_plan_create(*, account: ChannelAccount, automatic: bool = False, created_by=None) -> PublishPlan:
    computed = plan_compute(account=account)
    PublishPlan.objects.filter(account=account, status=PublishPlan.Status.DRAFT).update(
        status=PublishPlan.Status.SUPERSEDED
    )
    _record_local_problems(account, computed["invalid"])
    plan = PublishPlan(shop_id=account.shop_id, account=account, automatic=automatic, created_by=created_by)
    plan.unchanged = computed["unchanged"]
    # Every item that cannot be published, not only those whose problems are new: a plan never
    # says "nothing to publish" over items that still have problems.
    plan.invalid = computed["with_problems"]
    plan.save()
    accepted = _accepted_payloads([c[0] for c in computed["changes"] if c[1] == PublishPlanItem.Action.UPDATE])
    items = [
        PublishPlanItem(
            shop_id=account.shop_id,
            plan=plan,
            listing_id=listing_id,
            action=action,
            item=item,
            payload=payload,
            payload_hash=digest,
            inputs_hash=computed["inputs"].get(listing_id, ""),
            changes=field_changes(accepted.get(listing_id) or {}, payload) if action == "update" else {},
        )
        for listing_id, action, item, payload, digest in computed["changes"]
    ]
    deleted = ChannelListing.objects.filter(pk__in=computed["deletes"]).values_list(
        "id", "item_id", "channel_item_id", "channel_sku_id", "variant__product__handle"
    )
    items += [
        PublishPlanItem(
            shop_id=account.shop_id,
            plan=plan,
            listing_id=listing_id,
            action=PublishPlanItem.Action.DELETE,
            item={
                "id": item_id,
                "channel_item_id": channel_item_id,
                "channel_sku_id": channel_sku_id,
                "item_group_id": (handle or "")[:100],
            },
        )
        for listing_id, item_id, channel_item_id, channel_sku_id, handle in deleted
    ]
    PublishPlanItem.objects.bulk_create(items, batch_size=2000)
    plan.creates = sum(1 for i in items if i.action == PublishPlanItem.Action.CREATE)
    plan.updates = sum(1 for i in items if i.action == PublishPlanItem.Action.UPDATE)
    plan.deletes = sum(1 for i in items if i.action == PublishPlanItem.Action.DELETE)
    plan.save(update_fields=["creates", "updates", "deletes"])
    audit_record(
        action="publish_plan.create",
        instance=plan,
        changes={"creates": plan.creates, "updates": plan.updates, "deletes": plan.deletes, "invalid": plan.invalid},
    )
    return plan


def _accepted_payloads(listing_ids: list[int]) -> dict[int, dict]:
    """{listing id: accepted payload} of some listings, each looked up by its primary key (a
    filter on the ids reads every listing of the shop when the planner misjudges how many)."""
    if connection.vendor != "postgresql":
        return dict(ChannelListing.objects.filter(pk__in=listing_ids).values_list("id", "accepted_payload"))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT l.id, l.accepted_payload FROM unnest(%s::bigint[]) AS wanted(id) CROSS JOIN LATERAL"
            " (SELECT id, accepted_payload FROM channels_channellisting l WHERE l.id = wanted.id LIMIT 1) l",
            [listing_ids],
        )
        rows = cursor.fetchall()
    field = ChannelListing._meta.get_field("accepted_payload")
    return {pk: field.from_db_value(payload, None, connection) for pk, payload in rows}


def _record_local_problems(account: ChannelAccount, invalid: dict) -> None:
    """Problems found before sending land on the listing; a fixed listing returns to published."""
    to_error = [pk for pk, problems in invalid.items() if problems]
    by_problems: dict[str, list[int]] = {}
    for pk in to_error:
        by_problems.setdefault(repr(invalid[pk]), []).append(pk)
    for pks in by_problems.values():
        ChannelListing.objects.filter(pk__in=pks).update(
            status=ListingStatus.ERROR, errors=invalid[pks[0]], updated_at=timezone.now()
        )
    fixed = [pk for pk, problems in invalid.items() if not problems]
    if fixed:
        ChannelListing.objects.filter(pk__in=fixed).update(
            status=ListingStatus.PUBLISHED, errors=[], updated_at=timezone.now()
        )


# --- Applying a plan ------------------------------------------------------------------------------


@transaction.atomic
def publish_plan_apply(*, plan: PublishPlan, created_by=None) -> PublishPlan:
    plan = PublishPlan.objects.select_for_update().select_related("account").get(pk=plan.pk)
    if plan.status != PublishPlan.Status.DRAFT:
        raise ValidationError(
            {
                "plan": ValidationError(
                    _("This plan is %(status)s; compute a new one.") % {"status": plan.get_status_display()},
                    code=ChannelsErrorCode.PLAN_NOT_DRAFT,
                )
            }
        )
    account = plan.account
    if not health.account_usable(account):
        raise ValidationError(
            {"plan": ValidationError(health.reconnect_message(account), code=ChannelsErrorCode.ACCOUNT_NEEDS_RECONNECT)}
        )
    adapter = adapter_for_account(account)
    total = plan.items.count()
    label = Words(gettext_noop("Publish to %(name)s"), name=account.name)
    job = job_create(kind="publish", label=label, total=total, created_by=created_by)
    plan.job, plan.status, plan.applied_at = job, PublishPlan.Status.APPLYING, timezone.now()
    plan.save(update_fields=["job", "status", "applied_at"])
    audit_record(action="publish_plan.apply", instance=plan, changes={"items": total})
    if not publishes_by_api(account):
        # The channel fetches our feed: what the feed serves is what it gets.
        _apply_feed_only(plan)
        return plan
    batches = []
    number = 0
    sizes = {"upsert": adapter.upsert_batch_size(publish_markets(account)), "delete": adapter.max_batch}
    for operation, actions in (("upsert", ("create", "update")), ("delete", ("delete",))):
        rows = plan.items.filter(action__in=actions).order_by("id").values_list("id", "item__item_group_id")
        for chunk in _chunks(list(rows), sizes[operation], by_group=adapter.groups_variants):
            number += 1
            batch = PublishBatch.objects.create(
                shop_id=plan.shop_id, plan=plan, number=number, operation=operation, size=len(chunk)
            )
            PublishPlanItem.objects.filter(pk__in=chunk).update(batch=batch)
            batches.append(batch.pk)
    listing_ids = plan.items.values("listing_id")
    ChannelListing.objects.filter(pk__in=listing_ids).update(status=ListingStatus.PENDING, updated_at=timezone.now())
    if not batches:
        _plan_finish(plan)
        return plan
    from channels.tasks import publish_batch_task

    shop_id = plan.shop_id
    transaction.on_commit(lambda: [publish_batch_task.delay(shop_id, pk) for pk in batches])
    return plan


def _chunks(rows: list[tuple[int, str | None]], size: int, *, by_group: bool) -> Iterator[list[int]]:
    """Plan item ids (rows of id and item group) in batches of at most `size`; with `by_group`
    the items of one group (the variants of one product) stay in one batch, in order of their
    group's first item, unless a group alone is larger than a batch."""
    if not by_group:
        ids = [pk for pk, _group in rows]
        yield from (ids[start : start + size] for start in range(0, len(ids), size))
        return
    groups: dict[str, list[int]] = {}
    for pk, group in rows:
        groups.setdefault(group or f"#{pk}", []).append(pk)
    chunk: list[int] = []
    for members in groups.values():
        if chunk and len(chunk) + len(members) > size:
            yield chunk
            chunk = []
        while len(members) > size:
            yield members[:size]
            members = members[size:]
        chunk.extend(members)
    if chunk:
        yield chunk


def _apply_feed_only(plan: PublishPlan) -> None:
    items = list(plan.items.select_related("listing"))
    _record_outcomes(items, {i.item["id"]: ItemResult(item_id=i.item["id"], ok=True) for i in items})
    _plan_finish(plan)


def outcome_counts(plan: PublishPlan) -> dict[str, int]:
    """How many of the plan's items the channel accepted, rejected, or never saw."""
    counts = {"accepted": 0, "rejected": 0, NOT_SENT: 0, "waiting": 0}
    for outcome, n in plan.items.values_list("outcome").annotate(n=Count("id")).order_by():
        counts[outcome or "waiting"] = counts.get(outcome or "waiting", 0) + n
    return counts


def _plan_finish(plan: PublishPlan) -> None:
    counts = outcome_counts(plan)
    plan.status = PublishPlan.Status.PARTIAL if counts["rejected"] else PublishPlan.Status.APPLIED
    plan.finished_at = timezone.now()
    plan.save(update_fields=["status", "finished_at"])
    if plan.job_id:
        job = Job.objects.get(pk=plan.job_id)
        job_finish(job=job, result=_job_result(plan, counts))


def _job_result(plan: PublishPlan, counts: dict[str, int]) -> dict:
    return {
        "accepted": counts["accepted"],
        "rejected": counts["rejected"],
        NOT_SENT: counts[NOT_SENT],
        "plan": plan.pk,
        "outcome": plan.status,
    }


def _plan_fail(plan_id: int, account: ChannelAccount, message: str) -> None:
    """The channel refused the account itself: the plan stops as a whole. Items already
    answered keep their outcome; the rest are not sent (not rejected one by one), their
    listings back to what the channel holds; the job fails with the one message."""
    now = timezone.now()
    with transaction.atomic():
        plan = PublishPlan.objects.select_for_update().get(pk=plan_id)
        if plan.status == PLAN_FAILED:
            return
        PublishBatch.objects.filter(plan=plan).exclude(status=PublishBatch.Status.DONE).update(
            status=PublishBatch.Status.DONE, finished_at=now, lease_until=None, error=message[:2000]
        )
        waiting = plan.items.filter(outcome="")
        listing_ids = list(waiting.values_list("listing_id", flat=True))
        waiting.update(outcome=NOT_SENT)
        pending = ChannelListing.objects.filter(pk__in=listing_ids, status=ListingStatus.PENDING)
        pending.exclude(accepted_hash="").update(status=ListingStatus.PUBLISHED, updated_at=now)
        pending.filter(accepted_hash="").update(status=ListingStatus.DRAFT, updated_at=now)
        plan.status, plan.finished_at = PLAN_FAILED, now
        plan.save(update_fields=["status", "finished_at"])
        if plan.job_id:
            job_finish(job=Job.objects.get(pk=plan.job_id), result=_job_result(plan, outcome_counts(plan)),
                       error=message)  # fmt: skip
        audit_record(action="publish_plan.fail", instance=plan, changes={"error": message})
    if health.account_usable(account):
        health.account_refused(account, message)


# --- One batch (the task body) ------------------------------------------------------------------------


def _claim(batch_id: int) -> PublishBatch | None:
    """Take the lease on a batch; None if it is done. Raises Retry if another worker holds it."""
    with transaction.atomic():
        batch = PublishBatch.objects.select_for_update().select_related("plan", "plan__account").get(pk=batch_id)
        if batch.status == PublishBatch.Status.DONE:
            return None
        now = timezone.now()
        if batch.lease_until and batch.lease_until > now:
            raise Retry((batch.lease_until - now).total_seconds() + 1, "held by another worker")
        batch.lease_until = now + timedelta(seconds=LEASE_SECONDS)
        batch.attempts += 1
        batch.save(update_fields=["lease_until", "attempts"])
        return batch


def _extend_lease(batch: PublishBatch, **fields) -> None:
    fields["lease_until"] = timezone.now() + timedelta(seconds=LEASE_SECONDS)
    PublishBatch.objects.filter(pk=batch.pk).update(**fields)
    for name, value in fields.items():
        setattr(batch, name, value)


def _release(batch: PublishBatch, error: str) -> None:
    PublishBatch.objects.filter(pk=batch.pk).update(lease_until=None, error=error[:2000])


def publish_batch_run(*, batch_id: int) -> str:
    """Send one batch (unless it was sent), wait for the channel's verdict, record it.

    Safe to run any number of times: a done batch is left alone; a sent one is only
    polled; a queued one is sent. Raises Retry when it must continue later.
    """
    batch = _claim(batch_id)
    if batch is None:
        return "done"
    account = ChannelAccount.objects.get(pk=batch.plan.account_id)
    if batch.plan.status == PLAN_FAILED or not health.account_usable(account):
        # Another batch found the account refused, or it needs reconnecting: send nothing.
        _plan_fail(batch.plan_id, account, account.connection_message or health.reconnect_message(account))
        return "refused"
    items = list(batch.items.select_related("listing").order_by("id"))
    adapters: dict[str, object] = {}
    try:
        results = _send_and_wait(account, adapters, batch, items)
    except (TransientError, RateLimited) as exc:
        _release(batch, str(exc))
        wait = exc.wait if isinstance(exc, RateLimited) else min(300, 5 * 2 ** min(batch.attempts, 6))
        raise Retry(wait + random.uniform(0, 1), str(exc)) from exc
    except AdapterError as exc:
        refused = health.refusal_message(account, exc)
        if refused:
            _plan_fail(batch.plan_id, account, refused)
            return "refused"
        # The channel refused the whole call (not transient): every item gets the reason.
        health.account_call_failed(account, str(exc))
        error = {"field": "", "code": exc.code or "refused", "message": str(exc)}
        results = {i.item["id"]: ItemResult(item_id=i.item["id"], ok=False, errors=[_Err(**error)]) for i in items}
    else:
        if results is not None:
            health.account_call_succeeded(account)
    finally:
        for adapter in adapters.values():
            adapter.close()
    if results is None:
        _release(batch, "")
        raise Retry(1, "the channel is still processing the batch")
    with transaction.atomic():
        # The plan first, then the batch: the order _plan_fail takes them in.
        plan = PublishPlan.objects.select_for_update().get(pk=batch.plan_id)
        locked = PublishBatch.objects.select_for_update().get(pk=batch.pk)
        if plan.status == PLAN_FAILED:
            # Refused meanwhile by another batch; this one was answered, so its verdicts stand.
            mine = PublishPlanItem.objects.filter(pk__in=[i.pk for i in items], outcome=NOT_SENT)
            unrecorded = set(mine.values_list("pk", flat=True))
            sent = [i for i in items if i.pk in unrecorded]
            if sent:
                _record_outcomes(sent, results)
                if plan.job_id:
                    job = Job.objects.get(pk=plan.job_id)
                    job.result = _job_result(plan, outcome_counts(plan))
                    job.save(update_fields=["result"])
            return "recorded"
        if locked.status == PublishBatch.Status.DONE:
            return "done"
        _record_outcomes(items, results)
        locked.status, locked.finished_at, locked.lease_until = PublishBatch.Status.DONE, timezone.now(), None
        locked.save(update_fields=["status", "finished_at", "lease_until"])
        done = plan.batches.filter(status=PublishBatch.Status.DONE).aggregate(n=Sum("size"))["n"] or 0
        if plan.job_id:
            job_progress(job=Job.objects.get(pk=plan.job_id), done=done)
        if not plan.batches.exclude(status=PublishBatch.Status.DONE).exists():
            _plan_finish(plan)
    return "recorded"


class _Err:
    def __init__(self, message: str, code: str = "", field: str = ""):
        self.message, self.code, self.field = message, code, field


def _steps(account: ChannelAccount, batch: PublishBatch) -> list[tuple[str, dict]]:
    """The channel calls one batch takes, in order, each (key, market).

    A batch per market: one call per country and language (Pinterest's batches name one of
    each). Localized overrides: the items (Meta's `items_batch`), then their country and
    language overrides (`localized_items_batch`, which only takes items that exist). Others:
    one call.
    """
    markets = publish_markets(account)
    adapter = adapter_class(account.channel)
    if adapter.batch_per_market:
        return [(market_key(m), m) for m in markets]
    if adapter.localized_overrides and batch.operation == "upsert" and len(markets) > 1:
        return [("main", markets[0]), ("localized", markets[0])]
    return [("main", markets[0])]


def _step_items(key: str, items: list[PublishPlanItem]) -> list[tuple[PublishPlanItem, object]]:
    """(plan item, ChannelItem for this step's market); items not sold there are left out."""
    chosen = []
    for plan_item in items:
        data = plan_item.item
        markets = data.get("markets") or []
        if not markets or market_key(markets[0]) == key or key == "main":
            chosen.append((plan_item, item_from_json(data)))
            continue
        for market, localized in zip(markets[1:], data.get("localized_items") or [], strict=False):
            if market_key(market) == key:
                chosen.append((plan_item, item_from_json(localized)))
                break
    return chosen


def _localized_requests(adapter, items: list[PublishPlanItem], accepted: set[str]) -> list[tuple]:
    """Override requests of the items the channel accepted in the first call. An override the
    channel has (in the accepted payload) is updated, a new one created."""
    requests = []
    for plan_item in items:
        data = plan_item.item
        if data["id"] not in accepted or not data.get("markets"):
            continue
        channel_items = [item_from_json(data)] + [item_from_json(x) for x in data.get("localized_items") or []]
        had = plan_item.listing.accepted_payload or {}
        for kind, value, fields in adapter.overrides(channel_items, data["markets"]):
            method = "UPDATE" if any(k.startswith(f"{value}:") for k in had) else "CREATE"
            requests.append((method, kind, value, data["id"], fields))
    return requests


def _merge(results: dict[str, ItemResult], step_results: list[ItemResult], label: str) -> None:
    """One verdict per item over every call: rejected anywhere is rejected, errors named by market."""
    for result in step_results:
        if label:
            for note in (*result.errors, *result.warnings):
                note.message = f"[{label}] {note.message}"
        current = results.get(result.item_id)
        if current is None:
            results[result.item_id] = result
            continue
        current.ok = current.ok and result.ok
        current.errors.extend(result.errors)
        current.warnings.extend(result.warnings)
        current.channel_item_id = current.channel_item_id or result.channel_item_id
        current.channel_sku_id = current.channel_sku_id or result.channel_sku_id


def _send_and_wait(account, adapters: dict, batch: PublishBatch, items: list[PublishPlanItem]):
    """{item id: result} over every call of the batch, or None if the channel is still
    processing one after the poll budget. Each call's handle is stored as soon as it is sent,
    so a rerun (a redelivered task, another worker) polls it and never sends it again."""
    handles = dict(batch.handles or {})
    steps = _steps(account, batch)
    if batch.handle and steps[0][0] not in handles:
        handles[steps[0][0]] = batch.handle
    results: dict[str, ItemResult] = {}
    deadline = time.monotonic() + POLL_BUDGET_SECONDS
    for index, (key, market) in enumerate(steps):
        adapter_key = market_key(market)
        adapter = adapters.get(adapter_key)
        if adapter is None:
            adapter = adapters[adapter_key] = adapter_for_account(account, market, **http_options())
        label = key if index else ""  # errors of further calls say which market (or "localized")
        if key == "localized":
            accepted = {item_id for item_id, r in results.items() if r.ok}
            requests = _localized_requests(adapter, items, accepted)
            sent_ids = sorted({r[3] for r in requests})
            if not requests:
                continue
            send = partial(adapter.publish_localized_batch, requests)
        else:
            chosen = _step_items(key, items)
            if not chosen:
                continue
            sent_ids = [i.item["id"] for i, _item in chosen]
            if batch.operation == "upsert":
                send = partial(adapter.publish_batch, [c for _i, c in chosen])
            else:
                # A channel that removes by its own ids cannot remove what it never gave an id.
                doomed = [c for _i, c in chosen if c.channel_item_id or not adapter.deletes_by_channel_id]
                if not doomed:
                    _merge(results, [ItemResult(item_id=i, ok=True) for i in sent_ids], "")
                    continue
                send = partial(adapter.delete_items, doomed)
        handle = handles.get(key)
        if not handle:
            answer = send()
            if not answer:
                _merge(results, [ItemResult(item_id=i, ok=True) for i in sent_ids], "")
                continue
            if isinstance(answer, list):  # synchronous channels answer with the verdicts
                _merge(results, answer, label)
                continue
            handle = handles[key] = answer
            fields = {"handles": handles, "status": PublishBatch.Status.SENT}
            if index == 0:
                fields["handle"] = answer
            _extend_lease(batch, **fields)
        step_results = _poll(adapter, batch, handle, sent_ids, deadline)
        if step_results is None:
            return None
        _merge(results, step_results, label)
    return results


def _poll(adapter, batch: PublishBatch, handle: str, sent_ids: list[str], deadline: float) -> list[ItemResult] | None:
    pause = 0.2
    while True:
        status: BatchStatus = adapter.batch_status(handle, sent_ids=sent_ids)
        if status.done:
            results = {r.item_id: r for r in status.results}
            if status.failed:
                for item_id in sent_ids:
                    results.setdefault(
                        item_id, ItemResult(item_id=item_id, ok=False, errors=[_Err("The channel failed the batch.")])
                    )
            return list(results.values())
        if time.monotonic() > deadline:
            return None
        _extend_lease(batch)
        time.sleep(pause)
        pause = min(pause * 2, 5)


def _errors_json(errors) -> list[dict]:
    """An item's errors, each reason once with how many times the channel gave it: the same
    refusal from several calls (one per request id or market) is one entry with a count."""
    grouped: dict[tuple, dict] = {}
    for e in errors:
        reason = _reason_text(e.message)
        key = (e.field or "", str(e.code or ""), reason)
        if key in grouped:
            entry = grouped[key]
            entry["message"], entry["count"] = reason, entry.get("count", 1) + 1
        else:
            grouped[key] = {"field": e.field, "code": str(e.code), "message": e.message}
    return list(grouped.values())


def _record_outcomes(items: list[PublishPlanItem], results: dict[str, ItemResult]) -> None:
    now = timezone.now()
    listings, plan_items = [], []
    for plan_item in items:
        listing = plan_item.listing
        result = results.get(plan_item.item.get("id", listing.item_id))
        if result is None:
            result = ItemResult(
                item_id=listing.item_id, ok=False, errors=[_Err("The channel did not report on this item.")]
            )
        listing.warnings = _errors_json(result.warnings)
        if result.ok and plan_item.action == PublishPlanItem.Action.DELETE:
            listing.status, listing.accepted_hash, listing.accepted_payload = ListingStatus.DELISTED, "", {}
            listing.accepted_inputs_hash = ""
            listing.errors = []
        elif result.ok:
            listing.status = ListingStatus.PUBLISHED
            listing.accepted_hash, listing.accepted_payload = plan_item.payload_hash, plan_item.payload
            listing.accepted_inputs_hash = plan_item.inputs_hash
            listing.published_at, listing.errors = now, []
            if result.channel_item_id:
                listing.channel_item_id = result.channel_item_id[:100]
            if result.channel_sku_id:
                listing.channel_sku_id = result.channel_sku_id[:100]
        else:
            listing.status = ListingStatus.REJECTED
            listing.errors = _errors_json(result.errors)
        listing.updated_at = now
        plan_item.outcome = "accepted" if result.ok else "rejected"
        listings.append(listing)
        plan_items.append(plan_item)
    ChannelListing.objects.bulk_update(
        listings,
        ["status", "accepted_hash", "accepted_payload", "accepted_inputs_hash", "published_at", "errors", "warnings",
         "channel_item_id", "channel_sku_id", "updated_at"],
        batch_size=1000,
    )  # fmt: skip
    PublishPlanItem.objects.bulk_update(plan_items, ["outcome"], batch_size=1000)


# --- Recovery and automatic re-plans --------------------------------------------------------------------


def publish_resume_stale() -> int:
    """Platform sweep: re-enqueue unfinished batches whose lease ran out (a dead worker's),
    and batches never started. Runs across shops; the task it enqueues is per shop."""
    from channels.tasks import publish_batch_task
    from shopadmin.tenancy import all_shops_access

    now = timezone.now()
    with all_shops_access():
        stale = list(
            PublishBatch.all_shops.exclude(status=PublishBatch.Status.DONE)
            .filter(lease_until__lt=now)
            .values_list("shop_id", "id")
        )
        # Queued and never claimed for a while: its message was lost with the broker.
        stale += list(
            PublishBatch.all_shops.filter(
                status=PublishBatch.Status.QUEUED,
                lease_until__isnull=True,
                plan__applied_at__lt=now - timedelta(seconds=LEASE_SECONDS),
            ).values_list("shop_id", "id")
        )
    for shop_id, batch_id in stale:
        publish_batch_task.delay(shop_id, batch_id)
    return len(stale)


# A pending re-plan whose task has not run for this long lost its message (a broker restart):
# the next request queues a new one.
REPLAN_LOST_AFTER = timedelta(minutes=10)


def replan_request(*, shop_id: int, account_ids: list[int] | None = None) -> int:
    """Ask for an automatic re-plan after a quiet spell (trailing debounce).

    Each request moves the account's deadline; only a request that finds none pending queues
    the task. A burst of changes (a flash sale's orders, a seeded catalog) costs one message
    per account, not one per change: the task waits out the deadline by queuing itself again.
    """
    accounts = ChannelAccount.objects.filter(is_active=True).exclude(channel__in=INTERNAL_CHANNELS)
    if account_ids is not None:
        accounts = accounts.filter(pk__in=account_ids)
    count = 0
    for account in accounts:
        settings_ = listing_settings_ensure(account)
        now = timezone.now()
        idle = Q(replan_requested_at__isnull=True) | Q(replan_requested_at__lt=now - REPLAN_LOST_AFTER)
        if ListingSettings.objects.filter(idle, pk=settings_.pk).update(replan_requested_at=now):
            _replan_queue(shop_id, account.pk, now, REPLAN_DEBOUNCE_SECONDS)
        else:
            ListingSettings.objects.filter(pk=settings_.pk).update(replan_requested_at=now)
        count += 1
    return count


def _replan_queue(shop_id: int, account_id: int, requested_at, countdown: float) -> None:
    from channels.tasks import replan_task

    replan_task.apply_async((shop_id, account_id, requested_at.isoformat()), countdown=countdown)


def replan_run(*, account_id: int, token: str = "") -> PublishPlan | None:
    """Re-plan once the account has been quiet for the debounce; earlier, wait the rest out."""
    account = ChannelAccount.objects.filter(pk=account_id, is_active=True).first()
    if account is None or not health.account_usable(account):
        return None  # gone, or waiting to be reconnected: the attention list says so once
    settings_ = listing_settings_for(account)
    requested = settings_.replan_requested_at
    if requested is None:
        return None  # done by an earlier task
    wait = (requested + timedelta(seconds=REPLAN_DEBOUNCE_SECONDS) - timezone.now()).total_seconds()
    # The claim clears the request only if no newer one came in since it was read.
    if wait > 0 or not ListingSettings.objects.filter(pk=settings_.pk, replan_requested_at=requested).update(
        replan_requested_at=None
    ):
        _replan_queue(account.shop_id, account.pk, requested, max(wait, 0.5))
        return None
    plan = publish_plan_create(account=account, automatic=True)
    if settings_.auto_apply and (plan.creates or plan.updates or plan.deletes):
        publish_plan_apply(plan=plan)
    return plan


# --- What a plan did, told truthfully -------------------------------------------------------------------

# The channel's per-call noise in a reason (TikTok's request id, Meta's trace id): two items
# refused for the same reason read the same.
_CALL_IDS = re.compile(r",?\s*\b(?:request(?:_id)?|fbtrace_id|trace)[ :=]+(?=[\w.-]*\d)[\w.-]{6,}", re.IGNORECASE)
REASON_EXAMPLES = 3


def _reason_text(message: str) -> str:
    return _CALL_IDS.sub("", message or "").replace("()", "").strip()


def rejection_reasons(plan: PublishPlan, *, limit: int = 20) -> list[dict]:
    """The plan's rejections grouped by reason, most frequent first: {field, code, message,
    count, examples: [(listing id, item id)]}. A listing that repeats a reason counts once."""
    groups: dict[tuple, dict] = {}
    rows = plan.items.filter(outcome="rejected").order_by("id").values_list("listing_id", "listing__item_id",
                                                                             "listing__errors")  # fmt: skip
    for listing_id, item_id, errors in rows.iterator(chunk_size=2000):
        seen = set()
        for error in errors if isinstance(errors, list) else []:
            error = error if isinstance(error, dict) else {"message": str(error)}
            key = (error.get("field") or "", str(error.get("code") or ""), _reason_text(str(error.get("message", ""))))
            if key in seen:
                continue
            seen.add(key)
            group = groups.setdefault(
                key, {"field": key[0], "code": key[1], "message": key[2], "count": 0, "examples": []}
            )
            group["count"] += 1
            if len(group["examples"]) < REASON_EXAMPLES:
                group["examples"].append((listing_id, item_id))
    return sorted(groups.values(), key=lambda g: (-g["count"], g["message"]))[:limit]


def plan_outcome(plan: PublishPlan) -> dict:
    """What applying the plan did: counts by outcome, the one message when the channel refused
    the plan as a whole, and the rejections grouped by reason."""
    counts = outcome_counts(plan) if plan.status != PublishPlan.Status.DRAFT else {}
    message = ""
    if plan.status == PLAN_FAILED and plan.job_id:
        message = Job.objects.filter(pk=plan.job_id).values_list("error", flat=True).first() or ""
    return {
        "status": plan.status,
        "finished": plan.status in (PublishPlan.Status.APPLIED, PublishPlan.Status.PARTIAL, PLAN_FAILED),
        "accepted": counts.get("accepted", 0),
        "rejected": counts.get("rejected", 0),
        "not_sent": counts.get(NOT_SENT, 0),
        "message": message,
        "reasons": rejection_reasons(plan) if counts.get("rejected") else [],
    }
