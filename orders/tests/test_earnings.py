"""What each channel earns: the report (a worked example), ad spend (services, CSV import all or
nothing), the page, the home panel and the API — and alice/bob/charlie through every door."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import api_client_for, login, make_user
from orders.attribution import landing_from_params, traffic_count
from orders.earnings import channel_earnings, prorated_spend
from orders.models import AdSpend
from orders.services.ad_spend import ad_spend_create, ad_spend_import, ad_spend_update
from orders.services.ingest import order_import
from orders.tests.conftest import channel_order, stocked_variant
from shopadmin.audit import Actor, AuditLogEntry, acting_as
from shopadmin.models import Door
from shopadmin.roles import Role
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 11, 15)
NOON = dt.datetime(2026, 11, 15, 12, 0, tzinfo=dt.UTC)
NOVEMBER = (dt.date(2026, 11, 1), dt.date(2026, 11, 30))


def _order(external_id, total, params=None, **kwargs):
    data = channel_order(external_id, lines=(("TEE-M", 1, total),), updated_at=NOON, **kwargs)
    if params is not None:
        data.attribution = landing_from_params(params).as_attribution()
    return data


@pytest.fixture
def worked_example(shop_a, meta_account):
    """Alice's November: Instagram's Eid campaign 200 views, 20 checkout starts, 4 orders of 25.00
    (a fifth cancelled), 40.00 spent; Meta's own 100 views and 2 orders of 50.00, nothing spent."""
    stocked_variant(shop_a, on_hand=100)
    eid = {"cart_origin": "instagram", "utm_campaign": "Eid"}
    with shop_context(shop_a), acting_as(Actor(door=Door.CLI, label="test")):
        for _n in range(200):
            traffic_count(landing=landing_from_params(eid), kind="view", day=DAY)
        for _n in range(20):
            traffic_count(landing=landing_from_params(eid), kind="checkout", day=DAY)
        for _n in range(100):
            traffic_count(landing=landing_from_params({"utm_source": "meta"}), kind="view", day=DAY)
        for n in range(4):
            order_import(account=meta_account, data=_order(f"I{n}", "25.00", eid))
        order_import(account=meta_account, data=_order("I9", "25.00", eid, lifecycle="cancelled", status="CANCELLED"))
        for n in range(2):
            order_import(account=meta_account, data=_order(f"M{n}", "50.00"))
        ad_spend_create(shop=shop_a, source="instagram", month=dt.date(2026, 11, 1), amount=Decimal("40.00"))
    return shop_a


def test_the_worked_example(worked_example):
    with shop_context(worked_example):
        report = channel_earnings(start=NOVEMBER[0], end=NOVEMBER[1])
    assert report.currency == "USD"
    rows = {row.source: row for row in report.rows}
    assert list(rows) == ["instagram", "meta"]  # best revenue first (100.00 each; more views first)
    insta, meta = rows["instagram"], rows["meta"]
    assert (insta.page_views, insta.checkout_starts, insta.orders) == (200, 20, 4)
    assert insta.revenue == Decimal("100.000")
    assert insta.conversion_rate == Decimal("0.0200")
    assert insta.average_order == Decimal("25.000")
    assert insta.ad_spend == Decimal("40.000")
    assert insta.roas == Decimal("2.50")
    assert (meta.page_views, meta.orders, meta.revenue) == (100, 2, Decimal("100.000"))
    assert meta.conversion_rate == Decimal("0.0200")
    assert meta.ad_spend is None and meta.roas is None
    total = report.total
    assert (total.page_views, total.checkout_starts, total.orders) == (300, 20, 6)
    assert total.revenue == Decimal("200.000")
    assert total.ad_spend == Decimal("40.000")
    assert total.roas == Decimal("5.00")


def test_the_worked_example_by_campaign(worked_example):
    with shop_context(worked_example):
        report = channel_earnings(start=NOVEMBER[0], end=NOVEMBER[1], by="campaign")
    rows = {(row.source, row.campaign): row for row in report.rows}
    assert set(rows) == {("instagram", "Eid"), ("meta", "")}
    assert rows[("instagram", "Eid")].orders == 4
    # Spend is entered per source: campaign rows carry none, the total does.
    assert all(row.ad_spend is None for row in report.rows)
    assert report.total.ad_spend == Decimal("40.000")


