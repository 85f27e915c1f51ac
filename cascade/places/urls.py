from django.urls import path

from . import views

urlpatterns = [
    path("o/<int:org_id>/", views.dashboard, name="dashboard"),
    path("places/<int:place_id>/", views.place_detail, name="place"),
    path("resources/<int:resource_id>/", views.resource_detail, name="resource"),
    path("resources/<int:resource_id>/split/", views.resource_change, {"kind": "split"}, name="resource_split"),
    path("resources/<int:resource_id>/merge/", views.resource_change, {"kind": "merge"}, name="resource_merge"),
]
