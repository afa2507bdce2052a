"""Access tokens: the tenants file, one-token files, the Bearer scheme, and start-up refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from laughter_server.api.interceptors import bearer_credential
from laughter_server.api.tokens import (
    DEFAULT_TENANT,
    TenantToken,
    load_tokens,
    loose_permissions,
    parse_tenants_file,
)
from laughter_server.config import load_settings
from laughter_server.errors import InvalidOptionError


class TestTenantsFile:
    """``tenant_name:token`` lines with comments and blank lines."""

    def test_parses_tenants(self) -> None:
        """Comments, blank lines and spaces around the colon are fine; one tenant may hold two tokens."""
        text = "# tenants\n\nalpha:tok-a\n  beta : tok:b  \nalpha:tok-a2\n"
        assert parse_tenants_file(text, "tenants.txt") == (
            TenantToken("alpha", "tok-a"),
            TenantToken("beta", "tok:b"),
            TenantToken("alpha", "tok-a2"),
        )

    @pytest.mark.parametrize(
        ("text", "words"),
        [
            ("alpha:Zq9a\nZq9-alone\n", "line 2: expected 'tenant_name:token'"),
            ("alpha:\n", "line 1: tenant 'alpha' has an empty token"),
            (":Zq9b\n", "line 1: the tenant name must be"),
            ("alpha:Zq9c\nbeta:Zq9c\n", "line 2: tenant 'beta' reuses the token of tenant 'alpha' (line 1)"),
            ("alpha:Zq9 d\n", "spaces"),
            ("# only comments\n\n", "holds no 'tenant_name:token' line"),
        ],
    )
    def test_refused_with_the_line(self, text: str, words: str) -> None:
        """Each malformed file is refused naming the line and the fix, never quoting a token."""
        with pytest.raises(InvalidOptionError) as caught:
            parse_tenants_file(text, "tenants.txt")
        assert words in caught.value.message
        assert caught.value.field == "auth_tenants_file"
        assert "Zq9" not in caught.value.message

    def test_token_not_in_repr(self) -> None:
        """A TenantToken's repr names the tenant only."""
        assert "s3cr3t" not in repr(TenantToken("alpha", "s3cr3t"))


class TestLoadTokens:
    """At most one source; one-token files are stripped; permissions wider than 0600 are reported."""

    def test_sources(self, tmp_path: Path) -> None:
        """A token, a one-token file and a tenants file each give their tokens; none means no auth."""
        single = tmp_path / "token"
        single.write_text("abc123\n")
        tenants = tmp_path / "tenants"
        tenants.write_text("alpha:a1\nbeta:b1\n")
        assert load_tokens("xyz", "", "") == (TenantToken(DEFAULT_TENANT, "xyz"),)
        assert load_tokens("", str(single), "") == (TenantToken(DEFAULT_TENANT, "abc123"),)
        assert [t.tenant for t in load_tokens("", "", str(tenants))] == ["alpha", "beta"]
        assert load_tokens("", "", "") == ()

    def test_refusals(self, tmp_path: Path) -> None:
        """Two sources, an unreadable path and an empty token file are refused."""
        empty = tmp_path / "empty"
        empty.write_text("\n")
        with pytest.raises(InvalidOptionError, match="set only one of"):
            load_tokens("xyz", str(empty), "")
        with pytest.raises(InvalidOptionError, match="cannot read"):
            load_tokens("", str(tmp_path / "missing"), "")
        with pytest.raises(InvalidOptionError, match="the token is empty"):
            load_tokens("", str(empty), "")

    def test_permissions(self, tmp_path: Path) -> None:
        """0600 is quiet; 0644 is reported."""
        path = tmp_path / "tenants"
        path.write_text("alpha:a\n")
        path.chmod(0o600)
        assert loose_permissions(str(path)) is None
        path.chmod(0o644)
        assert loose_permissions(str(path)) == "0o644"

    def test_settings_refuse_a_malformed_file_at_start_up(self, tmp_path: Path) -> None:
        """load_settings (the server's start-up) fails on a bad tenants file from LAUGHTER_AUTH_TENANTS_FILE."""
        path = tmp_path / "tenants"
        path.write_text("alpha:same\nbeta:same\n")
        with pytest.raises(InvalidOptionError, match="reuses the token"):
            load_settings([], {"LAUGHTER_AUTH_TENANTS_FILE": str(path)})
        single = tmp_path / "token"
        single.write_text("tok-1\n")
        settings = load_settings(["--auth-token-file", str(single)], {})
        assert settings.auth_token_file == str(single)


class TestBearer:
    """The Bearer scheme is matched without regard to case (RFC 7235)."""

    @pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
    def test_scheme_case(self, scheme: str) -> None:
        assert bearer_credential(f"{scheme} tok-1") == b"tok-1"

    @pytest.mark.parametrize("value", ["tok-1", "Basic tok-1", "Bearer ", "Bearertok-1"])
    def test_not_bearer(self, value: str) -> None:
        assert bearer_credential(value) is None
