"""The catalog in a real browser: alice builds a product, fixes a bad GTIN without retyping,
moves stock, imports a CSV file (bad, then good); bob edits; a viewer only looks; charlie
gets 404; the main pages pass axe at desktop and phone sizes (issue 3, DESIGN.md §10)."""

import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from catalog import services
from catalog.tests.factories import make_location, make_product
from conftest import make_user
from shopadmin.roles import Role
from shopadmin.tenancy import shop_context
from shopadmin.testing.browser import DESKTOP, PHONE, accessibility_violations, format_violations, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GOOD_CSV = (
    "handle,title,category,status,option1_name,option1_value,sku,price,stock:main\n"
    "linen-shirt,Linen Shirt,Apparel,active,Size,S,LIN-S,39.00,4\n"
    "linen-shirt,,,,Size,M,LIN-M,39.00,2\n"
    "wool-cap,Wool Cap,Apparel,active,,,CAP-1,15.00,9\n"
)
BAD_CSV = GOOD_CSV.replace("CAP-1,15.00", "CAP-1,15.0O")


def section(page, name):
    return page.get_by_role("region", name=name)


def test_alice_builds_a_product_and_moves_its_stock(page, live_server, alice, shop_a, screenshot, tmp_path):
    with shop_context(shop_a):
        make_location()
    sign_in(page, live_server, alice)
    page.goto(f"{live_server.url}/app/alice/catalog/")
    page.get_by_role("link", name="New product").click()
    page.get_by_label("Title").fill("Organic Tee")
    page.get_by_label("Brand").fill("Northwind")
    page.get_by_role("button", name="Create product").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Organic Tee")

    options = section(page, "Options")
    options.get_by_label("Option 1 name").fill("Size")
    options.get_by_label("Option 1 values").fill("S, M")
    options.get_by_role("button", name="Save options").click()
    expect(page.get_by_text("Options saved.")).to_be_visible()

    variants = section(page, "Variants and stock")
    for size, gtin in (("S", "4006381333932"), ("S", "4006381333931"), ("M", "")):
        variants.get_by_text("Add a variant").click() if not variants.get_by_label("SKU").is_visible() else None
        variants.get_by_label("SKU").fill(f"TEE-{size}")
        variants.get_by_label(re.compile(r"^Price")).fill("24.00")
        variants.get_by_label("GTIN / barcode").fill(gtin)
        variants.get_by_label("Size").select_option(size)
        variants.get_by_role("button", name="Add variant").click()
        if gtin.endswith("2"):
            # A wrong check digit: the field says so and nothing she typed is lost.
            variants = section(page, "Variants and stock")
            expect(variants.get_by_text(re.compile("check digit", re.I))).to_be_visible()
            expect(variants.get_by_label("SKU")).to_have_value("TEE-S")
            expect(variants.get_by_label(re.compile(r"^Price"))).to_have_value("24.00")
            expect(variants.get_by_label("Size")).to_have_value("S")
            screenshot(page, "gtin-error")
        else:
            expect(page.get_by_text("Variant added.")).to_be_visible()
            variants = section(page, "Variants and stock")
    expect(variants.get_by_role("link", name="TEE-S")).to_be_visible()
    expect(variants.get_by_role("link", name="TEE-M")).to_be_visible()

    stock = section(page, "Adjust stock")
    stock.get_by_label("Variant").select_option(label="TEE-M · M")
    stock.get_by_label("Location").select_option(label="Main warehouse")
    stock.get_by_label("Quantity").fill("12")
    stock.get_by_label("Reason").select_option("received")
    stock.get_by_label("Note").fill("first delivery")
    stock.get_by_role("button", name="Post adjustment").click()
    expect(page.get_by_text("Stock updated.")).to_be_visible()
    movement = section(page, "Adjust stock").get_by_role("row").filter(has_text="first delivery")
    expect(movement).to_contain_text("TEE-M")
    expect(movement).to_contain_text("+12")
    expect(movement).to_contain_text("Received")

    # Images: a text file named .png is refused on its field, the alt text stays; a real
    # picture is stored, and the page shows it from the media URL.
    fake = tmp_path / "tee.png"
    fake.write_text("not a picture")
    real = tmp_path / "tee-real.png"
    Image.new("RGB", (900, 700), (30, 90, 160)).save(real, "PNG")
    images = section(page, "Images")
    images.get_by_label("Alt text").fill("Blue organic tee")
    images.get_by_label("…or upload an image").set_input_files(str(fake))
    images.get_by_role("button", name="Add image").click()
    images = section(page, "Images")
    expect(images.get_by_text("This file is not an image we can read.")).to_be_visible()
    expect(images.get_by_label("Alt text")).to_have_value("Blue organic tee")
    images.get_by_label("…or upload an image").set_input_files(str(real))
    images.get_by_role("button", name="Add image").click()
    expect(page.get_by_text("Image added.")).to_be_visible()
    picture = section(page, "Images").get_by_role("img", name="Blue organic tee")
    expect(picture).to_be_visible()
    picture.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=picture.element_handle())
    assert picture.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [900, 700]
    assert "/media/catalog/" in picture.get_attribute("src")
    screenshot(page, "editor")


