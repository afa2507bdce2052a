"""Where a channel connects: one server, a list of servers, or a DNS name with several records.

Balancing is gRPC's own: several servers get the ``round_robin`` policy with client-side health checking
(``healthCheckConfig``) in the channel's service config, so each call goes to the next connected server whose
``grpc.health.v1`` status is SERVING, and a server that reports NOT_SERVING, or whose connection breaks, gets
no calls until it is back. gRPC watches each server's health with the ``Health/Watch`` stream of the
server's health service (the laughter server has it).

A list of ``host:port`` entries becomes a static ``ipv4:`` (or ``ipv6:``) target: IP literals as given, host
names resolved once, when the client is created. A ``dns:///name:port`` target is resolved by gRPC itself,
which asks again when a connection drops: use it for a tier whose members change.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import logging
import socket
from collections.abc import Sequence

from laughter._exceptions import ConfigurationError

__all__ = ["ChannelTarget", "channel_target", "split_addresses"]

logger = logging.getLogger("laughter")

HEALTH_SERVICE_NAME = ""
"""The server-wide health status (the laughter server sets it and its service's status together)."""
SCHEMES = ("dns:", "ipv4:", "ipv6:", "unix:", "unix-abstract:", "vsock:")
BALANCED_SCHEMES = ("dns:", "ipv4:", "ipv6:")
SERVICE_CONFIG = json.dumps(
    {
        "loadBalancingConfig": [{"round_robin": {}}],
        "healthCheckConfig": {"serviceName": HEALTH_SERVICE_NAME},
    },
    separators=(",", ":"),
)
"""Round robin over the servers that are connected and SERVING."""


@dataclasses.dataclass(frozen=True)
class ChannelTarget:
    """A channel's target and the options that go with it."""

    target: str
    """The string given to ``grpc.insecure_channel`` / ``grpc.secure_channel``."""
    balanced: bool
    """True when calls are spread over several servers (``round_robin`` + health checks)."""
    authority: str | None = None
    """``:authority`` (and the name TLS checks) when the target holds resolved addresses, not the names."""

    def channel_options(self) -> list[tuple[str, str | int]]:
        """The channel arguments for the target: the service config when balanced, the authority."""
        options: list[tuple[str, str | int]] = []
        if self.balanced:
            options.append(("grpc.service_config", SERVICE_CONFIG))
            # The service config above is the one in force: none is taken from DNS TXT records.
            options.append(("grpc.service_config_disable_resolution", 1))
        if self.authority:
            options.append(("grpc.default_authority", self.authority))
        return options


def split_addresses(address: str | Sequence[str]) -> tuple[str, ...]:
    """The entries of ``"a:1,b:2"`` or ``["a:1", "b:2"]``, stripped; raises ``ValueError`` when one is not
    ``host:port`` or a scheme target (``dns:///name:port``) is not alone."""
    parts = address.split(",") if isinstance(address, str) else list(address)
    entries = tuple(part.strip() for part in parts)
    if not entries or any(not entry for entry in entries):
        raise ValueError(f"address must be host:port or a comma-separated list of them, got {address!r}")
    for entry in entries:
        if entry.startswith(SCHEMES):
            if len(entries) > 1:
                raise ValueError(
                    f"a target with a scheme ({entry!r}) must be the only address; list host:port entries "
                    "without one, or give one dns:///name:port whose records name the servers"
                )
            continue
        host, port = _host_port(entry)
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"address must be host:port with a port in 1-65535, got {entry!r}")
    return entries


def _host_port(entry: str) -> tuple[str, str]:
    """``host`` and ``port`` of ``host:port`` or ``[v6]:port``."""
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        return host, rest.removeprefix(":") if rest.startswith(":") else ""
    host, _, port = entry.rpartition(":")
    return host, port


def _literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _resolve(host: str, port: int) -> tuple[list[str], list[str]]:
    """IPv4 and IPv6 addresses of ``host`` (each once, in the resolver's order)."""
    literal = _literal(host)
    if literal is not None:
        return ([str(literal)], []) if literal.version == 4 else ([], [str(literal)])
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    v4 = list(dict.fromkeys(str(info[4][0]) for info in infos if info[0] == socket.AF_INET))
    v6 = list(dict.fromkeys(str(info[4][0]) for info in infos if info[0] == socket.AF_INET6))
    return v4, v6


def channel_target(address: str) -> ChannelTarget:
    """The channel target of ``address`` (one entry, a comma-separated list, or a scheme target).

    One ``host:port`` stays as it is (gRPC's default: the first address that connects). A list is resolved
    here; a name that does not resolve is skipped with a warning while another one does, and
    :class:`~laughter.ConfigurationError` is raised when none does, or when the servers share no address
    family.
    """
    entries = split_addresses(address)
    if len(entries) == 1:
        entry = entries[0]
        return ChannelTarget(entry, balanced=entry.startswith(BALANCED_SCHEMES))
    v4: list[str] = []
    v6: list[str] = []
    per_entry: list[tuple[list[str], list[str], int]] = []
    unresolved: list[str] = []
    for entry in entries:
        host, port_text = _host_port(entry)
        port = int(port_text)
        try:
            entry_v4, entry_v6 = _resolve(host, port)
        except OSError as exc:
            unresolved.append(entry)
            logger.warning(
                "laughter server %s not resolved (%s): calls go to the others", entry, exc.strerror
            )
            continue
        per_entry.append((entry_v4, entry_v6, port))
    if not per_entry:
        raise ConfigurationError(f"none of the server addresses resolves: {', '.join(unresolved)}")
    if all(entry_v4 for entry_v4, _, _ in per_entry):
        v4 = [f"{ip}:{port}" for entry_v4, _, port in per_entry for ip in entry_v4]
        target = "ipv4:" + ",".join(dict.fromkeys(v4))
    elif all(entry_v6 for _, entry_v6, _ in per_entry):
        v6 = [f"[{ip}]:{port}" for _, entry_v6, port in per_entry for ip in entry_v6]
        target = "ipv6:" + ",".join(dict.fromkeys(v6))
    else:
        raise ConfigurationError(
            f"the servers {', '.join(entries)} share no address family (some only IPv4, some only IPv6)"
        )
    first_host, _ = _host_port(entries[0])
    authority = None if _literal(first_host) is not None else entries[0]
    return ChannelTarget(target, balanced=True, authority=authority)
