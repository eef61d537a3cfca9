"""Users and sign-in: passwords with lockout, browser sessions, API tokens, and debtors'
phone + one-time code. Never commits; failures that must be remembered (a failed password,
a wrong code) are returned, not raised, so the request still commits them."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.orm import Session

from debtflow.auth import repository
from debtflow.auth.notifier import Notifier
from debtflow.auth.passwords import MIN_LENGTH, hash_password, needs_rehash, verify_password
from debtflow.core.compliance.personal_data import PersonalDataError, normalise_phone
from debtflow.core.errors import Conflict, DomainError, InvalidInput, NotFound
from debtflow.db import utcnow
from debtflow.models import ApiToken, DebtorOneTimeCode, Role, User, WebSession
from debtflow.models.debtor import personal_data_index

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=12)
API_TOKEN_LIFETIME = timedelta(hours=12)
CODE_LIFETIME = timedelta(minutes=10)
CODE_MIN_INTERVAL = timedelta(seconds=60)
CODES_PER_HOUR = 5
CODE_MAX_ATTEMPTS = 5

#: roles that work cases and so must be linked to a ``collector`` row
COLLECTOR_ROLES = frozenset(
    {Role.ONLINE_AGENT, Role.FIELD_AGENT, Role.PART_TIME_COLLECTOR, Role.PARTNER}
)
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,79}")


class NotAuthenticated(DomainError):
    status_code = 401
    code = "not_authenticated"


class InvalidUser(InvalidInput):
    code = "invalid_user"


class UserNotFound(NotFound):
    code = "user_not_found"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_user(
    session: Session,
    *,
    username: str,
    role: Role,
    password: str | None = None,
    display_name: str | None = None,
    collector_code: str | None = None,
    collector_id: int | None = None,
    debtor_id: int | None = None,
    phone: str | None = None,
) -> User:
    username, collector_id, phone = _vetted_user(
        session,
        username=username,
        role=role,
        collector_code=collector_code,
        collector_id=collector_id,
        debtor_id=debtor_id,
        phone=phone,
    )
    if role == Role.DEBTOR:
        if password:
            raise InvalidUser("debtors sign in with a one-time code, not a password")
    else:
        _check_password(password)
    user = User(
        username=username,
        display_name=display_name or username,
        role=role,
        password_hash=hash_password(password) if password else None,
        collector_id=collector_id,
        debtor_id=debtor_id,
        phone=phone,
    )
    repository.add(session, user)
    session.flush()
    return user


def check_new_user(
    session: Session,
    *,
    username: str,
    role: Role,
    collector_code: str | None = None,
    collector_id: int | None = None,
    debtor_id: int | None = None,
    phone: str | None = None,
) -> None:
    """Refuse, as :func:`create_user` would, a user that cannot be created — everything but
    the password, so a command can say so before asking for one."""
    _vetted_user(
        session,
        username=username,
        role=role,
        collector_code=collector_code,
        collector_id=collector_id,
        debtor_id=debtor_id,
        phone=phone,
    )


def _vetted_user(
    session: Session,
    *,
    username: str,
    role: Role,
    collector_code: str | None,
    collector_id: int | None,
    debtor_id: int | None,
    phone: str | None,
) -> tuple[str, int | None, str | None]:
    """The checked username, collector id and phone of a new user (password aside)."""
    username = username.strip().lower()
    if not USERNAME.fullmatch(username):
        raise InvalidUser(
            "a username is 2-80 characters: lower-case letters, digits, '.', '_' or '-'"
        )
    if repository.by_username(session, username=username) is not None:
        raise Conflict(f"user {username!r} already exists")
    if collector_code is not None:
        collector = repository.collector_by_code(session, code=collector_code)
        if collector is None:
            raise InvalidUser(f"no collector with code {collector_code!r}")
        collector_id = collector.id
    elif collector_id is not None and not repository.collector_exists(
        session, collector_id=collector_id
    ):
        raise InvalidUser(f"no collector with id {collector_id}")
    if role in COLLECTOR_ROLES and collector_id is None:
        raise InvalidUser(f"a {role.value} must be linked to a collector (--collector CODE)")
    if role not in COLLECTOR_ROLES and collector_id is not None:
        raise InvalidUser(f"a {role.value} is not linked to a collector")
    if role == Role.DEBTOR:
        if debtor_id is None or not phone:
            raise InvalidUser("a debtor user needs the debtor's id and a phone number to sign in")
        if not repository.debtor_exists(session, debtor_id=debtor_id):
            raise InvalidUser(
                f"no debtor with id {debtor_id}; a debtor user signs in for a debtor on file"
            )
        phone = _phone(phone)
        if repository.by_phone(session, phone=phone) is not None:
            raise Conflict(f"phone {phone} already signs in another user")
    elif debtor_id is not None or phone:
        raise InvalidUser("only debtor users sign in by phone")
    return username, collector_id, phone


def _phone(phone: str) -> str:
    try:
        digits = normalise_phone(phone)
    except PersonalDataError as exc:
        raise InvalidUser(str(exc)) from None
    if not 5 <= len(digits) <= 15:
        raise InvalidUser(f"{phone!r} is not a phone number")
    return digits


def _check_password(password: str | None) -> None:
    if password is None or len(password) < MIN_LENGTH:
        raise InvalidUser(f"a password needs at least {MIN_LENGTH} characters")


def get_user(session: Session, *, username: str) -> User:
    user = repository.by_username(session, username=username.strip().lower())
    if user is None:
        raise UserNotFound(f"user {username!r} does not exist")
    return user


def list_users(session: Session) -> Sequence[User]:
    return repository.all_users(session)


def reset_password(session: Session, *, username: str, password: str) -> User:
    """Set a new password; also lifts a lockout."""
    user = get_user(session, username=username)
    if user.role == Role.DEBTOR:
        raise InvalidUser("debtors sign in with a one-time code, not a password")
    _check_password(password)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    session.flush()
    return user


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt: ``user`` on success, otherwise ``failure``
    ('invalid' or 'locked') and, when locked, until when."""

    user: User | None
    failure: str | None = None
    locked_until: datetime | None = None


