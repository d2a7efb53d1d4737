"""The staff admin: staff see every shop with a shop filter; merchants never get in."""

import pytest
from django.contrib import admin
from django.urls import reverse

from shopadmin.admin_base import TenantAdmin
from shopadmin.tenancy import TenantModel

pytestmark = pytest.mark.django_db


def test_every_model_of_the_project_is_registered():
    """Each model has its own admin, or is edited inline within its parent's (option rows, order lines)."""
    from django.apps import apps

    ours = {"shopadmin", "catalog", "localization", "channels", "orders", "storefront"}
    inline_models = {inline.model for model_admin in admin.site._registry.values() for inline in model_admin.inlines}
    missing = [
        m._meta.label
        for m in apps.get_models()
        if m._meta.app_label in ours
        and not m._meta.auto_created
        and m not in admin.site._registry
        and m not in inline_models
    ]
    assert missing == []


def test_every_tenant_model_admin_filters_by_shop():
    for model, model_admin in admin.site._registry.items():
        if issubclass(model, TenantModel):
            assert isinstance(model_admin, TenantAdmin), model._meta.label


def test_staff_see_all_shops(client, staff, shop_a, shop_b):
    client.force_login(staff)
    response = client.get(reverse("admin:shopadmin_auditlogentry_changelist"))
    assert response.status_code == 200
    shops = {entry.shop_id for entry in response.context["cl"].result_list}
    assert shops == {shop_a.pk, shop_b.pk}
    filtered = client.get(reverse("admin:shopadmin_auditlogentry_changelist"), {"shop__id__exact": shop_b.pk})
    assert {entry.shop_id for entry in filtered.context["cl"].result_list} == {shop_b.pk}


def test_staff_open_any_changelist(client, staff, shop_a, shop_b):
    client.force_login(staff)
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert client.get(url).status_code == 200, url


def test_merchants_never_enter_the_admin(alice_client):
    response = alice_client.get(reverse("admin:shopadmin_auditlogentry_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response.url


def test_models_of_shopadmin_and_localization_name_themselves_in_the_plural():
    """Staff read these names in their language; an automatic plural is English made from the class name."""
    from django.apps import apps
    from django.utils.functional import Promise

    bare = [
        m._meta.label
        for app in ("shopadmin", "localization")
        for m in apps.get_app_config(app).get_models()
        if not isinstance(m._meta.verbose_name_plural, Promise) or not isinstance(m._meta.verbose_name, Promise)
    ]
    assert bare == []
    from shopadmin.models import ApiKey

    assert str(ApiKey._meta.verbose_name_plural) == "API keys"


def test_money_columns_show_the_currency_and_its_minor_units(rf, staff):
    from decimal import Decimal

    from djmoney.money import Money

    from catalog.models import ProductVariant
    from localization.models import DeMinimisRule, Market, MarketPrice, MarketVariantPrice

    request = rf.get("/admin/")
    request.user = staff

    def shown(model, obj, field):
        columns = admin.site._registry[model].get_list_display(request)
        column = next(c for c in columns if callable(c) and c.__name__ == f"{field}_money")
        return column(obj)

    assert shown(MarketPrice, MarketPrice(amount=Decimal("273.9800"), currency="USD"), "amount") == "$273.98"
    assert shown(MarketPrice, MarketPrice(amount=Decimal("1449.0000"), currency="JPY"), "amount") == "¥1,449"
    market = Market(currency="EUR")
    assert shown(MarketVariantPrice, MarketVariantPrice(market=market, fixed_price=Decimal("9.9")), "fixed_price") == (
        "€9.90"
    )
    assert shown(MarketVariantPrice, MarketVariantPrice(market=market, sale_price=None), "sale_price") == "—"
    rule = DeMinimisRule(threshold=Decimal("135.00"), threshold_currency="GBP")
    assert shown(DeMinimisRule, rule, "threshold") == "£135.00"
    # The catalog's prices (djmoney, three stored decimals) are money too.
    assert shown(ProductVariant, ProductVariant(price=Money(Decimal("273.980"), "USD")), "price") == "$273.98"
