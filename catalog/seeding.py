"""A realistic apparel catalog, fast: bulk inserts in batches, for demos and benchmarks.

100k variants means ~9k products, 200k stock levels and their "received" movements; row
by row through the services that would take many minutes, so this writes in bulk and
records one audit entry for the whole seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop
from djmoney.money import Money

from catalog.demo_images import demo_image_url
from catalog.models import (
    Category,
    Location,
    MovementReason,
    Product,
    ProductMedia,
    ProductOption,
    ProductVariant,
    StockLevel,
    StockMovement,
)
from catalog.validators import gtin_check_digit
from shopadmin.audit import audit_record
from shopadmin.models import Shop
from shopadmin.words import Words

BATCH = 2000

# (path, Google product taxonomy id)
CATEGORIES = [
    ("Apparel", 166),
    ("Apparel > Tops", 212),
    ("Apparel > Tops > T-shirts", 212),
    ("Apparel > Tops > Hoodies", 5388),
    ("Apparel > Bottoms", 204),
    ("Apparel > Bottoms > Jeans", 204),
    ("Apparel > Outerwear", 203),
    ("Apparel > Dresses", 2271),
    ("Apparel > Accessories", 167),
    ("Apparel > Accessories > Hats", 173),
    ("Apparel > Accessories > Socks", 209),
    ("Shoes", 187),
]


@dataclass(frozen=True)
class Kind:
    noun: str
    category: str
    code: str
    sizes: tuple[str, ...]
    price: tuple[int, int]
    weight: int
    hs_code: str


KINDS = [
    Kind("T-shirt", "Apparel > Tops > T-shirts", "TS", ("XS", "S", "M", "L", "XL", "XXL"), (18, 39), 180, "610910"),
    Kind("Hoodie", "Apparel > Tops > Hoodies", "HD", ("S", "M", "L", "XL", "XXL"), (45, 89), 550, "611020"),
    Kind("Jeans", "Apparel > Bottoms > Jeans", "JN", ("28", "30", "32", "34", "36", "38"), (59, 129), 700, "620342"),
    Kind("Chinos", "Apparel > Bottoms", "CH", ("28", "30", "32", "34", "36"), (49, 95), 500, "620342"),
    Kind("Jacket", "Apparel > Outerwear", "JK", ("S", "M", "L", "XL"), (89, 249), 1100, "620193"),
    Kind("Dress", "Apparel > Dresses", "DR", ("XS", "S", "M", "L", "XL"), (49, 159), 350, "620442"),
    Kind("Cap", "Apparel > Accessories > Hats", "CP", ("One size",), (19, 35), 90, "650500"),
    Kind("Socks", "Apparel > Accessories > Socks", "SK", ("S/M", "L/XL"), (9, 19), 60, "611595"),
    Kind("Sneakers", "Shoes", "SN", ("38", "39", "40", "41", "42", "43", "44", "45"), (69, 179), 900, "640411"),
]
ADJECTIVES = [
    "Everyday",
    "Heavyweight",
    "Organic",
    "Vintage",
    "Relaxed",
    "Slim",
    "Classic",
    "Recycled",
    "Coastal",
    "Alpine",
    "Urban",
    "Weekend",
    "Trail",
    "Studio",
    "Harbor",
    "Midnight",
    "Sunday",
    "Canyon",
    "Linen",
    "Merino",
]
COLORS = [
    "Black",
    "White",
    "Navy",
    "Heather Grey",
    "Olive",
    "Sand",
    "Rust",
    "Forest",
    "Sky Blue",
    "Burgundy",
    "Charcoal",
    "Cream",
]
BRANDS = ["Northwind", "Harbor & Pine", "Common Thread", "Lumen", "Fieldnotes"]
ORIGINS = ["PT", "TR", "IN", "BD", "VN", "US", "IT", "CN"]


def _ensure_categories() -> dict[str, Category]:
    by_path = {c.full_path: c for c in Category.objects.all()}
    for path, google_id in CATEGORIES:
        if path in by_path:
            continue
        parent_path, _sep, name = path.rpartition(" > ")
        category = Category(name=name, parent=by_path.get(parent_path), google_product_category=google_id)
        category.full_path = path
        category.save()
        by_path[path] = category
    return by_path


def _ensure_locations(shop: Shop) -> list[Location]:
    main, _c = Location.objects.get_or_create(code="main", defaults={"name": "Main warehouse", "country": shop.country})
    store, _c = Location.objects.get_or_create(
        code="store", defaults={"name": "Downtown store", "country": shop.country}
    )
    return [main, store]


def _ean13(number: int) -> str:
    body = f"20{number:010d}"  # GS1 prefix 20-29: numbers for a company's own use
    return body + str(gtin_check_digit(body))


@transaction.atomic
def seeded_stock(
    shop: Shop, variant, location: Location, on_hand: int, *, now, actor_label: str
) -> tuple[StockLevel, StockMovement | None]:
    """A seeded stock level and the received movement that explains it (none for zero), written
    directly in bulk by the seeders rather than one ledger post at a time."""
    level = StockLevel(shop=shop, variant=variant, location=location, on_hand=on_hand, updated_at=now)
    if not on_hand:
        return level, None
    movement = StockMovement(
        shop=shop,
        variant=variant,
        location=location,
        quantity=on_hand,
        reason=MovementReason.RECEIVED,
        reference="seed",
        on_hand_after=on_hand,
        allocated_after=0,
        actor_label=actor_label,
        created_at=now,
    )
    return level, movement


def seed_catalog(
    *, shop: Shop, variants: int, seed: int | None = None, progress=None, image_base_url: str = ""
) -> dict:
    """Create about ``variants`` variants (exactly that many) in the current shop context.

    Pictures are made here, one per colour, and served from this deployment's media URL
    (under `image_base_url`, default SITE_URL)."""
    rng = random.Random(seed)
    image_urls: dict[str, str] = {}
    categories = _ensure_categories()
    locations = _ensure_locations(shop)
    currency = shop.default_currency
    start = Product.objects.count()
    sku_base = ProductVariant.objects.count()
    now = timezone.now()
    made = {"products": 0, "variants": 0, "stock_levels": 0, "movements": 0, "media": 0}
    remaining = variants
    number = start
    while remaining > 0:
        # Build one batch of products with their variants in memory, then insert in bulk.
        plans = []
        batch_variants = 0
        while remaining - batch_variants > 0 and batch_variants < BATCH * 2:
            kind = rng.choice(KINDS)
            colors = rng.sample(COLORS, k=rng.randint(1, 3))
            sizes = list(kind.sizes)
            combos = [(c, s) for c in colors for s in sizes][: remaining - batch_variants]
            number += 1
            plans.append((number, kind, colors, sizes, combos))
            batch_variants += len(combos)
        products = []
        for number_, kind, _colors, _sizes, _combos in plans:
            adjective = rng.choice(ADJECTIVES)
            title = f"{adjective} {kind.noun}"
            products.append(
                Product(
                    shop=shop,
                    title=title,
                    description=f"A {adjective.lower()} {kind.noun.lower()} made to last. Style no. {number_}.",
                    brand=rng.choice(BRANDS),
                    category=categories[kind.category],
                    status=rng.choices(["active", "draft", "archived"], weights=[85, 10, 5])[0],
                    tags=sorted(rng.sample(["new", "bestseller", "summer", "winter", "sale", "organic"], k=2)),
                    hs_code=kind.hs_code,
                    country_of_origin=rng.choice(ORIGINS),
                    handle=f"{adjective}-{kind.noun}-{number_}".lower(),
                    created_at=now,
                    updated_at=now,
                )
            )
        Product.objects.bulk_create(products, batch_size=BATCH)
        options, new_variants, media = [], [], []
        for product, (number_, kind, colors, sizes, combos) in zip(products, plans, strict=True):
            options.append(ProductOption(shop=shop, product=product, name="Color", position=0, values=colors))
            options.append(ProductOption(shop=shop, product=product, name="Size", position=1, values=sizes))
            low, high = kind.price
            price = rng.randint(low, high) - 0.01
            for position, (color, size) in enumerate(combos):
                sku_base += 1
                new_variants.append(
                    ProductVariant(
                        shop=shop,
                        product=product,
                        sku=f"{kind.code}-{number_:06d}-{position + 1:02d}",
                        option_values={"Color": color, "Size": size},
                        gtin=_ean13(sku_base),
                        mpn=f"{kind.code}{number_:06d}{position:02d}",
                        weight_grams=kind.weight,
                        price=Money(f"{price:.2f}", currency),
                        compare_at_price=Money(f"{price * 1.25:.2f}", currency) if rng.random() < 0.2 else None,
                        cost=Money(f"{price * 0.4:.2f}", currency),
                        position=position,
                        created_at=now,
                        updated_at=now,
                    )
                )
            for i, color in enumerate(colors):
                if color not in image_urls:
                    image_urls[color] = demo_image_url(color, image_base_url)
                media.append(
                    ProductMedia(
                        shop=shop,
                        product=product,
                        url=image_urls[color],
                        alt_text=f"{product.title} in {color}",
                        position=i,
                    )
                )
        ProductOption.objects.bulk_create(options, batch_size=BATCH)
        ProductVariant.objects.bulk_create(new_variants, batch_size=BATCH)
        ProductMedia.objects.bulk_create(media, batch_size=BATCH)
        levels, movements = [], []
        for variant in new_variants:
            for location in locations:
                on_hand = rng.choice([0, 0, 3, 5, 8, 12, 20, 40])
                level, movement = seeded_stock(shop, variant, location, on_hand, now=now, actor_label="seed_catalog")
                levels.append(level)
                if movement:
                    movements.append(movement)
        StockLevel.objects.bulk_create(levels, batch_size=BATCH)
        StockMovement.objects.bulk_create(movements, batch_size=BATCH)
        made["products"] += len(products)
        made["variants"] += len(new_variants)
        made["stock_levels"] += len(levels)
        made["movements"] += len(movements)
        made["media"] += len(media)
        remaining -= len(new_variants)
        if progress:
            progress(made)
    audit_record(
        action="catalog.seed",
        model_label="catalog.Product",
        shop_id=shop.pk,
        object_repr=Words(gettext_noop("Sample catalog")),
        changes=made,
    )
    return made
