"""Categories: the tree in services, the merchant UI and the API; who may do what."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from catalog import csvio, services
from catalog.models import Category, Product
from catalog.tests.factories import make_product
from conftest import api_client_for, login, make_user
from shopadmin.models import AuditLogEntry
from shopadmin.tenancy import shop_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree(shop_a):
    """Apparel > Tops > T-shirts, Apparel > Hats; a tee in T-shirts, a cap in Hats."""
    with shop_context(shop_a):
        apparel = services.category_create(name="Apparel")
        tops = services.category_create(name="Tops", parent=apparel)
        tees = services.category_create(name="T-shirts", parent=tops, google_product_category=212)
        hats = services.category_create(name="Hats", parent=apparel)
        tee = make_product("Tee", category=tees)
        cap = make_product("Cap", skus=("CAP-S",), category=hats)
    return {"apparel": apparel, "tops": tops, "tees": tees, "hats": hats, "tee": tee, "cap": cap}


def paths():
    return list(Category.objects.order_by("full_path").values_list("full_path", flat=True))


def test_rename_and_move_rewrite_the_paths_below(shop_a, tree):
    with shop_context(shop_a):
        services.category_update(category=tree["tops"], name="Upper body")
        assert "Apparel > Upper body > T-shirts" in paths()
        services.category_update(category=tree["tops"], parent=None)
        assert paths() == ["Apparel", "Apparel > Hats", "Upper body", "Upper body > T-shirts"]
        entry = AuditLogEntry.objects.filter(action="category.update").order_by("-id").first()
        assert entry.changes["full_path"] == ["Apparel > Upper body", "Upper body"]


def test_a_category_cannot_move_inside_itself(shop_a, tree):
    with shop_context(shop_a):
        for target in ("apparel", "tees"):
            with pytest.raises(ValidationError) as exc:
                services.category_update(category=Category.objects.get(pk=tree["apparel"].pk), parent=tree[target])
            assert "inside itself" in str(exc.value.message_dict["parent"])
        assert Category.objects.get(pk=tree["apparel"].pk).parent_id is None


def test_names_are_unique_among_siblings(shop_a, tree):
    with shop_context(shop_a):
        with pytest.raises(ValidationError, match="exists already"):
            services.category_update(category=tree["hats"], name="Tops")
        with pytest.raises(ValidationError, match="separates levels"):
            services.category_update(category=tree["hats"], name="A > B")


def test_delete_only_when_unused_or_moving_up(shop_a, tree):
    with shop_context(shop_a):
        with pytest.raises(ValidationError, match="1 products and 0 subcategories"):
            services.category_delete(category=tree["tees"])
        moved = services.category_delete(category=tree["tops"], move_to_parent=True)
        assert moved == {"products": 0, "children": 1}
        assert "Apparel > T-shirts" in paths()
        services.category_delete(category=Category.objects.get(full_path="Apparel > T-shirts"), move_to_parent=True)
        assert Product.objects.get(pk=tree["tee"].pk).category_id == tree["apparel"].pk
        empty = services.category_create(name="Empty")
        services.category_delete(category=empty)
        assert AuditLogEntry.objects.filter(action="category.delete").count() == 3


def test_unknown_category_in_a_csv_says_where_categories_are_managed(shop_a, tree):
    text = "sku,title,price,category\nX-1,Thing,5,Apparel > Socks\n"
    with shop_context(shop_a):
        plan = csvio.plan_import(text)
    (error,) = [e for e in plan.errors if e.column == "category"]
    assert "Catalog → Categories" in error.message and "/api/v1/categories/" in error.message


# --- Merchant UI ----------------------------------------------------------------------------


def test_alice_manages_the_tree_in_the_ui(alice_client, shop_a, tree):
    url = reverse("catalog:categories", args=["alice"])
    html = alice_client.get(url).content.decode()
    assert "Apparel &gt; Tops &gt; T-shirts" in html and "212" in html
    response = alice_client.post(url, {"name": "Socks", "parent": tree["apparel"].pk})
    assert response.status_code == 302
    response = alice_client.post(url, {"name": "Socks", "parent": tree["apparel"].pk})
    assert response.status_code == 400 and "exists already" in response.content.decode()

    edit = reverse("catalog:category-edit", args=["alice", tree["apparel"].pk])
    response = alice_client.post(edit, {"name": "Apparel", "parent": tree["tees"].pk})
    # T-shirts is below Apparel, so it is not even offered as a parent.
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    tops = reverse("catalog:category-edit", args=["alice", tree["tops"].pk])
    assert alice_client.post(tops, {"name": "Tops", "parent": "", "google_product_category": "1604"}).status_code == 302

    delete = reverse("catalog:category-delete", args=["alice", tree["tees"].pk])
    response = alice_client.post(delete, follow=True)
    assert "1 products" in response.content.decode()
    assert alice_client.post(delete, {"move_to_parent": "1"}).status_code == 302
    with shop_context(shop_a):
        assert Product.objects.get(pk=tree["tee"].pk).category.full_path == "Tops"
        assert Category.objects.get(pk=tree["tops"].pk).google_product_category == 1604


def test_bob_edits_a_viewer_only_looks_charlie_gets_404(client, bob, charlie, shop_a, shop_b, tree):
    pk = tree["hats"].pk
    pages = [reverse("catalog:categories", args=["alice"]), reverse("catalog:category-edit", args=["alice", pk])]
    writes = [
        (pages[0], {"name": "Bags"}),
        (pages[1], {"name": "Caps", "parent": tree["apparel"].pk}),
        (reverse("catalog:category-delete", args=["alice", pk]), {"move_to_parent": "1"}),
    ]
    login(client, bob)
    assert all(client.get(url).status_code == 200 for url in pages)
    assert client.post(*writes[1]).status_code == 302

    viewer = make_user("vera@example.com")
    with shop_context(shop_a):  # memberships are row-secured per shop
        shop_a.memberships.create(user=viewer, role="viewer")
    login(client, viewer)
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200
        assert "Add category" not in response.content.decode() and "Delete category" not in response.content.decode()
    assert [client.post(url, data).status_code for url, data in writes] == [403, 403, 403]

    login(client, charlie)
    assert [client.get(url).status_code for url in pages] == [404, 404]
    assert [client.post(url, data).status_code for url, data in writes] == [404, 404, 404]
    assert client.get(reverse("catalog:category-edit", args=["charlie", pk])).status_code == 404
    with shop_context(shop_a):
        assert Category.objects.get(pk=pk).name == "Caps"


# --- API --------------------------------------------------------------------------------------


def test_api_crud(api_a, shop_a, tree):
    listed = api_a.get("/api/v1/categories/").json()
    assert [c["full_path"] for c in listed][:3] == ["Apparel", "Apparel > Hats", "Apparel > Tops"]
    tees = next(c for c in listed if c["name"] == "T-shirts")
    assert tees["google_product_category"] == 212 and tees["product_count"] == 1

    response = api_a.post("/api/v1/categories/", {"name": "Caps", "parent": tree["hats"].pk}, format="json")
    assert response.status_code == 201 and response.json()["full_path"] == "Apparel > Hats > Caps"
    caps = response.json()["id"]

    response = api_a.patch(f"/api/v1/categories/{tree['apparel'].pk}/", {"parent": caps}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "parent"

    response = api_a.patch(f"/api/v1/categories/{tree['hats'].pk}/", {"name": "Headwear"}, format="json")
    assert response.status_code == 200 and response.json()["full_path"] == "Apparel > Headwear"
    assert api_a.get(f"/api/v1/categories/{caps}/").json()["full_path"] == "Apparel > Headwear > Caps"

    assert api_a.delete(f"/api/v1/categories/{tree['hats'].pk}/").status_code == 400
    assert api_a.delete(f"/api/v1/categories/{tree['hats'].pk}/?move_to_parent=true").status_code == 204
    with shop_context(shop_a):
        assert Product.objects.get(pk=tree["cap"].pk).category_id == tree["apparel"].pk
        assert Category.objects.get(pk=caps).full_path == "Apparel > Caps"


def test_api_scopes_and_tenancy(shop_a, shop_b, tree, api_b):
    reader = api_client_for(shop_a, scopes=["catalog:read"], name="reader")
    assert reader.get("/api/v1/categories/").status_code == 200
    assert reader.post("/api/v1/categories/", {"name": "X"}, format="json").status_code == 403
    assert api_b.get("/api/v1/categories/").json() == []
    assert api_b.get(f"/api/v1/categories/{tree['apparel'].pk}/").status_code == 404
    assert api_b.patch(f"/api/v1/categories/{tree['apparel'].pk}/", {"name": "X"}, format="json").status_code == 404
    assert api_b.delete(f"/api/v1/categories/{tree['hats'].pk}/").status_code == 404
    # A parent from another shop does not exist for charlie's key.
    response = api_b.post("/api/v1/categories/", {"name": "X", "parent": tree["apparel"].pk}, format="json")
    assert response.status_code == 400


def test_schema_documents_categories(client):
    schema = client.get("/api/schema/?format=json").json()
    post = schema["paths"]["/api/v1/categories/"]["post"]
    assert post["requestBody"]["content"]["application/json"]["examples"]
    delete = schema["paths"]["/api/v1/categories/{id}/"]["delete"]
    assert any(p["name"] == "move_to_parent" for p in delete["parameters"])