@pytest.mark.worker
def test_alice_imports_a_csv_file_bad_then_good(page, live_server, alice, shop_a, live_worker, screenshot):
    with shop_context(shop_a):
        services.category_create(name="Apparel")
        make_location()
    sign_in(page, live_server, alice)
    page.goto(f"{live_server.url}/app/alice/catalog/import/")
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": BAD_CSV.encode()}]
    )
    page.get_by_role("button", name="Upload and check").click()
    problem = page.get_by_role("row").filter(has_text="15.0O")
    expect(problem).to_contain_text("price")
    expect(problem).to_contain_text("not an amount")
    expect(problem.get_by_role("cell").first).to_have_text("4")
    expect(page.get_by_role("button", name="Import all rows")).to_have_count(0)
    screenshot(page, "import-errors")

    page.get_by_role("link", name="Upload a corrected file").click()
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "good.csv", "mimeType": "text/csv", "buffer": GOOD_CSV.encode()}]
    )
    page.get_by_role("button", name="Upload and check").click()
    page.get_by_role("button", name="Import all rows").click()
    expect(page.get_by_text("Every row was saved.")).to_be_visible()
    page.get_by_role("link", name="See the products").click()
    expect(page.get_by_role("link", name="Linen Shirt")).to_be_visible()
    expect(page.get_by_role("link", name="Wool Cap")).to_be_visible()
    screenshot(page, "list-after-import")


@pytest.fixture
def tee(shop_a):
    with shop_context(shop_a):
        product = make_product("Classic Tee", brand="Northwind", status="active")
        services.stock_set(variant=product.variants.first(), location=make_location(), on_hand=5)
    return product


def test_bob_edits_a_viewer_only_looks(page, live_server, bob, shop_a, tee):
    sign_in(page, live_server, bob)
    page.goto(f"{live_server.url}/app/alice/catalog/products/{tee.pk}/")
    details = section(page, "Details")
    details.get_by_label("Title").fill("Classic Tee, heavy")
    details.get_by_role("button", name="Save details").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Classic Tee, heavy")

    viewer = make_user("vera@example.com")
    with shop_context(shop_a):  # memberships are row-secured per shop
        shop_a.memberships.create(user=viewer, role=Role.VIEWER)
    page.context.clear_cookies()
    sign_in(page, live_server, viewer)
    for path in ("", f"products/{tee.pk}/", "categories/", "locations/"):
        page.goto(f"{live_server.url}/app/alice/catalog/{path}")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        expect(page.get_by_role("button", name=re.compile("Save|Add|Post|Delete|Apply to selected"))).to_have_count(0)
        expect(page.get_by_role("link", name=re.compile("New product|Import CSV"))).to_have_count(0)
    expect(page.get_by_role("heading", level=1)).to_have_text("Locations")


def test_charlie_gets_404_on_alices_product(page, live_server, charlie, shop_b, shop_a, tee):
    with shop_context(shop_a):
        variant = tee.variants.first()
    sign_in(page, live_server, charlie)
    for path in (
        f"/app/alice/catalog/products/{tee.pk}/",
        f"/app/alice/catalog/variants/{variant.pk}/",
        f"/app/charlie/catalog/products/{tee.pk}/",
        f"/app/charlie/catalog/variants/{variant.pk}/",
    ):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 404, path
    page.goto(f"{live_server.url}/app/charlie/catalog/?q=Classic")
    expect(page.get_by_text("No product matches these filters.")).to_be_visible()


def test_main_pages_are_accessible_at_desktop_and_phone_sizes(page, live_server, alice, shop_a, tee, screenshot):
    with shop_context(shop_a):
        services.category_create(name="Apparel")
    sign_in(page, live_server, alice)
    pages = {
        "list": "/app/alice/catalog/",
        "editor": f"/app/alice/catalog/products/{tee.pk}/",
        "import": "/app/alice/catalog/import/",
        "categories": "/app/alice/catalog/categories/",
    }
    problems = []
    for size_name, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        for name, path in pages.items():
            page.goto(f"{live_server.url}{path}")
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            violations = accessibility_violations(page)
            if violations:
                problems.append(format_violations(violations, f"{name} ({size_name})"))
            screenshot(page, f"{name}-{size_name}")
            if size_name == "phone":
                # Wide tables scroll inside their wrapper; the page itself never scrolls sideways.
                assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), name
    assert not problems, "\n".join(problems)
