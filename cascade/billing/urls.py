from django.urls import path

from . import views

urlpatterns = [
    path("o/<int:org_id>/invoices/", views.invoices, name="invoices"),
    path("invoices/<int:invoice_id>/", views.invoice_detail, name="invoice"),
    path("invoices/<int:invoice_id>/pdf/", views.invoice_pdf_download, name="invoice_pdf"),
    path("invoices/<int:invoice_id>/send/", views.invoice_send, name="invoice_send"),
    path("invoices/<int:invoice_id>/cancel/", views.invoice_cancel, name="invoice_cancel"),
    path("o/<int:org_id>/invoices/export/", views.invoices_export, name="invoices_export"),
    path("o/<int:org_id>/billing/preview/", views.billing_preview, name="billing_preview"),
]