def test_a_range_outside_the_orders_is_empty_but_prorates_spend(worked_example):
    with shop_context(worked_example):
        report = channel_earnings(start=dt.date(2026, 11, 21), end=dt.date(2026, 11, 30))
    (row,) = report.rows
    assert (row.source, row.orders, row.page_views) == ("instagram", 0, 0)
    assert row.ad_spend == Decimal("13.333")  # 10 of November's 30 days
    assert row.roas == Decimal("0.00")


def test_proration_by_days():
    november = dt.date(2026, 11, 1)
    assert prorated_spend(Decimal("300"), november, dt.date(2026, 11, 21), dt.date(2026, 12, 5)) == Decimal("100.000")
    assert prorated_spend(Decimal("300"), november, dt.date(2026, 10, 1), dt.date(2026, 12, 31)) == Decimal("300")
    assert prorated_spend(Decimal("300"), november, dt.date(2026, 12, 1), dt.date(2026, 12, 31)) == Decimal("0")
    assert prorated_spend(Decimal("29"), dt.date(2028, 2, 1), dt.date(2028, 2, 29), dt.date(2028, 3, 1)) == Decimal(
        "1.000"
    )


def test_the_report_is_three_queries_whatever_the_orders(worked_example):
    with shop_context(worked_example), CaptureQueriesContext(connection) as captured:
        channel_earnings(start=NOVEMBER[0], end=NOVEMBER[1], tz_name="UTC", currency="USD")
    assert len(captured) == 3


def test_a_bad_range_is_refused(in_shop_a):
    with pytest.raises(ValidationError) as refused:
        channel_earnings(start=dt.date(2026, 11, 2), end=dt.date(2026, 11, 1))
    assert refused.value.error_dict["end"][0].code == "date_range_invalid"
    with pytest.raises(ValidationError):
        channel_earnings(start=dt.date(2020, 1, 1), end=dt.date(2026, 1, 1))


# --- Ad spend -----------------------------------------------------------------------------------


