"""A printer's region of interest: set, cleared and refused through the API, stored, and used by predict."""

import io

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from PIL import Image

from detection.runner import Detector
from printers.models import Printer
from tests.factories import PrinterFactory
from tests.fixtures.images import make_image_bytes, snapshot
from tests.onnx_models import write_detector_model
from tests.printers.test_api import ZERO_STATS, rows_of, stored

pytestmark = pytest.mark.django_db

LEFT_HALF = {"x1": 0.0, "y1": 0.0, "x2": 0.5, "y2": 1.0}
RIGHT_HALF = {"x1": 0.5, "y1": 0.0, "x2": 1.0, "y2": 1.0}
BED = {"x1": 0.1, "y1": 0.25, "x2": 0.8, "y2": 0.95}


# The rules are tested once, on parse_region, with every case (tests/detection/test_region.py); the API
# only passes its sentence on. Through it: one refusal of each kind (a broken rule, a missing edge, not an
# object) is the 400 that names it, and nothing is written.
API_INVALID_REGIONS = [
    ({"x1": 0.5, "y1": 0, "x2": 0.5, "y2": 1}, "x2 must be greater than x1."),
    ({"x1": 0, "y1": 0, "x2": 1}, "Missing y2: a region needs x1, y1, x2 and y2."),
    ("0,0,1,1", "Must be an object with the numbers x1, y1, x2 and y2, or null."),
]


def printer_json(printer, *, name, roi, sensitivity=1.0):
    """The exact JSON of an idle printer with no predictions."""
    return {
        **stored(printer),
        "name": name,
        "sensitivity": sensitivity,
        "roi": roi,
        "current_print": None,
        "status": {"printing": False, "last_prediction": None, "verdict": None, "temporal_stats": ZERO_STATS},
    }


def roi_of(printer):
    return Printer.objects.values_list("roi", flat=True).get(pk=printer.pk)


# --- create ------------------------------------------------------------------------------------------


def test_create_with_a_roi_stores_it_and_shows_it(api, user):
    response = api.post("/api/v1/printers/", {"name": "Prusa MK4", "roi": BED}, format="json")

    assert response.status_code == 201
    printer = Printer.objects.get(owner=user)
    assert response.json() == printer_json(printer, name="Prusa MK4", roi=BED)
    assert printer.roi == BED


def test_create_with_integer_edges_stores_floats(api, user):
    response = api.post("/api/v1/printers/", {"name": "p", "roi": {"x1": 0, "y1": 0, "x2": 1, "y2": 1}}, format="json")

    assert response.status_code == 201
    assert response.json()["roi"] == {"x1": 0.0, "y1": 0.0, "x2": 1.0, "y2": 1.0}
    assert all(type(edge) is float for edge in Printer.objects.get().roi.values())


@pytest.mark.parametrize("body", [{"name": "Prusa MK4"}, {"name": "Prusa MK4", "roi": None}])
def test_create_without_a_roi_or_with_null_scores_the_whole_frame(api, user, body):
    response = api.post("/api/v1/printers/", body, format="json")

    assert response.status_code == 201
    printer = Printer.objects.get(owner=user)
    assert response.json() == printer_json(printer, name="Prusa MK4", roi=None)
    assert roi_of(printer) is None


@pytest.mark.parametrize(("roi", "message"), API_INVALID_REGIONS)
def test_create_with_an_invalid_roi_is_400_and_creates_nothing(api, roi, message):

    response = api.post("/api/v1/printers/", {"name": "p", "roi": roi}, format="json")

    assert response.status_code == 400
    assert response.json() == {"error": f"roi: {message}", "code": "invalid", "details": {"roi": [message]}}
    assert not Printer.objects.exists()


# --- update ------------------------------------------------------------------------------------------


@pytest.fixture
def printer(user):
    return PrinterFactory(owner=user, name="Prusa MK4")


@pytest.fixture
def printer_with_roi(user):
    return PrinterFactory(owner=user, name="Prusa MK4", roi=BED)


def test_patch_sets_the_roi(api, printer):
    response = api.patch(f"/api/v1/printers/{printer.id}/", {"roi": RIGHT_HALF}, format="json")

    assert response.status_code == 200
    assert response.json() == printer_json(printer, name="Prusa MK4", roi=RIGHT_HALF)
    assert roi_of(printer) == RIGHT_HALF


def test_patch_with_null_clears_the_roi(api, printer_with_roi):
    response = api.patch(f"/api/v1/printers/{printer_with_roi.id}/", {"roi": None}, format="json")

    assert response.status_code == 200
    assert response.json() == printer_json(printer_with_roi, name="Prusa MK4", roi=None)
    assert roi_of(printer_with_roi) is None


@pytest.mark.parametrize("body", [{"name": "Voron"}, {"sensitivity": 1.5}, {}])
def test_patch_without_roi_keeps_it(api, printer_with_roi, body):
    response = api.patch(f"/api/v1/printers/{printer_with_roi.id}/", body, format="json")

    assert response.status_code == 200
    assert response.json()["roi"] == BED
    assert roi_of(printer_with_roi) == BED


