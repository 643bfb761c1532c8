"""Hostile and malformed input: always a 4xx JSON error with a sentence, nothing written or counted."""

import io

import pytest
from PIL import Image

from detection.models import PrinterStats
from printers.models import Printer
from prints.models import Print
from tests.detection import hostile_images as hostile
from tests.detection.test_image import (
    GARBAGE_EXIF,
    png_declaring,
    png_with_chunk,
    progressive_jpeg_with_repeated_last_scan,
    truncated_jpeg,
    webp_lossless_declaring,
)
from tests.fixtures.images import make_image_bytes, snapshot

pytestmark = pytest.mark.django_db


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
        (
            png_declaring(40000, 40000),
            "bomb.png",
            "img: The image is too large: 40000x40000 pixels; a PNG may have at most 1,228,800.",
        ),
        (
            webp_lossless_declaring(7000, 7000),
            "bomb.webp",
            "img: The image is too large: 7000x7000 pixels; a WebP may have at most 1,228,800.",
        ),
        (
            png_declaring(50_000_000, 1),
            "strip.png",
            "img: The image is too large: 50000000x1 pixels; a PNG may have at most 1,228,800.",
        ),
        (
            png_declaring(10_000, 1),
            "strip.png",
            "img: The image is too narrow: 10000x1 pixels; the longer side may be at most 4 times the shorter.",
        ),
        (
            progressive_jpeg_with_repeated_last_scan((4000, 3000), 300),
            "scans.jpg",
            "img: The JPEG has 310 scans; at most 20 are accepted "
            "(a progressive JPEG from a camera or a library has about 10).",
        ),
        (
            progressive_jpeg_with_repeated_last_scan((1280, 720), 300),
            "scans.jpg",
            "img: The JPEG has 310 scans; at most 20 are accepted "
            "(a progressive JPEG from a camera or a library has about 10).",
        ),
        (
            make_image_bytes((4000, 3000), color=(1, 2, 3), image_format="PNG"),
            "big.png",
            "img: The image is too large: 4000x3000 pixels; a PNG may have at most 1,228,800.",
        ),
        (png_with_chunk(b"tRNS", b"\x01"), "trns.png", "img: The image data is corrupt or truncated."),
    ],
    ids=[
        "zero-bytes",
        "not-an-image",
        "truncated-jpeg",
        "gif",
        "svg",
        "40000x40000",
        "webp-7000x7000",
        "png-50000000x1",
        "png-10000x1",
        "jpeg-4000x3000-310-scans",
        "jpeg-1280x720-310-scans",
        "png-4000x3000",
        "png-1-byte-trns",
    ],
)
def test_bad_images_are_400_and_count_nothing(api, printing, data, name, error):
    response = api.post(f"/api/v1/printers/{printing.id}/predict/", {"img": snapshot(data, name)}, format="multipart")

    assert response.status_code == 400
    assert response.json()["error"] == error
    stats = PrinterStats.objects.get(printer=printing)
    assert (stats.prediction_num, stats.last_p) == (0, None)


def test_the_limits_are_settings(api, printing, settings):
    settings.DETECTION = {**settings.DETECTION, "MAX_PIXELS": 100 * 100, "MAX_JPEG_SCANS": 1}
    data = make_image_bytes((101, 100))

    response = api.post(f"/api/v1/printers/{printing.id}/predict/", {"img": snapshot(data)}, format="multipart")

    assert response.json()["error"] == "img: The image is too large: 101x100 pixels; a JPEG may have at most 10,000."
    settings.DETECTION = {**settings.DETECTION, "MAX_PIXELS": 200 * 200}
    data = make_image_bytes((100, 100), progressive=True)
    response = api.post(f"/api/v1/printers/{printing.id}/predict/", {"img": snapshot(data)}, format="multipart")
    assert response.json()["error"].startswith("img: The JPEG has 10 scans; at most 1 are accepted")


