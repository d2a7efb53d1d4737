"""Each adapter against the sandbox over real HTTP (live_server), plus signing vectors."""

import hashlib
import hmac
import time
from decimal import Decimal

import httpx
import pytest

from channels.adapters.base import AdapterError, ChannelItem, RateLimited, TransientError
from channels.adapters.meta import MetaAdapter
from channels.adapters.pinterest import PinterestAdapter
from channels.adapters.tiktok_shop import TikTokShopAdapter, sign
from channels.sandbox.control import control_headers
from channels.tests.factories import META_CREDENTIALS, PINTEREST_CREDENTIALS, TIKTOK_CREDENTIALS


def test_tiktok_official_signing_vector():
    assert (
        sign(
            secret="e59af819cc",
            path="/authorization/202309/shops",
            params={"app_key": "29a39d", "timestamp": "1623812664"},
        )
        == "b596b73e0cc6de07ac26f036364178ab16b0a907af13d43f0a0cd2345f582dc8"
    )


def test_tiktok_sign_ignores_sign_and_access_token_and_includes_body():
    params = {"app_key": "29a39d", "timestamp": "1623812664"}
    base = sign(secret="e59af819cc", path="/p", params=params)
    assert sign(secret="e59af819cc", path="/p", params={**params, "sign": "x", "access_token": "y"}) == base
    assert sign(secret="e59af819cc", path="/p", params=params, body=b'{"a":1}') != base
    assert sign(secret="e59af819cc", path="/p", params=params, body=b'{"a":1}', multipart=True) == base


def test_meta_signature_with_known_secret():
    body = b'{"object":"page","entry":[]}'
    expected = "sha256=" + hmac.new(b"known-secret", body, hashlib.sha256).hexdigest()
    adapter = MetaAdapter(credentials={"app_secret": "known-secret"})
    assert adapter.signature(body) == expected
    assert adapter.verify_webhook({"X-Hub-Signature-256": expected}, body)
    assert not adapter.verify_webhook({"X-Hub-Signature-256": expected}, body + b" ")
    assert not adapter.verify_webhook({"X-Hub-Signature-256": "sha256=" + "0" * 64}, body)
    assert not adapter.verify_webhook({}, body)


def item(n, **overrides):
    values = {
        "id": f"SKU-{n}",
        "title": f"Linen shirt {n}",
        "description": "A shirt of washed linen.",
        "link": f"https://alice.example.com/p/{n}",
        "image_link": f"https://alice.example.com/i/{n}.jpg",
        "price": Decimal("49.9"),
        "currency": "USD",
        "brand": "Alice",
        "quantity": 5,
        "gtin": "4006381333931",
        "google_product_category": "212",
    }
    values.update(overrides)
    return ChannelItem(**values)


def test_price_formatting_uses_minor_units():
    adapter = MetaAdapter(credentials=META_CREDENTIALS)
    assert adapter.build_payload(item(1))["price"] == "49.90 USD"
    assert adapter.build_payload(item(1, price=Decimal("1000.4"), currency="JPY"))["price"] == "1000 JPY"
    assert adapter.build_payload(item(1, availability="backorder"))["availability"] == "available for order"


# --- Over HTTP ---------------------------------------------------------------------------

pytestmark_live = pytest.mark.django_db(transaction=True)


class Sleeps(list):
    def __call__(self, seconds):
        self.append(seconds)


