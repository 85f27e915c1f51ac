from django.urls import path

from . import views

urlpatterns = [
    path("o/<int:org_id>/import/", views.upload, name="import_workbook"),
    path("o/<int:org_id>/import/<str:token>/", views.review, name="import_review"),
]
