"""Webhooks against server-side request forgery: one rule at registration and at delivery, and
delivery connects to the very address it checked (DNS rebinding), with TLS still checking the name."""

import ipaddress
import socket
import threading
import uuid

import pytest
import requests
import urllib3.util.connection
from django.utils import timezone
from oauth2_provider.models import Application

from tests.factories import ApplicationFactory
from tests.fixtures.accounts import app_client
from tests.webhooks.conftest import PUBLIC_ADDRESS
from tests.webhooks.helpers import Receiver, make_ca_and_server_context
from webhooks.destinations import DestinationRefused, address_is_public, destination_resolve
from webhooks.models import Webhook, WebhookDelivery
from webhooks.services import webhook_set
from webhooks.transport import PinnedAddressAdapter, webhook_post
from webhooks.worker import webhook_deliver_due

pytestmark = pytest.mark.django_db


@pytest.fixture
def production(settings):
    """Receivers on private networks are refused, as with ``DEBUG=0``."""
    settings.WEBHOOKS = {**settings.WEBHOOKS, "ALLOW_PRIVATE_NETWORKS": False}


@pytest.fixture
def development(settings):
    settings.WEBHOOKS = {**settings.WEBHOOKS, "ALLOW_PRIVATE_NETWORKS": True}


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def connections(monkeypatch):
    """Every address the HTTP client connects to. Tests never leave this machine: a connection to a
    public address is refused here, as by a firewall; loopback ones go through."""
    attempted = []
    real_create_connection = urllib3.util.connection.create_connection

    def create_connection(address, *args, **kwargs):
        attempted.append(address[0])
        try:
            is_public = ipaddress.ip_address(address[0].strip("[]")).is_global
        except ValueError:  # a name: resolved by the (scripted) resolver, as urllib3 would
            is_public = False
        if is_public:
            raise ConnectionRefusedError(111, "Connection refused (test: no outside network)")
        return real_create_connection(address, *args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", create_connection)
    return attempted


def queue_delivery(url: str) -> WebhookDelivery:
    """A due delivery to ``url``, registered without the API's checks (as an old row would be)."""
    webhook = webhook_set(
        application=ApplicationFactory(client_type=Application.CLIENT_CONFIDENTIAL), url=url, secret="s" * 20
    )
    payload = {"id": str(uuid.uuid4()), "event": "print.started", "data": {}}
    return WebhookDelivery.objects.create(
        webhook=webhook, event="print.started", payload=payload, next_attempt_at=timezone.now()
    )


# --- delivery: DNS rebinding ---------------------------------------------------------------------------


def test_a_rebinding_resolver_cannot_send_the_delivery_to_loopback(production, dns, receiver, connections):
    # First answer public (it passes the check), every later one 127.0.0.1 (the attack).
    dns.answers["rebind.example.com"] = [[PUBLIC_ADDRESS], ["127.0.0.1"]]
    queue_delivery(f"http://rebind.example.com:{receiver.port}/hooks")

    webhook_deliver_due()

    assert receiver.requests == []  # nothing reached the loopback receiver
    assert connections == [PUBLIC_ADDRESS]  # the client connected to the address that was checked
    assert dns.lookups == ["rebind.example.com"]  # resolved once
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, None)
    assert delivery.last_error.startswith("ConnectionError")


def test_delivery_sends_the_host_name_in_the_host_header(development, dns, receiver):
    dns.answers["hooks.example.com"] = [["127.0.0.1"]]
    queue_delivery(f"http://hooks.example.com:{receiver.port}/hooks")

    webhook_deliver_due()

    ((headers, _),) = receiver.requests
    assert headers["Host"] == f"hooks.example.com:{receiver.port}"
    assert WebhookDelivery.objects.get().status == "delivered"


@pytest.mark.parametrize(
    "addresses",
    [
        [PUBLIC_ADDRESS, "127.0.0.1"],  # any bad record refuses, not only the first
        ["::ffff:127.0.0.1"],  # IPv4-mapped IPv6
        ["10.1.2.3"],
        ["fe80::1"],
    ],
)
def test_delivery_is_refused_when_any_address_is_not_public(production, dns, receiver, connections, addresses):
    dns.answers["mixed.example.com"] = [addresses]
    queue_delivery(f"http://mixed.example.com:{receiver.port}/hooks")

    webhook_deliver_due()

    assert connections == []
    assert receiver.requests == []
    assert "non-public address" in WebhookDelivery.objects.get().last_error


