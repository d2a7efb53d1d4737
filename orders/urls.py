from django.urls import path

from orders import earnings_views, views

app_name = "orders"

urlpatterns = [
    path("", views.order_list, name="order-list"),
    path("<int:pk>/", views.order_detail, name="order-detail"),
    path("<int:pk>/fulfil/", views.order_fulfil, name="order-fulfil"),
    path("<int:pk>/cancel/", views.order_cancel, name="order-cancel"),
    path("<int:pk>/refund/", views.order_refund, name="order-refund"),
    path("reconciliation/", views.reconciliation, name="reconciliation"),
    path("reconciliation/run/", views.reconciliation_run, name="reconciliation-run"),
    path("reconciliation/issues/<int:pk>/", views.issue_act, name="issue-act"),
    path("customers/", views.customer_list, name="customer-list"),
    path("customers/<int:pk>/export/", views.customer_export, name="customer-export"),
    path("customers/<int:pk>/erase/", views.customer_erase, name="customer-erase"),
    path("settings/", views.order_settings, name="settings"),
    path("discount-codes/", views.discount_code_list, name="discount-code-list"),
    path("discount-codes/new/", views.discount_code_edit, name="discount-code-create"),
    path("discount-codes/<int:pk>/", views.discount_code_edit, name="discount-code-edit"),
    path("discount-codes/<int:pk>/deactivate/", views.discount_code_deactivate, name="discount-code-deactivate"),
    path("earnings/", earnings_views.earnings, name="earnings"),
    path("earnings/ad-spend/", earnings_views.ad_spend_add, name="ad-spend-add"),
    path("earnings/ad-spend/import/", earnings_views.ad_spend_import, name="ad-spend-import"),
    path("earnings/ad-spend/<int:pk>/", earnings_views.ad_spend_edit, name="ad-spend-edit"),
]
