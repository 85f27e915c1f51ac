from django.urls import path

from . import documents, views

urlpatterns = [
    path("o/<int:org_id>/templates/", views.templates, name="templates"),
    path("templates/<int:template_id>/", views.template_edit, name="document_template"),
    path("templates/<int:template_id>/preview/", views.template_preview, name="document_template_preview"),
    path("contracts/<int:contract_id>/pdf/", views.contract_pdf, name="contract_pdf"),
    path("contracts/<int:contract_id>/send/", views.contract_send, name="contract_send"),
    path("contracts/<int:contract_id>/discard/", views.contract_discard, name="contract_discard"),
    path("s/<str:token>/documents/", documents.upload, name="sign_upload"),
]
