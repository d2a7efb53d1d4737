"""Market prices in bulk: one set-based statement per market (an UPDATE of the prices that
changed and an INSERT of the new ones; a plain INSERT while the market has none stored), no
per-price ORM saves.

The SQL is the same formula as `localization.money` (tested against it): base x rate x
(1 + adjustment/100), rounded half up to the currency's minor units, then to the rounding
rule; a fixed price overrides it. In DDP markets that price landed cost in, the ad valorem
duty of the variant's HS code (longest prefix for the market's first country) and, when the
market shows prices with tax, the import tax on goods + duty are added before rounding.
"""

from __future__ import annotations

import re
import time
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from localization import signals
from localization.landed_cost import customs_area, tax_rate_lookup
from localization.models import DdpPricing, DutyMode, Market, MarketPrice
from localization.money import ROUNDING_PRESETS, minor_units, quantize
from localization.rates import RateNotFound, rate_for
from shopadmin.models import Shop


def rule_label(market: Market) -> str:
    preset = market.rounding_preset or (
        f"step {market.rounding_increment} ending {market.rounding_ending} {market.rounding_direction}"
    )
    adjustment = f"{market.adjustment_percent:+.3f}%".rstrip("0").rstrip(".")
    return f"{adjustment} · {preset}"[:120]


RATE_SOURCE_WORDS = {
    "ecb": _("ECB rate"),
    "ecb (cross via EUR)": _("ECB rate, crossed through EUR"),
    "manual": _("manual rate"),
    "provider": _("rate provider"),
    "identity": _("same currency"),
}


def rule_words(rule: str) -> str:
    """A stored `rule` (rule_label's "+2.5% · end_90") in the reader's words:
    "+2.5% adjustment · End in .90"; no adjustment is left unsaid."""
    from babel.numbers import format_percent

    from shopadmin.templatetags.formats import current_locale

    adjustment, _sep, preset = rule.partition(" · ")
    parts = []
    try:
        percent = Decimal(adjustment.strip().rstrip("%") or "0")
    except ArithmeticError:
        percent = None
    if percent:
        shown = format_percent(percent / 100, locale=current_locale(), decimal_quantization=False)
        parts.append(gettext("%(percent)s adjustment") % {"percent": f"+{shown}" if percent > 0 else shown})
    if preset in ROUNDING_PRESETS:
        parts.append(str(ROUNDING_PRESETS[preset][0]))
    elif preset:
        parts.append(gettext("Custom rounding"))
    return " · ".join(parts)


def rate_source_words(source: str) -> str:
    words = RATE_SOURCE_WORDS.get(source)
    if words is not None:
        return str(words)
    crossed = re.fullmatch(r"(\w+) \(cross via ([A-Z]{3})\)", source or "")
    if crossed and crossed.group(1) in RATE_SOURCE_WORDS:
        return _("%(source)s, crossed through %(pivot)s") % {
            "source": RATE_SOURCE_WORDS[crossed.group(1)],
            "pivot": crossed.group(2),
        }
    return source


def _rounded(expr: str, raw: str) -> str:
    """SQL for the market's rounding rule applied to `expr` (already at minor units), as
    RoundingRule.apply does: `raw` (the amount before rounding to minor units) decides whether
    the price is positive, so a rule never makes a positive price free."""
    stepped_up = f"(ceil(({expr} - %(ending)s::numeric) / %(inc)s::numeric) * %(inc)s::numeric + %(ending)s::numeric)"
    stepped_nearest = (
        f"(round(({expr} - %(ending)s::numeric) / %(inc)s::numeric) * %(inc)s::numeric + %(ending)s::numeric)"
    )
    stepped = f"(CASE WHEN %(nearest)s THEN {stepped_nearest} ELSE {stepped_up} END)"
    return (
        f"(CASE WHEN %(inc)s::numeric IS NULL OR {raw} <= 0 THEN {expr} "
        f"WHEN {stepped} <= 0 THEN COALESCE(NULLIF(%(ending)s::numeric, 0), %(inc)s::numeric) "
        f"ELSE round({stepped}, %(minor)s) END)"
    )


