"""Access tokens and the tenants they name: from ``--auth-token``, ``--auth-token-file`` (one token) or
``--auth-tenants-file`` (``tenant_name:token`` lines). Problems are refused at start-up, naming the setting,
the line and the fix, and never quoting a token."""

from __future__ import annotations

import dataclasses
import pathlib
import re
import stat

from laughter_server.errors import InvalidOptionError

DEFAULT_TENANT = "default"
"""The tenant of a token given alone (``--auth-token`` or ``--auth-token-file``)."""
TENANT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
TOKEN_CHARS = re.compile(r"[\x21-\x7e]+")
"""Visible ASCII: what fits in an ``authorization`` header after ``Bearer``."""


@dataclasses.dataclass(frozen=True)
class TenantToken:
    """One accepted token and the tenant it names."""

    tenant: str
    token: str = dataclasses.field(repr=False)


def parse_tenants_file(text: str, source: str) -> tuple[TenantToken, ...]:
    """``tenant_name:token`` lines; ``#`` comments and blank lines are skipped."""
    found: list[TenantToken] = []
    first_line: dict[str, tuple[int, str]] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{source} line {number}"
        tenant, colon, token = (part.strip() for part in line.partition(":"))
        if not colon:
            raise InvalidOptionError(
                "auth_tenants_file", f"{where}: expected 'tenant_name:token' (a colon after the tenant name)"
            )
        if not TENANT_NAME.fullmatch(tenant):
            raise InvalidOptionError(
                "auth_tenants_file",
                f"{where}: the tenant name must be 1-64 characters of A-Z, a-z, 0-9, '_', '.' and '-', "
                "starting with a letter or digit",
            )
        if not token:
            raise InvalidOptionError("auth_tenants_file", f"{where}: tenant {tenant!r} has an empty token")
        if not TOKEN_CHARS.fullmatch(token):
            raise InvalidOptionError(
                "auth_tenants_file",
                f"{where}: the token of tenant {tenant!r} holds spaces or characters outside visible ASCII",
            )
        if token in first_line:
            other_line, other_tenant = first_line[token]
            raise InvalidOptionError(
                "auth_tenants_file",
                f"{where}: tenant {tenant!r} reuses the token of tenant {other_tenant!r} (line {other_line}); "
                "give every line its own token",
            )
        first_line[token] = (number, tenant)
        found.append(TenantToken(tenant, token))
    if not found:
        raise InvalidOptionError("auth_tenants_file", f"{source} holds no 'tenant_name:token' line")
    return tuple(found)


def _read(path_text: str, setting: str) -> str:
    path = pathlib.Path(path_text)
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise InvalidOptionError(
            setting, f"{setting}: cannot read {path} as UTF-8 text; check the path and its permissions"
        ) from None


def load_tokens(auth_token: str, auth_token_file: str, auth_tenants_file: str) -> tuple[TenantToken, ...]:
    """The accepted tokens from at most one of the three settings; empty when none is set (no auth)."""
    given = [
        name
        for name, value in (
            ("auth_token", auth_token),
            ("auth_token_file", auth_token_file),
            ("auth_tenants_file", auth_tenants_file),
        )
        if value
    ]
    if len(given) > 1:
        raise InvalidOptionError(
            given[1],
            f"set only one of --auth-token, --auth-token-file and --auth-tenants-file (got {', '.join(given)})",
        )
    if auth_token:
        return (TenantToken(DEFAULT_TENANT, _single(auth_token, "auth_token")),)
    if auth_token_file:
        return (
            TenantToken(
                DEFAULT_TENANT, _single(_read(auth_token_file, "auth_token_file"), "auth_token_file")
            ),
        )
    if auth_tenants_file:
        return parse_tenants_file(_read(auth_tenants_file, "auth_tenants_file"), auth_tenants_file)
    return ()


def _single(token: str, setting: str) -> str:
    token = token.strip()
    if not token:
        raise InvalidOptionError(setting, f"{setting}: the token is empty")
    if not TOKEN_CHARS.fullmatch(token):
        raise InvalidOptionError(
            setting, f"{setting}: the token holds spaces or characters outside visible ASCII"
        )
    return token


def loose_permissions(path_text: str) -> str | None:
    """The file's mode as octal text when group or others may read or write it (wider than 0600)."""
    if not path_text:
        return None
    try:
        mode = stat.S_IMODE(pathlib.Path(path_text).stat().st_mode)
    except OSError:
        return None
    return oct(mode) if mode & 0o077 else None