def test_patch_replaces_the_roi_and_the_name_together(api, printer_with_roi):
    response = api.patch(f"/api/v1/printers/{printer_with_roi.id}/", {"name": "Voron", "roi": LEFT_HALF}, format="json")

    assert response.status_code == 200
    assert response.json() == printer_json(printer_with_roi, name="Voron", roi=LEFT_HALF)


@pytest.mark.parametrize(("roi", "message"), API_INVALID_REGIONS)
def test_patch_with_an_invalid_roi_is_400_and_changes_nothing(api, printer_with_roi, roi, message):
    before = rows_of(printer_with_roi)

    response = api.patch(f"/api/v1/printers/{printer_with_roi.id}/", {"name": "Voron", "roi": roi}, format="json")

    assert response.status_code == 400
    assert response.json() == {"error": f"roi: {message}", "code": "invalid", "details": {"roi": [message]}}
    assert rows_of(printer_with_roi) == before


def test_patching_another_users_roi_is_404_and_changes_nothing(api):
    other = PrinterFactory(name="theirs", roi=BED)
    before = rows_of(other)

    response = api.patch(f"/api/v1/printers/{other.id}/", {"roi": None}, format="json")

    assert response.status_code == 404
    assert response.json() == {"error": "Printer not found.", "code": "not_found"}
    assert rows_of(other) == before


def test_the_printer_json_shows_the_roi_after_sensitivity(api, user):
    printer = PrinterFactory(owner=user, name="Ender 3", sensitivity=0.8, roi=BED)

    body = api.get(f"/api/v1/printers/{printer.id}/").json()

    assert body == printer_json(printer, name="Ender 3", roi=BED, sensitivity=0.8)
    assert list(body) == ["id", "name", "sensitivity", "roi", "created_at", "updated_at", "current_print", "status"]
    assert api.get("/api/v1/printers/").json() == [body]


def test_the_printer_in_start_print_shows_the_roi(api, printer_with_roi):
    response = api.post(f"/api/v1/printers/{printer_with_roi.id}/start_print/", {"filename": "a.gcode"}, format="json")

    assert response.status_code == 200
    assert response.json()["printer"]["roi"] == BED


