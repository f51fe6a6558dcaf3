"""Master data: warehouses, categories, SKUs."""

from django.urls import path

from api.inventory import master_views as views

urlpatterns = [
    path("warehouses/", views.WarehouseListView.as_view(), name="warehouses"),
    path("warehouses/<uuid:warehouse_id>/", views.WarehouseDetailView.as_view(), name="warehouse-detail"),
    path("categories/", views.CategoryListView.as_view(), name="categories"),
    path("categories/<uuid:category_id>/", views.CategoryDetailView.as_view(), name="category-detail"),
    path("skus/", views.SkuListView.as_view(), name="skus"),
    path("skus/<uuid:sku_id>/", views.SkuDetailView.as_view(), name="sku-detail"),
]
