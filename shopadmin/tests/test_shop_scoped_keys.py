"""A row can only point at a row of its own shop: proven from PostgreSQL's catalog, then by the
database refusing such a row with row-level security out of the way.

The scan reads pg_constraint, not the models. Every table with a shop_id column is unique on
(shop_id, id); every foreign key from one such table to another has a composite partner,
(shop_id, <fk>_id) → (shop_id, id), with the same rules as Django's own (NO ACTION, deferred);
and no table without shop_id points at one with it. These are the keys a PostgreSQL sharded
by shop_id (Citus) accepts (docs/scaling.md). A new tenant model or foreign key without them
fails here, named, until its app has a migration with ``ShopScopedKeys()``.
"""

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, connections, transaction
from django.db.migrations.loader import MigrationLoader
from djmoney.money import Money

from catalog.models import Category, Product, ProductMedia, ProductVariant
from shopadmin.db.shop_keys import SHOP_COLUMN, ShopForeignKey, ShopKey, ShopScopedKeys, is_shop_scoped, wanted_keys
from shopadmin.models import Shop
from shopadmin.tenancy import no_shop

pytestmark = pytest.mark.django_db

# Django decides what a delete does (CASCADE, SET_NULL) and its own key is NO ACTION, deferred;
# the composite key keeps the same rules: (deferrable, initially deferred, on delete, on update).
DJANGO_RULES = (True, True, "a", "a")
HOW_TO_FIX = (
    "\nAdd a migration with shopadmin.db.shop_keys.ShopScopedKeys() to the table's app "
    "(and to the apps it points at, if they lack one), see docs/scaling.md."
)


def constraints() -> list[dict]:
    """Primary keys, unique constraints and foreign keys of the public schema's tables."""
    sql = """
        SELECT rel.relname, c.conname, c.contype, ref.relname,
               ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(attnum, n)
                     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.n),
               ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(attnum, n)
                     JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum ORDER BY k.n),
               c.condeferrable, c.condeferred, c.confdeltype, c.confupdtype, c.confmatchtype
        FROM pg_constraint c
        JOIN pg_class rel ON rel.oid = c.conrelid
        JOIN pg_namespace n ON n.oid = rel.relnamespace
        LEFT JOIN pg_class ref ON ref.oid = c.confrelid
        WHERE n.nspname = 'public' AND rel.relkind = 'r' AND c.contype IN ('p', 'u', 'f')
        ORDER BY 1, 2
    """
    keys = ("table", "name", "kind", "target", "columns", "target_columns", "deferrable", "deferred")
    keys += ("on_delete", "on_update", "match")
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [dict(zip(keys, row, strict=True)) for row in cursor.fetchall()]


def shop_tables() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = %s AND NOT a.attisdropped
            WHERE n.nspname = 'public' AND c.relkind = 'r'
            """,
            [SHOP_COLUMN],
        )
        return {row[0] for row in cursor.fetchall()}


def single_column_keys_between_shop_tables() -> list[dict]:
    """Django's foreign keys from a shop table to a shop table (other than to the shop itself)."""
    tables = shop_tables()
    return [
        c
        for c in constraints()
        if c["kind"] == "f" and len(c["columns"]) == 1 and c["table"] in tables and c["target"] in tables
    ]


def model_foreign_keys_between_shop_models() -> set[tuple[str, str]]:
    return {
        (model._meta.db_table, field.column)
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy and is_shop_scoped(model)
        for field in model._meta.local_concrete_fields
        if (field.many_to_one or field.one_to_one)
        and field.name != "shop"
        and field.db_constraint
        and is_shop_scoped(field.related_model)
    }


def test_the_scan_sees_every_foreign_key_the_models_declare():
    scanned = {(c["table"], c["columns"][0]) for c in single_column_keys_between_shop_tables()}
    assert {("catalog_productvariant", "product_id"), ("orders_order", "customer_id")} <= scanned
    assert scanned == model_foreign_keys_between_shop_models()
    assert {"catalog_product", "orders_order", "shopadmin_membership"} <= shop_tables()


def test_every_table_with_shop_id_is_unique_on_shop_id_and_id():
    unique = {(c["table"], frozenset(c["columns"])) for c in constraints() if c["kind"] in ("p", "u")}
    missing = sorted(t for t in shop_tables() if (t, frozenset((SHOP_COLUMN, "id"))) not in unique)
    assert not missing, "tables with shop_id but no unique (shop_id, id):\n" + "\n".join(missing) + HOW_TO_FIX


