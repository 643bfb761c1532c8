"""Swagger UI's "Try it out" with a token, in headless Chromium: a pasted bearer token, and the OAuth 2 code
flow through its popup (sign-in, consent, oauth2-redirect.html handing the code back to the UI)."""

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_browser_oauth import PASSWORD, chromium_page
from tests.factories import AccessTokenFactory, ApplicationFactory, PrinterFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

PRINTER_NAME = "Prusa in the garage"


@pytest.fixture
def page(monkeypatch):
    with chromium_page(monkeypatch, width=1200, height=900) as page:
        yield page


@pytest.fixture
def owner():
    owner = UserFactory(username="maker")
    owner.set_password(PASSWORD)
    owner.save()
    PrinterFactory(owner=owner, name=PRINTER_NAME)
    return owner


def open_authorize_dialog(page: Page, base: str):
    page.goto(f"{base}/api/docs/")
    page.click("button.authorize")
    return page.locator(".modal-ux")


def list_printers_in_the_ui(page: Page):
    """Try it out on GET /api/v1/printers/; the live response's status and body."""
    operation = page.locator("#operations-printers-printers_list")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    response = operation.locator(".live-responses-table .response")
    expect(response.locator(".response-col_status")).to_have_text("200", timeout=15_000)
    return response.locator(".response-col_description").inner_text()


def test_a_pasted_bearer_token_tries_an_operation(page, live_server, owner):
    dialog = open_authorize_dialog(page, live_server.url)
    bearer = dialog.locator(".auth-container").filter(has=page.locator("h4", has_text="bearer"))
    bearer.locator("#auth-bearer-value").fill(AccessTokenFactory(user=owner, scope="read write").raw_token)
    bearer.locator("button.authorize").click()
    expect(bearer.get_by_text("Authorized")).to_be_visible()
    dialog.locator("button.close-modal").click()

    assert PRINTER_NAME in list_printers_in_the_ui(page)


def test_the_oauth2_code_flow_completes_through_the_redirect_page(page, live_server, owner):
    application = ApplicationFactory(
        name="Swagger UI", redirect_uris=f"{live_server.url}/api/docs/oauth2-redirect.html", user=owner
    )
    dialog = open_authorize_dialog(page, live_server.url)
    oauth2 = dialog.locator(".auth-container").filter(has=page.locator("h4", has_text="OAuth2, authorizationCode"))
    oauth2.locator("#client_id_authorizationCode").fill(application.client_id)
    oauth2.get_by_text("select all").click()

    with page.expect_popup() as opened:
        oauth2.locator("button.authorize").click()
    popup = opened.value
    popup.wait_for_url("**/accounts/login/**")
    popup.fill("#id_username", "maker")
    popup.fill("#id_password", PASSWORD)
    popup.click("button[type=submit]")
    popup.wait_for_url("**/o/authorize/**")
    popup.click("button[name=allow]")
    popup.wait_for_event("close", timeout=15_000)  # the redirect page closes it once the UI has the code

    expect(oauth2.get_by_text("Authorized")).to_be_visible(timeout=15_000)
    dialog.locator("button.close-modal").click()
    assert PRINTER_NAME in list_printers_in_the_ui(page)