# What a stored price is made of. A recompute rewrites a row only when one of these differs,
# so `computed_at` is when the price last changed.
_STORED_COLUMNS = [
    "currency", "amount", "compare_at_amount", "sale_amount", "sale_starts_at", "sale_ends_at", "base_amount",
    "base_currency", "origin", "rate", "rate_source", "rate_date", "rule", "landed_cost_amount", "duty_rate_id",
]  # fmt: skip

# The prices of one market as rows shaped like the stored ones (`computed`), for the
# statements below to store. `{duty}` is the LATERAL lookup of the variant's duty, left out of
# markets that do not price landed cost in. OFFSET 0 keeps each step a step: pulled up into
# the next one, `pre` and `extra` would be computed again in every expression that uses them
# (over half the statement's arithmetic).
_COMPUTED = """
WITH src AS (
    SELECT v.id AS variant_id, v.price AS base, v.price_currency AS base_currency,
           v.compare_at_price AS base_compare,
           fp.fixed_price, fp.compare_at_price AS fixed_compare, fp.sale_price,
           fp.sale_starts_at, fp.sale_ends_at,
           {duty_columns}
    FROM catalog_productvariant v
    LEFT JOIN localization_marketvariantprice fp ON fp.variant_id = v.id AND fp.market_id = %(market)s
    {duty}
    WHERE v.shop_id = %(shop)s {variant_filter}
), conv AS (
    SELECT src.*, base * %(rate)s::numeric * %(factor)s::numeric AS pre,
           base_compare * %(rate)s::numeric * %(factor)s::numeric AS pre_compare
    FROM src OFFSET 0
), landed AS (
    SELECT conv.*,
           CASE WHEN %(price_in)s THEN pre * (1 + duty_rate) * (1 + %(tax)s::numeric) - pre ELSE 0 END AS extra
    FROM conv OFFSET 0
), q AS (
    SELECT landed.*, pre + extra AS rp, round(pre + extra, %(minor)s) AS qp,
           pre_compare * (pre + extra) / NULLIF(pre, 0) AS rc,
           round(pre_compare * (pre + extra) / NULLIF(pre, 0), %(minor)s) AS qc
    FROM landed OFFSET 0
), computed AS (
    SELECT variant_id, %(currency)s::text AS currency,
           COALESCE(fixed_price, {rounded_price}) AS amount,
           CASE WHEN fixed_price IS NOT NULL THEN fixed_compare ELSE {rounded_compare} END AS compare_at_amount,
           sale_price AS sale_amount, sale_starts_at, sale_ends_at, base AS base_amount, base_currency,
           CASE WHEN fixed_price IS NOT NULL THEN 'fixed' ELSE 'rule' END AS origin,
           %(rate)s::numeric AS rate, %(rate_source)s::text AS rate_source, %(rate_date)s::date AS rate_date,
           %(rule)s::text AS rule,
           CASE WHEN fixed_price IS NOT NULL THEN 0 ELSE round(extra, %(minor)s) END AS landed_cost_amount,
           duty_rate_id
    FROM q
)"""

_DUTY_COLUMNS = "COALESCE(d.ad_valorem, 0) AS duty_rate, d.id AS duty_rate_id"
_DUTY = """JOIN catalog_product p ON p.id = v.product_id
    LEFT JOIN LATERAL (
        SELECT dr.id, dr.ad_valorem FROM localization_dutyrate dr
        WHERE dr.destination = ANY(%(dests)s)
          AND p.hs_code <> '' AND p.hs_code LIKE dr.hs_prefix || '%%'
          AND dr.effective_from <= %(on)s AND (dr.effective_to IS NULL OR dr.effective_to > %(on)s)
          AND (dr.origin = '' OR dr.origin = COALESCE(NULLIF(p.country_of_origin, ''), %(origin)s))
          AND dr.kind IN ('ad_valorem', 'compound')
        ORDER BY length(dr.hs_prefix) DESC, (dr.origin <> '') DESC LIMIT 1
    ) d ON TRUE"""
