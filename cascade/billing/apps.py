from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "cascade.billing"
    verbose_name = "Facturation"