def test_every_foreign_key_between_shop_tables_has_its_composite_partner():
    composite = {
        (c["table"], c["columns"][1], c["target"], c["target_columns"][1]): c
        for c in constraints()
        if c["kind"] == "f" and len(c["columns"]) == 2 and c["columns"][0] == c["target_columns"][0] == SHOP_COLUMN
    }
    missing, wrong = [], []
    for key in single_column_keys_between_shop_tables():
        described = f"{key['table']}.{key['columns'][0]} → {key['target']}.{key['target_columns'][0]}"
        partner = composite.get((key["table"], key["columns"][0], key["target"], key["target_columns"][0]))
        if partner is None:
            missing.append(described)
        elif (partner["deferrable"], partner["deferred"], partner["on_delete"], partner["on_update"]) != DJANGO_RULES:
            wrong.append(f"{described} ({partner['name']}: must be NO ACTION, DEFERRABLE INITIALLY DEFERRED)")
    assert not missing, "foreign keys without a composite (shop_id, <fk>) key:\n" + "\n".join(missing) + HOW_TO_FIX
    assert not wrong, "composite keys with other rules:\n" + "\n".join(wrong)


def test_no_table_without_shop_id_points_at_a_table_with_it():
    # Sharded by shop_id, such a table could not keep its foreign key (docs/scaling.md).
    tables = shop_tables()
    offending = [
        f"{c['table']}.{', '.join(c['columns'])} → {c['target']}"
        for c in constraints()
        if c["kind"] == "f" and c["target"] in tables and c["table"] not in tables
    ]
    assert not offending, "tables without shop_id that point at a shop table:\n" + "\n".join(offending)


# The database refuses a row pointing at another shop's row: as the owner role, with row-level
# security switched off on these tables (inside the test's transaction), so only the keys stand.

CATALOG_TABLES = ["catalog_category", "catalog_product", "catalog_productvariant", "catalog_productmedia"]


@pytest.fixture
def owner_without_rls():
    owner = connections["owner"]
    with owner.cursor() as cursor:
        for table in CATALOG_TABLES:
            cursor.execute(f"ALTER TABLE {owner.ops.quote_name(table)} NO FORCE ROW LEVEL SECURITY")
    return owner


def refused(owner, write) -> str:
    """Run the write with the deferred checks made at once; return the constraint it broke."""
    with pytest.raises(IntegrityError) as raised, transaction.atomic(using="owner"):
        with owner.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        write()
    return raised.value.__cause__.diag.constraint_name


@pytest.mark.django_db(databases=["default", "owner"])
def test_a_row_pointing_at_another_shops_row_is_refused_without_row_level_security(owner_without_rls):
    owner = owner_without_rls
    shops = Shop.objects.db_manager("owner")
    shop_a = shops.create(name="A", slug="keys-a", default_currency="USD", country="US")
    shop_b = shops.create(name="B", slug="keys-b", default_currency="USD", country="US")
    categories, products = Category.objects.db_manager("owner"), Product.objects.db_manager("owner")
    variants = ProductVariant.objects.db_manager("owner")
    with no_shop():  # no tenant context: only the owner's own rights apply
        category_a = categories.create(shop=shop_a, name="Shirts", full_path="Shirts")
        product_a = products.create(shop=shop_a, title="Shirt", handle="shirt")
        product_b = products.create(shop=shop_b, title="Mug", handle="mug")
        variant_b = variants.create(shop=shop_b, product=product_b, sku="MUG", price=Money(5, "USD"))
        with owner.cursor() as cursor:
            cursor.execute("SELECT DISTINCT shop_id FROM catalog_product")
            assert {row[0] for row in cursor.fetchall()} == {shop_a.pk, shop_b.pk}, "row-level security is on"

        def update(table, column, value, pk):
            with owner.cursor() as cursor:
                cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, pk])

        # A new row of shop B under shop A's product (a required foreign key).
        new_variant = ProductVariant(shop=shop_b, product=product_a, sku="X", price=Money(5, "USD"))
        assert refused(owner, lambda: new_variant.save(using="owner")) == "catalog_productvariant_product_id_shop_fk"
        # A row of shop B put under shop A's category (a nullable foreign key).
        assert (
            refused(owner, lambda: update("catalog_product", "category_id", category_a.pk, product_b.pk))
            == "catalog_product_category_id_shop_fk"
        )
        # A row moved to shop A while its product stays in shop B.
        assert (
            refused(owner, lambda: update("catalog_productvariant", "shop_id", shop_a.pk, variant_b.pk))
            == "catalog_productvariant_product_id_shop_fk"
        )
        # A product moved to shop A while its variant stays in shop B.
        assert (
            refused(owner, lambda: update("catalog_product", "shop_id", shop_a.pk, product_b.pk))
            == "catalog_productvariant_product_id_shop_fk"
        )

        # Within one shop, and with the nullable key emptied, the same writes pass.
        with transaction.atomic(using="owner"):
            with owner.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            update("catalog_product", "category_id", category_a.pk, product_a.pk)
            update("catalog_product", "category_id", None, product_a.pk)
            update("catalog_productvariant", "product_id", product_b.pk, variant_b.pk)


