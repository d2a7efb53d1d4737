import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.models import Product, ProductOption, ProductVariant
from catalog.tests.factories import make_product
from localization.models import Translation
from localization.services import market_create
from localization.translations import (
    language_chain,
    product_texts,
    translation_set,
    translation_status,
    translations_export_csv,
    translations_import_csv,
)
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db


def test_language_chain():
    assert language_chain("fr-CA", "en") == ["fr-CA", "fr", "en"]
    assert language_chain("fr", "fr") == ["fr"]
    assert language_chain("de", "en-GB") == ["de", "en-GB", "en"]


@pytest.fixture
def catalog_a(in_shop_a):
    make_product("Classic Tee", skus=["TEE-S", "TEE-M"], description="Soft cotton")
    market_create(shop=in_shop_a, name="Canada", countries=["CA"], currency="CAD", languages=["en-CA", "fr-CA"])
    return Product.objects.get()


def test_fallback_fr_ca_to_fr_to_default(in_shop_a, catalog_a):
    translation_set(
        shop=in_shop_a, kind="product", target_id=catalog_a.pk, field="title", language="fr", value="Tee classique"
    )
    texts = product_texts(product_ids=[catalog_a.pk], language="fr-CA", shop=in_shop_a)[catalog_a.pk]
    assert texts["title"] == "Tee classique"
    assert texts["description"] == "Soft cotton"  # nothing in fr-CA or fr: the default text
    assert texts["seo_title"] == "Tee classique"  # SEO title falls back to the translated title
    translation_set(
        shop=in_shop_a,
        kind="product",
        target_id=catalog_a.pk,
        field="title",
        language="fr-CA",
        value="T-shirt classique",
    )
    assert (
        product_texts(product_ids=[catalog_a.pk], language="fr-CA", shop=in_shop_a)[catalog_a.pk]["title"]
        == "T-shirt classique"
    )


def test_status_shows_what_is_missing(in_shop_a, catalog_a):
    statuses = {s.language: s for s in translation_status(in_shop_a)}
    assert set(statuses) == {"en-CA", "fr-CA"}
    assert statuses["fr-CA"].titles == 0 and statuses["fr-CA"].missing_titles == [catalog_a]


def test_csv_round_trip(in_shop_a, catalog_a):
    exported = translations_export_csv(language="fr-CA", shop=in_shop_a)
    assert "product,classic-tee,title,fr-CA,,Classic Tee" in exported.replace("\r", "")
    option = ProductOption.objects.get()
    data = (
        "kind,key,field,language,value\n"
        f"product,{catalog_a.handle},title,fr-CA,T-shirt classique\n"
        "variant,TEE-M,title,fr-CA,Moyen\n"
        f"option,{catalog_a.handle}:{option.name},name,fr-CA,Taille\n"
        f"option,{catalog_a.handle}:{option.name},value:M,fr-CA,M (moyen)\n"
    )
    result = translations_import_csv(data=data, shop=in_shop_a)
    assert result.written == 4
    texts = product_texts(product_ids=[catalog_a.pk], language="fr-CA", shop=in_shop_a)[catalog_a.pk]
    assert texts["options"][0] == {"name": "Taille", "values": {"S": "S", "M": "M (moyen)"}}
    assert texts["variants"]["TEE-M"] == "Moyen"


def test_csv_import_is_all_or_nothing_and_lists_every_bad_row(in_shop_a, catalog_a):
    data = (
        "kind,key,field,language,value\n"
        f"product,{catalog_a.handle},title,fr,Bon\n"
        "product,nope,title,fr,X\n"
        "variant,TEE-M,colour,fr,X\n"
        f"product,{catalog_a.handle},title,not a language!,X\n"
    )
    with pytest.raises(ValidationError) as caught:
        translations_import_csv(data=data, shop=in_shop_a)
    messages = caught.value.message_dict["file"]
    assert [m.split(":")[0] for m in messages] == ["Row 3", "Row 4", "Row 5"]
    assert Translation.objects.count() == 0


def test_another_shops_products_are_not_importable(shop_a, shop_b):
    with shop_context(shop_a):
        make_product("Secret", skus=["SEC-1"])
        handle = Product.objects.get().handle
    with shop_context(shop_b), pytest.raises(ValidationError):
        translations_import_csv(data=f"kind,key,field,language,value\nproduct,{handle},title,fr,X\n", shop=shop_b)


def test_translations_pages(alice, bob, charlie, shop_a, shop_b):
    from django.test import Client

    alice_client, bob_client, charlie_client = Client(), Client(), Client()
    for c, user in ((alice_client, alice), (bob_client, bob), (charlie_client, charlie)):
        c.force_login(user)
    url = reverse("localization:translations", args=[shop_a.slug])
    assert alice_client.get(url).status_code == 200
    export = reverse("localization:translations-export", args=[shop_a.slug])
    response = bob_client.get(export)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    with shop_context(shop_a):
        make_product("Tee", skus=["T-1"])
        handle = Product.objects.get().handle
    upload = SimpleUploadedFile("t.csv", f"kind,key,field,language,value\nproduct,{handle},title,fr,Tee FR\n".encode())
    assert bob_client.post(url, {"file": upload}).status_code == 302
    with shop_context(shop_a):
        assert Translation.objects.get().value == "Tee FR"
    assert charlie_client.get(url).status_code == 404
    assert charlie_client.get(export).status_code == 404


def test_viewer_cannot_import(client, shop_a):
    from conftest import login, make_user
    from shopadmin.roles import Role

    user = make_user("vic@example.com")
    with shop_context(shop_a):  # memberships are row-secured per shop
        shop_a.memberships.create(user=user, role=Role.VIEWER)
    login(client, user)
    url = reverse("localization:translations", args=[shop_a.slug])
    upload = SimpleUploadedFile("t.csv", b"kind,key,field,language,value\n")
    assert client.post(url, {"file": upload}).status_code == 403
    assert ProductVariant  # the catalog model is importable from localization, never the reverse
