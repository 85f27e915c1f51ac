from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "cascade.subscriptions"
    verbose_name = "Souscriptions"
