from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "cascade.accounts"
    verbose_name = "Comptes et organisations"
