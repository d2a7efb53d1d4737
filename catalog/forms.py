"""Merchant UI forms. They check shapes; the services check the rules and their errors are
put back on the fields they name."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from catalog.models import Category, Location, MovementReason, Product, ProductVariant
from catalog.services import BulkAction
from shopadmin.inputs import CountryChoiceField, LocalizedDecimalField, LocalizedIntegerField

MANUAL_REASONS = [
    (r.value, r.label)
    for r in MovementReason
    if r not in (MovementReason.ALLOCATION, MovementReason.RELEASE, MovementReason.IMPORT)
]


class TagsField(forms.CharField):
    def to_python(self, value):
        value = super().to_python(value) or ""
        return [t.strip() for t in value.split(",") if t.strip()]

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value


class ProductForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=255)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 5}), required=False)
    brand = forms.CharField(label=_("Brand"), max_length=120, required=False)
    category = forms.ModelChoiceField(label=_("Category"), queryset=Category.objects.none(), required=False)
    condition = forms.ChoiceField(label=_("Condition"), choices=Product.Condition.choices)
    status = forms.ChoiceField(label=_("Status"), choices=Product.Status.choices)
    tags = TagsField(label=_("Tags"), required=False, help_text=_("Separate with commas, e.g. summer, sale"))
    hs_code = forms.CharField(label=_("HS code"), max_length=20, required=False, help_text=_("e.g. 6109.10"))
    country_of_origin = CountryChoiceField(label=_("Country of origin"), required=False)
    handle = forms.SlugField(
        label=_("Handle"), max_length=255, required=False, help_text=_("Left empty, it is made from the title.")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.all()

    @classmethod
    def initial_from(cls, product: Product) -> dict:
        return {name: getattr(product, name) for name in cls.base_fields}


class OptionsForm(forms.Form):
    """Up to three options, each a name and comma-separated values."""

    def __init__(self, *args, **kwargs):
        # The product editor shows several forms at once: element ids must stay unique.
        kwargs.setdefault("auto_id", "id_options_%s")
        super().__init__(*args, **kwargs)
        for i in range(3):
            self.fields[f"name_{i}"] = forms.CharField(label=_("Option %(n)d name") % {"n": i + 1}, required=False)
            self.fields[f"values_{i}"] = forms.CharField(
                label=_("Option %(n)d values") % {"n": i + 1}, required=False, help_text=_("e.g. S, M, L")
            )

    @staticmethod
    def initial_from(product) -> dict:
        initial = {}
        for i, option in enumerate(product.options.all()[:3]):
            initial[f"name_{i}"] = option.name
            initial[f"values_{i}"] = ", ".join(option.values)
        return initial

    def options(self) -> list[dict]:
        out = []
        for i in range(3):
            name = self.cleaned_data.get(f"name_{i}", "").strip()
            values = [v.strip() for v in self.cleaned_data.get(f"values_{i}", "").split(",") if v.strip()]
            if name:
                out.append({"name": name, "values": values})
            elif values:
                self.add_error(f"name_{i}", _("Name this option, e.g. Size."))
        return out

    def rows(self):
        return [(self[f"name_{i}"], self[f"values_{i}"]) for i in range(3)]


class VariantForm(forms.Form):
    sku = forms.CharField(label=_("SKU"), max_length=64)
    title = forms.CharField(label=_("Title"), max_length=255, required=False, help_text=_("e.g. M / Blue"))
    price = LocalizedDecimalField(label=_("Price"), help_text=_("In the shop currency, e.g. 19.99"))
    compare_at_price = LocalizedDecimalField(label=_("Compare-at price"), required=False)
    cost = LocalizedDecimalField(label=_("Cost"), required=False)
    gtin = forms.CharField(label=_("GTIN / barcode"), max_length=20, required=False, help_text=_("EAN-13, UPC-A…"))
    mpn = forms.CharField(label=_("MPN"), max_length=70, required=False)
    weight_grams = LocalizedIntegerField(label=_("Weight (g)"), min_value=0, required=False)
    length_mm = LocalizedIntegerField(label=_("Length (mm)"), min_value=0, required=False)
    width_mm = LocalizedIntegerField(label=_("Width (mm)"), min_value=0, required=False)
    height_mm = LocalizedIntegerField(label=_("Height (mm)"), min_value=0, required=False)

    def __init__(self, *args, options=(), **kwargs):
        kwargs.setdefault("auto_id", "id_variant_%s")
        super().__init__(*args, **kwargs)
        self.option_names = [o.name for o in options]
        for option in options:
            self.fields[f"option_{option.name}"] = forms.ChoiceField(
                label=option.name, choices=[("", "—")] + [(v, v) for v in option.values], required=False
            )

    @staticmethod
    def initial_from(variant: ProductVariant) -> dict:
        initial = {
            name: getattr(variant, name)
            for name in ("sku", "title", "gtin", "mpn", "weight_grams", "length_mm", "width_mm", "height_mm")
        }
        for name in ("price", "compare_at_price", "cost"):
            money = getattr(variant, name)
            initial[name] = "" if money is None else money.amount.normalize()
        for key, value in (variant.option_values or {}).items():
            initial[f"option_{key}"] = value
        return initial

    def service_fields(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if not k.startswith("option_")}
        data["option_values"] = {
            name: self.cleaned_data[f"option_{name}"]
            for name in self.option_names
            if self.cleaned_data.get(f"option_{name}")
        }
        return data

    def option_fields(self):
        return [self[f"option_{name}"] for name in self.option_names]


class MediaForm(forms.Form):
    url = forms.URLField(label=_("Image URL"), required=False, max_length=1000, assume_scheme="https")
    image = forms.FileField(
        label=_("…or upload an image"),
        required=False,
        # The service checks the file itself (catalog/images.py); `accept` only helps the picker.
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"}),
        help_text=_(
            "JPEG, PNG, WebP or GIF, at least 500 x 500 pixels, at most 20 MB and 25 megapixels. "
            "Channels get a JPEG copy, at most 2048 pixels on its longest side."
        ),
    )
    alt_text = forms.CharField(label=_("Alt text"), max_length=255, required=False, help_text=_("Describe the image."))
    variant = forms.ModelChoiceField(
        label=_("Only for variant"), queryset=ProductVariant.objects.none(), required=False
    )

    def __init__(self, *args, product=None, **kwargs):
        kwargs.setdefault("auto_id", "id_media_%s")
        super().__init__(*args, **kwargs)
        if product is not None:
            self.fields["variant"].queryset = product.variants.all()

    def clean(self):
        data = super().clean()
        if not data.get("url") and not data.get("image"):
            raise ValidationError(_("Give an image URL or choose a file to upload."))
        return data


class StockAdjustForm(forms.Form):
    variant = forms.ModelChoiceField(label=_("Variant"), queryset=ProductVariant.objects.none())
    location = forms.ModelChoiceField(label=_("Location"), queryset=Location.objects.none())
    mode = forms.ChoiceField(
        label=_("Change"),
        choices=[("delta", _("Add or remove (e.g. 5 or -2)")), ("set", _("Set counted quantity"))],
        initial="delta",
    )
    quantity = LocalizedIntegerField(label=_("Quantity"))
    reason = forms.ChoiceField(label=_("Reason"), choices=MANUAL_REASONS, initial=MovementReason.ADJUSTMENT)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def __init__(self, *args, product=None, **kwargs):
        kwargs.setdefault("auto_id", "id_stock_%s")
        super().__init__(*args, **kwargs)
        if product is not None:
            self.fields["variant"].queryset = product.variants.all()
        self.fields["location"].queryset = Location.objects.filter(is_active=True)

    def clean(self):
        data = super().clean()
        if data.get("mode") == "delta" and data.get("quantity") == 0:
            self.add_error("quantity", _("Enter how many to add (positive) or remove (negative), not 0."))
        if data.get("mode") == "set" and (data.get("quantity") or 0) < 0:
            self.add_error("quantity", _("A counted quantity cannot be negative."))
        return data


class BulkActionForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Action"),
        choices=[
            (BulkAction.ACTIVATE, _("Activate")),
            (BulkAction.ARCHIVE, _("Archive")),
            (BulkAction.DRAFT, _("Set to draft")),
            (BulkAction.TAG, _("Add tag")),
            (BulkAction.UNTAG, _("Remove tag")),
        ],
    )
    tag = forms.CharField(label=_("Tag"), required=False, max_length=60)

    def clean(self):
        # The checkboxes of the list; ids only, their shop is enforced by the scoped query.
        data = super().clean()
        raw = self.data.getlist("products") if hasattr(self.data, "getlist") else self.data.get("products", [])
        if any(not str(value).isdigit() for value in raw):
            raise ValidationError(_("The selection is not valid; reload the page and try again."))
        if not raw:
            raise ValidationError(_("Select at least one product."))
        data["products"] = [int(value) for value in raw]
        return data


class LocationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    code = forms.SlugField(label=_("Code"), max_length=40, help_text=_("Short, used in CSV and API, e.g. nyc"))
    country = CountryChoiceField(label=_("Country"))


class ImportForm(forms.Form):
    # Size and type are checked by catalog.services.catalog_import_start, for every door.
    file = forms.FileField(label=_("CSV file"), help_text=_("UTF-8, comma-separated, with a header row."))


class CategoryForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120, help_text=_("One level, e.g. T-shirts"))
    parent = forms.ModelChoiceField(
        label=_("Inside"), queryset=Category.objects.none(), required=False, empty_label=_("(top level)")
    )
    google_product_category = forms.IntegerField(
        label=_("Google product category id"),
        min_value=1,
        required=False,
        help_text=_("The number from Google's product taxonomy that channels accept, e.g. 212 for Shirts & Tops."),
    )

    def __init__(self, *args, category: Category | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        parents = Category.objects.all()
        if category is not None:
            # Not under itself or anything below it; the service refuses those moves too.
            prefix = f"{category.full_path} > "
            parents = parents.exclude(pk=category.pk).exclude(full_path__startswith=prefix)
        self.fields["parent"].queryset = parents

    @staticmethod
    def initial_from(category: Category) -> dict:
        return {
            "name": category.name,
            "parent": category.parent_id,
            "google_product_category": category.google_product_category,
        }
