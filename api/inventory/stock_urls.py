"""Stock reads: positions, their daily sales, lots and the movement ledger."""

from django.urls import path

from api.inventory import stock_views as views

urlpatterns = [
    path("stock/", views.PositionListView.as_view(), name="stock"),
    path("stock/<int:position_id>/", views.PositionDetailView.as_view(), name="stock-detail"),
    path("stock/<int:position_id>/daily-sales/", views.DailySalesView.as_view(), name="stock-daily-sales"),
    path("lots/", views.LotListView.as_view(), name="lots"),
    path("movements/", views.MovementListView.as_view(), name="movements"),
]
