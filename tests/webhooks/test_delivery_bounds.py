"""What one receiver can cost the worker: a deadline on each attempt, a bounded read of the reply, and
deliveries to other applications that go on while one receiver is slow. Real loopback receivers."""

import socket
import threading
import uuid

import pytest
from django.db import connection
from django.utils import timezone
from oauth2_provider.models import Application

from tests.factories import ApplicationFactory
from tests.webhooks.helpers import RawReceiver, Receiver, huge_reply, make_ca_and_server_context, trickle
from webhooks.models import WebhookDelivery
from webhooks.services import webhook_deliveries_claim, webhook_set
from webhooks.transport import DeadlineExceeded, webhook_post
from webhooks.worker import webhook_deliver_due

pytestmark = pytest.mark.django_db

# Small bounds, so each test takes a fraction of a second where the defaults would take ten.
DEADLINE = 0.5
MAX_RESPONSE_BYTES = 16


@pytest.fixture(autouse=True)
def bounds(settings):
    settings.WEBHOOKS = {
        **settings.WEBHOOKS,
        "ALLOW_PRIVATE_NETWORKS": True,
        "TIMEOUT_SECONDS": DEADLINE,
        "MAX_RESPONSE_BYTES": MAX_RESPONSE_BYTES,
        "WORKER_THREADS": 4,
    }


@pytest.fixture
def queue_delivery(user):
    """``queue(url, webhook=None)``: a due delivery to ``url`` (or to ``webhook``), as an event would
    queue it. Every application is the one user's: each new user would cost a password hash."""

    def queue(url: str, *, webhook=None) -> WebhookDelivery:
        if webhook is None:
            application = ApplicationFactory(client_type=Application.CLIENT_CONFIDENTIAL, user=user)
            webhook = webhook_set(application=application, url=url, secret="s" * 20)
        payload = {"id": str(uuid.uuid4()), "event": "print.started", "data": {}}
        return WebhookDelivery.objects.create(
            webhook=webhook, event="print.started", payload=payload, next_attempt_at=timezone.now()
        )

    return queue


# --- a total deadline per attempt ---------------------------------------------------------------------------


def test_a_receiver_that_trickles_its_reply_is_cut_off_at_the_deadline(queue_delivery):
    # Each byte comes well within any per-read timeout; the whole status line would take 4 s.
    trickled = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    receiver = RawReceiver(trickle(trickled, every=0.1))
    try:
        queue_delivery(receiver.url)

        assert webhook_deliver_due() == 1

        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, None)
        assert delivery.last_error == f"DeadlineExceeded: The receiver did not answer within {DEADLINE} s."
    finally:
        receiver.stop()
    assert 0 < receiver.sent[0] < len(trickled)  # hung up on, part-way through


def test_a_receiver_that_answers_and_then_trickles_its_body_is_cut_off_and_keeps_its_answer(queue_delivery):
    trickled = b"x" * 40
    receiver = RawReceiver(trickle(trickled, every=0.1, head=b"HTTP/1.1 202 Accepted\r\nContent-Length: 40\r\n\r\n"))
    try:
        queue_delivery(receiver.url)

        webhook_deliver_due()

        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 202)
    finally:
        receiver.stop()
    assert receiver.sent[0] < len(trickled)


def test_the_deadline_also_cuts_off_a_trickle_over_tls(dns, tmp_path):
    ca_path, context, _ = make_ca_and_server_context(tmp_path, cert_name="hooks.example.test")
    receiver = RawReceiver(trickle(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", every=0.1), tls=context)
    dns.answers["hooks.example.test"] = [["127.0.0.1"]]
    try:
        with pytest.raises(DeadlineExceeded):
            webhook_post(
                f"https://hooks.example.test:{receiver.port}/hooks",
                data=b"{}",
                headers={},
                deadline=DEADLINE,
                max_response_bytes=MAX_RESPONSE_BYTES,
                allow_private=True,
                resolve_timeout=1,
                verify=ca_path,
            )
    finally:
        receiver.stop()
    assert len(receiver.requests) == 1
    assert 0 < receiver.sent[0] < 38


# --- a bounded read of the reply ----------------------------------------------------------------------------


def test_a_huge_reply_is_not_read_past_the_limit(queue_delivery):
    body_bytes = 64 * 1024 * 1024
    receiver = RawReceiver(huge_reply(status=200, body_bytes=body_bytes))
    try:
        queue_delivery(receiver.url)

        webhook_deliver_due()

        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.last_status_code, delivery.last_error) == ("delivered", 200, "")
    finally:
        receiver.stop()
    # The worker hung up after the few bytes it reads; what the receiver got out is what fit in the
    # sockets' buffers (a few MiB on loopback), never the whole reply.
    assert receiver.sent[0] < body_bytes // 2


def test_a_refusal_is_recorded_with_the_start_of_its_reply_only(queue_delivery):
    receiver = RawReceiver(huge_reply(status=500, body_bytes=1024 * 1024, chunk=b"no space left; " * 4096))
    try:
        queue_delivery(receiver.url)

        webhook_deliver_due()

        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.last_status_code) == ("pending", 500)
        assert delivery.last_error == "HTTP 500: no space left; n"  # MAX_RESPONSE_BYTES of it
    finally:
        receiver.stop()


