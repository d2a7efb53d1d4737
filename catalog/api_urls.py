from rest_framework.routers import SimpleRouter

from catalog import api

router = SimpleRouter()
router.register("products", api.ProductViewSet, basename="api-product")
router.register("variants", api.VariantViewSet, basename="api-variant")
# Movements first: "stock/movements/" must not be read as the stock level with id "movements".
router.register("stock/movements", api.MovementViewSet, basename="api-stock-movement")
router.register("stock", api.StockViewSet, basename="api-stock")
router.register("locations", api.LocationViewSet, basename="api-location")
router.register("categories", api.CategoryViewSet, basename="api-category")

urlpatterns = router.urls
