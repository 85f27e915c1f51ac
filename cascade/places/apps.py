from django.apps import AppConfig


class PlacesConfig(AppConfig):
    name = "cascade.places"
    verbose_name = "Lieux et ressources"
