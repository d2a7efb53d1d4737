"""Small builders for catalog tests; they go through the services, like real callers."""

from catalog import services
from catalog.models import Location


def make_product(title="Classic Tee", *, skus=("TEE-S", "TEE-M"), price="19.99", **fields):
    return services.product_create(
        title=title,
        options=[{"name": "Size", "values": [s.rsplit("-", 1)[-1] for s in skus]}],
        variants=[{"sku": sku, "price": price, "option_values": {"Size": sku.rsplit("-", 1)[-1]}} for sku in skus],
        **fields,
    )


def make_location(code="main", name="Main warehouse", country="US") -> Location:
    existing = Location.objects.filter(code=code).first()
    return existing or services.location_create(name=name, code=code, country=country)
