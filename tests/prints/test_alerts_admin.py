"""The admin: alerts with their thumbnails on the print's and the printer's pages, and the false-alarm rate."""

import io

import pytest
from PIL import Image

from prints.models import Alert
from tests.factories import AlertFactory, PrinterFactory, PrintFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def printer_alerts():
    """Three alerts on one printer: a false alarm, a confirmed failure and one unanswered."""
    printer = PrinterFactory()
    print_ = PrintFactory(printer=printer)
    return [
        AlertFactory(print=print_, feedback="false_alarm"),
        AlertFactory(print=print_, level="failure", feedback="failure"),
        AlertFactory(print=PrintFactory(printer=printer)),
    ]


def test_print_page_shows_each_alert_with_its_thumbnail_beside_the_chart(admin_browser, printer_alerts):
    false_alarm, failure, _ = printer_alerts

    html = admin_browser.get(f"/admin/prints/print/{false_alarm.print_id}/change/").content.decode()

    assert "Failure score over the print" in html
    for alert in (false_alarm, failure):
        assert f'<img src="/admin/prints/alert/{alert.pk}/tagged.jpg"' in html
    assert "feedback: False Alarm" in html
    assert f"/admin/prints/alert/{printer_alerts[2].pk}/tagged.jpg" not in html  # another print's


def test_an_alert_without_a_snapshot_shows_no_thumbnail(admin_browser, printer_alerts):
    alert = printer_alerts[0]
    Alert.objects.filter(pk=alert.pk).update(snapshot="", snapshot_bytes=0)

    html = admin_browser.get(f"/admin/prints/print/{alert.print_id}/change/").content.decode()
    page = admin_browser.get(f"/admin/prints/alert/{alert.pk}/change/").content.decode()

    assert f"/admin/prints/alert/{alert.pk}/tagged.jpg" not in html + page
    assert "no snapshot stored" in html
    assert "no snapshot stored" in page
    assert admin_browser.get(f"/admin/prints/alert/{alert.pk}/tagged.jpg").status_code == 404


def test_print_page_without_alerts_says_so(admin_browser):
    html = admin_browser.get(f"/admin/prints/print/{PrintFactory().pk}/change/").content.decode()

    assert "This print raised no alerts." in html


def test_the_admin_serves_the_snapshot_with_its_boxes_drawn_to_staff_only(admin_browser, printer_alerts):
    alert = printer_alerts[0]
    url = f"/admin/prints/alert/{alert.pk}/tagged.jpg"

    response = admin_browser.get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    picture = Image.open(io.BytesIO(response.content)).convert("RGB")
    assert picture.size == (640, 480)
    red, green, blue = picture.getpixel((129, 144))  # the left edge of the factory's box
    assert red > 200
    assert max(green, blue) < 80
    assert admin_browser.get("/admin/prints/alert/999999/tagged.jpg").status_code == 404
    admin_browser.logout()
    assert admin_browser.get(url).status_code == 302  # to the admin's sign-in


def test_printer_page_lists_its_alerts_and_its_false_alarm_rate(admin_browser, printer_alerts):
    printer_id = printer_alerts[0].print.printer_id

    html = admin_browser.get(f"/admin/printers/printer/{printer_id}/change/").content.decode()

    assert "50% (1 false alarms of 2 answered; 3 alerts)" in html
    for alert in printer_alerts:
        assert f"/admin/prints/alert/{alert.pk}/tagged.jpg" in html


def test_printer_without_feedback_says_so(admin_browser):
    printer = PrinterFactory()

    html = admin_browser.get(f"/admin/printers/printer/{printer.pk}/change/").content.decode()

    assert "no feedback yet (0 alerts)" in html
    assert "No alerts." in html


@pytest.mark.parametrize(
    "path", ["/admin/prints/alert/", "/admin/prints/alert/{alert}/change/", "/admin/printers/printer/add/"]
)
def test_alert_pages_render(admin_browser, printer_alerts, path):
    assert admin_browser.get(path.format(alert=printer_alerts[0].pk)).status_code == 200
