from django.urls import path

from . import views

urlpatterns = [
    path("invoices/<int:invoice_id>/payment/", views.invoice_payment, name="invoice_payment"),
    path("subscriptions/<int:subscription_id>/deposit/", views.deposit_call, name="deposit_call"),
    path("deposits/<int:deposit_id>/", views.deposit_update, name="deposit_update"),
]
