"""Catalog and inventory data: categories, products, options, variants, media, locations, stock.

Every table is tenant data (TenantModel: shop FK, scoped manager, row-level security) and
every unique constraint includes the shop. Stock is changed only through
``catalog.services.stock_post_movements``; the check constraints below are the last line
of defence if anything else tries.
"""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator
from django.db import models
from django.db.models import F, Q
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField
from djmoney.models.validators import MinMoneyValidator

from catalog.errors import CatalogErrorCode
from catalog.validators import normalize_gtin, normalize_hs_code, validate_gtin, validate_hs_code
from shopadmin.tenancy import TenantModel
from shopadmin.validators import validate_country_code

MONEY_DIGITS = 14
# Three places hold every ISO 4217 minor unit in use (KWD, BHD); amounts are rounded to
# the currency's own exponent at the edges.
MONEY_PLACES = 3


class HSCodeField(models.CharField):
    """Accepts 6109.10.00 and stores 61091000."""

    def to_python(self, value):
        value = super().to_python(value)
        if value and normalize_hs_code(value).isdigit():
            return normalize_hs_code(value)
        return value


class GTINField(models.CharField):
    """Accepts 0 12345 67890 5 and stores 012345678905."""

    def to_python(self, value):
        value = super().to_python(value)
        return normalize_gtin(value) if value else value


class CountryField(models.CharField):
    """ISO 3166-1 alpha-2; accepts pt and stores PT."""

    def to_python(self, value):
        value = super().to_python(value)
        return value.strip().upper() if value else value


class Category(TenantModel):
    name = models.CharField(max_length=120)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    # "Apparel > Tops > T-shirts": what CSV files and channels name a category by.
    full_path = models.CharField(max_length=500, editable=False)
    google_product_category = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Google product taxonomy id, e.g. 212 for Shirts & Tops.")
    )

    class Meta:
        ordering = ["full_path"]
        verbose_name_plural = _("categories")
        constraints = [models.UniqueConstraint(fields=["shop", "full_path"], name="category_unique_shop_path")]

    def __str__(self):
        return self.full_path or self.name

    def compute_path(self) -> str:
        return f"{self.parent.compute_path()} > {self.name}" if self.parent_id else self.name

    def clean(self):
        if ">" in (self.name or ""):
            raise ValidationError(
                {
                    "name": ValidationError(
                        _("A category name cannot contain “>”, which separates levels."),
                        code=CatalogErrorCode.CATEGORY_NAME_INVALID,
                    )
                }
            )
        node, seen = self.parent, {self.pk}
        while node is not None:
            if node.pk in seen:
                raise ValidationError(
                    {
                        "parent": ValidationError(
                            _("A category cannot be inside itself."), code=CatalogErrorCode.CATEGORY_CYCLE
                        )
                    }
                )
            seen.add(node.pk)
            node = node.parent
        self.full_path = self.compute_path()


class Product(TenantModel):
    class Condition(models.TextChoices):
        NEW = "new", _("New")
        REFURBISHED = "refurbished", _("Refurbished")
        USED = "used", _("Used")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        ARCHIVED = "archived", _("Archived")

    title = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    brand = models.CharField(max_length=120, blank=True)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="products")
    condition = models.CharField(max_length=12, choices=Condition.choices, default=Condition.NEW)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    tags = models.JSONField(default=list, blank=True)
    hs_code = HSCodeField(
        "HS code", max_length=20, blank=True, validators=[validate_hs_code], help_text=_("e.g. 6109.10")
    )
    country_of_origin = CountryField(
        max_length=2, blank=True, validators=[validate_country_code], help_text=_("ISO 3166-1 alpha-2, e.g. PT")
    )
    handle = models.SlugField(max_length=255, allow_unicode=False, help_text=_("The product's URL name."))
    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["shop", "handle"], name="product_unique_shop_handle")]
        # Keyset pagination of the merchant list walks these (sort key, id) per shop.
        indexes = [
            models.Index(fields=["shop", "updated_at", "id"], name="product_shop_updated"),
            models.Index(fields=["shop", "created_at", "id"], name="product_shop_created"),
            models.Index(fields=["shop", "title", "id"], name="product_shop_title"),
            models.Index(fields=["shop", "status", "updated_at", "id"], name="product_shop_status"),
            models.Index(fields=["shop", "brand"], name="product_shop_brand"),
            # Title search also has a GIN trigram index on UPPER(title), PostgreSQL only, made
            # by migration 0003 in SQL (Django wraps OpClass over an expression in one pair of
            # parentheses too many, and SQLite has neither GIN nor pg_trgm).
        ]

    def __str__(self):
        return self.title

    def clean(self):
        if not isinstance(self.tags, list) or not all(isinstance(t, str) for t in self.tags):
            raise ValidationError(
                {
                    "tags": ValidationError(
                        _('Tags must be a list of words, e.g. ["summer", "sale"].'), code=CatalogErrorCode.TAGS_INVALID
                    )
                }
            )
        self.tags = sorted({t.strip() for t in self.tags if t.strip()})
        if self.country_of_origin:
            self.country_of_origin = self.country_of_origin.upper()


