from django.urls import path

from orders import dashboard_views

urlpatterns = [
    path("attention/", dashboard_views.attention, name="attention"),
    path("attention/rejections/", dashboard_views.rejection_listings, name="attention-rejections"),
]
