"""Channel targets: one server as given, several as one balanced target with gRPC's own round robin and
client-side health checks in the service config (the calls spreading over real servers is tested in
tests/integration/test_balancing.py)."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable

import laughter
import pytest
from laughter import ClientOptions, ConfigurationError
from laughter._targets import channel_target, split_addresses


def service_config(options: list[tuple[str, str | int]]) -> dict[str, object] | None:
    values = dict(options)
    text = values.get("grpc.service_config")
    return None if text is None else json.loads(str(text))


class TestSplitAddresses:
    def test_a_string_list_and_a_sequence_are_the_same(self) -> None:
        assert split_addresses("a:1, b:2") == ("a:1", "b:2")
        assert split_addresses(["a:1", "b:2"]) == ("a:1", "b:2")

    @pytest.mark.parametrize(
        "bad", ["", "a:1,", ",a:1", "a", "a:", ":50051", "a:0", "a:70000", "a:x", "[::1]"]
    )
    def test_entries_that_are_not_host_port_are_refused(self, bad: str) -> None:
        with pytest.raises(ValueError, match="host:port"):
            split_addresses(bad)

    def test_a_scheme_target_must_stand_alone(self) -> None:
        assert split_addresses("dns:///laughter:50051") == ("dns:///laughter:50051",)
        with pytest.raises(ValueError, match="only address"):
            split_addresses("dns:///laughter:50051,b:2")


@pytest.fixture
def unknown_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Names ending in ``.invalid`` fail to resolve, without asking a name server."""
    real: Callable[..., object] = socket.getaddrinfo

    def getaddrinfo(host: str, *args: object, **kwargs: object) -> object:
        if host.endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


class TestChannelTarget:
    def test_one_address_is_passed_as_given_without_balancing(self) -> None:
        target = channel_target("laughter.example.com:443")
        assert target.target == "laughter.example.com:443"
        assert not target.balanced
        assert service_config(target.channel_options()) is None

    def test_ip_literals_become_one_ipv4_target_with_round_robin_and_health_checks(self) -> None:
        target = channel_target("127.0.0.1:50051,127.0.0.2:50052")
        assert target.target == "ipv4:127.0.0.1:50051,127.0.0.2:50052"
        assert target.balanced
        assert target.authority is None
        config = service_config(target.channel_options())
        assert config == {
            "loadBalancingConfig": [{"round_robin": {}}],
            "healthCheckConfig": {"serviceName": ""},
        }

    def test_ipv6_literals_become_an_ipv6_target(self) -> None:
        assert channel_target("[::1]:1,[::1]:2").target == "ipv6:[::1]:1,[::1]:2"

    def test_host_names_are_resolved_and_the_first_name_is_the_authority(self) -> None:
        target = channel_target("localhost:50051,127.0.0.1:50052")
        assert target.target.startswith("ipv4:127.0.0.1:50051,")
        assert target.target.endswith("127.0.0.1:50052")
        assert dict(target.channel_options())["grpc.default_authority"] == "localhost:50051"

    @pytest.mark.usefixtures("unknown_hosts")
    def test_a_name_that_does_not_resolve_is_skipped_while_another_does(self) -> None:
        target = channel_target("no-such-host.invalid:50051,127.0.0.1:50052")
        assert target.target == "ipv4:127.0.0.1:50052"

    @pytest.mark.usefixtures("unknown_hosts")
    def test_no_name_resolving_is_a_configuration_error(self) -> None:
        with pytest.raises(ConfigurationError, match="none of the server addresses resolves"):
            channel_target("no-such-host.invalid:1,other-missing.invalid:2")

    def test_mixed_address_families_are_refused(self) -> None:
        with pytest.raises(ConfigurationError, match="share no address family"):
            channel_target("127.0.0.1:1,[::1]:2")

    def test_a_dns_name_is_balanced_by_grpc_itself(self) -> None:
        target = channel_target("dns:///laughter:50051")
        assert target.target == "dns:///laughter:50051"
        assert target.balanced
        assert service_config(target.channel_options()) is not None


class TestClients:
    def test_sync_client_takes_a_list(self) -> None:
        with laughter.LaughterClient(["127.0.0.1:50051", "127.0.0.1:50052"]) as client:
            assert client.address == "127.0.0.1:50051,127.0.0.1:50052"
            assert client.is_balanced
            assert service_config(client._channel_options()) is not None

    async def test_async_client_takes_a_dns_name(self) -> None:
        async with laughter.AsyncLaughterClient("dns:///localhost:50051") as client:
            assert client.is_balanced
            assert service_config(client._channel_options()) is not None

    def test_options_from_the_environment_take_a_list(self) -> None:
        options = ClientOptions.from_env({"LAUGHTER_ADDRESS": "127.0.0.1:50051,127.0.0.2:50051"})
        with laughter.LaughterClient(options=options) as client:
            assert client.is_balanced

    def test_a_bad_entry_in_a_list_is_refused(self) -> None:
        with pytest.raises(ValueError, match="host:port"):
            laughter.LaughterClient(["127.0.0.1:50051", "nope"])