_NO_DUTY_COLUMNS = "0::numeric AS duty_rate, NULL::bigint AS duty_rate_id"

# Rows already stored: rewrite those that differ, add the missing ones.
_STORE = """, changed AS (
    UPDATE localization_marketprice stored SET {assign_computed}, computed_at = %(now)s
    FROM computed
    WHERE stored.shop_id = %(shop)s AND stored.market_id = %(market)s AND stored.variant_id = computed.variant_id
      AND ({stored_columns}) IS DISTINCT FROM ({computed_columns})
    RETURNING 1
), added AS (
    INSERT INTO localization_marketprice (shop_id, market_id, variant_id, {columns}, computed_at)
    SELECT %(shop)s, %(market)s, variant_id, {columns}, %(now)s FROM computed
    WHERE NOT EXISTS (
        SELECT 1 FROM localization_marketprice stored
        WHERE stored.shop_id = %(shop)s AND stored.market_id = %(market)s AND stored.variant_id = computed.variant_id
    )
    RETURNING 1
)
SELECT (SELECT count(*) FROM computed), (SELECT count(*) FROM changed) + (SELECT count(*) FROM added)
"""

# Nothing stored yet (a new market, the first computation): every row is new, so a plain insert,
# with neither the join against the stored rows nor `computed` held aside to be read three times.
_INSERT = """
INSERT INTO localization_marketprice (shop_id, market_id, variant_id, {columns}, computed_at)
SELECT %(shop)s, %(market)s, variant_id, {columns}, %(now)s FROM computed
"""

_ANY_STORED = """
SELECT EXISTS (
    SELECT 1 FROM localization_marketprice
    WHERE shop_id = %(shop)s AND market_id = %(market)s {variant_filter}
)
"""


def market_params(market: Market, shop: Shop) -> dict | None:
    """Everything the SQL needs for one market, or None when no exchange rate exists."""
    mode = "manual" if market.rate_mode == "manual" else "automatic"
    try:
        used = rate_for(shop.default_currency, market.currency, shop_id=shop.pk, mode=mode)
    except RateNotFound:
        return None
    today = timezone.localdate()
    country = market.countries[0] if market.countries else shop.country
    price_in = market.duty_mode == DutyMode.DDP and market.ddp_pricing == DdpPricing.PRICE_IN
    tax = Decimal(0)
    if price_in and market.tax_inclusive:
        tax, _rule = tax_rate_lookup(country=country, on=today, shop_id=shop.pk)
    rule = market.rounding_rule
    return {
        "shop": shop.pk,
        "market": market.pk,
        "currency": market.currency,
        "rate": used.rate,
        "rate_source": used.source,
        "rate_date": used.date,
        "factor": 1 + market.adjustment_percent / 100,
        "minor": minor_units(market.currency),
        "inc": rule.increment,
        "ending": rule.ending,
        "nearest": rule.direction == "nearest",
        "price_in": price_in,
        "tax": tax,
        "dests": customs_area(country),
        "origin": shop.country,
        "on": today,
        "rule": rule_label(market),
        "now": timezone.now(),
    }


def _sql(*, with_variant_filter: bool, price_in: bool, only_new: bool) -> str:
    """The statement that stores one market's prices: the general one (update what changed, insert
    what is missing) or, with `only_new`, the plain insert for a market with nothing stored."""
    computed = _COMPUTED.format(
        variant_filter="AND v.id = ANY(%(variant_ids)s)" if with_variant_filter else "",
        duty_columns=_DUTY_COLUMNS if price_in else _NO_DUTY_COLUMNS,
        duty=_DUTY if price_in else "",
        rounded_price=_rounded("qp", "rp"),
        rounded_compare=_rounded("qc", "rc"),
    )
    columns = ", ".join(_STORED_COLUMNS)
    if only_new:
        return computed + _INSERT.format(columns=columns)
    return computed + _STORE.format(
        columns=columns,
        assign_computed=", ".join(f"{column} = computed.{column}" for column in _STORED_COLUMNS),
        stored_columns=", ".join(f"stored.{column}" for column in _STORED_COLUMNS),
        computed_columns=", ".join(f"computed.{column}" for column in _STORED_COLUMNS),
    )


