from django.urls import path
from rest_framework.routers import SimpleRouter

from orders import api, earnings_api

router = SimpleRouter()
router.register("orders", api.OrderViewSet, basename="api-order")
router.register("reconciliation-runs", api.ReconciliationRunViewSet, basename="api-reconciliation-run")
router.register("reconciliation-issues", api.ReconciliationIssueViewSet, basename="api-reconciliation-issue")
router.register("customers", api.CustomerViewSet, basename="api-customer")
router.register("discount-codes", api.DiscountCodeViewSet, basename="api-discount-code")
router.register("ad-spend", earnings_api.AdSpendViewSet, basename="api-ad-spend")

urlpatterns = [
    *router.urls,
    path("channel-earnings/", earnings_api.ChannelEarningsView.as_view(), name="api-channel-earnings"),
]
