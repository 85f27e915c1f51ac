from django.urls import path

from . import views

urlpatterns = [
    path("invoices/<int:invoice_id>/payment/", views.invoice_payment, name="invoice_payment"),
    path("o/<int:org_id>/statements/", views.statements, name="statements"),
    path("o/<int:org_id>/statements/upload/", views.statement_upload, name="statement_upload"),
    path("statements/<int:statement_id>/", views.statement_detail, name="statement"),
    path("statement-lines/<int:line_id>/confirm/", views.statement_line_confirm, name="statement_line_confirm"),
    path("statement-lines/<int:line_id>/dismiss/", views.statement_line_dismiss, name="statement_line_dismiss"),
]