def test_a_redirect_is_not_followed(development, dns, receiver):
    target = Receiver()
    try:
        receiver.status, receiver.location = 307, target.url
        dns.answers["hooks.example.com"] = [["127.0.0.1"]]
        queue_delivery(f"http://hooks.example.com:{receiver.port}/hooks")

        webhook_deliver_due()

        assert len(receiver.requests) == 1
        assert target.requests == []
        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.last_status_code, delivery.last_error) == ("pending", 307, "HTTP 307")
    finally:
        target.stop()


# --- the pinned connection keeps TLS checking the host name ----------------------------------------------


def test_the_adapter_connects_to_the_address_and_verifies_the_name():
    adapter = PinnedAddressAdapter(host="hooks.example.com", address=PUBLIC_ADDRESS)
    request = requests.Request("POST", "https://hooks.example.com:8443/in", data=b"{}").prepare()

    host_params, pool_kwargs = adapter.build_connection_pool_key_attributes(request, True)

    assert host_params == {"scheme": "https", "host": PUBLIC_ADDRESS, "port": 8443}
    assert pool_kwargs["server_hostname"] == "hooks.example.com"  # SNI
    assert pool_kwargs["assert_hostname"] == "hooks.example.com"  # the certificate must name the host
    assert request.headers["Host"] == "hooks.example.com:8443"


def test_the_adapter_refuses_any_other_host():
    adapter = PinnedAddressAdapter(host="hooks.example.com", address=PUBLIC_ADDRESS)
    request = requests.Request("POST", "https://elsewhere.example.com/in", data=b"{}").prepare()

    with pytest.raises(requests.exceptions.InvalidURL):
        adapter.build_connection_pool_key_attributes(request, True)


@pytest.mark.parametrize(("cert_name", "accepted"), [("hooks.example.test", True), ("other.example.test", False)])
def test_tls_checks_the_certificate_against_the_host_name_not_the_address(dns, tmp_path, cert_name, accepted):
    ca_path, server_context, sni_names = make_ca_and_server_context(tmp_path, cert_name=cert_name)
    server = Receiver(tls=server_context)
    dns.answers["hooks.example.test"] = [["127.0.0.1"]]
    url = f"https://hooks.example.test:{server.port}/hooks"
    try:
        if accepted:
            response = webhook_post(
                url,
                data=b"{}",
                headers={},
                deadline=5,
                max_response_bytes=1024,
                allow_private=True,
                resolve_timeout=5,
                verify=ca_path,
            )
            assert response.status_code == 200
            assert len(server.requests) == 1
        else:
            with pytest.raises(requests.exceptions.SSLError, match="hostname"):
                webhook_post(
                    url,
                    data=b"{}",
                    headers={},
                    deadline=5,
                    max_response_bytes=1024,
                    allow_private=True,
                    resolve_timeout=5,
                    verify=ca_path,
                )
            assert server.requests == []
    finally:
        server.stop()
    assert sni_names == ["hooks.example.test"]


# --- the rule ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # link-local: cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),  # noqa: S104 (unspecified: a value under test)
        ("224.0.0.1", False),  # multicast
        ("240.0.0.1", False),  # reserved
        ("255.255.255.255", False),
        ("::1", False),
        ("::", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped
        ("::ffff:93.184.215.14", True),
        ("::127.0.0.1", False),  # IPv4-compatible (deprecated)
        ("64:ff9b::7f00:1", False),  # NAT64 of 127.0.0.1
        ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
        ("2002:5db8:d70e::", True),  # 6to4 of a public address
    ],
)
def test_address_rule(address, public):
    assert address_is_public(ipaddress.ip_address(address)) is public


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://[::1/hooks", "The URL is not well formed."),
        ("https://app.example.com:99999/hooks", "The URL's port must be between 1 and 65535."),
        ("https:///hooks", "The URL must name a host."),
    ],
)
def test_malformed_urls_are_refused_with_a_sentence(url, message):
    with pytest.raises(DestinationRefused) as refused:
        destination_resolve(url, allow_private=True, timeout=1)

    assert str(refused.value) == message


