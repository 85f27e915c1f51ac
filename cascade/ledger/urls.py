from django.urls import path

from . import views

urlpatterns = [
    path("o/<int:org_id>/ledger/", views.ledger, name="ledger"),
    path("o/<int:org_id>/ledger/export/", views.ledger_export, name="ledger_export"),
]
