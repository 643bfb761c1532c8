"""The webhook admin never shows a secret again after it is created."""

import pytest
from oauth2_provider.models import Application

from tests.factories import ApplicationFactory
from webhooks.models import Webhook
from webhooks.services import webhook_set

pytestmark = pytest.mark.django_db

SECRET = "s3cret-never-shown-again-0123456789"


@pytest.fixture
def production(settings):
    settings.WEBHOOKS = {**settings.WEBHOOKS, "ALLOW_PRIVATE_NETWORKS": False}


@pytest.fixture
def webhook():
    application = ApplicationFactory(client_type=Application.CLIENT_CONFIDENTIAL)
    return webhook_set(application=application, url="https://app.example.com/hooks", secret=SECRET)


@pytest.mark.parametrize(
    "path", ["/admin/webhooks/webhook/", "/admin/webhooks/webhook/{id}/change/", "/admin/webhooks/webhookdelivery/"]
)
def test_admin_pages_do_not_show_the_secret(admin_client, webhook, path):
    page = admin_client.get(path.format(id=webhook.pk))

    assert page.status_code == 200
    assert SECRET not in page.content.decode()


def test_saving_the_change_form_keeps_the_secret(admin_client, webhook, production):
    response = admin_client.post(
        f"/admin/webhooks/webhook/{webhook.pk}/change/",
        {"application": webhook.application_id, "url": "https://app.example.com/v2", "is_active": "on"},
    )

    assert response.status_code == 302
    webhook.refresh_from_db()
    assert (webhook.url, webhook.secret) == ("https://app.example.com/v2", SECRET)


def test_adding_a_webhook_shows_its_generated_secret_once(admin_client, production):
    application = ApplicationFactory(client_type=Application.CLIENT_CONFIDENTIAL)

    added = admin_client.post(
        "/admin/webhooks/webhook/add/",
        {"application": application.pk, "url": "https://app.example.com/hooks", "is_active": "on", "secret": ""},
    )

    webhook = Webhook.objects.get()
    assert len(webhook.secret) >= 32
    assert added.status_code == 200
    assert webhook.secret in added.content.decode()
    assert webhook.secret not in admin_client.get(f"/admin/webhooks/webhook/{webhook.pk}/change/").content.decode()


def test_replacing_the_secret_shows_the_new_one_once(admin_client, webhook):
    response = admin_client.post(
        "/admin/webhooks/webhook/", {"action": "replace_secret", "_selected_action": [webhook.pk]}
    )

    webhook.refresh_from_db()
    assert webhook.secret != SECRET
    assert response.status_code == 200
    assert webhook.secret in response.content.decode()


def test_the_admin_refuses_a_private_receiver_like_the_api(admin_client, production, dns):
    dns.answers["intranet.example.com"] = [["10.0.0.5"]]
    application = ApplicationFactory(client_type=Application.CLIENT_CONFIDENTIAL)

    response = admin_client.post(
        "/admin/webhooks/webhook/add/",
        {"application": application.pk, "url": "https://intranet.example.com/hooks", "is_active": "on"},
    )

    assert response.status_code == 200
    assert "resolves to a non-public address (10.0.0.5)" in response.content.decode()
    assert not Webhook.objects.exists()


def test_the_admin_accepts_a_public_receiver(admin_client, production):
    application = ApplicationFactory(client_type=Application.CLIENT_CONFIDENTIAL)

    admin_client.post(
        "/admin/webhooks/webhook/add/",
        {"application": application.pk, "url": "https://app.example.com/hooks", "is_active": "on"},
    )

    assert Webhook.objects.get().url == "https://app.example.com/hooks"  # resolves to a public address (conftest)
