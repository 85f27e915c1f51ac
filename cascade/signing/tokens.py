"""Personal signing links and one-time codes, keyed by SECRET_KEY.

A link token is `<signer pk>-<nonce>-<mac>`: only the nonce is stored, so a database copy alone
cannot forge or reuse a link, a reminder can repeat the same link, and a new nonce revokes it.
A one-time code is stored as its HMAC only.
"""

import hashlib
import hmac
import secrets

from django.conf import settings

from cascade.params import parse_id


def _mac(message: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), message.encode(), hashlib.sha256).hexdigest()


def new_nonce() -> str:
    return secrets.token_hex(16)


def link_token(signer_pk: int, nonce: str) -> str:
    return f"{signer_pk}-{nonce}-{_mac(f'signer-link:{signer_pk}:{nonce}')[:32]}"


def parse_link_token(token: str) -> tuple[int, str] | None:
    """(signer pk, nonce) of a well-formed, authentic token; None otherwise."""
    parts = token.split("-")
    if len(parts) != 3 or parse_id(parts[0]) is None or not token.isascii():
        return None
    pk, nonce = parse_id(parts[0]), parts[1]
    if not hmac.compare_digest(link_token(pk, nonce), token):
        return None
    return pk, nonce


def new_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def code_hash(signer_pk: int, code: str) -> str:
    return _mac(f"signer-code:{signer_pk}:{code.strip()}")


def code_matches(signer_pk: int, code: str, stored: str) -> bool:
    return bool(stored) and hmac.compare_digest(code_hash(signer_pk, code), stored)
