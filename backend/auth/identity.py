"""The identity and access services of one backend, wired to one directory, audit trail and throttle."""

from __future__ import annotations

from dataclasses import dataclass

from backend.auth.api_keys import ApiKeyService
from backend.auth.first_admin import FirstAdminSetup, SetupToken
from backend.auth.passwords import PasswordHasher
from backend.auth.principals import PrincipalDirectory
from backend.auth.roles import RoleService
from backend.auth.sessions import SessionService
from backend.auth.throttle import LoginThrottle
from backend.auth.tokens import AccessTokens, DeviceTokens, derive_key
from backend.auth.unknown_identifiers import UnknownIdentifiers
from backend.auth.users import UserService
from backend.datadir import DataDir
from backend.db.engine import Database
from backend.db.paging import CursorCodec
from backend.observability.audit import AuditTrail


@dataclass(frozen=True)
class Identity:
    """Everything identity and access is made of."""

    hasher: PasswordHasher
    tokens: AccessTokens
    audit: AuditTrail
    directory: PrincipalDirectory
    users: UserService
    sessions: SessionService
    api_keys: ApiKeyService
    roles: RoleService
    setup: FirstAdminSetup

    @classmethod
    def open(cls, db: Database, secret: bytes, paths: DataDir, *, setup_over_http: bool = True) -> Identity:
        """The services over db, keyed by the instance secret (setup_over_http: embedded mode's /setup)."""
        hasher = PasswordHasher()
        tokens = AccessTokens(secret)
        cursors = CursorCodec(derive_key(secret, "cursor"))
        audit = AuditTrail(db, derive_key(secret, "audit"), paths.audit_anchor, cursors)
        directory = PrincipalDirectory(db)
        throttle = LoginThrottle(derive_key(secret, "sign-in-throttle"))
        unknown = UnknownIdentifiers(secret)
        setup_token = SetupToken(paths.setup_token)
        users = UserService(db, hasher, audit, directory, cursors, on_created=setup_token.withdraw)
        return cls(
            hasher=hasher,
            tokens=tokens,
            audit=audit,
            directory=directory,
            users=users,
            sessions=SessionService(db, hasher, tokens, audit, directory, throttle, DeviceTokens(secret), unknown),
            api_keys=ApiKeyService(db, audit, directory, cursors),
            roles=RoleService(db, audit, directory, cursors),
            setup=FirstAdminSetup(users, audit, setup_token, unknown, over_http=setup_over_http),
        )
