import csv
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog import csvio, services
from catalog.models import Product, ProductMedia, ProductVariant, StockLevel, StockMovement
from catalog.tasks import import_check_task, import_commit_task
from catalog.tests.factories import make_location, make_product
from shopadmin.models import Job
from shopadmin.tenancy import shop_context
from shopadmin.testing.worker import wait_for

pytestmark = pytest.mark.django_db

HEADER = [
    "handle",
    "title",
    "category",
    "status",
    "option1_name",
    "option1_value",
    "sku",
    "gtin",
    "price",
    "image_url",
    "stock:main",
]


def to_csv(rows, header=HEADER) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def thousand_rows():
    rows = []
    for i in range(1000):
        product = i // 4
        rows.append(
            [
                f"style-{product}",
                f"Style {product}",
                "Apparel",
                "active",
                "Size",
                ["S", "M", "L", "XL"][i % 4],
                f"SKU-{i:04d}",
                "",
                "19.99",
                f"https://example.com/{product}.jpg",
                str(i % 7),
            ]
        )
    return rows


@pytest.fixture
def ready(shop_a):
    with shop_context(shop_a):
        services.category_create(name="Apparel")
        make_location()
    return shop_a


def test_one_bad_row_among_1000_blocks_the_whole_file(ready):
    rows = thousand_rows()
    rows[637][7] = "4006381333932"  # wrong check digit
    with shop_context(ready):
        plan = csvio.plan_import(to_csv(rows))
        assert [(e.line, e.column) for e in plan.errors] == [(639, "gtin")]
        assert "check digit" in plan.errors[0].message
        with pytest.raises(ValidationError, match="1 problems"):
            csvio.commit_import(to_csv(rows))
        assert not Product.objects.exists() and not ProductVariant.objects.exists()
        assert not StockMovement.objects.exists()

        rows[637][7] = "4006381333931"
        result = csvio.commit_import(to_csv(rows))
        assert result["products_new"] == 250 and result["variants_new"] == 1000
        assert ProductVariant.objects.count() == 1000
        product = Product.objects.get(handle="style-3")
        assert product.options.get().values == ["S", "M", "L", "XL"]
        assert product.media.get().url == "https://example.com/3.jpg"
        assert StockLevel.objects.get(variant__sku="SKU-0006").on_hand == 6
        assert StockMovement.objects.filter(reason="import").count() == sum(1 for i in range(1000) if i % 7)

        # The same file again changes nothing new; a changed count posts only the difference.
        rows[6][10] = "2"
        again = csvio.commit_import(to_csv(rows))
        assert again["variants_new"] == 0 and again["variants_updated"] == 1000
        assert ProductMedia.objects.count() == 250
        assert StockLevel.objects.get(variant__sku="SKU-0006").on_hand == 2
        assert StockMovement.objects.filter(reason="import").last().quantity in (-4, 1, 2, 3, 4, 5, 6)


def test_every_kind_of_problem_is_reported_with_its_line(ready):
    header = [*HEADER, "colour", "stock:mars"]
    rows = [
        ["tee", "Tee", "Apparel", "active", "Size", "S", "T-1", "", "19.99", "", "1", "", ""],
    ]
    with shop_context(ready):
        plan = csvio.plan_import(to_csv(rows, header))
    messages = " ".join(e.message for e in plan.errors)
    assert "Unknown columns: colour" in messages and "No location with code “mars”" in messages

    rows = [
        ["tee", "Tee", "Apparel", "active", "Size", "S", "T-1", "", "19.99", "", "1"],
        ["tee", "", "", "", "Size", "M", "T-1", "", "19.99", "", "1"],
        ["tee", "", "", "", "Size", "L", "T-2", "", "12,50", "", "x"],
        ["hat", "Hat", "Hats > Caps", "bogus", "", "", "H-1", "123", "5", "", ""],
        ["", "", "", "", "", "", "N-1", "", "", "", ""],
    ]
    with shop_context(ready):
        plan = csvio.plan_import(to_csv(rows))
    found = {(e.line, e.column) for e in plan.errors}
    assert (3, "sku") in found  # duplicate SKU
    assert (4, "price") in found  # bad money
    assert (4, "stock:main") in found
    assert (5, "category") in found and (5, "gtin") in found and (5, "status") in found
    assert (6, "handle") in found
    duplicate = next(e for e in plan.errors if e.line == 3)
    assert "also on line 2" in duplicate.message


