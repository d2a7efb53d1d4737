"""The merchant UI in French, Bengali and Urdu: complete catalogs, every template marked,
locale formats, time zones."""

import datetime as dt
import gettext
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.conf import settings
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import translation

from shopadmin.models import AuditLogEntry
from shopadmin.templatetags.formats import format_money
from shopadmin.tenancy import shop_context

TEMPLATES = Path(settings.BASE_DIR) / "templates"
# Every language the UI offers besides English, the language of the source.
TRANSLATED = [code for code, _name in settings.LANGUAGES if code != "en"]


def po_path(language: str) -> Path:
    return Path(settings.BASE_DIR) / "locale" / language / "LC_MESSAGES" / "django.po"


def catalog(language: str = "fr"):
    with po_path(language).open("rb") as f:
        return read_po(f, locale=language)


def spaces(text: str) -> str:
    # French separates thousands with a narrow no-break space and puts a no-break space
    # before the currency sign; compare with plain spaces.
    return text.replace("\u202f", " ").replace("\xa0", " ")


def test_the_ui_offers_bengali_and_urdu():
    assert {"fr", "bn", "ur"} <= set(TRANSLATED)


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_catalog_is_complete_and_compiled(language):
    messages = [m for m in catalog(language) if m.id]
    # The UI has over a thousand strings; a sudden drop means makemessages lost sources.
    assert len(messages) >= 1000
    untranslated = [m.id for m in messages if not (all(m.string) if m.pluralizable else m.string)]
    fuzzy = [m.id for m in messages if m.fuzzy]
    assert untranslated == [] and fuzzy == []
    # The shipped .mo is what runs (no gettext at run time): it must hold the same translations.
    with po_path(language).with_suffix(".mo").open("rb") as f:
        mo = gettext.GNUTranslations(f)
    stale = [m.id for m in messages if not m.pluralizable and not m.context and mo.gettext(m.id) != m.string]
    assert stale == [], f"locale/{language}/LC_MESSAGES/django.mo is out of date: run compilemessages"


@pytest.mark.parametrize("language", TRANSLATED)
def test_placeholders_survive_translation(language):
    for m in catalog(language):
        if not m.id or m.pluralizable:
            continue
        assert sorted(re.findall(r"%\(\w+\)[sd]", m.id)) == sorted(re.findall(r"%\(\w+\)[sd]", m.string)), m.id


# Text that is not language: the product name, code-like samples.
NOT_LANGUAGE = {"Shopadmin", "sa_ _…", "product.update", "stock:   ,"}


def visible_template_text(source: str):
    source = re.sub(r"\{% *blocktranslate.*?endblocktranslate *%\}", " ", source, flags=re.S)
    source = re.sub(r"\{% *comment *%\}.*?\{% *endcomment *%\}|\{#.*?#\}", " ", source, flags=re.S)
    source = re.sub(r"<script.*?</script>|<style.*?</style>", " ", source, flags=re.S)
    for m in re.finditer(r'(?:aria-label|placeholder|title|alt|data-confirm)="([^"]*)"', source):
        yield re.sub(r"\{%.*?%\}|\{\{.*?\}\}", "", m.group(1)).strip()
    text = re.sub(r"\{%.*?%\}|\{\{.*?\}\}", " ", source, flags=re.S)
    text = re.sub(r"<[^>]*>", " ", text, flags=re.S)
    for piece in re.split(r"\s*·\s*|\n", text):
        yield piece.strip()


# The sandbox's pages stand in for the channels' own (their consent pages), in the channels' words.
OUR_TEMPLATES = sorted(p for p in TEMPLATES.rglob("*.html") if p.relative_to(TEMPLATES).parts[0] != "sandbox")