def sign_in(
    session: Session, *, username: str, password: str, now: datetime | None = None
) -> SignIn:
    """Check a staff password. After ``MAX_FAILED_LOGINS`` failures in a row the user is
    locked out for ``LOCKOUT``, even with the right password. Every attempt costs one
    password check — an unknown username, a locked user and a wrong password alike — so the
    time of the answer does not tell them apart."""
    now = now or utcnow()
    user = repository.lock_by_username(session, username=username.strip().lower())
    if user is None or user.role == Role.DEBTOR or not user.active:
        verify_password(None, password)  # same cost as a real check
        return SignIn(None, "invalid")
    if user.locked_until is not None and user.locked_until > now:
        verify_password(user.password_hash, password)  # same cost; refused whatever it says
        return SignIn(None, "locked", user.locked_until)
    if not verify_password(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
            session.flush()
            return SignIn(None, "locked", user.locked_until)
        session.flush()
        return SignIn(None, "invalid")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session.flush()
    return SignIn(user)


def start_session(
    session: Session, *, user: User, now: datetime | None = None
) -> tuple[str, WebSession]:
    """A new browser session; returns the cookie value (shown once, stored hashed)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    row = WebSession(
        token_hash=digest(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + SESSION_LIFETIME,
    )
    repository.add(session, row)
    session.flush()
    return token, row


def user_for_session(
    session: Session, *, token: str, now: datetime | None = None
) -> tuple[User, WebSession] | None:
    found = repository.live_session_and_user(session, token_hash=digest(token), now=now or utcnow())
    if found is None:
        return None
    row, user = found
    return user, row


def end_session(session: Session, *, token: str, now: datetime | None = None) -> None:
    now = now or utcnow()
    row = repository.live_session(session, token_hash=digest(token), now=now)
    if row is not None:
        row.ended_at = now
        session.flush()


def issue_api_token(session: Session, *, user: User, now: datetime | None = None) -> str:
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    repository.add(
        session,
        ApiToken(
            token_hash=digest(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + API_TOKEN_LIFETIME,
        ),
    )
    session.flush()
    return token


def user_for_api_token(session: Session, *, token: str, now: datetime | None = None) -> User | None:
    return repository.live_token_user(session, token_hash=digest(token), now=now or utcnow())


class CodeRequest(StrEnum):
    """What became of a request for a one-time code. The caller answers the same for all
    three, so the answer tells nobody whether a phone number is a debtor's."""

    SENT = "sent"
    LIMITED = "limited"  # one a minute, CODES_PER_HOUR an hour per phone
    NOT_REGISTERED = "not_registered"


def request_debtor_code(
    session: Session, *, phone: str, notifier: Notifier, now: datetime | None = None
) -> CodeRequest:
    """Send a one-time code to a debtor user's phone. At most one code a minute and
    ``CODES_PER_HOUR`` an hour per phone; beyond that, and for an unknown phone, nothing is
    sent and nothing is said, so the form does not reveal who is a debtor."""
    now = now or utcnow()
    phone = _phone(phone)
    user = repository.by_phone(session, phone=phone, lock=True)  # one request at a time
    if user is None or user.role != Role.DEBTOR or not user.active:
        return CodeRequest.NOT_REGISTERED
    if repository.codes_sent_since(session, phone=phone, since=now - CODE_MIN_INTERVAL):
        return CodeRequest.LIMITED
    if repository.codes_sent_since(session, phone=phone, since=now - timedelta(hours=1)) >= (
        CODES_PER_HOUR
    ):
        return CodeRequest.LIMITED
    code = f"{secrets.randbelow(1_000_000):06d}"
    row = DebtorOneTimeCode(
        user_id=user.id,
        phone_index=personal_data_index(phone),
        code_hash=digest(f"{phone}:{code}"),
        sent_at=now,
        expires_at=now + CODE_LIFETIME,
    )
    repository.add(session, row)
    session.flush()
    notifier.send_code(phone=phone, code=code, expires_at=row.expires_at)
    return CodeRequest.SENT


def verify_debtor_code(
    session: Session, *, phone: str, code: str, now: datetime | None = None
) -> User | None:
    """The debtor user when ``code`` is the latest unexpired, unused code for ``phone``;
    each code may be tried ``CODE_MAX_ATTEMPTS`` times."""
    now = now or utcnow()
    try:
        phone = _phone(phone)
    except InvalidUser:
        return None
    row = repository.latest_open_code(session, phone=phone, now=now)
    if row is None or row.attempts >= CODE_MAX_ATTEMPTS:
        return None
    row.attempts += 1
    if not hmac.compare_digest(row.code_hash, digest(f"{phone}:{code.strip()}")):
        session.flush()
        return None
    row.used_at = now
    user = repository.by_id(session, user_id=row.user_id)
    if user is None or not user.active:
        return None
    user.last_login_at = now
    session.flush()
    return user
