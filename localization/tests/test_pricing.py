import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from catalog.models import ProductVariant
from catalog.tests.factories import make_product
from localization.models import Market, MarketPrice
from localization.money import ROUNDING_PRESETS, convert_price
from localization.pricing import market_prices_recompute
from localization.selectors import market_prices_for
from localization.services import exchange_rate_set_manual, market_create, market_variant_price_set
from localization.tests.naive_pricing import market_prices_recompute_naive

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def eu(in_shop_a):
    exchange_rate_set_manual(shop=in_shop_a, base="USD", quote="EUR", rate="0.867519")
    return market_create(
        shop=in_shop_a,
        name="EU",
        countries=["FR", "DE"],
        currency="EUR",
        languages=["fr"],
        rate_mode="manual",
        adjustment_percent=D("1.5"),
        rounding="end_90",
        tax_inclusive=True,
    )


@pytest.fixture
def tee(in_shop_a):
    make_product("Tee", skus=["TEE-10"], price="10.00", hs_code="6109.10", country_of_origin="CN")
    return ProductVariant.objects.get(sku="TEE-10")


def recompute(shop, **kw):
    return market_prices_recompute(shop_id=shop.pk, **kw)


def test_shopify_check_in_bulk_sql(in_shop_a, eu, tee):
    result = recompute(in_shop_a, market_ids=[eu.pk])
    assert result["prices"] == 1
    row = MarketPrice.objects.get(market=eu, variant=tee)
    assert row.amount == D("8.90")
    assert (row.rate, row.rate_source, row.origin) == (D("0.867519"), "manual", "rule")
    assert "end_90" in row.rule and "+1.5" in row.rule


def test_home_market_prices_are_the_base_prices(in_shop_a, tee):
    recompute(in_shop_a)
    home = Market.objects.get(is_home=True)
    assert MarketPrice.objects.get(market=home, variant=tee).amount == D("10.00")


def test_fixed_price_overrides_and_sale_window(in_shop_a, eu, tee):
    now = timezone.now()
    market_variant_price_set(
        market=eu,
        variant=tee,
        fixed_price=D("9.50"),
        sale_price=D("7.90"),
        sale_starts_at=now + dt.timedelta(days=1),
        sale_ends_at=now + dt.timedelta(days=8),
    )
    recompute(in_shop_a, market_ids=[eu.pk])
    row = MarketPrice.objects.get(market=eu, variant=tee)
    assert (row.amount, row.origin) == (D("9.50"), "fixed")
    prices = market_prices_for(eu, [tee.pk], now=now)
    assert prices[tee.pk].price == D("9.50") and prices[tee.pk].compare_at is None
    during = market_prices_for(eu, [tee.pk], now=now + dt.timedelta(days=2))[tee.pk]
    assert (during.price, during.compare_at) == (D("7.90"), D("9.50"))
    after = market_prices_for(eu, [tee.pk], now=now + dt.timedelta(days=8))[tee.pk]
    assert after.price == D("9.50")


def test_fixed_price_must_fit_minor_units(in_shop_a, tee):
    from django.core.exceptions import ValidationError

    exchange_rate_set_manual(shop=in_shop_a, base="USD", quote="JPY", rate="150")
    japan = market_create(
        shop=in_shop_a, name="JP", countries=["JP"], currency="JPY", languages=["ja"], rounding="nearest_100"
    )
    with pytest.raises(ValidationError):
        market_variant_price_set(market=japan, variant=tee, fixed_price=D("1500.50"))


def test_jpy_nearest_hundred_has_no_fractions(in_shop_a, tee):
    exchange_rate_set_manual(shop=in_shop_a, base="USD", quote="JPY", rate="157.7")
    japan = market_create(
        shop=in_shop_a,
        name="JP",
        countries=["JP"],
        currency="JPY",
        languages=["ja"],
        rate_mode="manual",
        rounding="nearest_100",
    )
    recompute(in_shop_a, market_ids=[japan.pk])
    assert MarketPrice.objects.get(market=japan, variant=tee).amount == D("1600")


def test_ddp_price_in_adds_duty_and_import_vat(in_shop_a, eu, tee):
    from localization.services import market_update

    market_update(market=eu, duty_mode="DDP", ddp_pricing="price_in", rounding="none", adjustment_percent=D("0"))
    recompute(in_shop_a, market_ids=[eu.pk])
    row = MarketPrice.objects.get(market=eu, variant=tee)
    # €8.67519 x (1 + 12% EU duty on 6109) x (1 + 20% French VAT) = €11.6594…
    assert row.amount == D("11.66")
    assert row.landed_cost_amount == D("2.98")
    assert row.duty_rate.hs_prefix == "6109"


def test_market_without_rate_is_reported_not_priced(in_shop_a, tee):
    market_create(shop=in_shop_a, name="CH", countries=["CH"], currency="CHF", languages=["de"], rate_mode="manual")
    result = recompute(in_shop_a)
    assert result["markets_without_rate"] == ["CH"]