@pytest.mark.parametrize("path", OUR_TEMPLATES, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_every_template_marks_its_text_for_translation(path):
    bare = [t for t in visible_template_text(path.read_text()) if re.search(r"[A-Za-z]{2,}", t)]
    assert [t for t in bare if t not in NOT_LANGUAGE] == []


class VisibleText(HTMLParser):
    def __init__(self):
        super().__init__()
        self.skip = 0
        self.texts = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        for name, value in attrs:
            if name in ("aria-label", "placeholder", "title", "alt") and value:
                self.texts.append(value.strip())

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip -= 1

    def handle_data(self, data):
        # Form labels end with Django's label suffix ("Name:"): compare without it.
        if not self.skip and data.strip():
            self.texts.append(data.strip().rstrip(":").strip())


def english_ui_strings():
    """English msgids whose French differs: seeing one on a French page means it was missed."""
    return {m.id for m in catalog() if m.id and not m.pluralizable and m.string and m.string != m.id}


MAIN_PAGES = [
    ("shop-home", []),
    ("members", []),
    ("shop-settings", []),
    ("api-keys", []),
    ("audit-log", []),
    ("catalog:product-list", []),
    ("catalog:product-create", []),
    ("catalog:categories", []),
    ("catalog:locations", []),
    ("catalog:import", []),
    ("localization:market-list", []),
    ("localization:market-create", []),
    ("localization:exchange-rates", []),
    ("localization:tax-rates", []),
    ("localization:calculator", []),
    ("localization:translations", []),
    ("channels:account-list", []),
    ("orders:order-list", []),
    ("orders:reconciliation", []),
    ("orders:customer-list", []),
    ("orders:settings", []),
    ("attention", []),
]


@pytest.fixture
def french_alice(alice, shop_a):
    alice.language = "fr"
    alice.save(update_fields=["language"])
    client = Client()
    client.force_login(alice)
    return client


@pytest.mark.django_db
def test_main_pages_are_all_french(french_alice, shop_a):
    from catalog.tests.factories import make_product

    with shop_context(shop_a):
        product = make_product("Linen shirt", skus=["LIN-S", "LIN-M"], price="1234.56")
    english = english_ui_strings()
    pages = [(name, args) for name, args in MAIN_PAGES] + [("catalog:product-detail", [product.pk])]
    for name, args in pages:
        response = french_alice.get(reverse(name, args=[shop_a.slug, *args]))
        assert response.status_code == 200, name
        assert response["Content-Language"] == "fr"
        parser = VisibleText()
        parser.feed(response.content.decode())
        missed = sorted({t for t in parser.texts if t in english})
        assert missed == [], f"{name} shows English: {missed}"
    home = french_alice.get(reverse("shop-home", args=[shop_a.slug])).content.decode()
    assert "Se déconnecter" in home and "Catalogue" in home and "Commandes" in home and 'lang="fr"' in home
    detail = spaces(
        french_alice.get(reverse("catalog:product-detail", args=[shop_a.slug, product.pk])).content.decode()
    )
    assert "Variantes et stock" in detail
    assert "1 234,56 $US" in detail  # shop A sells in USD; French puts the sign after, with a space


def test_money_follows_the_locale():
    with translation.override("fr"):
        assert spaces(format_money("1234.56", "EUR")) == "1 234,56 €"
        assert spaces(format_money("1234.5", "JPY")) == "1 235 JPY"  # no minor units in yen, rounded half up
        rendered = Template('{% load formats %}{{ amount|money:"EUR" }} {{ n|number }}').render(
            Context({"amount": "1234.56", "n": 1234567})
        )
        assert spaces(rendered) == "1 234,56 € 1 234 567"
    with translation.override("en"):
        assert format_money("1234.56", "EUR") == "€1,234.56"
        assert format_money("1.2345", "KWD").endswith("1.235")  # three minor units
        assert format_money(None, "EUR") == "—"


@pytest.mark.django_db
def test_switching_language_is_remembered_on_the_user(alice, shop_a):
    client = Client()
    client.force_login(alice)
    home = reverse("shop-home", args=[shop_a.slug])
    assert 'id="language-switcher"' in client.get(home).content.decode()
    response = client.post(reverse("set_language"), {"language": "fr", "next": home})
    assert response.status_code == 302 and response["Location"] == home
    alice.refresh_from_db()
    assert alice.language == "fr"
    # A fresh browser (no language cookie, an English Accept-Language) still gets French.
    other = Client(HTTP_ACCEPT_LANGUAGE="en")
    other.force_login(alice)
    assert "Se déconnecter" in other.get(home).content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": home})
    alice.refresh_from_db()
    assert alice.language == "en"


@pytest.mark.django_db
def test_dates_are_shown_in_the_shop_time_zone(french_alice, shop_a):
    shop_a.timezone = "Asia/Tokyo"
    shop_a.save(update_fields=["timezone"])
    with shop_context(shop_a):
        entry = AuditLogEntry.objects.order_by("-created_at").first()
        AuditLogEntry.objects.filter(pk=entry.pk).update(created_at=dt.datetime(2026, 1, 15, 23, 30, tzinfo=dt.UTC))
    page = french_alice.get(reverse("audit-log", args=[shop_a.slug])).content.decode()
    # 23:30 UTC is 08:30 the next morning in Tokyo; French writes day/month/year, 24-hour.
    assert "16/01/2026 08:30" in page


# Rendered by the reconciliation template with its own translated labels, never as a form.
FORMS_NOT_RENDERED = {"IssueActForm"}


def test_every_form_field_has_a_translatable_label():
    """A field without a label gets one made from its name, which nobody translates."""
    import importlib
    import inspect

    from django import forms
    from django.utils.functional import Promise

    bare = []
    for module_name in ("shopadmin.forms", "catalog.forms", "localization.forms", "channels.forms", "orders.forms"):
        module = importlib.import_module(module_name)
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if not issubclass(cls, forms.BaseForm) or cls.__module__ != module_name or name in FORMS_NOT_RENDERED:
                continue
            for field_name, field in cls.base_fields.items():
                if not isinstance(field.widget, forms.HiddenInput) and not isinstance(field.label, Promise):
                    bare.append(f"{name}.{field_name}")
    assert bare == []