def test_ad_spend_create_update_and_the_audit_log(shop_a):
    with shop_context(shop_a), acting_as(Actor(door=Door.CLI, label="test")):
        spend = ad_spend_create(shop=shop_a, source="FB", month=dt.date(2026, 11, 17), amount=Decimal("12.5"))
        assert (spend.source, spend.month) == ("facebook", dt.date(2026, 11, 1))
        with pytest.raises(ValidationError) as taken:
            ad_spend_create(shop=shop_a, source="facebook", month=dt.date(2026, 11, 3), amount=Decimal("1"))
        assert taken.value.error_dict["month"][0].code == "ad_spend_month_taken"
        with pytest.raises(ValidationError) as nameless:
            ad_spend_create(shop=shop_a, source="!!", month=dt.date(2026, 11, 3), amount=Decimal("1"))
        assert nameless.value.error_dict["source"][0].code == "source_required"
        with pytest.raises(ValidationError):
            ad_spend_create(shop=shop_a, source="meta", month=dt.date(2026, 11, 3), amount=Decimal("-1"))
        ad_spend_update(spend=spend, amount=Decimal("20"))
        actions = list(AuditLogEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions[-2:] == ["ad_spend.create", "ad_spend.update"]


GOOD_CSV = "source,month,amount,note\nfacebook,2026-10,100.00,\nInstagram,২০২৬-১১,১২৫০.৫০,দুর্গাপূজা\ntiktok,2026-11-01,0,\n"


def test_csv_import_reads_native_digits_and_aliases(shop_a):
    with shop_context(shop_a), acting_as(Actor(door=Door.CLI, label="test")):
        result = ad_spend_import(shop=shop_a, data=GOOD_CSV)
        assert (result.created, result.updated) == (3, 0)
        got = {(s.source, s.month): (s.amount, s.note) for s in AdSpend.objects.all()}
        assert got == {
            ("facebook", dt.date(2026, 10, 1)): (Decimal("100.000"), ""),
            ("instagram", dt.date(2026, 11, 1)): (Decimal("1250.500"), "দুর্গাপূজা"),
            ("tiktok_shop", dt.date(2026, 11, 1)): (Decimal("0.000"), ""),
        }
        # Importing again changes the months already entered.
        result = ad_spend_import(shop=shop_a, data="source,month,amount\nfacebook,2026-10,150\n")
        assert (result.created, result.updated) == (0, 1)
        assert AdSpend.objects.get(source="facebook").amount == Decimal("150.000")


def test_csv_import_is_all_or_nothing_with_row_errors(shop_a):
    bad = (
        "source,month,amount\n"
        "facebook,2026-10,100\n"  # row 2: fine
        "instagram,november,50\n"  # row 3: not a month
        "meta,2026-11,-5\n"  # row 4: negative
        ",2026-11,abc\n"  # row 5: no source, not a number
        "facebook,2026-10-09,7\n"  # row 6: the same month as row 2
        "=cmd,2026-13,1\n"  # row 7: month 13
    )
    with shop_context(shop_a), acting_as(Actor(door=Door.CLI, label="test")):
        with pytest.raises(ValidationError) as refused:
            ad_spend_import(shop=shop_a, data=bad)
        assert not AdSpend.objects.exists()
    errors = refused.value.error_dict["file"]
    assert [e.messages[0].split(":")[0] for e in errors] == ["Row 3", "Row 4", "Row 5", "Row 6", "Row 7"]
    assert {e.code for e in errors} == {"ad_spend_row_invalid"}
    assert "already on row 2" in errors[3].messages[0]


@pytest.mark.parametrize("data", ["", "month,amount\n2026-11,5\n", "source,month,amount\n", "\x00garbage", "a,b\n" * 3])
def test_csv_import_refuses_files_without_rows_or_columns(shop_a, data):
    with shop_context(shop_a), acting_as(Actor(door=Door.CLI, label="test")), pytest.raises(ValidationError) as refused:
        ad_spend_import(shop=shop_a, data=data)
    assert refused.value.error_dict["file"][0].code in ("csv_columns_missing", "ad_spend_row_invalid")


# --- The merchant UI ------------------------------------------------------------------------------


def _page(shop, **query):
    url = reverse("orders:earnings", args=[shop.slug])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_alice_reads_the_report_and_charlie_gets_404(worked_example, client, alice, charlie, shop_b):
    login(client, alice)
    page = client.get(_page(worked_example, start="2026-11-01", end="2026-11-30"))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-source="instagram"' in body and "Instagram" in body and "2.50\u00d7" in body
    login(client, charlie)
    assert client.get(_page(worked_example)).status_code == 404
    with shop_context(worked_example):
        spend = AdSpend.objects.get()
    assert client.get(reverse("orders:ad-spend-edit", args=[worked_example.slug, spend.pk])).status_code == 404
    # On his own shop's pages, nothing of alice's: not her counts, not her spend.
    own = client.get(_page(shop_b, start="2026-11-01", end="2026-11-30")).content.decode()
    assert 'data-source="instagram"' not in own and "40.00" not in own
    assert client.get(reverse("orders:ad-spend-edit", args=[shop_b.slug, spend.pk])).status_code == 404
    home = client.get(reverse("shop-home", args=[shop_b.slug])).content.decode()
    assert "What each channel earns" in home and 'data-source="instagram"' not in home


def test_the_home_panel_shows_the_sources(shop_a, meta_account, client, alice):
    with shop_context(shop_a), acting_as(Actor(door=Door.CLI, label="test")):
        traffic_count(landing=landing_from_params({"cart_origin": "instagram"}), kind="view")
        order_import(account=meta_account, data=channel_order("P1"))
    login(client, alice)
    home = client.get(reverse("shop-home", args=[shop_a.slug]))
    body = home.content.decode()
    assert 'id="earnings-panel"' in body
    assert 'data-source="instagram"' in body and 'data-source="meta"' in body


def test_the_report_in_bengali_uses_bengali_digits(worked_example, client, alice):
    alice.language = "bn"
    alice.save(update_fields=["language"])
    login(client, alice)
    page = client.get(_page(worked_example, start="2026-11-01", end="2026-11-30"))
    assert page.status_code == 200
    assert "২০০" in page.content.decode()  # 200 page views


@pytest.mark.parametrize(
    "query",
    [
        {"start": "2026-11-30", "end": "2026-11-01"},
        {"start": "nonsense", "end": "2026-11-01"},
        {"start": "2000-01-01", "end": "2026-11-01"},
        {"by": "everything"},
        {"start": "9999-12-31", "end": "9999-12-31"},
    ],
)
def test_a_bad_range_on_the_page_is_a_form_error(shop_a, client, alice, query):
    login(client, alice)
    page = client.get(_page(shop_a, **query))
    assert page.status_code == 200
    assert "errorlist" in page.content.decode()


def test_bob_enters_changes_and_removes_spend(shop_a, client, bob):
    login(client, bob)
    add = reverse("orders:ad-spend-add", args=[shop_a.slug])
    answer = client.post(add, {"source": "instagram", "month": "২০২৬-১১", "amount": "১২৫.৫০", "note": "Eid"})
    assert answer.status_code == 302
    with shop_context(shop_a):
        spend = AdSpend.objects.get()
    assert (spend.source, spend.month, spend.amount) == ("instagram", dt.date(2026, 11, 1), Decimal("125.500"))
    again = client.post(add, {"source": "Instagram", "month": "2026-11", "amount": "1"})
    assert again.status_code == 400 and "already has a spend" in again.content.decode()
    edit = reverse("orders:ad-spend-edit", args=[shop_a.slug, spend.pk])
    assert client.get(edit).status_code == 200
    assert client.post(edit, {"source": "instagram", "month": "2026-11", "amount": "abc"}).status_code == 400
    assert client.post(edit, {"source": "instagram", "month": "2026-11", "amount": "200"}).status_code == 302
    with shop_context(shop_a):
        assert AdSpend.objects.get().amount == Decimal("200")
    assert client.post(edit, {"delete": "1"}).status_code == 302
    with shop_context(shop_a):
        assert not AdSpend.objects.exists()


def test_the_csv_upload_page(shop_a, client, alice):
    login(client, alice)
    url = reverse("orders:ad-spend-import", args=[shop_a.slug])
    bad = SimpleUploadedFile("spend.csv", b"source,month,amount\nfacebook,2026-10,1\nmeta,never,2\n")
    answer = client.post(url, {"file": bad})
    assert answer.status_code == 400 and "Row 3" in answer.content.decode()
    with shop_context(shop_a):
        assert not AdSpend.objects.exists()
    latin = SimpleUploadedFile("spend.csv", "source,month,amount\nfé,2026-10,1\n".encode("latin-1"))
    assert "UTF-8" in client.post(url, {"file": latin}).content.decode()
    good = SimpleUploadedFile("spend.csv", GOOD_CSV.encode())
    assert client.post(url, {"file": good}).status_code == 302
    with shop_context(shop_a):
        assert AdSpend.objects.count() == 3


def test_a_viewer_reads_but_does_not_write(shop_a, client):
    vera = make_user("vera@example.com")
    with shop_context(shop_a), acting_as(Actor(door=Door.CLI, label="test")):
        shop_a.memberships.create(user=vera, role=Role.VIEWER)
        spend = ad_spend_create(shop=shop_a, source="meta", month=dt.date(2026, 11, 1), amount=Decimal("5"))
    login(client, vera)
    assert client.get(_page(shop_a)).status_code == 200
    add = reverse("orders:ad-spend-add", args=[shop_a.slug])
    assert client.post(add, {"source": "meta", "month": "2026-12", "amount": "1"}).status_code == 403
    edit = reverse("orders:ad-spend-edit", args=[shop_a.slug, spend.pk])
    assert client.post(edit, {"delete": "1"}).status_code == 403
    with shop_context(shop_a):
        assert AdSpend.objects.count() == 1


# --- The API --------------------------------------------------------------------------------------


def test_api_ad_spend_crud_and_charlie(shop_a, shop_b, api_a, api_b):
    created = api_a.post(
        "/api/v1/ad-spend/", {"source": "IG", "month": "2026-11-20", "amount": "250.00", "note": "Eid"}, format="json"
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["source"], body["month"], body["amount"]) == ("instagram", "2026-11-01", "250.000")
    pk = body["id"]
    taken = api_a.post(
        "/api/v1/ad-spend/", {"source": "instagram", "month": "2026-11-01", "amount": "1"}, format="json"
    )
    assert taken.status_code == 400
    assert taken["Content-Type"].startswith("application/problem+json")
    assert taken.json()["errors"][0]["code"] == "ad_spend_month_taken"
    nameless = api_a.post("/api/v1/ad-spend/", {"source": "!!", "month": "2026-11-01", "amount": "1"}, format="json")
    assert nameless.json()["errors"][0]["code"] == "source_required"
    assert api_a.patch(f"/api/v1/ad-spend/{pk}/", {"amount": "300"}, format="json").json()["amount"] == "300.000"
    assert [r["id"] for r in api_a.get("/api/v1/ad-spend/?source=instagram").json()["results"]] == [pk]
    # charlie's key: nothing of alice's, through any verb.
    assert api_b.get("/api/v1/ad-spend/").json()["results"] == []
    assert api_b.get(f"/api/v1/ad-spend/{pk}/").status_code == 404
    assert api_b.patch(f"/api/v1/ad-spend/{pk}/", {"amount": "1"}, format="json").status_code == 404
    assert api_b.delete(f"/api/v1/ad-spend/{pk}/").status_code == 404
    assert api_a.delete(f"/api/v1/ad-spend/{pk}/").status_code == 204
    with shop_context(shop_a):
        assert not AdSpend.objects.exists()


def test_api_scopes(shop_a):
    reader = api_client_for(shop_a, scopes=["orders:read"])
    assert reader.get("/api/v1/ad-spend/").status_code == 200
    assert reader.get("/api/v1/channel-earnings/").status_code == 200
    refused = reader.post("/api/v1/ad-spend/", {"source": "meta", "month": "2026-11-01", "amount": "1"}, format="json")
    assert refused.status_code == 403
    stranger = api_client_for(shop_a, scopes=["catalog:read"], name="catalog only")
    assert stranger.get("/api/v1/channel-earnings/").status_code == 403


def test_api_channel_earnings(worked_example, api_a, api_b):
    answer = api_a.get("/api/v1/channel-earnings/?start=2026-11-01&end=2026-11-30")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["start"], body["end"], body["by"], body["currency"]) == ("2026-11-01", "2026-11-30", "source", "USD")
    insta = body["rows"][0]
    assert insta == {
        "source": "instagram",
        "label": "Instagram",
        "campaign": None,
        "page_views": 200,
        "checkout_starts": 20,
        "orders": 4,
        "conversion_rate": "0.0200",
        "revenue": "100.000",
        "average_order": "25.000",
        "ad_spend": "40.000",
        "roas": "2.50",
    }
    assert body["total"]["roas"] == "5.00" and body["total"]["orders"] == 6
    by_campaign = api_a.get("/api/v1/channel-earnings/?start=2026-11-01&end=2026-11-30&by=campaign").json()
    assert {(r["source"], r["campaign"]) for r in by_campaign["rows"]} == {("instagram", "Eid"), ("meta", "")}
    # charlie's key sees his own (empty) shop.
    theirs = api_b.get("/api/v1/channel-earnings/?start=2026-11-01&end=2026-11-30").json()
    assert theirs["rows"] == [] and theirs["total"]["orders"] == 0 and theirs["currency"] == "EUR"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("start=2026-11-30&end=2026-11-01", "end"),
        ("start=2000-01-01&end=2026-11-01", "end"),
        ("start=tomorrow", "start"),
        ("by=all", "by"),
        ("start=9999-12-31&end=9999-12-31", "start"),
        ("end=0001-01-01", "end"),
    ],
)
def test_api_channel_earnings_refuses_a_bad_query(shop_a, api_a, query, field):
    answer = api_a.get(f"/api/v1/channel-earnings/?{query}")
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == field


def test_api_orders_carry_and_filter_by_source(worked_example, api_a, api_b):
    insta = api_a.get("/api/v1/orders/?source=instagram").json()["results"]
    assert len(insta) == 5  # the cancelled one too: the list holds every order
    assert {(o["source"], o["campaign"]) for o in insta} == {("instagram", "Eid")}
    assert insta[0]["landing"] == {"cart_origin": "instagram", "utm_campaign": "Eid"}
    assert {o["source"] for o in api_a.get("/api/v1/orders/?source=meta").json()["results"]} == {"meta"}
    assert api_b.get("/api/v1/orders/?source=instagram").json()["results"] == []