@pytest.mark.parametrize(
    "data",
    [
        png_with_chunk(b"eXIf", b"garbage!!"),
        make_image_bytes(image_format="WEBP", exif=b"garbage"),
        make_image_bytes(image_format="JPEG", exif=GARBAGE_EXIF),
    ],
    ids=["png-exif", "webp-exif", "jpeg-app1"],
)
def test_broken_exif_is_ignored_and_the_snapshot_counted(api, printing, data):
    response = api.post(f"/api/v1/printers/{printing.id}/predict/", {"img": snapshot(data)}, format="multipart")

    assert response.status_code == 200
    assert PrinterStats.objects.get(printer=printing).prediction_num == 1


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


# --- Issue 23: refused formats, uploads made of markers or chunks, JPEGs that hold the whole frame ---

MIB = 1024 * 1024


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (hostile.eps(5 * MIB), "img: EPS images are not accepted; send a JPEG, PNG or WebP image."),
        (hostile.gif_comment_blocks(5 * MIB), "img: GIF images are not accepted; send a JPEG, PNG or WebP image."),
        (hostile.im(5 * MIB), "img: The file is not a JPEG, PNG or WebP image."),
        (
            hostile.jpeg_of_com_segments(5 * MIB)[:-2],
            "img: The image file is too large: 5,242,876 bytes; a JPEG may have at most 655,360.",
        ),
        (
            hostile.jpeg_of_com_segments(640 * 1024),
            "img: The JPEG has more than 1,000 marker segments; at most 1,000 are accepted "
            "(an encoder writes about 10).",
        ),
        (hostile.jpeg_of_rst_markers(640 * 1024), "img: The image data is corrupt or truncated."),
        (
            hostile.png_with_chunks(54_000),
            "img: The PNG has more than 1,000 chunks; at most 1,000 are accepted (an encoder writes tens).",
        ),
        (
            hostile.sequential_jpeg((4096, 4096)),
            "img: The image is too large: 4096x4096 pixels; a multi-scan JPEG may have at most 1,228,800.",
        ),
    ],
    ids=[
        "eps-5mib",
        "gif-comment-sub-blocks-5mib",
        "im-5mib",
        "jpeg-5mib-of-com-segments",
        "jpeg-640kib-of-com-segments",
        "jpeg-640kib-of-rst-markers",
        "png-54000-empty-chunks",
        "jpeg-4096x4096-in-3-scans",
    ],
)
def test_hostile_uploads_are_400_with_their_reason_before_pillow_opens_them(api, printing, monkeypatch, data, error):
    opened = []
    monkeypatch.setattr("detection.image.Image.open", lambda *args, **kwargs: opened.append(args))

    response = api.post(f"/api/v1/printers/{printing.id}/predict/", {"img": snapshot(data)}, format="multipart")

    assert response.status_code == 400
    assert response.json() == {"error": error, "code": "invalid", "details": {"img": [error.removeprefix("img: ")]}}
    assert opened == []
    stats = PrinterStats.objects.get(printer=printing)
    assert (stats.prediction_num, stats.last_p) == (0, None)


@pytest.mark.parametrize(
    "data",
    [
        hostile.jpeg_with_app_segment(hostile.exif_pointing_many_tags_at_one_blob()),
        hostile.jpeg_with_app_segment(hostile.photoshop_resources(), marker=0xED, copies=9),
        hostile.png_with_chunks(900),
        hostile.sequential_jpeg((640, 480)),
    ],
    ids=["jpeg-exif-bomb", "jpeg-photoshop-blocks", "png-900-chunks", "jpeg-3-scans-640x480"],
)
def test_uploads_within_the_limits_whose_metadata_is_hostile_are_scored(api, printing, data):
    response = api.post(f"/api/v1/printers/{printing.id}/predict/", {"img": snapshot(data)}, format="multipart")

    assert response.status_code == 200
    assert PrinterStats.objects.get(printer=printing).prediction_num == 1