def market_prices_store_sql(*, params: dict, variant_ids=None, only_new: bool | None = None) -> tuple[int, int]:
    """Store one market's prices in one statement: (prices computed, rows inserted or changed).

    Unchanged rows are left alone (no new row version, no index entries, no lock). Recomputes
    of the same market wait for each other, so the rows one inserts are the rows the other
    then finds and updates, and a market (or the chosen variants) found without stored prices
    under that lock gets the plain insert. `only_new` forces the one or the other statement
    (tests compare them)."""
    with_variant_filter = variant_ids is not None
    if with_variant_filter:
        params = {**params, "variant_ids": list(variant_ids)}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"localization:market_prices:{params['market']}"]
        )
        if only_new is None:
            variant_filter = "AND variant_id = ANY(%(variant_ids)s)" if with_variant_filter else ""
            cursor.execute(_ANY_STORED.format(variant_filter=variant_filter), params)
            only_new = not cursor.fetchone()[0]
        sql = _sql(with_variant_filter=with_variant_filter, price_in=params["price_in"], only_new=only_new)
        if not with_variant_filter:
            # Every variant of the shop: hash joins are the right plan, and the one PostgreSQL
            # picks without statistics (right after a bulk import, before autovacuum's ANALYZE)
            # nests loops over the whole catalog for many minutes. (A failed statement's
            # rollback undoes the setting too.)
            cursor.execute("SET LOCAL enable_nestloop = off")
        cursor.execute(sql, params)
        result = (cursor.rowcount, cursor.rowcount) if only_new else cursor.fetchone()
        if not with_variant_filter:
            cursor.execute("SET LOCAL enable_nestloop TO DEFAULT")
        return result


def market_prices_recompute(
    *,
    shop_id: int,
    market_ids: list[int] | None = None,
    variant_ids: list[int] | None = None,
    job_id: int | None = None,
) -> dict:
    """Recompute and store the prices of (some) variants in (some) markets of the current shop.

    The result counts the prices computed (`prices`) and the rows inserted or rewritten
    (`prices_written`): on PostgreSQL a price that did not change is not written again.
    With `job_id`, progress is reported per market (each market is one statement, committed on
    its own) and the job finishes with the outcome, so the page that started it shows a bar.
    Then `signals.market_prices_stored` announces the new prices after the commit."""
    from shopadmin.models import Job
    from shopadmin.services import job_finish, job_progress

    started = time.perf_counter()
    job = Job.objects.filter(pk=job_id).first() if job_id else None
    shop = Shop.objects.get(pk=shop_id)
    markets = Market.objects.filter(is_active=True)
    if market_ids:
        markets = markets.filter(pk__in=market_ids)
    markets = list(markets.order_by("pk"))
    computed, written, missing = 0, 0, []
    if job is not None:
        job_progress(job=job, done=0, total=len(markets))
    try:
        for done, market in enumerate(markets, start=1):
            params = market_params(market, shop)
            if params is None:
                missing.append(market.name)
            elif connection.vendor == "postgresql":
                market_computed, market_written = market_prices_store_sql(params=params, variant_ids=variant_ids)
                computed, written = computed + market_computed, written + market_written
            else:
                market_written = market_prices_store_batched(market=market, params=params, variant_ids=variant_ids)
                computed, written = computed + market_written, written + market_written
            if job is not None:
                job_progress(job=job, done=done)
    except Exception as exc:
        if job is not None:
            job_finish(job=job, error=f"{type(exc).__name__}: {exc}"[:500])
        raise
    result = {
        "prices": computed,
        "prices_written": written,
        "markets_without_rate": missing,
        "seconds": round(time.perf_counter() - started, 3),
    }
    if job is not None:
        job_finish(job=job, result=result)
    # Channels publish stored prices only: they re-plan from this, never ahead of the prices.
    signals.market_prices_stored_send_on_commit(
        shop_id=shop_id, market_ids=[market.pk for market in markets], variant_ids=variant_ids
    )
    return result


