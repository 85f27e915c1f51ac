from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _create_authority(sender, using="default", **kwargs):
    """Cascade's certificate authority is created at install, by the first `cascade migrate`."""
    from .keys import authority

    if using == "default":
        authority()


class SigningConfig(AppConfig):
    name = "cascade.signing"
    verbose_name = "Signature électronique"

    def ready(self):
        post_migrate.connect(_create_authority, sender=self, dispatch_uid="signing.create_authority")
