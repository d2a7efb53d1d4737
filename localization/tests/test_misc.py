import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_staff_admin_lists_reference_and_shop_data(client, staff, shop_a, shop_b):
    client.force_login(staff)
    for model in ("taxrate", "dutyrate", "deminimisrule", "customsregime", "exchangerate", "market"):
        assert client.get(reverse(f"admin:localization_{model}_changelist")).status_code == 200, model


def test_every_tax_row_has_source_and_check_date(db):
    from localization.models import DeMinimisRule, DutyRate, TaxRate

    countries = set(TaxRate.objects.values_list("country", flat=True))
    from localization.models import EU_MEMBERS

    assert EU_MEMBERS | {"US", "CA", "MX", "GB", "NO", "CH", "AU", "NZ", "JP", "SG", "IN", "BR"} <= countries
    assert TaxRate.objects.filter(country="US").exclude(region="").count() >= 3
    assert TaxRate.objects.filter(country="CA").exclude(region="").count() >= 5
    for model in (TaxRate, DutyRate, DeMinimisRule):
        assert not model.objects.filter(source="").exists()
        assert not model.objects.filter(last_checked__isnull=True).exists()


def test_openapi_schema_documents_the_endpoints(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    body = response.content.decode()
    for path in ("/api/v1/markets/", "/api/v1/exchange-rates/", "/api/v1/prices/", "/api/v1/landed-cost/quotes/"):
        assert path in body
    assert "positive value raises prices" in body
