from django.urls import path
from rest_framework.routers import SimpleRouter

from localization import api

router = SimpleRouter()
router.register("markets", api.MarketViewSet, basename="api-market")
router.register("exchange-rates", api.ExchangeRateViewSet, basename="api-exchange-rate")
router.register("prices", api.MarketPriceViewSet, basename="api-price")
router.register("shipping-rates", api.ShippingRateViewSet, basename="api-shipping-rate")

urlpatterns = [
    path("landed-cost/quotes/", api.LandedCostQuoteView.as_view(), name="api-landed-cost-quote"),
    path("prices/overrides/", api.PriceOverrideView.as_view(), name="api-price-override"),
    *router.urls,
]
