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
