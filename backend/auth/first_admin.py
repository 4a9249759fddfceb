"""The first administrator of a new instance, and the one-time setup token that guards creating it.

As Jupyter does: while no user exists, a random token sits in an owner-only file in the data directory;
creating the first administrator over HTTP needs it, so only who can read the data directory (its owner,
the console it runs) can claim a fresh instance, not any other user of the machine.
"""

from __future__ import annotations

import hmac
from pathlib import Path

from backend.auth.throttle import is_loopback
from backend.auth.tokens import new_opaque_token
from backend.auth.unknown_identifiers import UnknownIdentifiers
from backend.auth.users import UserService, UserView
from backend.datadir import write_private_file
from backend.errors import Conflict, Forbidden
from backend.observability.audit import Actor, AuditEntry, AuditTrail

SETUP_TOKEN_HEADER = "X-Setup-Token"


class SetupToken:
    """The setup token's file: written while no user exists, deleted once one does."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def issue(self) -> Path:
        """Write a fresh token, owner-only; the file's path (never the token) is what gets shown."""
        write_private_file(self.path, new_opaque_token().encode())
        return self.path

    def withdraw(self) -> None:
        """Delete the token: a user exists, so there is nothing left to set up."""
        self.path.unlink(missing_ok=True)

    def matches(self, presented: str | None) -> bool:
        """Whether presented is the token, compared in constant time; never while no token exists."""
        try:
            expected = self.path.read_bytes().strip()
        except OSError:
            return False
        return bool(expected and presented) and hmac.compare_digest(expected, (presented or "").encode())


class FirstAdminSetup:
    """Creates the first administrator: only from this machine, only with the setup token, only once."""

    def __init__(
        self,
        users: UserService,
        audit: AuditTrail,
        token: SetupToken,
        unknown: UnknownIdentifiers,
        *,
        over_http: bool = True,
    ) -> None:
        self.users = users
        self.audit = audit
        self.token = token
        self.unknown = unknown
        # Server mode: behind a proxy every caller may look local, and N instances share one database; the
        # first administrator is made with the CLI on the database (`outpost user create --role admin`).
        self.over_http = over_http

    async def prepare(self) -> Path | None:
        """At start: issue the setup token while no user exists (its file), or make sure none is left."""
        if self.over_http and await self.users.count() == 0:
            return self.token.issue()
        self.token.withdraw()
        return None

    async def _refuse(self, email: str, client: str, reason: str) -> Forbidden:
        # The email of a refused claim is nobody's yet, and may be anything typed: keep its keyed hash only.
        actor = Actor("anonymous", None, self.unknown.label(email), client)
        await self.audit.record(AuditEntry("setup.first_admin", actor, "denied", details={"reason": reason}))
        return Forbidden(reason[0].upper() + reason[1:] + ".")

    async def create(
        self, *, client: str, setup_token: str | None, email: str, display_name: str, password: str
    ) -> UserView:
        """The first user, with the admin role; the setup token is deleted with its creation."""
        if not self.over_http:
            reason = (
                "in server mode the first administrator is made with the command line, on the server's database: "
                "outpost user create --role admin --email EMAIL (with OUTPOST_DATABASE_URL set)"
            )
            raise await self._refuse(email, client, reason)
        if not is_loopback(client):
            reason = "the first administrator can only be created from the machine the backend runs on"
            raise await self._refuse(email, client, reason)
        if await self.users.count():
            raise Conflict("An administrator already exists; sign in instead.")
        if not self.token.matches(setup_token):
            reason = (
                f"creating the first administrator needs the setup token: send the contents of "
                f"{self.token.path.name} in the data directory as the {SETUP_TOKEN_HEADER} header"
            )
            raise await self._refuse(email, client, reason)
        return await self.users.create(
            Actor("anonymous", None, email, client),
            email=email,
            display_name=display_name,
            password=password,
            roles=["admin"],
            first_admin=True,
        )
