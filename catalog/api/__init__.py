"""The catalog API, one module per resource: products, variants (with bulk upsert by SKU),
stock levels and movements, categories, locations.

Thin: serializers check shapes and types; the services own validation and writes, and
their Django ValidationErrors become problem+json field errors.
"""