def test_cascades_and_set_null_deletes_keep_working(in_shop_a):
    category = Category.objects.create(name="Mugs", full_path="Mugs")
    product = Product.objects.create(title="Mug", handle="mug", category=category)
    variant = ProductVariant.objects.create(product=product, sku="MUG-1", price=Money(5, "USD"))
    media = ProductMedia.objects.create(product=product, variant=variant, url="https://example.com/mug.jpg")

    variant.delete()  # SET_NULL on the media's variant; shop_id stays
    media.refresh_from_db()
    assert (media.variant_id, media.shop_id) == (None, in_shop_a.pk)
    category.delete()  # SET_NULL on the product's category
    product.refresh_from_db()
    assert (product.category_id, product.shop_id) == (None, in_shop_a.pk)
    connection.check_constraints()  # the deferred keys, checked now rather than at commit

    product.delete()  # CASCADE to the media
    assert not ProductMedia.objects.filter(pk=media.pk).exists()
    connection.check_constraints()


@pytest.mark.django_db(databases=["default", "owner"])
def test_the_operation_restores_a_missing_key_and_drops_a_stale_one():
    owner = connections["owner"]
    state = MigrationLoader(owner).project_state()
    missing = ShopKey("catalog_productvariant", "product_id", "catalog_product", "id")
    stale = ShopKey("catalog_productmedia", "product_id", "catalog_productvariant", "id")
    with owner.schema_editor(atomic=False) as editor:
        editor.execute(missing.drop_sql(editor.quote_name))
        editor.execute(
            ShopKey("catalog_productmedia", "product_id", "catalog_product", "id").drop_sql(editor.quote_name)
        )
        editor.execute(stale.create_sql(editor.quote_name))
        ShopScopedKeys().database_forwards("catalog", editor, state, state)

    with owner.cursor() as cursor:
        cursor.execute(
            "SELECT conname, confrelid::regclass::text FROM pg_constraint WHERE conname = ANY(%s)",
            [[missing.name, stale.name]],
        )
        assert dict(cursor.fetchall()) == {missing.name: "catalog_product", stale.name: "catalog_product"}


def shop_key_names(cursor, table_prefix: str) -> set[str]:
    cursor.execute(
        r"SELECT conname FROM pg_constraint WHERE conrelid::regclass::text LIKE %s AND conname ~ '_shop_(key|fk)$'",
        [f"{table_prefix}%"],
    )
    return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db(databases=["default", "owner"])
def test_the_operation_reverses_and_reapplies():
    owner = connections["owner"]
    state = MigrationLoader(owner).project_state()
    with owner.cursor() as cursor:
        before = shop_key_names(cursor, "orders_")
    assert before == {key.name for key in wanted_keys(state.apps, "orders", "owner")}
    assert {"orders_order_id_shop_key", "orders_orderline_order_id_shop_fk"} <= before

    # An app above orders (the storefront's receipts) has composite keys leaning on orders' keys:
    # as migrating backwards would, its keys go first and come back last.
    dependents = ("storefront",)
    with owner.schema_editor(atomic=False) as editor:
        for app in (*dependents, "orders"):
            ShopScopedKeys().database_backwards(app, editor, state, state)
    with owner.cursor() as cursor:
        assert shop_key_names(cursor, "orders_") == set()

    with owner.schema_editor(atomic=False) as editor:
        for app in ("orders", *dependents):
            ShopScopedKeys().database_forwards(app, editor, state, state)
    with owner.cursor() as cursor:
        assert shop_key_names(cursor, "orders_") == before


@pytest.mark.django_db(databases=["default", "owner"])
def test_the_operation_adopts_a_unique_index_built_beforehand():
    owner = connections["owner"]
    state = MigrationLoader(owner).project_state()
    key = ShopKey("catalog_stockmovement", "id")
    with owner.schema_editor(atomic=False) as editor:
        editor.execute(key.drop_sql(editor.quote_name))
        editor.execute(f"CREATE UNIQUE INDEX {key.name} ON catalog_stockmovement (shop_id, id)")
    with owner.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)::oid", [key.name])
        (index,) = cursor.fetchone()

    with owner.schema_editor(atomic=False) as editor:
        ShopScopedKeys().database_forwards("catalog", editor, state, state)
    with owner.cursor() as cursor:
        cursor.execute("SELECT contype, conindid FROM pg_constraint WHERE conname = %s", [key.name])
        assert cursor.fetchone() == ("u", index)


def test_a_shop_foreign_key_is_kept_by_its_composite_key_alone():
    """`ShopForeignKey` (market prices, a million rows a recompute) drops Django's single-column
    key, never the composite one."""
    fields = [
        (model._meta.db_table, field.column, field.related_model._meta.db_table)
        for model in apps.get_models()
        for field in model._meta.local_concrete_fields
        if isinstance(field, ShopForeignKey)
    ]
    assert ("localization_marketprice", "variant_id", "catalog_productvariant") in fields
    keys = constraints()
    for table, column, target in fields:
        found = [c for c in keys if c["kind"] == "f" and c["table"] == table and column in c["columns"]]
        assert [(c["columns"], c["target"], c["target_columns"]) for c in found] == [
            ([SHOP_COLUMN, column], target, [SHOP_COLUMN, "id"])
        ]
        assert (found[0]["deferrable"], found[0]["deferred"], found[0]["on_delete"], found[0]["on_update"]) == (
            DJANGO_RULES
        )
