from django.urls import path, re_path

from channels.sandbox import views

urlpatterns = [
    # Control
    path("_control/<str:channel>/<str:key>/", views.control_account, name="sandbox-control-account"),
    path("_control/<str:channel>/<str:key>/orders/", views.control_place_order, name="sandbox-control-order"),
    # Meta Graph API (base URL …/sandbox/meta stands for https://graph.facebook.com/v21.0)
    path("meta/<str:catalog_id>/items_batch", views.meta_items_batch),
    path("meta/<str:catalog_id>/localized_items_batch", views.meta_localized_items_batch),
    path("meta/<str:catalog_id>/check_batch_request_status", views.meta_check_batch_status),
    path("meta/<str:cms_id>/commerce_orders", views.meta_commerce_orders),
    path("meta/<str:order_id>/acknowledge_order", views.meta_acknowledge_order),
    path("meta/<str:order_id>/shipments", views.meta_shipments),
    path("meta/<str:order_id>/cancellations", views.meta_cancellations),
    path("meta/<str:order_id>", views.meta_order),
    # TikTok Shop 202309
    path("tiktok/product/202309/products", views.tiktok_products),
    path("tiktok/product/202309/products/deactivate", views.tiktok_products_deactivate),
    path("tiktok/product/202309/products/<str:product_id>", views.tiktok_product_edit),
    re_path(
        r"^tiktok/product/202309/products/(?P<product_id>[^/]+)/(?P<what>prices|inventory)/update$",
        views.tiktok_product_skus_update,
    ),
    path("tiktok/order/202309/orders/search", views.tiktok_orders_search),
    path("tiktok/order/202309/orders", views.tiktok_orders_detail),
    path("tiktok/fulfillment/202309/orders/<str:order_id>/packages", views.tiktok_ship_packages),
    path("tiktok/return_refund/202309/cancellations", views.tiktok_cancellations),
    # Pinterest v5
    path("pinterest/v5/catalogs/items/batch", views.pinterest_items_batch),
    path("pinterest/v5/catalogs/items/batch/<str:batch_id>", views.pinterest_batch_status),
]
