from django.urls import path
from rest_framework.routers import SimpleRouter

from catalog.api.categories import CategoryViewSet
from catalog.api.imports import CatalogImportCommit, CatalogImportCreate
from catalog.api.locations import LocationViewSet
from catalog.api.products import ProductViewSet
from catalog.api.stock import MovementViewSet, StockViewSet
from catalog.api.variants import VariantViewSet

router = SimpleRouter()
router.register("products", ProductViewSet, basename="api-product")
router.register("variants", VariantViewSet, basename="api-variant")
# Movements first: "stock/movements/" must not be read as the stock level with id "movements".
router.register("stock/movements", MovementViewSet, basename="api-stock-movement")
router.register("stock", StockViewSet, basename="api-stock")
router.register("locations", LocationViewSet, basename="api-location")
router.register("categories", CategoryViewSet, basename="api-category")

urlpatterns = [
    path("catalog-imports/", CatalogImportCreate.as_view(), name="api-catalog-imports"),
    path("catalog-imports/<int:pk>/commit/", CatalogImportCommit.as_view(), name="api-catalog-import-commit"),
    *router.urls,
]
