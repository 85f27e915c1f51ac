from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "cascade.ledger"
    verbose_name = "Ledger"
