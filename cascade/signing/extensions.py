"""Hooks through which the owner of a document takes part in its signing page.

Apps append to these lists in their AppConfig.ready(); the signing app knows nothing else of them.
"""

from collections.abc import Callable

from django.http import HttpRequest

from .models import Signer

# Each returns why the signer cannot sign yet (e.g. a supporting document is missing), or None.
sign_blockers: list[Callable[[Signer], str | None]] = []

# Each returns an HTML fragment shown on the signer's page (e.g. the upload of required documents), or "".
signer_panels: list[Callable[[HttpRequest, Signer], str]] = []
