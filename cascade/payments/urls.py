from django.urls import path

from . import views

urlpatterns = [
    path("invoices/<int:invoice_id>/payment/", views.invoice_payment, name="invoice_payment"),
    path("invoices/<int:invoice_id>/dispute/", views.invoice_dispute, name="invoice_dispute"),
    path("reminders/<int:reminder_id>/letter.pdf", views.reminder_pdf, name="reminder_pdf"),
    path("o/<int:org_id>/reminders/", views.dunning_plan, name="dunning_plan"),
    path("occupants/<int:org_id>/account/", views.occupant_account, name="occupant_account"),
    path("occupants/<int:org_id>/statement.pdf", views.occupant_statement, name="occupant_statement"),
]
