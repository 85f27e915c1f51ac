from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "cascade.payments"
    verbose_name = "Payments"

    def ready(self):
        from . import mandates  # noqa: F401  (connects the signature receiver)
