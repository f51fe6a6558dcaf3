"""The address guard: an endpoint's URL must lead to a globally reachable address, when it is created
or changed and again at every send. IPv6 forms that carry an IPv4 address (IPv4-mapped and
-compatible, 6to4, NAT64, Teredo) are judged by that address; loopback only with
WEBHOOK_ALLOW_LOOPBACK. DNS is the outside world here: a fake resolver answers for test names."""

from __future__ import annotations

import socket
import time
import uuid
from urllib.parse import urlsplit

import pytest

from core.webhooks.connections import POOL
from core.webhooks.models import WebhookEndpoint
from tests.support.keepalive_receiver import keepalive_receiver
from workers.tasks.webhooks import webhooks_deliver

PUBLIC_ONLY = "public addresses only"

# Each an address IANA's special-purpose registries say is not globally reachable, or an IPv6
# form that carries one. The first five were accepted before.
FORBIDDEN = [
    pytest.param("100.64.0.1", id="shared address space (carrier-grade NAT)"),
    pytest.param("100.100.100.200", id="a cloud metadata address in the shared space"),
    pytest.param("2002:a9fe:a9fe::1", id="6to4 of 169.254.169.254"),
    pytest.param("2002:7f00:1::1", id="6to4 of 127.0.0.1"),
    pytest.param("192.0.0.8", id="IPv4 dummy address"),
    pytest.param("0.0.0.0", id="this network"),
    pytest.param("10.1.2.3", id="private 10/8"),
    pytest.param("172.16.0.1", id="private 172.16/12"),
    pytest.param("192.168.1.1", id="private 192.168/16"),
    pytest.param("169.254.169.254", id="link local (cloud metadata)"),
    pytest.param("192.0.0.1", id="IETF protocol assignments"),
    pytest.param("192.0.0.170", id="NAT64 discovery"),
    pytest.param("192.0.2.10", id="TEST-NET-1"),
    pytest.param("192.88.99.1", id="deprecated 6to4 relay anycast"),
    pytest.param("198.18.0.1", id="benchmarking"),
    pytest.param("198.51.100.7", id="TEST-NET-2"),
    pytest.param("203.0.113.7", id="TEST-NET-3"),
    pytest.param("224.0.0.251", id="multicast"),
    pytest.param("239.255.255.250", id="multicast, organisation-local"),
    pytest.param("240.0.0.1", id="reserved"),
    pytest.param("255.255.255.255", id="limited broadcast"),
    pytest.param("::", id="unspecified"),
    pytest.param("::ffff:169.254.169.254", id="IPv4-mapped link local"),
    pytest.param("::ffff:10.0.0.1", id="IPv4-mapped private"),
    pytest.param("::169.254.169.254", id="IPv4-compatible link local"),
    pytest.param("::127.0.0.1", id="IPv4-compatible loopback"),
    pytest.param("2002:a01:203::1", id="6to4 of 10.1.2.3"),
    pytest.param("64:ff9b::a9fe:a9fe", id="NAT64 of 169.254.169.254"),
    pytest.param("64:ff9b::7f00:1", id="NAT64 of 127.0.0.1"),
    pytest.param("64:ff9b:1::a00:1", id="local NAT64 /96 of 10.0.0.1"),
    pytest.param("64:ff9b:1:0:a:0:500:0", id="local NAT64 /64 of 10.0.0.5"),
    pytest.param("64:ff9b:1:a9fe:a9:fe00::", id="local NAT64 /48 of 169.254.169.254"),
    pytest.param("2001:0:4136:e378:8000:63bf:f5ff:fffe", id="Teredo with a private client (10.0.0.1)"),
    pytest.param("2001:0:c0a8:1:8000:63bf:a247:28f1", id="Teredo with a private server (192.168.0.1)"),
    pytest.param("100::1", id="discard-only"),
    pytest.param("100:0:0:1::1", id="dummy IPv6 prefix"),
    pytest.param("2001:2::1", id="IPv6 benchmarking"),
    pytest.param("2001:10::1", id="ORCHID"),
    pytest.param("2001:db8::1", id="IPv6 documentation"),
    pytest.param("3fff::1", id="IPv6 documentation 3fff::/20"),
    pytest.param("5f00::1", id="SRv6 SIDs"),
    pytest.param("fc00::1", id="unique local"),
    pytest.param("fd00:ec2::254", id="unique local (cloud metadata over IPv6)"),
    pytest.param("fe80::1", id="link local IPv6"),
    pytest.param("fec0::1", id="site local (deprecated)"),
    pytest.param("ff02::1", id="multicast IPv6"),
    pytest.param("4000::1", id="unassigned IPv6"),
]

