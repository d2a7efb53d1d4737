import pytest

from catalog.tests.factories import make_location, make_product
from conftest import login
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db

MODELS = ["category", "product", "productvariant", "productmedia", "location", "stocklevel", "stockmovement"]


@pytest.fixture
def catalogs(shop_a, shop_b):
    from catalog import services

    with shop_context(shop_a):
        product = make_product("Alice Tee", skus=("A-1",))
        services.variant_update(variant=product.variants.get(), gtin="4006381333931")
        services.stock_set(variant=product.variants.get(), location=make_location(), on_hand=3)
    with shop_context(shop_b):
        make_product("Charlie Mug", skus=("C-1",))


def test_staff_sees_every_catalog_model_of_every_shop(client, staff, catalogs):
    login(client, staff)
    for model in MODELS:
        response = client.get(f"/admin/catalog/{model}/")
        assert response.status_code == 200, model
    page = client.get("/admin/catalog/product/").content.decode()
    assert "Alice Tee" in page and "Charlie Mug" in page


def test_staff_searches_by_sku_gtin_and_title(client, staff, catalogs, shop_b):
    login(client, staff)
    assert "Alice Tee" in client.get("/admin/catalog/product/?q=4006381333931").content.decode()
    by_sku = client.get("/admin/catalog/productvariant/?q=C-1").content.decode()
    assert "C-1" in by_sku and "A-1" not in by_sku
    filtered = client.get(f"/admin/catalog/product/?shop__id__exact={shop_b.pk}").content.decode()
    assert "Charlie Mug" in filtered and "Alice Tee" not in filtered


def test_merchants_are_kept_out_of_the_admin(alice_client):
    assert alice_client.get("/admin/catalog/product/").status_code == 302


def test_catalog_models_have_proper_plural_names_in_the_admin(client, staff, catalogs):
    login(client, staff)
    index = client.get("/admin/catalog/").content.decode()
    for plural in (
        "Categories",
        "Products",
        "Product variants",
        "Product media",
        "Locations",
        "Stock levels",
        "Stock movements",
    ):
        assert f">{plural}<" in index, plural
    assert "medias" not in index.lower() and "categorys" not in index.lower()


def test_staff_sees_an_uploaded_image_read_only(client, staff, shop_a):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from catalog import services

    out = io.BytesIO()
    Image.new("RGB", (600, 600), (10, 120, 60)).save(out, "PNG")
    with shop_context(shop_a):
        product = make_product("Alice Tee", skus=("A-1",))
        media = services.media_add(product=product, image=SimpleUploadedFile("x.png", out.getvalue()))
    login(client, staff)
    page = client.get(f"/admin/catalog/productmedia/{media.pk}/change/").content.decode()
    assert media.image.url in page and media.original.url in page
    assert 'type="file"' not in page
