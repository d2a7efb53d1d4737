"""The sandbox's URLs: one module per simulated channel, plus the control endpoints."""

from django.urls import include, path, re_path

from channels.sandbox import control, grants, meta, pinterest, tiktok_shop

urlpatterns = [
    path("_control/<str:channel>/<str:key>/", control.control_account, name="sandbox-control-account"),
    path("_control/<str:channel>/<str:key>/grants/", grants.control_grants, name="sandbox-control-grants"),
    path("_control/<str:channel>/<str:key>/orders/", control.control_place_order, name="sandbox-control-order"),
    re_path(r"^_images/(?P<width>\d+)x(?P<height>\d+)\.png$", control.picture, name="sandbox-picture"),
    path("meta/", include(meta)),
    path("tiktok/", include(tiktok_shop)),
    path("pinterest/", include(pinterest)),
]
