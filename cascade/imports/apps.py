from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "cascade.imports"
    verbose_name = "Imports"