def test_a_sku_cannot_move_to_another_product(ready):
    with shop_context(ready):
        make_product("Tee", skus=("TEE-S",))
        plan = csvio.plan_import(to_csv([["other", "Other", "", "", "", "", "TEE-S", "", "1", "", ""]]))
    assert plan.errors and "belongs to product" in plan.errors[0].message


def test_upload_preview_commit_through_the_ui(alice_client, ready):
    rows = thousand_rows()[:40]
    upload = SimpleUploadedFile("catalog.csv", to_csv(rows).encode(), content_type="text/csv")
    response = alice_client.post(reverse("catalog:import", args=["alice"]), {"file": upload})
    assert response.status_code == 302
    with shop_context(ready):
        job = Job.objects.get(kind="catalog_import_check")
    import_check_task.apply(args=[ready.pk, job.pk])
    page = alice_client.get(response["Location"])
    assert "No problems found" in page.content.decode()
    response = alice_client.post(reverse("catalog:import-commit", args=["alice", job.pk]))
    assert response.status_code == 302
    with shop_context(ready):
        commit_job = Job.objects.get(kind="catalog_import_commit")
    import_commit_task.apply(args=[ready.pk, commit_job.pk])
    with shop_context(ready):
        commit_job.refresh_from_db()
        assert commit_job.status == "succeeded", commit_job.error
        assert ProductVariant.objects.count() == 40
    assert "Every row was saved" in alice_client.get(response["Location"]).content.decode()
    # Both steps are services with an audit entry, so the API and the command line can use them.
    from shopadmin.models import AuditLogEntry

    with shop_context(ready):
        actions = list(
            AuditLogEntry.objects.filter(action__startswith="catalog.import").values_list("action", flat=True)
        )
        assert {"catalog.import_check", "catalog.import_commit"} <= set(actions)
        # Asking again returns the import already started; nothing new is queued.
        assert services.catalog_import_commit(check=job).pk == commit_job.pk


def test_a_file_with_errors_shows_them_and_cannot_be_committed(alice_client, ready):
    rows = thousand_rows()[:10]
    rows[3][8] = "$12"
    upload = SimpleUploadedFile("bad.csv", to_csv(rows).encode(), content_type="text/csv")
    alice_client.post(reverse("catalog:import", args=["alice"]), {"file": upload})
    with shop_context(ready):
        job = Job.objects.get(kind="catalog_import_check")
    import_check_task.apply(args=[ready.pk, job.pk])
    page = alice_client.get(reverse("catalog:import-job", args=["alice", job.pk])).content.decode()
    assert "not an amount" in page and "Import all rows" not in page
    alice_client.post(reverse("catalog:import-commit", args=["alice", job.pk]))
    with shop_context(ready):
        assert not Job.objects.filter(kind="catalog_import_commit").exists()


def test_upload_refuses_non_csv(alice_client, ready):
    upload = SimpleUploadedFile("photo.png", b"\x89PNG", content_type="image/png")
    response = alice_client.post(reverse("catalog:import", args=["alice"]), {"file": upload})
    assert response.status_code == 400 and "Upload a .csv file" in response.content.decode()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_import_runs_on_a_real_worker(client, alice, shop_a, live_worker):
    with shop_context(shop_a):
        services.category_create(name="Apparel")
        make_location()
    client.force_login(alice)
    upload = SimpleUploadedFile("catalog.csv", to_csv(thousand_rows()[:20]).encode(), content_type="text/csv")
    response = client.post(reverse("catalog:import", args=["alice"]), {"file": upload})
    job_id = int(response["Location"].rstrip("/").rsplit("/", 1)[-1])

    def finished(pk):
        with shop_context(shop_a):
            job = Job.objects.get(pk=pk)
            return job if job.is_finished else None

    job = wait_for(lambda: finished(job_id), timeout=60, message="the worker did not finish the job")
    assert job.status == "succeeded" and job.result["error_count"] == 0
    response = client.post(reverse("catalog:import-commit", args=["alice", job_id]))
    commit_id = int(response["Location"].rstrip("/").rsplit("/", 1)[-1])
    job = wait_for(lambda: finished(commit_id), timeout=60, message="the worker did not finish the job")
    assert job.status == "succeeded", job.error
    with shop_context(shop_a):
        assert ProductVariant.objects.count() == 20


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_reports_a_files_problems_in_the_language_of_who_uploaded_it(client, alice, shop_a, live_worker):
    with shop_context(shop_a):
        services.category_create(name="Apparel")
        make_location()
    alice.language = "fr"
    alice.save(update_fields=["language"])
    client.force_login(alice)
    rows = thousand_rows()[:3]
    rows[1][7] = "4006381333932"  # wrong check digit
    upload = SimpleUploadedFile("catalogue.csv", to_csv(rows).encode(), content_type="text/csv")
    response = client.post(reverse("catalog:import", args=["alice"]), {"file": upload})
    job_id = int(response["Location"].rstrip("/").rsplit("/", 1)[-1])

    def finished():
        with shop_context(shop_a):
            job = Job.objects.get(pk=job_id)
            return job if job.is_finished else None

    job = wait_for(finished, timeout=60, message="the worker did not finish the job")
    [error] = job.result["errors"]
    assert "clé de contrôle" in error["message"], error


