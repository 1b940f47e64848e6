"""Console accounts: users (argon2 password hashes, one role each), their sessions and the audit
log of control actions. New tables on the store's engine; nothing else reads them."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Boolean, DateTime, Engine, ForeignKey, Integer, String, Text, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from patrol.store.models import Base, aware, utcnow

ROLES = ("admin", "operator", "reviewer", "staff")
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 200
MAX_NAME_CHARS = 100  # as vision.flags.MAX_NAME_CHARS: a user name is who reviewed a flag
_HASHER = PasswordHasher()
# verified against when the user does not exist, so a wrong name costs as long as a wrong password
_DUMMY_HASH = _HASHER.hash(secrets.token_hex(16))


class AccountError(ValueError):
    """A user that cannot be added or changed, with the reason."""


class UserRow(Base):
    __tablename__ = "console_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(MAX_NAME_CHARS), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SessionRow(Base):
    """A signed-in browser: the cookie carries a random token, the table only its SHA-256."""

    __tablename__ = "console_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id", ondelete="CASCADE"))
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditRow(Base):
    __tablename__ = "console_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    user: Mapped[str] = mapped_column(String(MAX_NAME_CHARS))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(300), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(String(64), default="")


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    disabled: bool
    created_at: datetime


@dataclass(frozen=True)
class SignedIn:
    """A live session: its user and the CSRF token its pages must send back."""

    user: User
    csrf: str
    session_id: int


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    user: str
    action: str
    target: str
    detail: str
    address: str


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise AccountError("the user name is empty")
    if len(name) > MAX_NAME_CHARS:
        raise AccountError(f"the user name is longer than {MAX_NAME_CHARS} characters")
    if any((c.isspace() and c != " ") or not c.isprintable() for c in name):
        raise AccountError("the user name has control characters")
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError(f"the password needs at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise AccountError(f"the password is longer than {MAX_PASSWORD_CHARS} characters")
    return password


class Accounts:
    """Users, sessions and the audit log on ``engine``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        Base.metadata.create_all(
            engine, tables=[UserRow.__table__, SessionRow.__table__, AuditRow.__table__]
        )

    # -- users ------------------------------------------------------------------------------
    def add_user(self, name: str, role: str, password: str) -> User:
        name = check_name(name)
        if role not in ROLES:
            raise AccountError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
        row = UserRow(name=name, role=role, password_hash=_HASHER.hash(check_password(password)))
        with Session(self.engine) as s:
            s.add(row)
            try:
                s.commit()
            except IntegrityError:
                raise AccountError(f"a user named {name!r} already exists") from None
            return _user(row)

    def users(self) -> list[User]:
        with Session(self.engine) as s:
            return [_user(r) for r in s.scalars(select(UserRow).order_by(UserRow.name))]

    def get_user(self, name: str) -> User | None:
        with Session(self.engine) as s:
            row = s.scalars(select(UserRow).where(UserRow.name == name)).first()
            return _user(row) if row else None

    def update_user(
        self,
        name: str,
        *,
        role: str | None = None,
        password: str | None = None,
        disabled: bool | None = None,
    ) -> User:
        """Change a user's role, password or disabled flag; a change ends their sessions."""
        if role is not None and role not in ROLES:
            raise AccountError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
        with Session(self.engine) as s, s.begin():
            row = s.scalars(select(UserRow).where(UserRow.name == name)).first()
            if row is None:
                raise AccountError(f"no user named {name!r}")
            if role is not None:
                row.role = role
            if password is not None:
                row.password_hash = _HASHER.hash(check_password(password))
            if disabled is not None:
                row.disabled = disabled
            s.execute(delete(SessionRow).where(SessionRow.user_id == row.id))
            return _user(row)

    def change_password(self, user_id: int, password: str, keep_session: int) -> None:
        """A user's own new password: their other sessions end, this one stays."""
        with Session(self.engine) as s, s.begin():
            row = s.get(UserRow, user_id)
            if row is None:
                raise AccountError("no such user")
            row.password_hash = _HASHER.hash(check_password(password))
            s.execute(
                delete(SessionRow).where(
                    SessionRow.user_id == user_id, SessionRow.id != keep_session
                )
            )

    def remove_user(self, name: str) -> None:
        with Session(self.engine) as s, s.begin():
            row = s.scalars(select(UserRow).where(UserRow.name == name)).first()
            if row is None:
                raise AccountError(f"no user named {name!r}")
            s.execute(delete(SessionRow).where(SessionRow.user_id == row.id))
            s.delete(row)

    def authenticate(self, name: str, password: str) -> User | None:
        """The user if ``password`` is theirs and they are not disabled, else None."""
        with Session(self.engine) as s:
            row = s.scalars(select(UserRow).where(UserRow.name == name)).first()
            stored = row.password_hash if row else _DUMMY_HASH
            try:
                _HASHER.verify(stored, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return None
            if row is None or row.disabled:
                return None
            if _HASHER.check_needs_rehash(row.password_hash):
                row.password_hash = _HASHER.hash(password)
                s.commit()
            return _user(row)

    # -- sessions ---------------------------------------------------------------------------
    def open_session(self, user: User, lifetime: timedelta) -> tuple[str, SignedIn]:
        """A new session for ``user``: returns the cookie token and the session."""
        token = secrets.token_urlsafe(32)
        row = SessionRow(
            token_hash=_token_hash(token),
            user_id=user.id,
            csrf=secrets.token_urlsafe(32),
            expires_at=utcnow() + lifetime,
        )
        with Session(self.engine) as s, s.begin():
            s.add(row)
            s.flush()
            return token, SignedIn(user, row.csrf, row.id)

    def session(self, token: str | None) -> SignedIn | None:
        """The live session behind a cookie token, or None (unknown, expired, user disabled)."""
        if not token or len(token) > 200:
            return None
        with Session(self.engine) as s:
            found = s.execute(
                select(SessionRow, UserRow)
                .join(UserRow, UserRow.id == SessionRow.user_id)
                .where(SessionRow.token_hash == _token_hash(token))
            ).first()
            if found is None:
                return None
            session, user = found
            if aware(session.expires_at) <= utcnow() or user.disabled:
                return None
            return SignedIn(_user(user), session.csrf, session.id)

    def close_session(self, token: str) -> None:
        with Session(self.engine) as s, s.begin():
            s.execute(delete(SessionRow).where(SessionRow.token_hash == _token_hash(token)))

    def purge_expired(self) -> int:
        with Session(self.engine) as s, s.begin():
            result = s.execute(delete(SessionRow).where(SessionRow.expires_at <= utcnow()))
            return result.rowcount or 0

    # -- audit ------------------------------------------------------------------------------
    def audit(
        self, user: str, action: str, target: str = "", detail: str = "", address: str = ""
    ) -> None:
        with Session(self.engine) as s, s.begin():
            s.add(
                AuditRow(
                    user=user, action=action, target=target[:300], detail=detail,
                    address=address[:64], at=utcnow(),
                )
            )  # fmt: skip

    def audit_log(
        self,
        limit: int = 200,
        offset: int = 0,
        user: str | None = None,
        action: str | None = None,
    ) -> list[AuditEntry]:
        query = select(AuditRow).order_by(AuditRow.id.desc())
        if user:
            query = query.where(AuditRow.user == user)
        if action:
            query = query.where(AuditRow.action == action)
        with Session(self.engine) as s:
            rows = s.scalars(query.limit(limit).offset(offset))
            return [
                AuditEntry(r.id, aware(r.at), r.user, r.action, r.target, r.detail, r.address)
                for r in rows
            ]


def _user(row: UserRow) -> User:
    return User(row.id, row.name, row.role, bool(row.disabled), aware(row.created_at))