PUBLIC = [
    pytest.param("93.184.215.14", id="public IPv4"),
    pytest.param("2606:4700:4700::1111", id="public IPv6"),
    pytest.param("::ffff:93.184.215.14", id="IPv4-mapped public"),
    pytest.param("::93.184.215.14", id="IPv4-compatible public"),
    pytest.param("2002:5db8:d70e::1", id="6to4 of a public address"),
    pytest.param("64:ff9b::5db8:d70e", id="NAT64 of a public address"),
    pytest.param("64:ff9b:1::5db8:d70e", id="local NAT64 of a public address"),
    pytest.param("2001:0:4136:e378:8000:63bf:a247:28f1", id="Teredo between public addresses"),
]


def url(world, path: str) -> str:
    return f"/api/v1/tenants/{world.tenant.slug}/{path}"


def hook_url(address: str, scheme: str = "https") -> str:
    host = f"[{address}]" if ":" in address else address
    return f"{scheme}://{host}/hooks/tripline"


def create(world, target: str):
    return world.admin.client.post(
        url(world, "webhook-endpoints/"), {"url": target, "event_types": ["webhook.ping"]}, format="json"
    )


def refused_for_url(response) -> bool:
    return response.status_code == 400 and PUBLIC_ONLY in " ".join(response.json()["error"]["fields"]["url"])


@pytest.fixture
def dns(monkeypatch):
    """A resolver for test names: ``dns["name"] = [address, ...]`` answers each lookup with the next
    address in turn (the last one from then on); other names resolve as usual."""
    answers: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            return real(host, port, *args, **kwargs)
        queue = answers[host]
        address = queue.pop(0) if len(queue) > 1 else queue[0]
        if ":" in address:
            return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0))]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


@pytest.mark.parametrize("loopback_allowed", [False, True], ids=["loopback off", "loopback on"])
@pytest.mark.parametrize("address", FORBIDDEN)
def test_an_endpoint_on_an_address_that_is_not_public_is_refused(world, settings, address, loopback_allowed) -> None:
    settings.WEBHOOK_ALLOW_LOOPBACK = loopback_allowed
    assert refused_for_url(create(world, hook_url(address)))
    assert not WebhookEndpoint.objects.filter(tenant=world.tenant).exists()


