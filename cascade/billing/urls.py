from django.urls import path

from . import views

urlpatterns = [
    path("o/<int:org_id>/invoices/", views.invoices, name="invoices"),
    path("invoices/<int:invoice_id>/", views.invoice_detail, name="invoice"),
    path("invoices/<int:invoice_id>/pdf/", views.invoice_pdf_download, name="invoice_pdf"),
]
