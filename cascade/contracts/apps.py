from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "cascade.contracts"
    verbose_name = "Contrats"

    def ready(self):
        from cascade.signing import extensions

        from . import actions, documents  # noqa: F401  (connects the signal receiver)

        extensions.sign_blockers.append(documents.missing_before_signing)
        extensions.signer_panels.append(documents.signer_panel)
