# ruff: noqa: RUF001, E501 — texts in Urdu end with its full stop; the catalog is a table, one product a line.
"""The Dhaka shop's catalog: what a handloom and clothing seller in Dhaka sells.

Product texts are written in Bengali, the shop's language; English and Urdu (the Pakistan
market's language) come as translations, per product, option, option value and variant.
Prices are in taka. Pictures are made here, one plain colour per colour value, like the
first shop's (catalog/demo_images.py).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_noop
from djmoney.money import Money

from catalog.demo_images import FOLDER, HEIGHT, WIDTH, png
from catalog.seeding import seeded_stock

LOCATION_CODE = "dhaka"
LOCATION_NAME = "মিরপুর শোরুম, ঢাকা"  # the shop's showroom and store room in Mirpur, Dhaka
TRANSLATED_TO = ("en", "ur")

# (Bengali, English, Urdu, RGB of its picture)
COLOURS = {
    "red": ("লাল", "Red", "سرخ", (178, 34, 34)),
    "maroon": ("মেরুন", "Maroon", "میرون", (110, 20, 35)),
    "white": ("সাদা", "White", "سفید", (240, 238, 232)),
    "cream": ("ঘিয়ে", "Cream", "کریم", (226, 214, 185)),
    "black": ("কালো", "Black", "سیاہ", (30, 30, 30)),
    "blue": ("নীল", "Blue", "نیلا", (30, 70, 150)),
    "sky": ("আকাশি", "Sky blue", "آسمانی", (125, 180, 225)),
    "green": ("সবুজ", "Green", "سبز", (30, 120, 60)),
    "yellow": ("হলুদ", "Yellow", "پیلا", (230, 190, 40)),
    "orange": ("কমলা", "Orange", "نارنجی", (230, 110, 30)),
    "pink": ("গোলাপি", "Pink", "گلابی", (225, 110, 150)),
    "purple": ("বেগুনি", "Purple", "جامنی", (100, 50, 120)),
    "grey": ("ধূসর", "Grey", "سرمئی", (140, 140, 140)),
}
OPTION_NAMES = {"colour": ("রং", "Colour", "رنگ"), "size": ("সাইজ", "Size", "سائز")}
FREE_SIZE = ("ফ্রি সাইজ", "Free size", "فری سائز")

# (path, Google product taxonomy id): Apparel & Accessories, Home & Garden.
CATEGORIES = [
    ("পোশাক", 166),
    ("পোশাক > শাড়ি", None),
    ("পোশাক > পাঞ্জাবি ও ফতুয়া", None),
    ("পোশাক > লুঙ্গি ও গামছা", None),
    ("পোশাক > সালোয়ার কামিজ ও থ্রি-পিস", None),
    ("পোশাক > কুর্তি", None),
    ("পোশাক > ওড়না ও শাল", None),
    ("ঘর সাজানো", 536),
    ("ঘর সাজানো > নকশি কাঁথা", None),
]


@dataclass(frozen=True)
class Kind:
    category: str
    sizes: tuple[str, ...]  # empty: one size, the product varies by colour only
    weight: int  # grams, packed
    hs_code: str
    description: tuple[str, str, str]  # Bengali, English, Urdu


SAREE = Kind(
    "পোশাক > শাড়ি",
    (),
    650,
    "6211.42",
    (
        "সাড়ে পাঁচ মিটারের শাড়ি, সঙ্গে ব্লাউজ পিস। তাঁতে হাতে বোনা; প্রথমবার ড্রাই ক্লিন করুন।",
        "A 5.5-metre saree with a blouse piece, woven on a handloom. Dry-clean it the first time.",
        "ساڑھے پانچ میٹر کی ساڑھی، بلاؤز پیس کے ساتھ، ہینڈلوم پر ہاتھ سے بنی ہوئی۔ پہلی بار ڈرائی کلین کروائیں۔",
    ),
)
PANJABI = Kind(
    "পোশাক > পাঞ্জাবি ও ফতুয়া",
    ("38", "40", "42", "44", "46"),
    400,
    "6205.20",
    (
        "আরামদায়ক ঢিলেঢালা কাট, সামনে বোতাম। সাইজ বুকের মাপ, ইঞ্চিতে।",
        "An easy, loose cut with a buttoned placket. Sizes are the chest in inches.",
        "آرام دہ ڈھیلا کٹ، سامنے بٹن۔ سائز سینے کا ناپ ہے، انچ میں۔",
    ),
)
KIDS_PANJABI = Kind(
    "পোশাক > পাঞ্জাবি ও ফতুয়া",
    ("22", "24", "26", "28"),
    250,
    "6209.20",
    (
        "ঈদ আর পারিবারিক অনুষ্ঠানের জন্য ছোটদের পাঞ্জাবি। সাইজ পাঞ্জাবির লম্বা, ইঞ্চিতে।",
        "A panjabi for children, for Eid and family occasions. Sizes are the length in inches.",
        "عید اور خاندانی تقریبات کے لیے بچوں کا کرتا۔ سائز لمبائی ہے، انچ میں۔",
    ),
)
FATUA = Kind(
    "পোশাক > পাঞ্জাবি ও ফতুয়া",
    ("M", "L", "XL", "XXL"),
    250,
    "6205.20",
    (
        "গরমের দিনের জন্য ছোট হাতার সুতি ফতুয়া।",
        "A short-sleeved cotton fatua for hot days.",
        "گرمیوں کے لیے آدھی آستین کا سوتی فتوا۔",
    ),
)
LUNGI = Kind(
    "পোশাক > লুঙ্গি ও গামছা",
    (),
    350,
    "6207.99",
    (
        "সেলাই করা সুতি লুঙ্গি, আড়াই গজ; রং পাকা।",
        "A sewn cotton lungi, 2.5 yards, in fast colours.",
        "سلی ہوئی سوتی لنگی، ڈھائی گز، پکا رنگ۔",
    ),
)
GAMCHA = Kind(
    "পোশাক > লুঙ্গি ও গামছা",
    (),
    150,
    "6302.91",
    (
        "পাতলা তাঁতের সুতি গামছা, তাড়াতাড়ি শুকায়।",
        "A thin handloom cotton towel that dries quickly.",
        "پتلا ہینڈلوم سوتی گمچھا، جلدی سوکھ جاتا ہے۔",
    ),
)
SALWAR_KAMEEZ = Kind(
    "পোশাক > সালোয়ার কামিজ ও থ্রি-পিস",
    ("36", "38", "40", "42", "44"),
    600,
    "6204.42",
    (
        "সেলাই করা কামিজ, সালোয়ার ও ওড়না। সাইজ বুকের মাপ, ইঞ্চিতে।",
        "A stitched kameez with salwar and orna. Sizes are the bust in inches.",
        "سلی ہوئی قمیض، شلوار اور دوپٹہ۔ سائز سینے کا ناپ ہے، انچ میں۔",
    ),
)
THREE_PIECE = Kind(
    "পোশাক > সালোয়ার কামিজ ও থ্রি-পিস",
    (),
    700,
    "5208.52",
    (
        "আনস্টিচড থ্রি-পিস: কামিজ, সালোয়ার ও ওড়নার কাপড়; নিজের মাপে বানিয়ে নিন।",
        "An unstitched three-piece: fabric for the kameez, salwar and orna, to be tailored to your size.",
        "ان سلا تھری پیس: قمیض، شلوار اور دوپٹے کا کپڑا، اپنے ناپ پر سلوائیں۔",
    ),
)
KURTI = Kind(
    "পোশাক > কুর্তি",
    ("S", "M", "L", "XL", "XXL"),
    300,
    "6206.30",
    (
        "প্রতিদিনের জন্য হালকা কুর্তি।",
        "A light kurti for every day.",
        "روزمرہ کے لیے ہلکی کرتی۔",
    ),
)
ORNA = Kind(
    "পোশাক > ওড়না ও শাল",
    (),
    200,
    "6214.90",
    (
        "আড়াই গজের ওড়না, পাড় হাতে বোনা।",
        "A 2.5-yard orna (dupatta) with a hand-woven border.",
        "ڈھائی گز کا دوپٹہ، ہاتھ سے بنے کنارے کے ساتھ۔",
    ),
)
SHAWL = Kind(
    "পোশাক > ওড়না ও শাল",
    (),
    450,
    "6214.90",
    (
        "শীতের জন্য তাঁতের মোটা শাল।",
        "A thick handloom shawl for winter.",
        "سردیوں کے لیے ہینڈلوم کی موٹی شال۔",
    ),
)
KANTHA = Kind(
    "ঘর সাজানো > নকশি কাঁথা",
    (),
    1400,
    "6304.19",
    (
        "পুরনো সুতি শাড়ির পরতে হাতে সেলাই করা নকশি কাঁথা; প্রতিটির নকশা আলাদা।",
        "Hand-stitched nakshi kantha, layered from cotton saris; every piece's pattern is its own.",
        "پرانی سوتی ساڑھیوں کی تہوں سے ہاتھ سے سلی نقشی کانتھا؛ ہر ایک کا نقش الگ ہے۔",
    ),
)


@dataclass(frozen=True)
class Item:
    handle: str
    kind: Kind
    titles: tuple[str, str, str]  # Bengali, English, Urdu
    price: int  # taka
    colours: tuple[str, ...]
    tags: tuple[str, ...] = ()


ITEMS = [
    Item("dhakai-jamdani-saree", SAREE, ("ঢাকাই জামদানি শাড়ি", "Dhakai Jamdani Saree", "ڈھاکائی جامدانی ساڑھی"), 14500, ("red", "cream", "blue"), ("jamdani", "handloom")),
    Item("half-silk-jamdani-saree", SAREE, ("হাফ সিল্ক জামদানি শাড়ি", "Half-Silk Jamdani Saree", "ہاف سلک جامدانی ساڑھی"), 6800, ("maroon", "green", "purple"), ("jamdani", "handloom")),
    Item("tangail-cotton-saree", SAREE, ("টাঙ্গাইল তাঁতের সুতি শাড়ি", "Tangail Handloom Cotton Saree", "ٹنگائل ہینڈلوم سوتی ساڑھی"), 2450, ("red", "yellow", "sky", "white"), ("tangail", "handloom")),
    Item("rajshahi-silk-saree", SAREE, ("রাজশাহী সিল্ক শাড়ি", "Rajshahi Silk Saree", "راجشاہی سلک ساڑھی"), 8900, ("orange", "pink", "blue"), ("silk",)),
    Item("katan-benarasi-saree", SAREE, ("কাতান বেনারসি শাড়ি", "Katan Benarasi Saree", "کتان بنارسی ساڑھی"), 18500, ("red", "maroon"), ("wedding", "silk")),
    Item("manipuri-saree", SAREE, ("মণিপুরী শাড়ি", "Manipuri Saree", "منی پوری ساڑھی"), 3200, ("green", "purple", "cream"), ("handloom",)),
    Item("cotton-block-print-saree", SAREE, ("সুতি ব্লক প্রিন্ট শাড়ি", "Cotton Block-Print Saree", "سوتی بلاک پرنٹ ساڑھی"), 1650, ("yellow", "sky", "orange"), ("everyday",)),
    Item("cotton-panjabi", PANJABI, ("সুতি পাঞ্জাবি", "Cotton Panjabi", "سوتی پنجابی کرتا"), 1850, ("white", "sky", "black"), ("everyday",)),
    Item("cumilla-khadi-panjabi", PANJABI, ("কুমিল্লার খাদি পাঞ্জাবি", "Cumilla Khadi Panjabi", "کومیلا کھادی پنجابی کرتا"), 2200, ("cream", "grey"), ("khadi", "handloom")),
    Item("endi-silk-panjabi", PANJABI, ("এন্ডি সিল্ক পাঞ্জাবি", "Endi Silk Panjabi", "اینڈی سلک پنجابی کرتا"), 4800, ("cream", "maroon"), ("silk",)),
    Item("embroidered-eid-panjabi", PANJABI, ("এমব্রয়ডারি করা ঈদের পাঞ্জাবি", "Embroidered Eid Panjabi", "کڑھائی والا عید کا پنجابی کرتا"), 3650, ("white", "blue", "green"), ("eid",)),
    Item("kids-panjabi", KIDS_PANJABI, ("ছোটদের পাঞ্জাবি", "Kids' Panjabi", "بچوں کا پنجابی کرتا"), 1150, ("white", "yellow", "sky"), ("eid", "kids")),
    Item("cotton-fatua", FATUA, ("সুতি ফতুয়া", "Cotton Fatua", "سوتی فتوا"), 890, ("blue", "grey", "orange"), ("everyday",)),
    Item("checked-cotton-lungi", LUNGI, ("চেক সুতি লুঙ্গি", "Checked Cotton Lungi", "چیک سوتی لنگی"), 650, ("blue", "green", "maroon", "black"), ("everyday",)),
    Item("handloom-batik-lungi", LUNGI, ("তাঁতের বাটিক লুঙ্গি", "Handloom Batik Lungi", "ہینڈلوم باٹک لنگی"), 950, ("purple", "blue"), ("handloom",)),
    Item("handloom-gamcha", GAMCHA, ("তাঁতের গামছা", "Handloom Gamcha", "ہینڈلوم گمچھا"), 220, ("red", "green", "orange"), ("handloom",)),
    Item("checked-gamcha-pair", GAMCHA, ("চেক গামছা, দুটির সেট", "Checked Gamcha, Set of Two", "چیک گمچھا، دو کا سیٹ"), 380, ("red", "blue"), ("everyday",)),
    Item("cotton-salwar-kameez", SALWAR_KAMEEZ, ("সুতি সালোয়ার কামিজ", "Cotton Salwar Kameez", "سوتی شلوار قمیض"), 2650, ("pink", "sky", "yellow"), ("everyday",)),
    Item("georgette-salwar-kameez", SALWAR_KAMEEZ, ("জর্জেট সালোয়ার কামিজ", "Georgette Salwar Kameez", "جارجٹ شلوار قمیض"), 3900, ("maroon", "black", "purple"), ("eid",)),
    Item("printed-cotton-three-piece", THREE_PIECE, ("সুতি প্রিন্ট থ্রি-পিস (আনস্টিচড)", "Printed Cotton Three-Piece (Unstitched)", "سوتی پرنٹ تھری پیس (ان سلا)"), 1950, ("yellow", "green", "pink", "sky"), ("unstitched",)),
    Item("embroidered-lawn-three-piece", THREE_PIECE, ("এমব্রয়ডারি লন থ্রি-পিস (আনস্টিচড)", "Embroidered Lawn Three-Piece (Unstitched)", "کڑھائی والا لان تھری پیس (ان سلا)"), 3450, ("white", "blue", "pink"), ("eid", "unstitched")),
    Item("cotton-kurti", KURTI, ("সুতি কুর্তি", "Cotton Kurti", "سوتی کرتی"), 1250, ("orange", "sky", "white"), ("everyday",)),
    Item("block-print-kurti", KURTI, ("ব্লক প্রিন্ট কুর্তি", "Block-Print Kurti", "بلاک پرنٹ کرتی"), 1450, ("blue", "maroon"), ("everyday",)),
    Item("khadi-kurti", KURTI, ("খাদি কুর্তি", "Khadi Kurti", "کھادی کرتی"), 1350, ("cream", "green"), ("khadi", "handloom")),
    Item("cotton-orna", ORNA, ("সুতি ওড়না", "Cotton Orna (Dupatta)", "سوتی دوپٹہ"), 550, ("white", "pink", "yellow", "black"), ("everyday",)),
    Item("half-silk-orna", ORNA, ("হাফ সিল্ক ওড়না", "Half-Silk Orna (Dupatta)", "ہاف سلک دوپٹہ"), 950, ("maroon", "purple"), ("silk",)),
    Item("jamdani-orna", ORNA, ("জামদানি ওড়না", "Jamdani Orna (Dupatta)", "جامدانی دوپٹہ"), 2800, ("cream", "red"), ("jamdani", "handloom")),
    Item("tangail-handloom-shawl", SHAWL, ("টাঙ্গাইল তাঁতের শাল", "Tangail Handloom Shawl", "ٹنگائل ہینڈلوم شال"), 1800, ("grey", "maroon", "black"), ("winter", "handloom")),
    Item("nakshi-kantha-bedspread", KANTHA, ("নকশি কাঁথা (বিছানার চাদর)", "Nakshi Kantha Bedspread", "نقشی کانتھا بیڈ اسپریڈ"), 7500, ("red", "blue", "cream"), ("kantha", "handmade")),
    Item("nakshi-kantha-cushion-cover", KANTHA, ("নকশি কাঁথার কুশন কভার", "Nakshi Kantha Cushion Cover", "نقشی کانتھا کشن کور"), 650, ("yellow", "green", "red"), ("kantha", "handmade")),
    Item("nakshi-kantha-orna", ORNA, ("নকশি কাঁথা সেলাইয়ের ওড়না", "Nakshi Kantha Stitch Orna", "نقشی کانتھا کڑھائی والا دوپٹہ"), 2400, ("white", "black"), ("kantha", "handmade")),
    Item("baby-nakshi-kantha", KANTHA, ("বাচ্চাদের নকশি কাঁথা", "Baby Nakshi Kantha", "بچوں کی نقشی کانتھا"), 1600, ("pink", "sky", "white"), ("kantha", "kids")),
]  # fmt: skip


def colour_image_url(colour: str, base_url: str = "") -> str:
    """The seeded picture of a colour value (its own RGB), written on first use."""
    rgb = COLOURS[colour][3]
    path = f"{FOLDER}/dhaka-{slugify(colour)}.png"
    if not default_storage.exists(path):
        band = tuple(min(255, c + 40) for c in rgb)
        default_storage.save(path, ContentFile(png(WIDTH, HEIGHT, rgb, band)))
    url = default_storage.url(path)
    if url.startswith(("http://", "https://")):
        return url
    return (base_url or settings.SITE_URL).rstrip("/") + "/" + url.lstrip("/")


def _categories():
    from catalog.models import Category

    by_path = {c.full_path: c for c in Category.objects.all()}
    for path, google_id in CATEGORIES:
        if path not in by_path:
            parent_path, _sep, name = path.rpartition(" > ")
            category = Category(name=name, parent=by_path.get(parent_path), google_product_category=google_id)
            category.full_path = path
            category.save()
            by_path[path] = category
    return by_path


def _round_taka(amount: float) -> int:
    return int(round(amount / 50) * 50)


def seed_dhaka_catalog(*, shop, base_url: str = "") -> None:
    """A few dozen products, their variants, translations, pictures and stock (once)."""
    from catalog.models import (
        Location,
        Product,
        ProductMedia,
        ProductOption,
        ProductVariant,
        StockLevel,
        StockMovement,
    )
    from localization.models import Translation
    from shopadmin.audit import audit_record
    from shopadmin.words import Words

    if Product.objects.exists():
        return  # idempotent: keep whatever the merchant has changed
    rng = random.Random(1971)
    now = timezone.now()
    currency = shop.default_currency
    categories = _categories()
    location, _created = Location.objects.get_or_create(
        code=LOCATION_CODE, defaults={"name": LOCATION_NAME, "country": shop.country}
    )
    products = Product.objects.bulk_create(
        Product(
            shop=shop,
            title=item.titles[0],
            description=item.kind.description[0],
            brand="তাঁতঘর",
            category=categories[item.kind.category],
            status=Product.Status.ACTIVE,
            tags=sorted(item.tags),
            hs_code=item.kind.hs_code.replace(".", ""),
            country_of_origin="BD",
            handle=item.handle,
            created_at=now,
            updated_at=now,
        )
        for item in ITEMS
    )
    options, variants, media, translations = [], [], [], []

    def translate(kind: str, target, field: str, texts) -> None:
        for language, value in zip(TRANSLATED_TO, texts, strict=True):
            translations.append(
                Translation(shop=shop, kind=kind, field=field, language=language, value=value, **{kind: target})
            )

    for number, (product, item) in enumerate(zip(products, ITEMS, strict=True), start=1):
        translate("product", product, "title", item.titles[1:])
        translate("product", product, "description", item.kind.description[1:])
        colour_option = ProductOption(
            shop=shop,
            product=product,
            name=OPTION_NAMES["colour"][0],
            position=0,
            values=[COLOURS[c][0] for c in item.colours],
        )
        options.append((colour_option, OPTION_NAMES["colour"], {COLOURS[c][0]: COLOURS[c][1:3] for c in item.colours}))
        sizes = item.kind.sizes or (FREE_SIZE[0],)
        size_words = {size: (size, size) for size in item.kind.sizes} or {FREE_SIZE[0]: FREE_SIZE[1:]}
        size_option = ProductOption(
            shop=shop, product=product, name=OPTION_NAMES["size"][0], position=1, values=list(sizes)
        )
        options.append((size_option, OPTION_NAMES["size"], size_words))
        # A quarter of the catalog is on offer, with the price before the offer shown.
        compare_at = _round_taka(item.price * 1.2) if rng.random() < 0.25 else None
        for c_index, colour in enumerate(item.colours):
            bn_colour, en_colour, ur_colour, _rgb = COLOURS[colour]
            media.append(
                ProductMedia(
                    shop=shop,
                    product=product,
                    url=colour_image_url(colour, base_url),
                    alt_text=f"{item.titles[0]}, {bn_colour}",
                    position=c_index,
                )
            )
            for size in sizes:
                en_size, ur_size = size_words[size]
                variant = ProductVariant(
                    shop=shop,
                    product=product,
                    sku=f"DT{number:02d}-{colour.upper()}-{slugify(en_size).upper()}",
                    option_values={OPTION_NAMES["colour"][0]: bn_colour, OPTION_NAMES["size"][0]: size},
                    weight_grams=item.kind.weight,
                    price=Money(item.price, currency),
                    compare_at_price=Money(compare_at, currency) if compare_at else None,
                    cost=Money(_round_taka(item.price * 0.55), currency),
                    position=c_index * len(sizes) + sizes.index(size),
                    created_at=now,
                    updated_at=now,
                )
                variants.append((variant, (f"{en_colour} / {en_size}", f"{ur_colour} / {ur_size}")))
    ProductOption.objects.bulk_create([option for option, _names, _values in options])
    for option, names, values in options:
        translate("option", option, "name", names[1:])
        for value, words in values.items():
            translate("option", option, f"value:{value}", words)
    ProductVariant.objects.bulk_create([variant for variant, _titles in variants])
    for variant, titles in variants:
        translate("variant", variant, "title", titles)
    ProductMedia.objects.bulk_create(media)
    Translation.objects.bulk_create(translations)
    levels, movements = [], []
    for variant, _titles in variants:
        on_hand = rng.choice([0, 3, 5, 8, 12, 20])
        level, movement = seeded_stock(shop, variant, location, on_hand, now=now, actor_label="seed_demo")
        levels.append(level)
        if movement:
            movements.append(movement)
    StockLevel.objects.bulk_create(levels)
    StockMovement.objects.bulk_create(movements)
    audit_record(
        action="catalog.seed",
        model_label="catalog.Product",
        shop_id=shop.pk,
        object_repr=Words(gettext_noop("Sample catalog")),
        changes={
            "products": len(products),
            "variants": len(variants),
            "stock_levels": len(levels),
            "movements": len(movements),
            "media": len(media),
            "translations": len(translations),
        },
    )
