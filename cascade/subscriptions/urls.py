from django.urls import path

from . import views

urlpatterns = [
    path("o/<int:org_id>/occupants/", views.occupants, name="occupants"),
    path("occupants/<int:org_id>/", views.occupant_detail, name="occupant"),
]
