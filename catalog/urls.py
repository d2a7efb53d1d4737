from django.urls import path

from catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.product_list, name="product-list"),
    path("products/new/", views.product_create, name="product-create"),
    path("products/bulk/", views.product_bulk, name="product-bulk"),
    path("products/<int:pk>/", views.product_detail, name="product-detail"),
    path("products/<int:pk>/delete/", views.product_delete, name="product-delete"),
    path("products/<int:pk>/options/", views.product_options, name="product-options"),
    path("products/<int:pk>/variants/", views.variant_create, name="variant-create"),
    path("products/<int:pk>/media/", views.media_add, name="media-add"),
    path("products/<int:pk>/stock/", views.stock_adjust, name="stock-adjust"),
    path("variants/<int:pk>/", views.variant_edit, name="variant-edit"),
    path("variants/<int:pk>/delete/", views.variant_delete, name="variant-delete"),
    path("media/<int:pk>/delete/", views.media_delete, name="media-delete"),
    path("locations/", views.locations, name="locations"),
    path("categories/", views.categories, name="categories"),
    path("categories/<int:pk>/", views.category_edit, name="category-edit"),
    path("categories/<int:pk>/delete/", views.category_delete, name="category-delete"),
    path("import/", views.import_upload, name="import"),
    path("import/<int:job_id>/", views.import_job, name="import-job"),
    path("import/<int:job_id>/commit/", views.import_commit, name="import-commit"),
    path("export.csv", views.export, name="export"),
]