def _check(shop, text: str) -> Job:
    """Run the background check of an uploaded file the way the upload view queues it."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from shopadmin.services import job_create

    with shop_context(shop):
        name = default_storage.save(f"imports/{shop.pk}/test.csv", ContentFile(text.encode()))
        job = job_create(kind="catalog_import_check", label="test.csv")
        job.result = {"file": name}
        job.save(update_fields=["result"])
    import_check_task.apply(args=[shop.pk, job.pk])
    with shop_context(shop):
        job.refresh_from_db()
    return job


def test_a_cell_over_the_csv_field_limit_ends_the_check_with_a_clear_error(ready):
    rows = thousand_rows()[:3]
    text = to_csv(rows) + '"' + "x" * (csv.field_size_limit() + 10) + "\n"
    job = _check(ready, text)
    assert job.status == "succeeded"  # the check ran; its result is the list of problems
    [error] = job.result["errors"]
    assert error["line"] == 5 and "longer than" in error["message"]
    assert job.result["error_count"] == 1


def test_a_nul_byte_is_a_row_error_not_a_stuck_job(ready):
    rows = thousand_rows()[:3]
    rows[1][6] = "SKU\x00-1"
    job = _check(ready, to_csv(rows))
    assert job.status == "succeeded"
    [error] = job.result["errors"]
    assert error == {"line": 3, "column": "sku", "message": error["message"]}
    assert "NUL" in error["message"]
    with pytest.raises(ValidationError), shop_context(ready):
        csvio.commit_import(to_csv(rows))


def test_a_check_that_crashes_ends_failed_with_a_message_for_the_merchant(ready, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("connection to 10.0.0.5 lost")

    monkeypatch.setattr(csvio, "plan_import", boom)
    job = _check(ready, to_csv(thousand_rows()[:2]))
    assert job.status == "failed"
    assert "unexpected error" in job.error and f"#{job.pk}" in job.error
    assert "10.0.0.5" not in job.error and job.finished_at is not None


def test_the_api_checks_and_commits_a_file_and_shows_row_errors(api_a, ready, shop_b):
    from conftest import api_client_for

    good = SimpleUploadedFile("catalog.csv", to_csv(thousand_rows()[:8]).encode(), content_type="text/csv")
    response = api_a.post("/api/v1/catalog-imports/", {"file": good}, format="multipart")
    assert response.status_code == 202, response.content
    check = response.json()
    assert (check["kind"], check["status"], check["label"]) == ("catalog_import_check", "queued", "catalog.csv")
    import_check_task.apply(args=[ready.pk, check["id"]])
    body = api_a.get(f"/api/v1/jobs/{check['id']}/").json()
    assert (body["status"], body["result"]["error_count"], body["result"]["variants_new"]) == ("succeeded", 0, 8)

    # Another shop's key does not find the job, and cannot commit it.
    api_b = api_client_for(shop_b)
    assert api_b.get(f"/api/v1/jobs/{check['id']}/").status_code == 404
    assert api_b.post(f"/api/v1/catalog-imports/{check['id']}/commit/").status_code == 404
    # A key without catalog:read may not follow a catalog import.
    orders_only = api_client_for(ready, scopes=["orders:read"], name="orders only")
    refused = orders_only.get(f"/api/v1/jobs/{check['id']}/")
    assert refused.status_code == 403 and refused.json()["code"] == "missing_scope"

    response = api_a.post(f"/api/v1/catalog-imports/{check['id']}/commit/")
    assert response.status_code == 202 and response.json()["kind"] == "catalog_import_commit"
    import_commit_task.apply(args=[ready.pk, response.json()["id"]])
    assert api_a.get(f"/api/v1/jobs/{response.json()['id']}/").json()["status"] == "succeeded"
    with shop_context(ready):
        assert ProductVariant.objects.count() == 8

    rows = thousand_rows()[8:12]
    rows[1][8] = "$12"
    bad = SimpleUploadedFile("bad.csv", to_csv(rows).encode(), content_type="text/csv")
    check = api_a.post("/api/v1/catalog-imports/", {"file": bad}, format="multipart").json()
    import_check_task.apply(args=[ready.pk, check["id"]])
    errors = api_a.get(f"/api/v1/jobs/{check['id']}/").json()["result"]["errors"]
    assert [(e["line"], e["column"]) for e in errors] == [(3, "price")]
    refused = api_a.post(f"/api/v1/catalog-imports/{check['id']}/commit/")
    assert refused.status_code == 400 and refused["Content-Type"] == "application/problem+json"


def test_the_api_refuses_what_is_not_a_csv_file(api_a, ready):
    photo = SimpleUploadedFile("photo.png", b"\x89PNG", content_type="image/png")
    response = api_a.post("/api/v1/catalog-imports/", {"file": photo}, format="multipart")
    assert response.status_code == 400
    assert [(e["field"], e["message"][:17]) for e in response.json()["errors"]] == [("file", "Upload a .csv fil")]
    response = api_a.post("/api/v1/catalog-imports/", {"file": "not a file"}, format="multipart")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "file"
    response = api_a.post("/api/v1/catalog-imports/", {"anything": 1}, format="json")
    assert response.status_code == 415
    with shop_context(ready):
        assert not Job.objects.exists()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_command_line_checks_then_imports_through_the_worker(shop_a, live_worker, tmp_path):
    from django.core.management import CommandError, call_command

    from shopadmin.models import AuditLogEntry

    with shop_context(shop_a):
        services.category_create(name="Apparel")
        make_location()
    rows = thousand_rows()[:6]
    rows[2][8] = "$12"
    path = tmp_path / "catalog.csv"
    path.write_text(to_csv(rows))
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 errors; nothing was imported"):
        call_command("import_catalog", str(path), shop="alice", commit=True, stdout=out, timeout=60)
    assert "line 4 (price)" in out.getvalue()

    rows[2][8] = "12.00"
    path.write_text(to_csv(rows))
    out = io.StringIO()
    call_command("import_catalog", str(path), shop="alice", commit=True, stdout=out, timeout=60)
    assert "Imported." in out.getvalue()
    with shop_context(shop_a):
        assert ProductVariant.objects.count() == 6
        started = AuditLogEntry.objects.filter(action__in=["catalog.import_check", "catalog.import_commit"])
        assert set(started.values_list("door", flat=True)) == {"cli"}


def test_a_file_written_with_bengali_digits_imports_as_the_numbers_it_means(ready):
    from catalog.models import StockLevel

    rows = [
        ["panjabi-12", "পাঞ্জাবি ১২ নম্বর", "Apparel", "active", "Size", "M", "PJ-M", "", "১২৫০.৫০", "", "১২"],
        ["panjabi-12", "পাঞ্জাবি ১২ নম্বর", "Apparel", "active", "Size", "L", "PJ-L", "", "۱۲۵۰٫۵۰", "", "۷"],
    ]
    with shop_context(ready):
        plan = csvio.plan_import(to_csv(rows))
        assert plan.errors == []
        csvio.commit_import(to_csv(rows))
        medium = ProductVariant.objects.select_related("product").get(sku="PJ-M")
        large = ProductVariant.objects.get(sku="PJ-L")
        # Numbers read as numbers; text keeps its own digits.
        assert medium.price.amount == large.price.amount == Decimal("1250.50")
        assert medium.product.title == "পাঞ্জাবি ১২ নম্বর" and medium.product.handle == "panjabi-12"
        assert StockLevel.objects.get(variant=medium).on_hand == 12
        assert StockLevel.objects.get(variant=large).on_hand == 7
