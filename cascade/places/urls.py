from django.urls import path

from . import views

urlpatterns = [
    path("o/<int:org_id>/", views.dashboard, name="dashboard"),
    path("places/<int:place_id>/", views.place_detail, name="place"),
    path("resources/<int:resource_id>/", views.resource_detail, name="resource"),
    path("resources/<int:resource_id>/split/", views.resource_change, {"kind": "split"}, name="resource_split"),
    path("resources/<int:resource_id>/merge/", views.resource_change, {"kind": "merge"}, name="resource_merge"),
    path("resources/<int:resource_id>/attributes/", views.resource_attributes, name="resource_attributes"),
    path("o/<int:org_id>/resource-types/", views.resource_types, name="resource_types"),
    path("resource-types/<int:type_id>/", views.resource_type, name="resource_type"),
]