def test_resolution_that_takes_too_long_is_refused(monkeypatch):
    answered = threading.Event()

    def slow_getaddrinfo(*args, **kwargs):
        answered.wait(2)  # bounded: the test releases it
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", slow_getaddrinfo)
    try:
        with pytest.raises(DestinationRefused, match="could not be resolved"):
            destination_resolve("https://slow.example.com/", allow_private=False, timeout=0.05)
    finally:
        answered.set()


# --- registration: the same rule, as a 400 on ``url`` -----------------------------------------------


def refused(message: str) -> dict:
    return {"error": f"url: {message}", "code": "invalid", "details": {"url": [message]}}


NON_PUBLIC = "The URL's host resolves to a non-public address ({}); webhooks go to public receivers only."


@pytest.mark.parametrize(
    ("url", "answers", "message"),
    [
        ("https://127.0.0.1/hooks", None, NON_PUBLIC.format("127.0.0.1")),
        ("https://[::1]/hooks", None, NON_PUBLIC.format("::1")),
        ("https://[::ffff:127.0.0.1]/hooks", None, NON_PUBLIC.format("::ffff:127.0.0.1")),
        ("https://169.254.169.254/latest/", None, NON_PUBLIC.format("169.254.169.254")),
        ("https://0.0.0.0/hooks", None, NON_PUBLIC.format("0.0.0.0")),  # noqa: S104
        ("https://intranet.example.com/hooks", [["10.0.0.5"]], NON_PUBLIC.format("10.0.0.5")),
        ("https://mixed.example.com/hooks", [[PUBLIC_ADDRESS, "192.168.0.2"]], NON_PUBLIC.format("192.168.0.2")),
        ("https://mapped.example.com/hooks", [["::ffff:10.0.0.1"]], NON_PUBLIC.format("::ffff:10.0.0.1")),
        ("https://nowhere.example.com/hooks", None, "The URL's host could not be resolved."),
        ("https://user:pw@app.example.com/hooks", None, "The URL must not contain a user name or password."),
        ("https://app.example.com:99999/hooks", None, "The URL's port must be between 1 and 65535."),
        ("https://app.example.com:0/hooks", None, "The URL's port must be between 1 and 65535."),
        ("ftp://app.example.com/hooks", None, "The URL must use https."),
    ],
)
def test_registration_refuses_what_delivery_would_refuse(production, dns, url, answers, message):
    if answers:
        dns.answers[url.split("/")[2]] = answers

    response = app_client().put("/api/v1/webhook/", {"url": url}, format="json")

    assert (response.status_code, response.json()) == (400, refused(message))
    assert not Webhook.objects.exists()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://app.example.com/hooks", "The URL must use http or https."),
        ("http://user@127.0.0.1/hooks", "The URL must not contain a user name or password."),
        ("http://127.0.0.1:0/hooks", "The URL's port must be between 1 and 65535."),
        ("http://nowhere.example.com/hooks", "The URL's host could not be resolved."),
    ],
)
def test_registration_in_development_still_refuses_malformed_urls(development, url, message):
    response = app_client().put("/api/v1/webhook/", {"url": url}, format="json")

    assert (response.status_code, response.json()) == (400, refused(message))
    assert not Webhook.objects.exists()


def test_registration_in_development_accepts_loopback(development):
    response = app_client().put("/api/v1/webhook/", {"url": "http://127.0.0.1:8001/hooks"}, format="json")

    assert response.status_code == 200
    assert Webhook.objects.get().url == "http://127.0.0.1:8001/hooks"


def test_registration_accepts_a_public_receiver(production):
    response = app_client().put("/api/v1/webhook/", {"url": "https://app.example.com:8443/hooks"}, format="json")

    assert response.status_code == 200
    assert Webhook.objects.get().url == "https://app.example.com:8443/hooks"