# --- one receiver does not hold up the others ---------------------------------------------------------------


def test_a_slow_receiver_does_not_hold_up_another_apps_delivery(settings, queue_delivery):
    settings.WEBHOOKS = {**settings.WEBHOOKS, "TIMEOUT_SECONDS": 5}
    slow, fast = Receiver(), Receiver()
    fast_delivered = threading.Event()
    fast.before_reply = fast_delivered.set
    saw_the_other_delivered = []
    # The slow receiver holds its request until the other app's delivery arrives (3 s at most).
    slow.before_reply = lambda: saw_the_other_delivered.append(fast_delivered.wait(timeout=3))
    try:
        queue_delivery(slow.url)  # the older one
        queue_delivery(fast.url)

        assert webhook_deliver_due() == 2

        assert saw_the_other_delivered == [True]
        assert list(WebhookDelivery.objects.values_list("status", flat=True)) == ["delivered", "delivered"]
    finally:
        slow.stop()
        fast.stop()


def test_a_webhook_with_a_backlog_takes_turns_with_the_others(settings, queue_delivery):
    settings.WEBHOOKS = {**settings.WEBHOOKS, "WORKER_THREADS": 1}
    busy, other = Receiver(), Receiver()
    arrivals = []
    busy.before_reply = lambda: arrivals.append("busy")
    other.before_reply = lambda: arrivals.append("other")
    try:
        first = queue_delivery(busy.url)
        for _ in range(2):
            queue_delivery(busy.url, webhook=first.webhook)
        queue_delivery(other.url)  # queued last, delivered second

        assert webhook_deliver_due() == 4

        assert arrivals == ["busy", "other", "busy", "busy"]
    finally:
        busy.stop()
        other.stop()


def test_a_claim_takes_one_delivery_per_webhook_and_none_of_a_busy_one(queue_delivery):
    first = queue_delivery("http://127.0.0.1:9/a")
    queue_delivery("http://127.0.0.1:9/a", webhook=first.webhook)
    other = queue_delivery("http://127.0.0.1:9/b")
    third = queue_delivery("http://127.0.0.1:9/c")

    claimed = webhook_deliveries_claim(limit=10, busy_webhook_ids={other.webhook_id})

    assert [d.pk for d in claimed] == [first.pk, third.pk]
    # Leased: the next claim finds only the first webhook's second delivery and the busy one's.
    assert len(webhook_deliveries_claim(limit=10)) == 2
    assert webhook_deliveries_claim(limit=10) == []


@pytest.mark.django_db(transaction=True)  # each worker its own connection and transactions, as in production
def test_workers_claiming_at_once_never_take_the_same_delivery(queue_delivery):
    for _ in range(4):
        first = queue_delivery("http://127.0.0.1:9/hooks")
        for _ in range(2):
            queue_delivery("http://127.0.0.1:9/hooks", webhook=first.webhook)
    start = threading.Barrier(4)
    claims: list[list[int]] = [[] for _ in range(4)]

    def worker(claimed: list[int]) -> None:
        try:
            start.wait(timeout=10)
            for _ in range(12):  # bounded; 12 deliveries in all
                claimed.extend(d.pk for d in webhook_deliveries_claim(limit=2))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(claimed,)) for claimed in claims]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    everything = [pk for claimed in claims for pk in claimed]
    assert sorted(everything) == sorted(WebhookDelivery.objects.values_list("pk", flat=True))  # each once


def test_receivers_whose_names_never_resolve_do_not_stop_other_lookups(settings, dns, queue_delivery, monkeypatch):
    settings.WEBHOOKS = {**settings.WEBHOOKS, "RESOLVE_TIMEOUT_SECONDS": 0.2}
    release = threading.Event()
    scripted = socket.getaddrinfo  # the conftest's scripted resolver

    def getaddrinfo(host, *args, **kwargs):
        if host.startswith("hang"):
            release.wait(timeout=10)  # as a name server that never answers, until the test ends
        return scripted(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    receiver = Receiver()
    dns.answers["hooks.example.com"] = [["127.0.0.1"]]
    try:
        for n in range(4):
            queue_delivery(f"http://hang{n}.example.com/hooks")
        webhook_deliver_due()  # each gives up after 0.2 s; the four lookups still hang
        assert set(WebhookDelivery.objects.values_list("last_error", flat=True)) == {
            "DestinationRefused: The URL's host could not be resolved."
        }
        other = queue_delivery(f"http://hooks.example.com:{receiver.port}/hooks")

        webhook_deliver_due()

        other.refresh_from_db()
        assert (other.status, other.last_status_code) == ("delivered", 200)
    finally:
        release.set()
        receiver.stop()
