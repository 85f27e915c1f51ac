from django.urls import path

from . import views

urlpatterns = [
    path("invoices/<int:invoice_id>/payment/", views.invoice_payment, name="invoice_payment"),
]
