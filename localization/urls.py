from django.urls import path

from localization import views

app_name = "localization"

urlpatterns = [
    path("", views.market_list, name="market-list"),
    path("markets/new/", views.market_edit, name="market-create"),
    path("markets/<int:pk>/", views.market_edit, name="market-edit"),
    path("markets/<int:pk>/delete/", views.market_delete, name="market-delete"),
    path("markets/<int:pk>/prices/", views.market_prices, name="market-prices"),
    path("markets/<int:pk>/shipping/", views.shipping_rates, name="shipping-rates"),
    path("markets/<int:pk>/shipping/<int:rate_pk>/", views.shipping_rate_edit, name="shipping-rate-edit"),
    path("markets/<int:pk>/shipping/<int:rate_pk>/delete/", views.shipping_rate_delete, name="shipping-rate-delete"),
    path("exchange-rates/", views.exchange_rates, name="exchange-rates"),
    path("tax/", views.tax_rates, name="tax-rates"),
    path("landed-cost/", views.landed_cost_calculator, name="calculator"),
    path("translations/", views.translations, name="translations"),
    path("translations/export.csv", views.translations_export, name="translations-export"),
]
