"""Hostile and malformed input: always a 4xx JSON error with a sentence, nothing written or counted."""

import io

import pytest
from PIL import Image

from detection.models import PrinterStats
from printers.models import Printer
from prints.models import Print
from tests.conftest import make_image_bytes, snapshot
from tests.detection.test_image import png_declaring, truncated_jpeg

pytestmark = pytest.mark.django_db


@pytest.fixture
def printing(api, printer):
    api.post(f"/api/v1/printers/{printer.id}/start_print/", {"filename": "a.gcode"}, format="json")
    return printer


def gif():
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32)).save(buffer, format="GIF")
    return buffer.getvalue()


SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'


@pytest.mark.parametrize(
    ("data", "name", "error"),
    [
        (b"", "empty.jpg", "img: The image file is empty."),
        (b"MZ\x90\x00 an executable", "x.jpg", "img: The file is not a JPEG, PNG or WebP image."),
        (truncated_jpeg(), "cut.jpg", "img: The image data is corrupt or truncated."),
        (gif(), "anim.gif", "img: GIF images are not accepted; send a JPEG, PNG or WebP image."),
        (SVG, "vector.svg", "img: The file is not a JPEG, PNG or WebP image."),
        (png_declaring(40000, 40000), "bomb.png", "img: The image is too large."),
    ],
    ids=["zero-bytes", "not-an-image", "truncated-jpeg", "gif", "svg", "40000x40000"],
)
def test_bad_images_are_400_and_count_nothing(api, printing, data, name, error):
    response = api.post(f"/api/v1/printers/{printing.id}/predict/", {"img": snapshot(data, name)}, format="multipart")

    assert response.status_code == 400
    assert response.json()["error"] == error
    stats = PrinterStats.objects.get(printer=printing)
    assert (stats.prediction_num, stats.last_p) == (0, None)


def test_a_gigantic_image_is_refused_from_its_header_without_decoding(api, printing, monkeypatch):
    def no_decoding(self, *args, **kwargs):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(Image.Image, "load", no_decoding)
    monkeypatch.setattr("PIL.ImageFile.ImageFile.load", no_decoding)

    response = api.post(
        f"/api/v1/printers/{printing.id}/predict/", {"img": snapshot(png_declaring(40000, 40000))}, format="multipart"
    )

    assert response.status_code == 400


def test_img_sent_as_a_text_field_is_400(api, printing):
    response = api.post(f"/api/v1/printers/{printing.id}/predict/", {"img": "not a file"}, format="multipart")

    assert response.status_code == 400
    assert response.json()["error"] == "img: This field is required."


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b'["a", "list"]', "application/json"),
        (b'"a string"', "application/json"),
        (b"null", "application/json"),
        (b'{"filename": 42}', "application/json"),
        (b'{"filename": {"nested": true}}', "application/json"),
        (b"\xff\xfe\x00garbage", "application/json"),
        (b"filename=a.gcode", "text/plain"),
        (b"filename=a.gcode", "application/x-www-form-urlencoded"),  # the API speaks JSON
    ],
)
def test_malformed_bodies_on_start_print_are_4xx_json_and_start_nothing(api, printer, body, content_type):
    response = api.generic("POST", f"/api/v1/printers/{printer.id}/start_print/", body, content_type=content_type)

    assert 400 <= response.status_code < 500
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]
    assert not Print.objects.exists()


@pytest.mark.parametrize(
    "filename",
    ["", "   ", "x" * 10_000, "bad\nname.gcode", "nul\x00.gcode", "esc\x1b[31m.gcode", "tab\tname", "del\x7f"],
    ids=["blank", "spaces", "10000-chars", "newline", "nul", "ansi-escape", "tab", "delete"],
)
def test_bad_filenames_are_400_and_start_nothing(api, printer, filename):
    response = api.post(f"/api/v1/printers/{printer.id}/start_print/", {"filename": filename}, format="json")

    assert response.status_code == 400
    assert response.json()["error"].startswith("filename: ")
    assert not Print.objects.exists()


@pytest.mark.parametrize("filename", ["ベンチー.gcode", "Ünïcödé ✓.gcode", "emoji 🚀🐢.3mf", "שלום.gcode"])
def test_unicode_filenames_come_back_unchanged(api, printer, filename):
    response = api.post(f"/api/v1/printers/{printer.id}/start_print/", {"filename": filename}, format="json")

    assert response.status_code == 200
    assert response.json()["printer"]["current_print"]["filename"] == filename
    assert api.get("/api/v1/prints/").json()["results"][0]["filename"] == filename


def test_a_printer_name_with_control_characters_is_400(api):
    response = api.post("/api/v1/printers/", {"name": "evil\r\nX-Injected: 1"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"] == "name: Must not contain control characters."
    assert not Printer.objects.exists()


def test_fields_the_api_does_not_take_are_ignored_not_written(api, printer):
    other_owner = Printer.objects.exclude(pk=printer.pk).count()

    response = api.patch(
        f"/api/v1/printers/{printer.id}/",
        {"name": "ok", "owner": 999, "id": 5, "current_print": 1, "created_at": "2000-01-01T00:00:00Z"},
        format="json",
    )

    assert response.status_code == 200
    fresh = Printer.objects.get(pk=printer.pk)
    assert (fresh.owner_id, fresh.current_print_id, fresh.created_at) == (
        printer.owner_id,
        None,
        printer.created_at,
    )
    assert Printer.objects.exclude(pk=printer.pk).count() == other_owner


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/printers/{id}/start_print/"),
        ("put", "/api/v1/printers/{id}/"),
        ("delete", "/api/v1/printers/{id}/finish_print/"),
        ("patch", "/api/v1/prints/"),
    ],
)
def test_wrong_methods_are_405_with_a_json_sentence(api, printer, method, path):
    response = getattr(api, method)(path.format(id=printer.id))

    assert response.status_code == 405
    assert response.json()["error"].startswith("Method ")


def test_a_valid_upload_still_works_after_all_that(api, printing):
    response = api.post(
        f"/api/v1/printers/{printing.id}/predict/", {"img": snapshot(make_image_bytes())}, format="multipart"
    )

    assert response.status_code == 200
