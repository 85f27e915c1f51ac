from django.urls import path

from . import views

urlpatterns = [
    path("o/<int:org_id>/occupants/", views.occupants, name="occupants"),
    path("occupants/<int:org_id>/", views.occupant_detail, name="occupant"),
    path("o/<int:org_id>/subscriptions/new/", views.new_subscription, name="new_subscription"),
    path("o/<int:org_id>/required-documents/", views.required_documents, name="required_documents"),
    path("subscriptions/<int:subscription_id>/", views.subscription_detail, name="subscription"),
    path("subscriptions/<int:subscription_id>/amend/", views.amend_subscription, name="amend_subscription"),
    path("subscriptions/<int:subscription_id>/cancel/", views.cancel_subscription, name="cancel_subscription"),
    path("documents/<int:document_id>/", views.document_download, name="document"),
    path("documents/<int:document_id>/review/", views.document_review, name="document_review"),
    path("subscription-templates/<int:template_id>/", views.subscription_template, name="subscription_template"),
    path("subscription-templates/<int:template_id>/terms/", views.subscription_template_terms,
         name="subscription_template_terms"),
]
