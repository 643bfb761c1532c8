"""The admin: printers, prints with filters, search and the chart, OAuth apps and tokens."""

import re

import pytest

from tests.fixtures.images import make_image_bytes, snapshot

pytestmark = pytest.mark.django_db


def test_print_page_shows_a_chart_drawn_from_its_predictions(admin_browser, api, printer):
    api.post(f"/api/v1/printers/{printer.id}/start_print/", {"filename": "benchy.gcode"}, format="json")
    for color in [(0, 0, 0), (255, 255, 255), (255, 255, 255)]:
        api.post(
            f"/api/v1/printers/{printer.id}/predict/",
            {"img": snapshot(make_image_bytes(color=color, image_format="PNG"))},
            format="multipart",
        )
    print_id = printer.prints.get().id

    page = admin_browser.get(f"/admin/prints/print/{print_id}/change/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html
    assert html.count("<polyline") == 4
    assert "rolling_mean_long" in html


def test_print_page_without_predictions_says_so(admin_browser, api, printer):
    api.post(f"/api/v1/printers/{printer.id}/start_print/", {"filename": "benchy.gcode"}, format="json")

    page = admin_browser.get(f"/admin/prints/print/{printer.prints.get().id}/change/")

    assert "No predictions are stored for this print." in page.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/admin/printers/printer/",
        "/admin/printers/printer/{printer}/change/",
        "/admin/prints/print/?status__exact=printing",
        "/admin/prints/print/?q=benchy",
        "/admin/oauth2_provider/application/",
        "/admin/oauth2_provider/accesstoken/",
        "/admin/webhooks/webhookdelivery/",
    ],
)
def test_admin_pages_render(admin_browser, api, printer, path):
    api.post(f"/api/v1/printers/{printer.id}/start_print/", {"filename": "benchy.gcode"}, format="json")

    response = admin_browser.get(path.format(printer=printer.id))

    assert response.status_code == 200


def test_print_page_shows_the_live_prediction_count_while_printing(admin_browser, api, printer):
    api.post(f"/api/v1/printers/{printer.id}/start_print/", {"filename": "benchy.gcode"}, format="json")
    for _ in range(3):
        api.post(f"/api/v1/printers/{printer.id}/predict/", {"img": snapshot()}, format="multipart")
    print_id = printer.prints.get().id
    assert api.get(f"/api/v1/prints/{print_id}/").json()["prediction_num"] == 3

    change_page = admin_browser.get(f"/admin/prints/print/{print_id}/change/").content.decode()
    list_page = admin_browser.get("/admin/prints/print/").content.decode()

    assert re.search(r"<label>Prediction num:</label>\s*<div class=\"readonly\">3</div>", change_page)
    assert '<td class="field-prediction_count">3</td>' in list_page