# --- the migration -----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_the_migration_gives_existing_printers_no_roi():
    before, after = [("printers", "0003_printer_sensitivity")], [("printers", "0004_printer_roi")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old_apps = executor.loader.project_state(before).apps
    owner = old_apps.get_model("auth", "User").objects.create(username="early")
    old_apps.get_model("printers", "Printer").objects.create(owner=owner, name="early printer", sensitivity=1.5)

    executor = MigrationExecutor(connection)
    executor.migrate(after)

    new_printer = executor.loader.project_state(after).apps.get_model("printers", "Printer")
    assert list(new_printer.objects.values_list("name", "sensitivity", "roi")) == [("early printer", 1.5, None)]
    assert list(Printer.objects.values_list("name", "roi")) == [("early printer", None)]


# --- predict -----------------------------------------------------------------------------------------


@pytest.fixture
def model_inputs(monkeypatch):
    """What the model received at each predict: the pixels' size before the resize, and the tensor."""
    seen = []
    preprocess = Detector.preprocess

    def spy(self, image):
        tensor = preprocess(self, image)
        seen.append((image.pixels.size, tensor))
        return tensor

    monkeypatch.setattr(Detector, "preprocess", spy)
    return seen


def white_left_black_right(size=(768, 512), image_format="PNG") -> bytes:
    """A frame whose left half is white and right half black."""
    image = Image.new("RGB", size, (0, 0, 0))
    image.paste((255, 255, 255), (0, 0, size[0] // 2, size[1]))
    buffer = io.BytesIO()
    image.save(buffer, format=image_format)
    return buffer.getvalue()


def predict_with_roi(api, user, roi, data):
    printer = PrinterFactory(owner=user, roi=roi)
    api.post(f"/api/v1/printers/{printer.id}/start_print/", {"filename": "a.gcode"}, format="json")
    return api.post(f"/api/v1/printers/{printer.id}/predict/", {"img": snapshot(data)}, format="multipart")


def corners(detection):
    _, (xc, yc, w, h) = detection
    return xc - w / 2, yc - h / 2, xc + w / 2, yc + h / 2


def assert_inside(detections, roi, width, height):
    for detection in detections:
        x1, y1, x2, y2 = corners(detection)
        tolerance = 1e-6
        assert roi["x1"] * width - tolerance <= x1 <= x2 <= roi["x2"] * width + tolerance, detection
        assert roi["y1"] * height - tolerance <= y1 <= y2 <= roi["y2"] * height + tolerance, detection


def test_predict_with_a_roi_on_the_black_half_feeds_the_model_only_black(api, user, model_inputs):
    response = predict_with_roi(api, user, RIGHT_HALF, white_left_black_right())

    assert response.status_code == 200
    assert response.json()["result"]["p"] == 0.0
    assert response.json()["result"]["detections"] == []
    ((pixels_size, tensor),) = model_inputs
    # Decoded at (192, 64) for the 96x64 input: the 768x512 PNG is reduced by 4, and its right half cut.
    assert pixels_size == (96, 128)
    assert tensor.shape == (1, 3, 64, 96)
    assert tensor.max() == 0.0


def test_predict_without_a_roi_feeds_the_model_the_whole_frame(api, user, model_inputs):
    response = predict_with_roi(api, user, None, white_left_black_right())

    assert response.status_code == 200
    ((pixels_size, tensor),) = model_inputs
    assert pixels_size == (96, 64)  # reduced by 8 to the model input, as before regions existed
    assert tensor.mean() == pytest.approx(0.5)
    assert response.json()["result"]["p"] == pytest.approx(0.35)


def test_predict_with_a_roi_on_the_white_half_reports_detections_in_frame_pixels(api, user, model_inputs):
    response = predict_with_roi(api, user, LEFT_HALF, white_left_black_right())

    assert response.status_code == 200
    result = response.json()["result"]
    ((_, tensor),) = model_inputs
    assert tensor.min() == 1.0  # all white
    assert result["p"] == pytest.approx(0.7)
    # The tiny model's boxes, as fractions of the left half, in pixels of the 768x512 frame.
    assert result["detections"] == [
        [pytest.approx(0.5), pytest.approx([76.8, 204.8, 76.8, 204.8])],
        [pytest.approx(0.2), pytest.approx([288.0, 358.4, 115.2, 204.8])],
    ]
    assert_inside(result["detections"], LEFT_HALF, 768, 512)


def test_boxes_the_model_draws_past_the_crop_are_clipped_to_the_roi(api, user, tmp_path, detection_settings):
    boxes = [[-0.5, -0.2, 0.4, 0.5], [0.6, 0.5, 1.7, 1.3], [0.2, 0.2, 0.8, 0.8]]
    detection_settings["MODEL_PATH"] = write_detector_model(tmp_path / "wide.onnx", boxes=boxes, confs=[0.3, 0.2, 0.1])

    response = predict_with_roi(api, user, BED, make_image_bytes((640, 480)))

    assert response.status_code == 200
    detections = response.json()["result"]["detections"]
    assert [confidence for confidence, _ in detections] == pytest.approx([0.3, 0.2, 0.1])
    assert_inside(detections, BED, 640, 480)
    # The first box starts past the crop's top-left corner: it starts at the region's.
    assert corners(detections[0])[:2] == pytest.approx((0.1 * 640, 0.25 * 480))
    assert corners(detections[1])[2:] == pytest.approx((0.8 * 640, 0.95 * 480))


@pytest.mark.parametrize("roi", [BED, {"x1": 0.0, "y1": 0.5, "x2": 0.25, "y2": 1.0}, RIGHT_HALF])
def test_a_jpeg_is_decoded_large_enough_for_the_crop_to_cover_the_model_input(api, user, model_inputs, roi):
    response = predict_with_roi(api, user, roi, make_image_bytes((1280, 960)))

    assert response.status_code == 200
    ((pixels_size, _),) = model_inputs
    width, height = pixels_size
    # Within a pixel of rounding the crop to whole pixels; without the larger decode, 1/8 scale
    # (160x120) would leave a quarter of the frame 40 pixels wide for 96 inputs.
    assert width >= 96 - 1
    assert height >= 64 - 1
    assert_inside(response.json()["result"]["detections"], roi, 1280, 960)


def test_predict_with_a_roi_takes_the_same_queries(api, user, django_assert_num_queries):
    printer = PrinterFactory(owner=user, roi=BED)
    api.post(f"/api/v1/printers/{printer.id}/start_print/", {"filename": "a.gcode"}, format="json")

    # As tests/prints/test_query_counts.py: the roi comes with the first query, before the image is decoded.
    with django_assert_num_queries(8):
        response = api.post(f"/api/v1/printers/{printer.id}/predict/", {"img": snapshot()}, format="multipart")

    assert response.status_code == 200


def test_the_prediction_history_keeps_frame_pixels(api, user):
    printer = PrinterFactory(owner=user, roi=LEFT_HALF)
    api.post(f"/api/v1/printers/{printer.id}/start_print/", {"filename": "a.gcode"}, format="json")
    api.post(f"/api/v1/printers/{printer.id}/predict/", {"img": snapshot(white_left_black_right())}, format="multipart")
    print_id = Printer.objects.get(pk=printer.pk).current_print_id

    timeline = api.get(f"/api/v1/prints/{print_id}/predictions/").json()["results"]

    assert timeline[0]["detections"] == [
        [pytest.approx(0.5), pytest.approx([76.8, 204.8, 76.8, 204.8])],
        [pytest.approx(0.2), pytest.approx([288.0, 358.4, 115.2, 204.8])],
    ]


def test_predict_on_an_idle_printer_with_a_roi_is_still_404(api, printer_with_roi):
    response = api.post(f"/api/v1/printers/{printer_with_roi.id}/predict/", {"img": snapshot()}, format="multipart")

    assert response.status_code == 404
    assert response.json() == {"error": "The printer is not printing.", "code": "not_found"}
