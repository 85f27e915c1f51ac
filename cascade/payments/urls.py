from django.urls import path

from . import views

urlpatterns = [
    path("invoices/<int:invoice_id>/payment/", views.invoice_payment, name="invoice_payment"),
    path("occupants/<int:org_id>/mandates/", views.occupant_mandates, name="occupant_mandates"),
    path("mandates/<int:mandate_id>/activate/", views.mandate_activate, name="mandate_activate"),
    path("mandates/<int:mandate_id>/revoke/", views.mandate_revoke, name="mandate_revoke"),
    path("mandates/<int:mandate_id>/pdf/", views.mandate_pdf, name="mandate_pdf"),
    path("o/<int:org_id>/sepa/", views.sepa_batches, name="sepa_batches"),
    path("sepa/<int:batch_id>/xml/", views.sepa_batch_file, name="sepa_batch_file"),
    path("o/<int:org_id>/statements/", views.statements, name="statements"),
    path("o/<int:org_id>/statements/upload/", views.statement_upload, name="statement_upload"),
    path("statements/<int:statement_id>/", views.statement_detail, name="statement"),
    path("statement-lines/<int:line_id>/confirm/", views.statement_line_confirm, name="statement_line_confirm"),
    path("statement-lines/<int:line_id>/dismiss/", views.statement_line_dismiss, name="statement_line_dismiss"),
    path("invoices/<int:invoice_id>/dispute/", views.invoice_dispute, name="invoice_dispute"),
    path("reminders/<int:reminder_id>/letter.pdf", views.reminder_pdf, name="reminder_pdf"),
    path("o/<int:org_id>/reminders/", views.dunning_plan, name="dunning_plan"),
    path("occupants/<int:org_id>/account/", views.occupant_account, name="occupant_account"),
    path("occupants/<int:org_id>/statement.pdf", views.occupant_statement, name="occupant_statement"),
    path("subscriptions/<int:subscription_id>/deposit/", views.deposit_call, name="deposit_call"),
    path("deposits/<int:deposit_id>/", views.deposit_update, name="deposit_update"),
]
