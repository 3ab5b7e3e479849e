"""The Marketplace panel's URLs."""

from django.urls import re_path

from ocx.dashboard.horizon.market import views

urlpatterns = [
    re_path(r"^$", views.MarketplaceView.as_view(), name="index"),
]
