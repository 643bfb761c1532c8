"""Webhook tests never ask the network's DNS: names resolve from a script (``dns.answers``)."""

import socket

import pytest

from tests.webhooks.helpers import ScriptedResolver

# A public address (example.com's) that scripted names resolve to; nothing ever connects to it.
PUBLIC_ADDRESS = "93.184.215.14"


@pytest.fixture(autouse=True)
def dns(monkeypatch):
    """The scripted resolver, installed as ``socket.getaddrinfo``; tests add names to ``dns.answers``."""
    resolver = ScriptedResolver({"app.example.com": [[PUBLIC_ADDRESS]], "evil.example.com": [[PUBLIC_ADDRESS]]})
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    return resolver
