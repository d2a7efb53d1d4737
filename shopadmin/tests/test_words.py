"""Labels written by one person or a task are read in the reader's language."""

import pytest
from django.utils import translation
from django.utils.translation import gettext_noop

from shopadmin.services import job_create
from shopadmin.tenancy import shop_context
from shopadmin.words import Words

pytestmark = pytest.mark.django_db


def test_a_job_label_given_as_words_reads_in_the_readers_language(shop_a, alice_client):
    with shop_context(shop_a), translation.override("fr"):
        # Started by a French-speaking member: stored in English, shown to each in their language.
        job = job_create(kind="publish", label=Words(gettext_noop("Publish to %(name)s"), name="Alice on Meta"))
    assert job.label == "Publish to Alice on Meta"
    with translation.override("fr"):
        assert job.title == "Publier sur Alice on Meta"
    with translation.override("en"):
        assert job.title == "Publish to Alice on Meta"
    with shop_context(shop_a):
        named = job_create(kind="catalog_import_check", label="catalog.csv")
    assert named.title == "catalog.csv"  # a label that is data stays as it is
    alice_client.post("/i18n/setlang/", {"language": "fr", "next": f"/app/{shop_a.slug}/"})
    assert "Publier sur Alice on Meta" in alice_client.get(f"/app/{shop_a.slug}/").content.decode()


def test_a_choice_label_as_words_is_translated_when_read():
    from catalog.models import MovementReason

    words = Words.of(MovementReason.ALLOCATION.label)
    assert isinstance(words, Words) and words.msgid == "Allocated to an order"
    assert Words.of("already text") == "already text"
    with translation.override("fr"):
        assert str(Words(gettext_noop("%(n)d stock movements: %(reason)s"), n=3, reason=words)) == (
            "3 mouvements de stock : Réservé pour une commande"
        )
    stored = Words(gettext_noop("Job %(id)s: %(what)s"), id=4, what=words).as_data()
    assert Words.from_data(stored).as_data() == stored


def test_an_audit_entry_about_stock_reads_in_the_readers_language(shop_a, alice_client):
    from catalog.models import MovementReason
    from catalog.services import StockChange, stock_post_movements
    from catalog.tests.factories import make_location, make_product
    from shopadmin.models import AuditLogEntry

    with shop_context(shop_a), translation.override("fr"):
        location = make_location()
        variant = make_product(skus=("TEE-M",)).variants.get()
        stock_post_movements(
            movements=[
                StockChange(variant.pk, location.pk, 5, MovementReason.RECEIVED, reference="po:7"),
            ]
        )
        entry = AuditLogEntry.objects.filter(action="stock.post_movements").latest("id")
    # Kept in English for the export and the search; read in each reader's language.
    assert entry.object_repr == "TEE-M at main: +5, Received · po:7", entry.object_repr
    with translation.override("fr"):
        assert entry.object_text == "TEE-M à main : +5, Réception · po:7", entry.object_text
    alice_client.post("/i18n/setlang/", {"language": "fr", "next": f"/app/{shop_a.slug}/"})
    page = alice_client.get(f"/app/{shop_a.slug}/audit-log/").content.decode()
    assert "+5, Réception · po:7" in page