def sandbox(live_server, channel, key, **config):
    response = httpx.post(
        f"{live_server.url}/sandbox/_control/{channel}/{key}/", headers=control_headers(), json=config, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()


def sandbox_state(live_server, channel, key):
    return httpx.get(
        f"{live_server.url}/sandbox/_control/{channel}/{key}/", headers=control_headers(), timeout=10
    ).json()


@pytest.fixture
def meta(live_server):
    sandbox(
        live_server,
        "meta",
        META_CREDENTIALS["catalog_id"],
        secret=META_CREDENTIALS["app_secret"],
        access_token=META_CREDENTIALS["access_token"],
        commerce_account_id=META_CREDENTIALS["commerce_account_id"],
    )
    sleeps = Sleeps()
    adapter = MetaAdapter(
        base_url=f"{live_server.url}/sandbox/meta", credentials=META_CREDENTIALS, sleep=sleeps, timeout=5
    )
    adapter.sleeps = sleeps
    yield adapter
    adapter.close()


@pytest.fixture
def tiktok(live_server):
    sandbox(
        live_server,
        "tiktok_shop",
        TIKTOK_CREDENTIALS["app_key"],
        secret=TIKTOK_CREDENTIALS["app_secret"],
        access_token=TIKTOK_CREDENTIALS["access_token"],
        shop_cipher=TIKTOK_CREDENTIALS["shop_cipher"],
    )
    adapter = TikTokShopAdapter(
        base_url=f"{live_server.url}/sandbox/tiktok", credentials=TIKTOK_CREDENTIALS, sleep=Sleeps()
    )
    yield adapter
    adapter.close()


@pytest.fixture
def pinterest(live_server):
    sandbox(
        live_server,
        "pinterest",
        PINTEREST_CREDENTIALS["ad_account_id"],
        access_token=PINTEREST_CREDENTIALS["access_token"],
    )
    sleeps = Sleeps()
    adapter = PinterestAdapter(
        base_url=f"{live_server.url}/sandbox/pinterest", credentials=PINTEREST_CREDENTIALS, sleep=sleeps
    )
    adapter.sleeps = sleeps
    yield adapter
    adapter.close()


@pytestmark_live
def test_meta_publish_poll_and_per_item_errors(meta, live_server):
    sandbox(live_server, "meta", META_CREDENTIALS["catalog_id"], faults={"processing_polls": 1})
    items = [item(1), item(2, title="x" * 201), item(3, brand="", gtin="", mpn="")]
    handle = meta.publish_batch(items)
    first = meta.batch_status(handle, sent_ids=[i.id for i in items])
    assert not first.done
    status = meta.batch_status(handle, sent_ids=[i.id for i in items])
    assert status.done
    by_id = {r.item_id: r for r in status.results}
    assert by_id["SKU-1"].ok
    assert not by_id["SKU-2"].ok and by_id["SKU-2"].errors[0].field == "title"
    assert not by_id["SKU-3"].ok and "brand" in by_id["SKU-3"].errors[0].message
    state = sandbox_state(live_server, "meta", META_CREDENTIALS["catalog_id"])
    assert set(state["items"]) == {"SKU-1"}
    delete = meta.delete_items(
        [ChannelItem(id="SKU-1", title="", description="", link="", image_link="", price=None, currency="")]
    )
    assert not meta.batch_status(delete).done
    assert meta.batch_status(delete, sent_ids=["SKU-1"]).done
    assert not sandbox_state(live_server, "meta", META_CREDENTIALS["catalog_id"])["items"]["SKU-1"]["active"]


@pytestmark_live
def test_meta_sandbox_refuses_over_5000_and_wrong_token(meta, live_server):
    requests = [{"method": "UPDATE", "data": {"id": str(i)}} for i in range(5001)]
    response = meta.client.request(
        "POST",
        f"/{META_CREDENTIALS['catalog_id']}/items_batch",
        json={"item_type": "PRODUCT_ITEM", "requests": requests},
    )
    assert response.status_code == 400 and "5000" in response.json()["error"]["message"]
    bad = MetaAdapter(base_url=meta.base_url, credentials={**META_CREDENTIALS, "access_token": "nope"})
    with pytest.raises(AdapterError) as exc:
        bad.publish_batch([item(1)])
    assert exc.value.code == "190"


@pytestmark_live
def test_meta_rate_limit_waits_estimated_time_to_regain_access(meta, live_server):
    sandbox(live_server, "meta", META_CREDENTIALS["catalog_id"], faults={"rate_limit_next": 1, "regain_minutes": 1})
    handle = meta.publish_batch([item(1)])
    assert handle
    assert 60 <= meta.sleeps[0] < 61  # one minute, plus a little jitter


@pytestmark_live
def test_meta_long_rate_limit_raises_for_the_task_to_reschedule(meta, live_server):
    sandbox(live_server, "meta", META_CREDENTIALS["catalog_id"], faults={"rate_limit_next": 1, "regain_minutes": 30})
    with pytest.raises(RateLimited) as exc:
        meta.publish_batch([item(1)])
    assert exc.value.wait == 1800


@pytestmark_live
def test_retries_5xx_and_dropped_connections_then_succeeds(meta, live_server):
    sandbox(live_server, "meta", META_CREDENTIALS["catalog_id"], faults={"fail_next": 2, "drop_next": 1})
    handle = meta.publish_batch([item(1)])
    assert handle
    log = meta.client.attempts_log
    assert log[:2] == ["503:retry", "503:retry"]
    assert log[2] in ("RemoteProtocolError", "ReadError")
    assert log[3] == "200:ok"
    assert len(meta.sleeps) == 3 and all(s >= 0 for s in meta.sleeps)


@pytestmark_live
def test_gives_up_after_max_attempts(meta, live_server):
    sandbox(live_server, "meta", META_CREDENTIALS["catalog_id"], faults={"fail_next": 10})
    with pytest.raises(TransientError):
        meta.publish_batch([item(1)])
    assert len(meta.client.attempts_log) == 5


@pytestmark_live
def test_timeout_is_retried(live_server, meta):
    sandbox(live_server, "meta", META_CREDENTIALS["catalog_id"], faults={"slow_next": 1, "slow_seconds": 1.5})
    quick = MetaAdapter(base_url=meta.base_url, credentials=META_CREDENTIALS, sleep=Sleeps(), timeout=0.5)
    assert quick.publish_batch([item(1)])
    assert quick.client.attempts_log[0] == "ReadTimeout"
    quick.close()


@pytestmark_live
def test_meta_orders_fetch_and_acknowledge(meta, live_server):
    handle = meta.publish_batch([item(1)])
    meta.batch_status(handle)
    placed = httpx.post(
        f"{live_server.url}/sandbox/_control/meta/{META_CREDENTIALS['catalog_id']}/orders/",
        headers=control_headers(),
        json={"items": [{"item_id": "SKU-1", "quantity": 2}]},
    ).json()
    page = meta.fetch_orders()
    assert [o["id"] for o in page.orders] == [placed["order_id"]]
    assert page.orders[0]["estimated_payment_details"]["total_amount"] == {"amount": "99.80", "currency": "USD"}
    ack = meta.acknowledge_order(placed["order_id"], merchant_order_reference="A-1001", idempotency_key="k1")
    assert ack["state"] == "IN_PROGRESS"
    again = meta.acknowledge_order(placed["order_id"], merchant_order_reference="A-1001", idempotency_key="k1")
    assert again["state"] == "IN_PROGRESS"
    assert meta.fetch_orders().orders == []  # only CREATED/FB_PROCESSING are fetched
    # One order on its own (`GET /{order_id}?fields=…`), with the fields the normaliser reads.
    [one] = meta.order_detail([placed["order_id"]])
    assert one["order_status"] == {"state": "IN_PROGRESS"}
    assert meta.normalize_order(one).lines[0].quantity == 2
    assert meta.order_detail(["404040404"]) == []  # Meta does not know it: left out


@pytestmark_live
def test_tiktok_products_and_orders(tiktok, live_server):
    # TikTok hosts the images (uploaded from the image link) and needs a package weight.
    shipped = {"image_link": f"{live_server.url}/sandbox/_images/600x600.png", "weight_grams": 300}
    results = tiktok.publish_batch([item(1, **shipped), item(2, title="", **shipped)])
    assert results[0].ok and results[0].channel_item_id and results[0].channel_sku_id
    assert not results[1].ok
    product_id, sku_id = results[0].channel_item_id, results[0].channel_sku_id
    edited = tiktok.publish_batch(
        [item(1, title="Linen shirt, washed", channel_item_id=product_id, channel_sku_id=sku_id, **shipped)]
    )
    assert edited[0].ok and edited[0].channel_item_id == product_id
    assert tiktok.update_price(product_id, sku_id, Decimal("39.5"), "USD") == {}
    assert tiktok.update_inventory(product_id, sku_id, 3) == {}
    placed = httpx.post(
        f"{live_server.url}/sandbox/_control/tiktok_shop/{TIKTOK_CREDENTIALS['app_key']}/orders/",
        headers=control_headers(),
    ).json()
    page = tiktok.fetch_orders(since=int(time.time()) - 60)
    assert [o["id"] for o in page.orders] == [placed["order_id"]]
    assert page.orders[0]["status"] == "AWAITING_SHIPMENT"
    assert tiktok.order_detail([placed["order_id"]])[0]["payment"]["total_amount"] == "39.50"
    tiktok.deactivate([product_id])
    assert not sandbox_state(live_server, "tiktok_shop", "29a39d")["items"]["SKU-1"]["active"]


@pytestmark_live
def test_tiktok_refuses_wrong_sign_and_stale_timestamp(tiktok):
    wrong = TikTokShopAdapter(base_url=tiktok.base_url, credentials={**TIKTOK_CREDENTIALS, "app_secret": "wrong"})
    with pytest.raises(AdapterError) as exc:
        wrong.fetch_orders()
    assert exc.value.code == "106001"
    stale = TikTokShopAdapter(
        base_url=tiktok.base_url, credentials=TIKTOK_CREDENTIALS, clock=lambda: time.time() - 3600
    )
    with pytest.raises(AdapterError) as exc:
        stale.fetch_orders()
    assert exc.value.code == "36009004"  # TikTok's common code for an invalid timestamp


@pytestmark_live
def test_pinterest_batch_with_429_retry_after_and_rejections(pinterest, live_server):
    sandbox(
        live_server,
        "pinterest",
        PINTEREST_CREDENTIALS["ad_account_id"],
        faults={"rate_limit_next": 1, "retry_after": 3, "processing_polls": 1},
    )
    handle = pinterest.publish_batch([item(1), item(2, price=Decimal("-1"))])
    assert 3 <= pinterest.sleeps[0] < 3.2
    assert not pinterest.batch_status(handle).done
    status = pinterest.batch_status(handle)
    by_id = {r.item_id: r for r in status.results}
    assert by_id["SKU-1"].ok
    assert by_id["SKU-2"].errors[0].field == "price"
    with pytest.raises(AdapterError):
        pinterest.publish_batch([item(i) for i in range(1001)])
    response = pinterest.client.request(
        "POST",
        "/v5/catalogs/items/batch",
        params={"ad_account_id": PINTEREST_CREDENTIALS["ad_account_id"]},
        json={
            "country": "US",
            "language": "EN",
            "operation": "UPSERT",
            "items": [{"item_id": str(i)} for i in range(1001)],
        },
    )
    assert response.status_code == 400


@pytestmark_live
def test_reject_fraction_rejects_that_share(pinterest, live_server):
    sandbox(live_server, "pinterest", PINTEREST_CREDENTIALS["ad_account_id"], faults={"reject_fraction": 0.3})
    handle = pinterest.publish_batch([item(i) for i in range(200)])
    results = pinterest.batch_status(handle).results
    rejected = sum(1 for r in results if not r.ok)
    assert 30 <= rejected <= 90
