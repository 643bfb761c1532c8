"""The admin's print page in a real headless Chromium: the chart, and each alert with its thumbnail.

A print of 97 predictions whose score rises raises a warning (answered "false alarm") and then a
failure; a superuser signs in to the admin and opens the print. The thumbnails must have loaded
from the admin's own ``tagged.jpg`` view, which draws the boxes on the stored snapshot. The page's
screenshot goes to ``SCREENSHOT_DIR`` with the others; ``scripts/docs-screenshots`` copies it to
``docs/admin-print-alerts.png``, the README's picture, on request (a test run changes no tracked file).
"""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone

from detection.image import ImageLimits
from detection.models import Prediction
from detection.temporal import TemporalStats, add_prediction
from detection.verdict import ObicoRule, Verdict, obico_verdict
from prints.alert_images import alert_snapshot_render
from tests.e2e.test_browser_oauth import PASSWORD, SCREENSHOTS, chromium_page
from tests.factories import AlertFactory, PrinterFactory, PrintFactory
from tests.fixtures.images import make_image_bytes

SCREENSHOT = SCREENSHOTS / "admin-print-alerts.png"
SNAPSHOT_INTERVAL = timedelta(seconds=10)
LEVELS = list(Verdict)  # ok < warning < failure
# A print that goes well for 80 snapshots, then turns to spaghetti and is cancelled. The failure
# escalation needs the print's short mean still low when the smoothed score jumps: hence the long
# clean start (verdicts from detection.verdict: warning at the 86th snapshot, failure at the 91st).
SCORES = (
    [0.03 + 0.02 * (n % 3) for n in range(80)] + [0.3, 0.55, 0.75, 0.85] + [0.9 + 0.02 * (n % 3) for n in range(13)]
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def page(monkeypatch):
    # With the admin's navigation folded away, wide enough for the chart and the alerts side by side.
    with chromium_page(monkeypatch, width=1480, height=900) as page:
        yield page


def with_grey_frame(alert):
    """The alert's snapshot rendered again from a grey frame, which shows on the admin's white rows."""
    snapshot = alert_snapshot_render(
        make_image_bytes(color=(70, 75, 80)), limits=ImageLimits(), max_bytes=settings.ALERT_SNAPSHOT_MAX_BYTES
    )
    alert.frame_width, alert.frame_height = snapshot.frame_width, snapshot.frame_height
    alert.snapshot.save("alert.jpg", ContentFile(snapshot.jpeg), save=False)
    alert.snapshot_bytes = len(snapshot.jpeg)
    alert.save()
    return alert


@pytest.fixture
def failing_print(django_user_model):
    """A print with its predictions and the two alerts its rising score raised, as predict records them."""
    django_user_model.objects.create_superuser("admin", "admin@example.com", PASSWORD)
    printer = PrinterFactory(name="Prusa in the garage")
    started_at = timezone.now() - len(SCORES) * SNAPSHOT_INTERVAL
    print_ = PrintFactory(printer=printer, filename="benchy.gcode", status="cancelled", started_at=started_at)
    # The printer's earlier prints: 400 predictions averaging 0.05.
    stats = TemporalStats(rolling_mean_long=0.05, prediction_num_lifetime=400)
    level, alerts = Verdict.OK, []
    for n, p in enumerate(SCORES, start=1):
        stats = add_prediction(stats, p)
        verdict = obico_verdict(stats, sensitivity=printer.sensitivity, rule=ObicoRule())
        created_at = started_at + n * SNAPSHOT_INTERVAL
        Prediction.objects.create(print=print_, created_at=created_at, p=p, verdict=verdict, **stats.as_dict())
        if LEVELS.index(verdict) > LEVELS.index(level):  # a rising verdict records an alert
            alert = AlertFactory(
                print=print_, level=verdict, created_at=created_at, p=p, temporal_stats=stats.as_dict()
            )
            alerts.append(with_grey_frame(alert))
        level = verdict
    warning, failure = alerts  # the scores must raise exactly these two
    assert (warning.level, failure.level) == (Verdict.WARNING, Verdict.FAILURE)
    warning.feedback = "false_alarm"
    warning.save()
    print_.prediction_num = len(SCORES)
    print_.warning_at, print_.failure_at = warning.created_at, failure.created_at
    print_.save()
    return print_, alerts


def test_print_page_shows_the_chart_and_each_alert_with_its_thumbnail(page, live_server, failing_print):
    print_, alerts = failing_print

    page.goto(f"{live_server.url}/admin/login/?next=/admin/prints/print/{print_.pk}/change/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"**/admin/prints/print/{print_.pk}/change/")
    page.wait_for_load_state("load")  # every <img> has loaded or failed
    page.click("#toggle-nav-sidebar")

    chart = page.locator("svg[aria-label='Failure score over the print']")
    assert chart.locator("polyline").count() == 4
    assert chart.locator("xpath=..").evaluate("div => div.scrollWidth <= div.clientWidth"), "the chart is cut off"
    chart_box = chart.bounding_box()
    for alert in alerts:
        image = page.locator(f"img[src='/admin/prints/alert/{alert.pk}/tagged.jpg']")
        assert image.evaluate("img => img.complete && img.naturalWidth") > 0, f"alert {alert.pk}'s thumbnail"
        image_box = image.bounding_box()
        assert image_box["x"] > chart_box["x"] + chart_box["width"], "the alerts are not beside the chart"
        assert image_box["y"] < chart_box["y"] + chart_box["height"], "the alerts are not beside the chart"
    assert "feedback: False Alarm" in page.inner_text("body")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOT, full_page=True)
