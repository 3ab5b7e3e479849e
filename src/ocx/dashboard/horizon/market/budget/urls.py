"""The Budget panel's URLs."""

from django.urls import re_path

from ocx.dashboard.horizon.market import views

urlpatterns = [
    re_path(r"^$", views.BudgetView.as_view(), name="index"),
]
