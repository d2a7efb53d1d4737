import datetime as dt
from decimal import Decimal

import httpx
import pytest
from django.utils import timezone

from localization.models import ExchangeRate, RateSource
from localization.rates import EcbFeedError, RateNotFound, ecb_rate, parse_ecb_daily, rate_for
from localization.services import ecb_rates_fetch, ecb_rates_store, exchange_rate_set_manual
from localization.tests.conftest import DATA
from shopadmin.tenancy import all_shops_access, shop_context

pytestmark = pytest.mark.django_db
D = Decimal


def test_parse_ecb_daily_sample():
    date, rates = parse_ecb_daily((DATA / "eurofxref-daily.xml").read_bytes())
    assert date == dt.date(2025, 11, 21)
    assert rates["USD"] == D("1.1512") and rates["JPY"] == D("181.53")
    assert len(rates) == 30


@pytest.mark.parametrize("xml", [b"<not xml", b"<a/>", b"<Envelope><Cube><Cube time='x'/></Cube></Envelope>"])
def test_parse_rejects_broken_feeds(xml):
    with pytest.raises(EcbFeedError):
        parse_ecb_daily(xml)


def test_store_is_idempotent(ecb_rates):
    date, rates = parse_ecb_daily((DATA / "eurofxref-daily.xml").read_bytes())
    assert ecb_rates_store(date=date, rates=rates) == 0
    with all_shops_access():
        assert ExchangeRate.all_shops.filter(source=RateSource.ECB).count() == 30


def test_cross_rate_via_eur(ecb_rates, in_shop_a):
    usd_gbp = ecb_rate("USD", "GBP")
    assert usd_gbp.rate == (D("0.87943") / D("1.1512")).quantize(D("0.0000000001"))
    assert usd_gbp.source == "ecb (cross via EUR)" and usd_gbp.date == dt.date(2025, 11, 21)
    assert ecb_rate("EUR", "JPY").rate == D("181.53")
    assert ecb_rate("JPY", "EUR").rate == (1 / D("181.53")).quantize(D("0.0000000001"))


def test_ecb_rates_are_visible_to_every_shop_manual_rates_only_to_their_own(ecb_rates, shop_a, shop_b):
    with shop_context(shop_a):
        exchange_rate_set_manual(shop=shop_a, base="USD", quote="GBP", rate="0.76")
        assert rate_for("USD", "GBP", shop_id=shop_a.pk).rate == D("0.76")
    with shop_context(shop_b):
        assert ExchangeRate.objects.filter(source="manual").count() == 0
        assert ExchangeRate.objects.filter(source="ecb").count() == 30
        # Even asking for shop A's id, row-level security hides its manual rates.
        assert rate_for("USD", "GBP", shop_id=shop_a.pk).source == "ecb (cross via EUR)"


def test_manual_rate_inverse_and_manual_only_mode(in_shop_a):
    exchange_rate_set_manual(shop=in_shop_a, base="USD", quote="GBP", rate="0.80")
    assert rate_for("GBP", "USD", shop_id=in_shop_a.pk, mode="manual").rate == D("1.25")
    with pytest.raises(RateNotFound):
        rate_for("USD", "JPY", shop_id=in_shop_a.pk, mode="manual")


def test_manual_rate_rejects_bad_input(in_shop_a):
    from django.core.exceptions import ValidationError

    for kwargs in (
        {"base": "USD", "quote": "USD", "rate": "1"},
        {"base": "XXX1", "quote": "GBP", "rate": "1"},
        {"base": "USD", "quote": "GBP", "rate": "-1"},
        {"base": "USD", "quote": "GBP", "rate": "abc"},
    ):
        with pytest.raises(ValidationError):
            exchange_rate_set_manual(shop=in_shop_a, **kwargs)


def test_staleness(ecb_rates, in_shop_a):
    used = ecb_rate("EUR", "USD")
    assert used.is_stale(now=used.effective_at + dt.timedelta(hours=97))
    assert not used.is_stale(now=used.effective_at + dt.timedelta(hours=20))


def test_fetch_uses_http_and_stores(db):
    body = (DATA / "eurofxref-daily.xml").read_bytes()
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=body))
    date, stored = ecb_rates_fetch(client=httpx.Client(transport=transport))
    assert (date, stored) == (dt.date(2025, 11, 21), 30)


def test_beat_schedule_is_registered(db):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="localization.ecb_rates_fetch")
    assert task.enabled and task.crontab.hour == "16"


def test_rate_before_effective_time_is_not_used(in_shop_a):
    exchange_rate_set_manual(
        shop=in_shop_a, base="USD", quote="EUR", rate="0.9", effective_at=timezone.now() + dt.timedelta(days=1)
    )
    with pytest.raises(RateNotFound):
        rate_for("USD", "EUR", shop_id=in_shop_a.pk, mode="manual")


def test_ecb_task_stores_and_fans_out_to_automatic_shops(shop_a, monkeypatch):
    from localization import services, tasks

    body = (DATA / "eurofxref-daily.xml").read_bytes()
    client = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200, content=body)))
    real_fetch = services.ecb_rates_fetch
    monkeypatch.setattr(services, "ecb_rates_fetch", lambda: real_fetch(client=client))
    calls = []
    monkeypatch.setattr(tasks.market_prices_recompute_task, "delay", lambda *a: calls.append(a))
    result = tasks.ecb_rates_fetch_task.apply().get()
    assert result == {"date": "2025-11-21", "stored": 30}
    assert calls == [(shop_a.pk, None)]  # the home market is automatic


def test_stale_rate_is_a_quote_warning(in_shop_a, ecb_rates):
    from localization.landed_cost import QuoteItem, QuoteRequest, quote_landed_cost

    result = quote_landed_cost(
        QuoteRequest(destination_country="FR", currency="USD", items=[QuoteItem(quantity=1, unit_price=D("10"))]),
        shop_id=in_shop_a.pk,
    )
    # The sample feed is from 2025-11-21, long before "now".
    assert any("older than the allowed age" in w for w in result.warnings)