def test_recompute_only_some_variants(in_shop_a, eu, tee):
    make_product("Other", skus=["OTHER-1"], price="20.00")
    result = recompute(in_shop_a, market_ids=[eu.pk], variant_ids=[tee.pk])
    assert result["prices"] == 1


def test_naive_loop_agrees_with_bulk(in_shop_a, eu):
    make_product("Many", skus=[f"M-{i}" for i in range(5)], price="13.37")
    recompute(in_shop_a, market_ids=[eu.pk])
    bulk = {r.variant_id: r.amount for r in MarketPrice.objects.filter(market=eu)}
    MarketPrice.objects.all().delete()
    market_prices_recompute_naive(shop_id=in_shop_a.pk, market_ids=[eu.pk])
    assert {r.variant_id: r.amount for r in MarketPrice.objects.filter(market=eu)} == bulk


PRESETS = st.sampled_from(["none", "end_99", "end_95", "end_90", "end_00", "whole", "nearest_5", "nearest_10"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    price=st.decimals(min_value=D("0.01"), max_value=D("99999"), places=2),
    preset=PRESETS,
    adjustment=st.decimals(min_value=D("-50"), max_value=D("50"), places=3),
)
# A positive price below one minor unit once converted: a rule never makes it free.
@example(price=D("0.01"), preset="end_99", adjustment=D("-50"))
def test_sql_rounding_matches_python(in_shop_a, price, preset, adjustment):
    from localization.services import market_update

    if not ProductVariant.objects.filter(sku="P-1").exists():
        make_product("P", skus=["P-1"], price="1.00")
        exchange_rate_set_manual(shop=in_shop_a, base="USD", quote="GBP", rate="0.7631")
        market_create(shop=in_shop_a, name="GB", countries=["GB"], currency="GBP", languages=["en"], rate_mode="manual")
    variant = ProductVariant.objects.get(sku="P-1")
    ProductVariant.objects.filter(pk=variant.pk).update(price=price)
    market = market_update(market=Market.objects.get(name="GB"), adjustment_percent=adjustment, rounding=preset)
    recompute(in_shop_a, market_ids=[market.pk])
    expected = convert_price(
        amount=price, rate=D("0.7631"), adjustment_percent=adjustment, rule=ROUNDING_PRESETS[preset][1], currency="GBP"
    )
    assert MarketPrice.objects.get(market=market, variant=variant).amount == expected


def test_catalog_price_change_enqueues_recompute(in_shop_a, monkeypatch):
    from catalog.signals import catalog_changed
    from localization import tasks

    calls = []
    monkeypatch.setattr(tasks.market_prices_recompute_task, "delay", lambda *a: calls.append(a))
    catalog_changed.send(sender="catalog", shop_id=in_shop_a.pk, variant_ids=[1, 2], what="price")
    catalog_changed.send(sender="catalog", shop_id=in_shop_a.pk, variant_ids=[1], what="stock")
    assert calls == [(in_shop_a.pk, None, [1, 2])]


def test_task_runs_in_the_shop_context(shop_a):
    from shopadmin.tenancy import shop_context

    with shop_context(shop_a):
        make_product("Tee", skus=["T-1"], price="10.00")
    from localization.tasks import market_prices_recompute_task

    result = market_prices_recompute_task.apply(args=[shop_a.pk]).get()
    assert result["prices"] == 1


def test_api_prices(api_a, api_b, shop_a, eu, tee):
    recompute(shop_a, market_ids=[eu.pk])
    body = api_a.get(f"/api/v1/prices/?market={eu.pk}&sku=TEE-10").json()["results"]
    assert [(r["sku"], r["price"], r["currency"], r["rate_source"]) for r in body] == [
        ("TEE-10", "8.90", "EUR", "manual")
    ]
    assert api_b.get(f"/api/v1/prices/?market={eu.pk}").json()["results"] == []
    assert api_a.get("/api/v1/prices/?market=abc").status_code == 400


def test_api_price_override(api_a, api_b, shop_a, eu, tee):
    payload = {"market": eu.pk, "sku": "TEE-10", "fixed_price": "9.90"}
    response = api_a.post("/api/v1/prices/overrides/", payload, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["fixed_price"] == "9.9000"
    # Charlie's key sees neither the market nor the SKU of shop A.
    refused = api_b.post("/api/v1/prices/overrides/", payload, format="json")
    assert refused.status_code == 400
    assert {e["field"] for e in refused.json()["errors"]} == {"market", "sku"}


def test_recompute_reports_progress_on_a_job(in_shop_a, eu, tee):
    from shopadmin.models import Job
    from shopadmin.services import job_create

    job = job_create(kind="market_prices", label="Recompute", total=1)
    result = recompute(in_shop_a, job_id=job.pk)
    job.refresh_from_db()
    markets = Market.objects.filter(is_active=True).count()
    assert job.status == Job.Status.SUCCEEDED and (job.done, job.total) == (markets, markets)
    assert job.result["prices"] == result["prices"] > 0


def test_recompute_now_starts_a_job_and_the_page_shows_its_progress(alice_client, in_shop_a, eu, tee):
    from django.urls import reverse

    from shopadmin.models import Job

    url = reverse("localization:market-prices", kwargs={"shop_slug": in_shop_a.slug, "pk": eu.pk})
    response = alice_client.post(url, {"recompute": "1"})
    job = Job.objects.get(kind="market_prices")
    assert response.status_code == 302 and response["Location"] == f"{url}?job={job.pk}"
    page = alice_client.get(response["Location"]).content.decode()
    assert 'role="progressbar"' in page and f"/jobs/{job.pk}" in page
    # What the worker's task does with the job id it was given.
    recompute(in_shop_a, market_ids=[eu.pk], job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.done == job.total == 1 and job.result["prices"] == 1
    assert 'data-job-finished="true"' in alice_client.get(response["Location"]).content.decode()


def test_a_new_variant_gets_its_market_prices(shop_a, monkeypatch, django_capture_on_commit_callbacks):
    """Created in the catalog (sent as a content change), a variant is priced in every market."""
    from localization import tasks
    from shopadmin.tenancy import shop_context

    monkeypatch.setattr(
        tasks.market_prices_recompute_task, "delay", lambda *args: tasks.market_prices_recompute_task.apply(args=args)
    )
    with shop_context(shop_a), django_capture_on_commit_callbacks(execute=True):
        product = make_product("Cap", skus=["CAP-1"], price="20.00")
    with shop_context(shop_a):
        home = Market.objects.get(is_home=True)
        price = MarketPrice.objects.get(market=home, variant__sku="CAP-1")
    assert (price.amount, price.currency) == (D("20.00"), "USD")
    assert product.pk


def test_stock_changes_do_not_recompute(in_shop_a, monkeypatch):
    from catalog.signals import catalog_changed
    from localization import tasks

    calls = []
    monkeypatch.setattr(tasks.market_prices_recompute_task, "delay", lambda *a: calls.append(a))
    catalog_changed.send(sender="catalog", shop_id=in_shop_a.pk, variant_ids=[1], what="content")
    catalog_changed.send(sender="catalog", shop_id=in_shop_a.pk, variant_ids=[1], what="stock")
    assert calls == [(in_shop_a.pk, None, [1])]


@pytest.mark.parametrize("ddp", [False, True])
def test_the_batched_path_stores_what_the_sql_stores(in_shop_a, eu, ddp):
    """SQLite (the embedded demo) prices in Python batches; PostgreSQL in one statement. Same rows."""
    from localization.pricing import market_params, market_prices_store_batched
    from localization.services import market_update
    from shopadmin.models import Shop

    if ddp:
        market_update(market=eu, duty_mode="DDP", ddp_pricing="price_in")
    make_product("Tee", skus=["TEE-S", "TEE-M"], price="10.00", hs_code="6109.10", country_of_origin="CN")
    make_product("Scarf", skus=["SCF-1"], price="180.00", hs_code="6214.10")
    make_product("Mug", skus=["MUG-1"], price="0.01")
    ProductVariant.objects.filter(sku="TEE-M").update(compare_at_price=D("14.00"))
    market_variant_price_set(market=eu, variant=ProductVariant.objects.get(sku="SCF-1"), fixed_price=D("199.00"))
    fields = ["variant__sku", "amount", "compare_at_amount", "origin", "landed_cost_amount", "duty_rate", "rate"]

    recompute(in_shop_a, market_ids=[eu.pk])
    from_sql = sorted(MarketPrice.objects.filter(market=eu).values_list(*fields))
    MarketPrice.objects.filter(market=eu).delete()
    market = Market.objects.get(pk=eu.pk)
    params = market_params(market, Shop.objects.get(pk=in_shop_a.pk))
    assert market_prices_store_batched(market=market, params=params) == 4
    from_batches = sorted(MarketPrice.objects.filter(market=eu).values_list(*fields))
    assert from_batches == from_sql
    assert len(from_sql) == 4


def test_the_api_asks_for_a_recompute_and_follows_its_job(
    api_a, api_b, in_shop_a, eu, tee, django_capture_on_commit_callbacks
):
    from shopadmin.models import AuditLogEntry, Job

    with django_capture_on_commit_callbacks() as queued:
        response = api_a.post(f"/api/v1/markets/{eu.pk}/recompute-prices/")
    assert response.status_code == 202, response.json()
    job = response.json()
    assert (job["kind"], job["status"]) == ("market_prices", "queued") and len(queued) == 1
    entry = AuditLogEntry.objects.get(action="market.prices_recompute")
    assert (entry.door, entry.object_id, entry.changes) == ("api", str(eu.pk), {"job": [None, job["id"]]})
    recompute(in_shop_a, market_ids=[eu.pk], job_id=job["id"])
    followed = api_a.get(f"/api/v1/jobs/{job['id']}/").json()
    assert (followed["status"], followed["percent"], followed["result"]["prices"]) == ("succeeded", 100, 1)
    # Charlie's key finds neither the market nor the job.
    assert api_b.post(f"/api/v1/markets/{eu.pk}/recompute-prices/").status_code == 404
    assert api_b.get(f"/api/v1/jobs/{job['id']}/").status_code == 404
    assert Job.objects.filter(kind="market_prices").count() == 1