class ProductOption(TenantModel):
    """An axis of variation (Size, Color) and its values in display order."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="options")
    name = models.CharField(max_length=60)
    position = models.PositiveSmallIntegerField(default=0)
    values = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["product_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "product", "name"], name="option_unique_shop_product_name")
        ]

    def __str__(self):
        return f"{self.name}: {', '.join(map(str, self.values))}"

    def clean(self):
        if not isinstance(self.values, list) or not all(isinstance(v, str) and v.strip() for v in self.values):
            raise ValidationError(
                {
                    "values": ValidationError(
                        _("Option values must be a list of non-empty words, e.g. S, M, L."),
                        code=CatalogErrorCode.OPTION_VALUES_INVALID,
                    )
                }
            )
        if len({v.casefold() for v in self.values}) != len(self.values):
            raise ValidationError(
                {
                    "values": ValidationError(
                        _("Each option value may appear only once."), code=CatalogErrorCode.OPTION_VALUE_DUPLICATE
                    )
                }
            )


class ProductVariant(TenantModel):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    sku = models.CharField("SKU", max_length=64)
    title = models.CharField(max_length=255, blank=True, help_text=_("Defaults to the option values, e.g. M / Blue."))
    option_values = models.JSONField(default=dict, blank=True)
    gtin = GTINField("GTIN", max_length=14, blank=True, validators=[validate_gtin], help_text=_("EAN/UPC barcode"))
    mpn = models.CharField("MPN", max_length=70, blank=True)
    weight_grams = models.PositiveIntegerField(null=True, blank=True)
    length_mm = models.PositiveIntegerField(null=True, blank=True)
    width_mm = models.PositiveIntegerField(null=True, blank=True)
    height_mm = models.PositiveIntegerField(null=True, blank=True)
    price = MoneyField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, validators=[MinMoneyValidator(0)])
    compare_at_price = MoneyField(
        max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, null=True, blank=True, validators=[MinMoneyValidator(0)]
    )
    cost = MoneyField(
        max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, null=True, blank=True, validators=[MinMoneyValidator(0)]
    )
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        ordering = ["product_id", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["shop", "sku"], name="variant_unique_shop_sku")]
        indexes = [
            models.Index(fields=["shop", "id"], name="variant_shop_id"),
            models.Index(fields=["shop", "gtin"], name="variant_shop_gtin"),
            # Per-product lookups (editor, list page, export) filter by shop and product;
            # the composite index keeps the planner off the 100k-entry shop_id index.
            models.Index(fields=["shop", "product", "position", "id"], name="variant_shop_product"),
        ]

    def __str__(self):
        return f"{self.sku} · {self.display_title}"

    @property
    def display_title(self) -> str:
        return self.title or " / ".join(str(v) for v in (self.option_values or {}).values()) or "Default"

    def clean(self):
        errors = {}
        if not isinstance(self.option_values, dict):
            errors["option_values"] = ValidationError(
                _('Option values must be an object like {"Size": "M"}.'), code=CatalogErrorCode.OPTION_VALUES_INVALID
            )
        self.sku = (self.sku or "").strip()
        if not self.sku:
            errors["sku"] = ValidationError(_("Every variant needs a SKU."), code=CatalogErrorCode.SKU_REQUIRED)
        currency = self._shop_currency()
        for name in ("price", "compare_at_price", "cost"):
            money = getattr(self, name)
            if money is not None and currency and str(money.currency) != currency:
                errors[name] = ValidationError(
                    _("Amounts are in the shop currency, %(currency)s (got %(got)s).")
                    % {"currency": currency, "got": money.currency},
                    code=CatalogErrorCode.CURRENCY_MISMATCH,
                )
        if (
            self.compare_at_price is not None
            and self.price is not None
            and "compare_at_price" not in errors
            and self.compare_at_price.amount <= self.price.amount
        ):
            errors["compare_at_price"] = ValidationError(
                _("The compare-at price must be higher than the price, or left empty."),
                code=CatalogErrorCode.COMPARE_AT_PRICE_TOO_LOW,
            )
        if errors:
            raise ValidationError(errors)

    def _shop_currency(self) -> str | None:
        if not self.shop_id:
            return None
        from shopadmin.models import Shop

        shop = self._state.fields_cache.get("shop") or Shop.objects.only("default_currency").get(pk=self.shop_id)
        return shop.default_currency


def _media_name(instance, filename: str, folder: str = "") -> str:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "jpg"
    return f"catalog/{instance.shop_id}/{instance.product_id}/{folder}{uuid.uuid4().hex}.{extension}"


def media_upload_to(instance, filename):
    """Where an image goes in the storage: the shop and product, and a random name (never the
    uploader's file name, which may hold anything); the service names the extension after
    the format Pillow found."""
    return _media_name(instance, filename)


def media_original_upload_to(instance, filename):
    return _media_name(instance, filename, "original/")


class ProductMedia(TenantModel):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="media")
    variant = models.ForeignKey(ProductVariant, null=True, blank=True, on_delete=models.SET_NULL, related_name="media")
    url = models.URLField(max_length=1000, blank=True)
    # An upload is kept as given (`original`) and as the rendition channels and pages use
    # (`image`: RGB JPEG, EXIF orientation applied and stripped, longest side capped; see
    # catalog/images.py). Both go through the default storage (a folder, or object storage).
    image = models.FileField(
        upload_to=media_upload_to,
        blank=True,
        validators=[FileExtensionValidator(["jpg", "jpeg", "png", "webp", "gif"])],
        help_text=_("The picture channels get: a JPEG made from the upload."),
    )
    original = models.FileField(
        upload_to=media_original_upload_to,
        blank=True,
        validators=[FileExtensionValidator(["jpg", "jpeg", "png", "webp", "gif"])],
        help_text=_("The uploaded file, as it was sent."),
    )
    thumbnail = models.FileField(
        upload_to=media_upload_to,
        blank=True,
        help_text=_("A small copy for lists and order pages."),
    )
    width = models.PositiveIntegerField(null=True, blank=True, help_text=_("Of the uploaded image's rendition."))
    height = models.PositiveIntegerField(null=True, blank=True, help_text=_("Of the uploaded image's rendition."))
    alt_text = models.CharField(max_length=255, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["product_id", "position", "id"]
        verbose_name_plural = _("product media")
        constraints = [
            models.CheckConstraint(
                condition=~Q(url="") | ~Q(image=""),
                name="media_has_url_or_image",
                violation_error_message=_("Give an image URL or upload a file."),
            )
        ]

    def __str__(self):
        return self.alt_text or self.src

    @property
    def src(self) -> str:
        return self.image.url if self.image else self.url

    @property
    def thumbnail_src(self) -> str:
        """What a list shows: the small copy of an upload, else the picture itself."""
        return self.thumbnail.url if self.thumbnail else self.src

    def clean(self):
        if not self.url and not self.image:
            raise ValidationError(
                {
                    "url": ValidationError(
                        _("Give an image URL or upload a file."), code=CatalogErrorCode.MEDIA_SOURCE_REQUIRED
                    )
                }
            )
        if self.variant_id and self.product_id and self.variant.product_id != self.product_id:
            raise ValidationError(
                {
                    "variant": ValidationError(
                        _("That variant belongs to another product."), code=CatalogErrorCode.VARIANT_OF_ANOTHER_PRODUCT
                    )
                }
            )


class Location(TenantModel):
    """Somewhere stock sits: a warehouse, a store, a 3PL."""

    name = models.CharField(max_length=120)
    code = models.SlugField(max_length=40, help_text=_("Short code used in CSV files and the API, e.g. nyc"))
    country = CountryField(max_length=2, validators=[validate_country_code])
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["shop", "code"], name="location_unique_shop_code")]

    def __str__(self):
        return self.name


class StockLevel(TenantModel):
    variant = models.ForeignKey(ProductVariant, on_delete=models.CASCADE, related_name="stock_levels")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="stock_levels")
    on_hand = models.IntegerField(default=0)
    allocated = models.IntegerField(default=0)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["variant_id", "location_id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "variant", "location"], name="stock_unique_shop_variant_location"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stock_on_hand_not_negative"),
            models.CheckConstraint(condition=Q(allocated__gte=0), name="stock_allocated_not_negative"),
            models.CheckConstraint(condition=Q(allocated__lte=F("on_hand")), name="stock_allocated_within_on_hand"),
        ]

    def __str__(self):
        return f"{self.variant_id}@{self.location_id}: {self.on_hand} on hand, {self.allocated} allocated"

    @property
    def available(self) -> int:
        return self.on_hand - self.allocated


class MovementReason(models.TextChoices):
    RECEIVED = "received", _("Received")
    ADJUSTMENT = "adjustment", _("Adjustment")
    SALE = "sale", _("Sale")
    ALLOCATION = "allocation", _("Allocated to an order")
    RELEASE = "release", _("Allocation released")
    RETURN = "return", _("Return")
    CORRECTION = "correction", _("Stock count correction")
    DAMAGE = "damage", _("Damaged or lost")
    IMPORT = "import", _("CSV import")


# Reasons that move stock between "free" and "allocated" rather than in or out of the building.
ALLOCATION_REASONS = frozenset({MovementReason.ALLOCATION, MovementReason.RELEASE})


class StockMovement(TenantModel):
    """The ledger: every stock change, never edited or deleted.

    ``quantity`` is a signed delta of on hand, except for allocation (+allocated) and
    release (-allocated), which leave on hand alone. A sale of allocated stock is a
    release followed by a sale.
    """

    variant = models.ForeignKey(ProductVariant, on_delete=models.CASCADE, related_name="movements")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="movements")
    quantity = models.IntegerField()
    reason = models.CharField(max_length=12, choices=MovementReason.choices)
    reference = models.CharField(max_length=200, blank=True)
    note = models.CharField(max_length=500, blank=True)
    on_hand_after = models.IntegerField()
    allocated_after = models.IntegerField()
    actor_user = models.ForeignKey("shopadmin.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["shop", "variant", "-created_at"], name="movement_shop_variant")]

    def __str__(self):
        return f"{self.quantity:+d} {self.reason} {self.variant_id}@{self.location_id}"
