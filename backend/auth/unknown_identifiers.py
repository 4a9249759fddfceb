"""Labels for sign-in identifiers that match no user: a keyed hash, never the text typed."""

from __future__ import annotations

import hashlib
import hmac

from backend.auth.tokens import derive_key
from backend.auth.users import email_key


class UnknownIdentifiers:
    """Keyed hashes of unknown identifiers, so a password typed into the email box is never kept.

    The same identifier always gets the same label (repeated guesses stay visible in the audit log),
    and without the instance secret a label cannot be tested against a guess.
    """

    def __init__(self, instance_secret: bytes) -> None:
        self.key = derive_key(instance_secret, "unknown-identifier")

    def label(self, identifier: str) -> str:
        """`unknown:` and the first 16 hex digits of the identifier's keyed hash."""
        mac = hmac.new(self.key, email_key(identifier).encode(), hashlib.sha256).hexdigest()
        return f"unknown:{mac[:16]}"