BATCH_SIZE = 2000
_PRICE_FIELDS = [
    "currency", "amount", "compare_at_amount", "sale_amount", "sale_starts_at", "sale_ends_at", "base_amount",
    "base_currency", "origin", "rate", "rate_source", "rate_date", "rule", "landed_cost_amount", "duty_rate",
    "computed_at",
]  # fmt: skip


def _duty_rates_by_hs(params: dict):
    """The ad valorem duty for an HS code and origin, longest prefix first (as the SQL's LATERAL)."""
    from localization.models import DutyRate

    candidates = sorted(
        DutyRate.objects.filter(destination__in=params["dests"], kind__in=("ad_valorem", "compound"))
        .filter(effective_from__lte=params["on"])
        .exclude(effective_to__lte=params["on"]),
        key=lambda rate: (-len(rate.hs_prefix), rate.origin == ""),
    )
    found: dict[tuple[str, str], object] = {}

    def lookup(hs_code: str, origin: str):
        if not params["price_in"] or not hs_code:
            return None
        key = (hs_code, origin)
        if key not in found:
            found[key] = next(
                (r for r in candidates if hs_code.startswith(r.hs_prefix) and r.origin in ("", origin)), None
            )
        return found[key]

    return lookup


def market_prices_store_batched(*, market: Market, params: dict, variant_ids=None) -> int:
    """The same prices as the SQL, computed in Python in batches and upserted per batch.

    For databases without the SQL's PostgreSQL features (the embedded SQLite of `make run`).
    Each batch is one read of the variants, one of their fixed prices and one upsert.
    """
    from catalog.models import ProductVariant
    from localization.models import MarketVariantPrice

    rule, currency = market.rounding_rule, params["currency"]
    factor, rate, tax = Decimal(params["factor"]), Decimal(params["rate"]), Decimal(params["tax"])
    duty_for = _duty_rates_by_hs(params)
    variants = ProductVariant.objects.order_by("pk")
    if variant_ids is not None:
        variants = variants.filter(pk__in=list(variant_ids))
    rows = variants.values_list(
        "pk", "price", "price_currency", "compare_at_price", "product__hs_code", "product__country_of_origin"
    )
    written, last_pk = 0, 0
    while True:
        batch = list(rows.filter(pk__gt=last_pk)[:BATCH_SIZE])
        if not batch:
            return written
        last_pk = batch[-1][0]
        fixed = {
            f.variant_id: f
            for f in MarketVariantPrice.objects.filter(market=market, variant_id__in=[row[0] for row in batch])
        }
        prices = []
        for pk, base, base_currency, base_compare, hs_code, origin in batch:
            duty = duty_for(hs_code, origin or params["origin"])
            pre = base * rate * factor
            extra = pre * (1 + (duty.ad_valorem if duty else 0)) * (1 + tax) - pre if params["price_in"] else Decimal(0)
            compare = None
            if base_compare is not None and pre:
                compare = rule.apply(base_compare * rate * factor * (pre + extra) / pre, currency)
            override = fixed.get(pk)
            has_fixed = override is not None and override.fixed_price is not None
            prices.append(
                MarketPrice(
                    shop_id=params["shop"], market=market, variant_id=pk, currency=currency,
                    amount=override.fixed_price if has_fixed else rule.apply(pre + extra, currency),
                    compare_at_amount=override.compare_at_price if has_fixed else compare,
                    sale_amount=override.sale_price if override else None,
                    sale_starts_at=override.sale_starts_at if override else None,
                    sale_ends_at=override.sale_ends_at if override else None,
                    base_amount=base, base_currency=base_currency, origin="fixed" if has_fixed else "rule",
                    rate=rate, rate_source=params["rate_source"], rate_date=params["rate_date"],
                    rule=params["rule"], landed_cost_amount=0 if has_fixed else quantize(extra, currency),
                    duty_rate=duty, computed_at=params["now"],
                )
            )  # fmt: skip
        with transaction.atomic():
            MarketPrice.objects.bulk_create(
                prices, update_conflicts=True, unique_fields=["shop", "market", "variant"], update_fields=_PRICE_FIELDS
            )
        written += len(prices)