@pytest.mark.parametrize("address", PUBLIC)
def test_an_endpoint_on_a_public_address_is_accepted(world, settings, address) -> None:
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    response = create(world, hook_url(address))
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize("address", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
def test_loopback_is_accepted_only_with_the_setting(world, settings, address) -> None:
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    assert refused_for_url(create(world, hook_url(address)))
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    assert create(world, hook_url(address, scheme="http")).status_code == 201


def test_a_host_name_is_judged_by_the_addresses_it_resolves_to(world, settings, dns) -> None:
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    dns["metadata.partner.example"] = ["100.100.100.200"]
    dns["nat64.partner.example"] = ["64:ff9b::a9fe:a9fe"]
    dns["hooks.partner.example"] = ["93.184.215.14"]
    for name in ("metadata.partner.example", "nat64.partner.example"):
        assert refused_for_url(create(world, f"https://{name}/hooks")), name
    response = create(world, "https://hooks.partner.example/hooks")
    assert response.status_code == 201
    # Changing the URL is checked the same way, and a refused change leaves the endpoint as it was.
    endpoint_url = url(world, f"webhook-endpoints/{response.json()['id']}/")
    refused = world.admin.client.patch(endpoint_url, {"url": "https://metadata.partner.example/x"}, format="json")
    assert refused_for_url(refused)
    assert world.admin.client.get(endpoint_url).json()["url"] == "https://hooks.partner.example/hooks"


def test_a_name_that_resolves_elsewhere_by_the_time_of_sending_is_not_sent_to(
    world, settings, dns, monkeypatch
) -> None:
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    dns["hooks.partner.example"] = ["93.184.215.14", "2002:a9fe:a9fe::1"]
    endpoint = create(world, "https://hooks.partner.example/hooks").json()
    delivery = world.admin.client.post(url(world, f"webhook-endpoints/{endpoint['id']}/test/")).json()
    connections = []
    monkeypatch.setattr(socket, "create_connection", lambda *args, **kwargs: connections.append(args))
    webhooks_deliver(delivery["id"])
    assert connections == []
    (attempt,) = world.admin.client.get(url(world, f"webhook-deliveries/{delivery['id']}/")).json()["attempt_log"]
    assert attempt["status_code"] is None
    assert PUBLIC_ONLY in attempt["error"]


def test_the_delivery_connects_to_the_address_that_was_checked(world, settings, dns, receiver) -> None:
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    port = urlsplit(receiver.url).port
    # A second lookup of the name would lead to a private address: the request must not make one.
    dns["rebind.partner.test"] = ["127.0.0.1", "127.0.0.1", "10.9.9.9"]
    endpoint = create(world, f"http://rebind.partner.test:{port}/hooks/tripline").json()
    delivery = world.admin.client.post(url(world, f"webhook-endpoints/{endpoint['id']}/test/")).json()
    webhooks_deliver(delivery["id"])
    (request,) = receiver.requests
    assert request.headers["host"] == f"rebind.partner.test:{port}"
    assert world.admin.client.get(url(world, f"webhook-deliveries/{delivery['id']}/")).json()["state"] == "succeeded"


def _ping(world, endpoint: dict) -> str:
    """A test ping's delivery, sent by the task as the worker would; answers its id."""
    delivery = world.admin.client.post(url(world, f"webhook-endpoints/{endpoint['id']}/test/")).json()
    webhooks_deliver(delivery["id"])
    return delivery["id"]


def test_a_kept_connection_is_not_used_once_the_name_resolves_elsewhere(world, settings, dns) -> None:
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    POOL.close_all()
    with keepalive_receiver("127.0.0.1") as first:
        try:
            second_server = keepalive_receiver("127.0.0.2", first.port)
            second = second_server.__enter__()
        except OSError:
            pytest.skip("127.0.0.2 is not on the loopback interface here")
        try:
            # Creation, then one lookup per send: the host moves to another loopback address, then
            # to a private one.
            dns["moving.partner.test"] = ["127.0.0.1", "127.0.0.1", "127.0.0.2", "10.9.9.9"]
            endpoint = create(world, f"http://moving.partner.test:{first.port}/hooks/tripline").json()
            _ping(world, endpoint)
            assert (len(first.requests), first.connections) == (1, 1)  # its connection is kept
            _ping(world, endpoint)
            assert len(first.requests) == 1  # not over the kept connection to the old address
            assert [request.local_address for request in second.requests] == ["127.0.0.2"]
            refused = _ping(world, endpoint)
            assert (len(first.requests), len(second.requests)) == (1, 1)  # kept connections or not
        finally:
            second_server.__exit__(None, None, None)
    (attempt,) = world.admin.client.get(url(world, f"webhook-deliveries/{refused}/")).json()["attempt_log"]
    assert attempt["status_code"] is None
    assert PUBLIC_ONLY in attempt["error"]
    POOL.close_all()


def test_a_dns_answer_is_reused_for_its_bound_and_judged_at_every_send(world, settings, dns) -> None:
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    settings.WEBHOOK_DNS_CACHE_SECONDS = 1
    POOL.close_all()
    with keepalive_receiver("127.0.0.1") as receiver:
        name = f"cached-{uuid.uuid4().hex[:8]}.partner.test"  # no answer of another test in the cache
        dns[name] = ["127.0.0.1", "127.0.0.1", "10.9.9.9"]
        endpoint = create(world, f"http://{name}:{receiver.port}/hooks/tripline").json()
        _ping(world, endpoint)
        _ping(world, endpoint)  # within the bound: the first send's answer, not a new lookup
        assert len(receiver.requests) == 2
        # The guard judges the kept answer at every send: loopback is no longer allowed.
        settings.WEBHOOK_ALLOW_LOOPBACK = False
        with_loopback_off = _ping(world, endpoint)
        settings.WEBHOOK_ALLOW_LOOPBACK = True
        time.sleep(1.1)  # past the bound, the name is looked up again: now a private address
        after_the_bound = _ping(world, endpoint)
        assert len(receiver.requests) == 2
    for delivery in (with_loopback_off, after_the_bound):
        (attempt,) = world.admin.client.get(url(world, f"webhook-deliveries/{delivery}/")).json()["attempt_log"]
        assert attempt["status_code"] is None, delivery
    POOL.close_all()
