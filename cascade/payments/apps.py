from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "cascade.payments"
    verbose_name = "Payments"
