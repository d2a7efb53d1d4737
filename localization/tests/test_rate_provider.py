"""The second exchange-rate source, against a local fake of a rate service (never the network):
what it stores, how a market uses it after the ECB, and what it refuses."""

from __future__ import annotations

import datetime as dt
import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from localization.models import ExchangeRate, Market, MarketPrice, RateSource
from localization.pricing import market_prices_recompute, rate_source_words
from localization.rate_providers import ProviderError, parse_rates
from localization.rates import RateNotFound, rate_for
from localization.services import provider_rates_fetch
from localization.tasks import provider_rates_fetch_task
from shopadmin.tenancy import all_shops_access, shop_context

pytestmark = pytest.mark.django_db

DAY = {"base": "USD", "date": "2025-11-21", "rates": {"BDT": 122.35, "PKR": "280.10", "EUR": 0.8675, "USD": 1}}


class FakeRateService:
    """A rate service on a local port: answers what `body` holds and records what it was sent."""

    def __init__(self):
        self.body: object = DAY
        self.status = 200
        self.requests: list[dict] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                service.requests.append({"path": self.path, "authorization": self.headers.get("Authorization")})
                payload = service.body if isinstance(service.body, bytes) else json.dumps(service.body).encode()
                self.send_response(service.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/latest.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def service(settings):
    fake = FakeRateService()
    settings.EXCHANGE_RATE_PROVIDER_URL = fake.url
    settings.EXCHANGE_RATE_PROVIDER_KEY = "provider-key-1"
    yield fake
    fake.close()


def provider_rows() -> list[ExchangeRate]:
    with all_shops_access():
        return list(ExchangeRate.all_shops.filter(source=RateSource.PROVIDER))


def test_nothing_is_fetched_without_a_configured_source(settings):
    settings.EXCHANGE_RATE_PROVIDER_URL = ""
    assert provider_rates_fetch() == (None, 0)
    assert provider_rates_fetch_task.apply().get() == {"date": None, "stored": 0}


def test_a_day_is_stored_once_as_shared_rows(service):
    result = provider_rates_fetch_task.apply().get()
    assert result == {"date": "2025-11-21", "stored": 3}  # the base's own rate is not a rate
    assert service.requests[0]["authorization"] == "Bearer provider-key-1"
    rows = {row.quote: row for row in provider_rows()}
    assert set(rows) == {"BDT", "PKR", "EUR"}
    assert rows["BDT"].base == "USD" and rows["BDT"].shop_id is None and rows["BDT"].rate == Decimal("122.35")
    assert rows["PKR"].date == dt.date(2025, 11, 21)
    assert provider_rates_fetch_task.apply().get()["stored"] == 0  # the same day again: nothing new


def test_a_market_takes_the_ecb_rate_first_and_the_provider_for_the_rest(service, ecb_rates, shop_a, shop_b):
    provider_rates_fetch()
    at = dt.datetime(2025, 11, 22, tzinfo=dt.UTC)
    for shop in (shop_a, shop_b):  # shared rows: every shop reads them
        with shop_context(shop):
            bdt = rate_for("USD", "BDT", shop_id=shop.pk, mode="automatic", at=at)
            assert (bdt.rate, bdt.source) == (Decimal("122.35"), "provider")
            crossed = rate_for("EUR", "PKR", shop_id=shop.pk, mode="auto", at=at)
            assert crossed.source == "provider (cross via USD)"
            assert crossed.rate == (Decimal("280.10") / Decimal("0.8675")).quantize(Decimal("0.0000000001"))
            # The ECB publishes USD: its rate wins over the provider's.
            assert rate_for("EUR", "USD", shop_id=shop.pk, mode="automatic", at=at).source == "ecb"
    with shop_context(shop_a), pytest.raises(RateNotFound):
        rate_for("USD", "NPR", shop_id=shop_a.pk, mode="automatic", at=at)
    assert rate_source_words("provider (cross via USD)") == "rate provider, crossed through USD"


def test_a_taka_market_is_priced_from_the_provider(service, ecb_rates, shop_a):
    from catalog.tests.factories import make_product

    provider_rates_fetch()
    with shop_context(shop_a):
        make_product(price="10.00")
        market = Market.objects.create(name="Bangladesh", currency="BDT", countries=["BD"], rate_mode="automatic")
        market_prices_recompute(shop_id=shop_a.pk, market_ids=[market.pk])
        price = MarketPrice.objects.filter(market=market).first()
    assert price is not None and price.rate_source == "provider"
    assert price.amount == Decimal("1223.50")


@pytest.mark.parametrize(
    "body, message",
    [
        (b"<html>rate limit</html>", "did not answer JSON"),
        ({"base": "USD", "date": "2025-11-21"}, "no `rates`"),
        ({"base": "USD", "rates": {"BDT": 1}}, "neither a `date`"),
        ({"base": "USD", "date": "2025-11-21", "rates": {"BDT": -1}}, "not a positive number"),
        ({"base": "USD", "date": "2025-11-21", "rates": {"BDT": "NaN"}}, "not a positive number"),
        ({"base": "USD", "date": "2025-11-21", "rates": {"XX1": 3}}, "not a currency code"),
        ({"base": "usd", "date": "2025-11-21", "rates": {}}, "holds no rates"),
    ],
)
def test_a_malformed_answer_is_refused_whole(service, body, message):
    service.body = body
    with pytest.raises(ProviderError, match=message):
        provider_rates_fetch()
    assert provider_rates_fetch_task.apply().get()["error"]
    assert provider_rows() == []


def test_a_failing_service_is_an_http_error_the_task_retries(service):
    service.status = 503
    with pytest.raises(httpx.HTTPStatusError):
        provider_rates_fetch()
    assert provider_rows() == []


def test_a_timestamp_answer_reads_as_its_utc_day():
    day = parse_rates({"base": "USD", "timestamp": 1764288000, "rates": {"LKR": "300.5"}})
    assert day.date == dt.date(2025, 11, 28) and day.effective_at.tzinfo is not None
    assert day.rates == {"LKR": Decimal("300.5")}
