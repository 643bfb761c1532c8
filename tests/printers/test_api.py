"""The printers endpoints: exact bodies, status codes and database side effects.

Expected bodies are written out per test: only the values the server picks (ids, timestamps) are read
back from the rows, so a mistake in the serializer cannot be copied into the expectation.
"""

import pytest
from django.utils import timezone
from rest_framework.fields import DateTimeField

from printers.models import Printer
from prints.models import Print
from tests.factories import PrinterFactory, UserFactory
from tests.fixtures.images import make_image_bytes, snapshot

pytestmark = pytest.mark.django_db

ZERO_STATS = {
    "ewm_mean": 0.0,
    "rolling_mean_short": 0.0,
    "rolling_mean_long": 0.0,
    "prediction_num": 0,
    "prediction_num_lifetime": 0,
}

# A white snapshot through the tiny model: confidences 0.5 and 0.2 after suppression, so p = 0.7.
WHITE_P = 0.7
# The first prediction of a print: the spec's EWM (span 12, alpha 2/13) from 0, the means of one value.
ONE_WHITE_SNAPSHOT_STATS = {
    "ewm_mean": pytest.approx(WHITE_P * 2 / 13),
    "rolling_mean_short": pytest.approx(WHITE_P),
    "rolling_mean_long": pytest.approx(WHITE_P),
    "prediction_num": 1,
    "prediction_num_lifetime": 1,
}


def iso(value):
    return DateTimeField().to_representation(value)


def stored(printer):
    """The values the server picks for a printer, read back from its row: its id and its two timestamps."""
    row = Printer.objects.get(pk=printer.pk)
    return {"id": row.id, "created_at": iso(row.created_at), "updated_at": iso(row.updated_at)}


def stats_of(printer):
    """The printer's statistics row, read fresh from the database."""
    return Printer.objects.select_related("stats").get(pk=printer.pk).stats


def stats_rows():
    """All statistics rows, reached through ``Printer.stats`` so the test does not import their module."""
    return Printer._meta.get_field("stats").related_model.objects


def prediction_rows():
    """All stored predictions, reached through ``Print.predictions`` for the same reason."""
    return Print._meta.get_field("predictions").related_model.objects


def rows_of(printer):
    """Every stored field of the printer, its statistics row and its prints."""
    return (
        Printer.objects.filter(pk=printer.pk).values().get(),
        stats_rows().filter(printer=printer).values().get(),
        list(Print.objects.filter(printer=printer).order_by("pk").values()),
    )


@pytest.fixture
def printer(user):
    """The caller's printer, under a name the expected bodies can spell out."""
    return PrinterFactory(owner=user, name="Prusa MK4")


def start(api, printer, filename="benchy.gcode"):
    return api.post(f"/api/v1/printers/{printer.id}/start_print/", {"filename": filename}, format="json")


def predict(api, printer, data=None):
    return api.post(f"/api/v1/printers/{printer.id}/predict/", {"img": snapshot(data)}, format="multipart")


# --- list, create, detail, update, delete --------------------------------------------------------


def test_list_is_a_plain_list_of_the_callers_printers_only(api, user):
    prusa = PrinterFactory(owner=user, name="Prusa MK4")
    voron = PrinterFactory(owner=user, name="Voron", sensitivity=1.5)
    PrinterFactory(name="Someone else's")

    response = api.get("/api/v1/printers/")

    assert response.status_code == 200
    assert response.json() == [
        {
            **stored(prusa),
            "name": "Prusa MK4",
            "sensitivity": 1.0,
            "roi": None,
            "current_print": None,
            "status": {"printing": False, "last_prediction": None, "verdict": None, "temporal_stats": ZERO_STATS},
        },
        {
            **stored(voron),
            "name": "Voron",
            "sensitivity": 1.5,
            "roi": None,
            "current_print": None,
            "status": {"printing": False, "last_prediction": None, "verdict": None, "temporal_stats": ZERO_STATS},
        },
    ]


def test_create_printer_returns_201_with_zeroed_statistics(api, user):
    response = api.post("/api/v1/printers/", {"name": "Prusa MK4"}, format="json")

    assert response.status_code == 201
    printer = Printer.objects.get(owner=user)
    assert response.json() == {
        **stored(printer),
        "name": "Prusa MK4",
        "sensitivity": 1.0,
        "roi": None,
        "current_print": None,
        "status": {"printing": False, "last_prediction": None, "verdict": None, "temporal_stats": ZERO_STATS},
    }
    assert (printer.name, printer.sensitivity) == ("Prusa MK4", 1.0)
    assert stats_rows().filter(printer=printer).values(*ZERO_STATS).get() == ZERO_STATS


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "x" * 256}, {"name": None}, {"name": ["a", "list"]}])
def test_create_printer_without_a_valid_name_is_400_and_creates_nothing(api, body):
    response = api.post("/api/v1/printers/", body, format="json")

    assert response.status_code == 400
    assert response.json()["error"].startswith("name: ")
    assert not Printer.objects.exists()


def test_get_printer_detail(api, user):
    printer = PrinterFactory(owner=user, name="Ender 3", sensitivity=0.8)

    response = api.get(f"/api/v1/printers/{printer.id}/")

    assert response.status_code == 200
    assert response.json() == {
        **stored(printer),
        "name": "Ender 3",
        "sensitivity": 0.8,
        "roi": None,
        "current_print": None,
        "status": {"printing": False, "last_prediction": None, "verdict": None, "temporal_stats": ZERO_STATS},
    }


def test_detail_of_a_printing_printer_shows_its_print_latest_prediction_and_verdict(api, printer):
    start(api, printer, "benchy.gcode")
    predict(api, printer)
    running = Print.objects.get(printer=printer)

    response = api.get(f"/api/v1/printers/{printer.id}/")

    assert response.status_code == 200
    assert response.json() == {
        **stored(printer),
        "name": "Prusa MK4",
        "sensitivity": 1.0,
        "roi": None,
        "current_print": {"id": running.id, "filename": "benchy.gcode", "started_at": iso(running.started_at)},
        "status": {
            "printing": True,
            "last_prediction": {"p": pytest.approx(WHITE_P), "predicted_at": iso(stats_of(printer).last_predicted_at)},
            "verdict": "ok",
            "temporal_stats": ONE_WHITE_SNAPSHOT_STATS,
        },
    }


def test_patch_renames_the_printer(api, printer):
    response = api.patch(f"/api/v1/printers/{printer.id}/", {"name": "Voron"}, format="json")

    assert response.status_code == 200
    printer.refresh_from_db()
    assert printer.name == "Voron"
    assert response.json() == {
        **stored(printer),
        "name": "Voron",
        "sensitivity": 1.0,
        "roi": None,
        "current_print": None,
        "status": {"printing": False, "last_prediction": None, "verdict": None, "temporal_stats": ZERO_STATS},
    }


def test_patch_with_a_blank_name_is_400_and_changes_nothing(api, printer):
    response = api.patch(f"/api/v1/printers/{printer.id}/", {"name": "  "}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "error": "name: This field may not be blank.",
        "code": "invalid",
        "details": {"name": ["This field may not be blank."]},
    }
    assert Printer.objects.get(pk=printer.pk).name == printer.name


def test_delete_idle_printer_removes_it_with_its_prints_and_statistics(api, printer):
    start(api, printer)
    api.post(f"/api/v1/printers/{printer.id}/finish_print/", {}, format="json")

    response = api.delete(f"/api/v1/printers/{printer.id}/")

    assert response.status_code == 204
    assert not Printer.objects.exists()
    assert not Print.objects.exists()
    assert not stats_rows().exists()


def test_delete_printing_printer_is_400_and_keeps_it(api, printer):
    start(api, printer)

    response = api.delete(f"/api/v1/printers/{printer.id}/")

    assert response.status_code == 400
    message = "The printer is printing; finish the print before deleting it."
    # One error shape: a rule of the whole request is a non-field error, under DRF's own key.
    assert response.json() == {
        "error": message,
        "code": "printer_printing",
        "details": {"non_field_errors": [message]},
    }
    assert Printer.objects.filter(pk=printer.pk).exists()


# --- another user's printer is a 404 for every method ---------------------------------------------


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("get", "", None),
        ("patch", "", {"name": "stolen"}),
        ("delete", "", None),
        ("post", "start_print/", {"filename": "a.gcode"}),
        ("post", "finish_print/", {"status": "cancelled"}),
    ],
)
def test_another_users_printer_is_404_and_unchanged(api, make_client, method, suffix, body):
    other = PrinterFactory(name="theirs")
    running = Print.objects.create(printer=other, filename="theirs.gcode", started_at=timezone.now())
    Printer.objects.filter(pk=other.pk).update(current_print=running)
    before = rows_of(other)

    response = getattr(api, method)(f"/api/v1/printers/{other.id}/{suffix}", body, format="json")

    assert response.status_code == 404
    assert response.json() == {"error": "Printer not found.", "code": "not_found"}
    assert rows_of(other) == before
    assert Print.objects.count() == 1
    # Their owner still sees the printer exactly as it was.
    assert make_client(other.owner).get(f"/api/v1/printers/{other.id}/").json() == {
        **stored(other),
        "name": "theirs",
        "sensitivity": 1.0,
        "roi": None,
        "current_print": {"id": running.id, "filename": "theirs.gcode", "started_at": iso(running.started_at)},
        "status": {"printing": True, "last_prediction": None, "verdict": None, "temporal_stats": ZERO_STATS},
    }


def test_predict_on_another_users_printing_printer_is_404_and_counts_nothing(api):
    other = PrinterFactory()
    running = Print.objects.create(printer=other, filename="x.gcode", started_at=timezone.now())
    Printer.objects.filter(pk=other.pk).update(current_print=running)

    response = predict(api, other)

    assert response.status_code == 404
    assert response.json() == {"error": "Printer not found.", "code": "not_found"}
    assert stats_of(other).prediction_num_lifetime == 0
    assert not prediction_rows().exists()


@pytest.mark.parametrize("printer_id", ["0", "-1", "99999999999999999999", "abc", "9223372036854775807"])
def test_unknown_or_impossible_printer_ids_are_json_404(api, printer_id):
    response = api.get(f"/api/v1/printers/{printer_id}/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "error" in response.json()


# --- start_print ------------------------------------------------------------------------------------


def test_start_print_returns_the_spec_body_and_creates_the_print(api, printer):
    response = start(api, printer, "my_model.gcode")

    assert response.status_code == 200
    new_print = Print.objects.get(printer=printer)
    assert new_print.filename == "my_model.gcode"
    assert new_print.status == "printing"
    assert response.json() == {
        "succeeded": True,
        "printer": {
            **stored(printer),
            "name": "Prusa MK4",
            "sensitivity": 1.0,
            "roi": None,
            "current_print": {
                "id": new_print.id,
                "filename": "my_model.gcode",
                "started_at": iso(new_print.started_at),
            },
            "status": {"printing": True, "last_prediction": None, "verdict": None, "temporal_stats": ZERO_STATS},
        },
    }
    assert Printer.objects.get(pk=printer.pk).current_print_id == new_print.id


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({}, "filename: This field is required."),
        ({"filename": ""}, "filename: This field may not be blank."),
        ({"filename": "   "}, "filename: This field may not be blank."),
        ({"filename": "a" * 256}, "filename: Ensure this field has no more than 255 characters."),
        ({"filename": None}, "filename: This field may not be null."),
    ],
)
def test_start_print_without_a_valid_filename_is_400_and_starts_nothing(api, printer, body, error):
    response = api.post(f"/api/v1/printers/{printer.id}/start_print/", body, format="json")

    assert response.status_code == 400
    assert response.json()["error"] == error
    assert not Print.objects.exists()


def test_start_print_accepts_255_characters_and_unicode(api, printer):
    name = "ベンチー🚢" + "a" * 249

    response = start(api, printer, name)

    assert response.status_code == 200
    assert response.json()["printer"]["current_print"]["filename"] == name


def test_start_print_while_printing_is_400_and_keeps_the_running_print(api, printer):
    start(api, printer, "first.gcode")

    response = start(api, printer, "second.gcode")

    assert response.status_code == 400
    message = "The printer is already printing; finish that print first."
    assert response.json() == {
        "error": message,
        "code": "already_printing",
        "details": {"non_field_errors": [message]},
    }
    assert list(Print.objects.values_list("filename", flat=True)) == ["first.gcode"]


def test_start_print_resets_per_print_statistics_and_keeps_lifetime_ones(api, printer):
    start(api, printer, "first.gcode")
    for _ in range(3):
        predict(api, printer)
    api.post(f"/api/v1/printers/{printer.id}/finish_print/", {}, format="json")

    response = start(api, printer, "second.gcode")

    assert response.status_code == 200
    second = Print.objects.get(printer=printer, filename="second.gcode")
    assert response.json() == {
        "succeeded": True,
        "printer": {
            **stored(printer),
            "name": "Prusa MK4",
            "sensitivity": 1.0,
            "roi": None,
            "current_print": {"id": second.id, "filename": "second.gcode", "started_at": iso(second.started_at)},
            "status": {
                "printing": True,
                # The printer's latest prediction is the first print's last one; the new print has no verdict yet.
                "last_prediction": {
                    "p": pytest.approx(WHITE_P),
                    "predicted_at": iso(stats_of(printer).last_predicted_at),
                },
                "verdict": None,
                "temporal_stats": {
                    "ewm_mean": 0.0,
                    "rolling_mean_short": 0.0,
                    "rolling_mean_long": pytest.approx(WHITE_P),
                    "prediction_num": 0,
                    "prediction_num_lifetime": 3,
                },
            },
        },
    }


# --- finish_print -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status"), [({}, "finished"), ({"status": "success"}, "finished"), ({"status": "cancelled"}, "cancelled")]
)
def test_finish_print_ends_the_print_with_its_outcome(api, printer, body, status):
    start(api, printer)
    predict(api, printer)

    response = api.post(f"/api/v1/printers/{printer.id}/finish_print/", body, format="json")

    assert response.status_code == 200
    assert response.json() == {
        "succeeded": True,
        "printer": {
            **stored(printer),
            "name": "Prusa MK4",
            "sensitivity": 1.0,
            "roi": None,
            "current_print": None,
            "status": {
                "printing": False,
                # Idle: no verdict, but the latest prediction and the ended print's statistics stay visible.
                "last_prediction": {
                    "p": pytest.approx(WHITE_P),
                    "predicted_at": iso(stats_of(printer).last_predicted_at),
                },
                "verdict": None,
                "temporal_stats": ONE_WHITE_SNAPSHOT_STATS,
            },
        },
    }
    assert Printer.objects.get(pk=printer.pk).current_print_id is None
    finished = Print.objects.get()
    assert finished.status == status
    assert finished.ended_at is not None
    assert finished.prediction_num == 1


@pytest.mark.parametrize("status", ["failed", "", "SUCCESS", 1, None])
def test_finish_print_with_an_unknown_status_is_400_and_keeps_printing(api, printer, status):
    start(api, printer)

    response = api.post(f"/api/v1/printers/{printer.id}/finish_print/", {"status": status}, format="json")

    assert response.status_code == 400
    assert response.json()["error"].startswith("status: ")
    assert Print.objects.get().status == "printing"


def test_finish_print_when_idle_is_404(api, printer):
    response = api.post(f"/api/v1/printers/{printer.id}/finish_print/", {}, format="json")

    assert response.status_code == 404
    assert response.json() == {"error": "The printer is not printing.", "code": "not_found"}


# --- predict ------------------------------------------------------------------------------------------


def test_predict_returns_the_spec_result_and_counts_the_prediction(api, printer):
    start(api, printer)

    response = predict(api, printer, make_image_bytes((640, 480), image_format="PNG"))

    assert response.status_code == 200
    assert response.json() == {
        "result": {
            "p": pytest.approx(0.7),
            "temporal_stats": {
                "ewm_mean": pytest.approx(0.7 * 2 / 13),
                "rolling_mean_short": pytest.approx(0.7),
                "rolling_mean_long": pytest.approx(0.7),
                "prediction_num": 1,
                "prediction_num_lifetime": 1,
            },
            "detections": [
                [pytest.approx(0.5), pytest.approx([128.0, 192.0, 128.0, 192.0])],
                [pytest.approx(0.2), pytest.approx([480.0, 336.0, 192.0, 192.0])],
            ],
            "verdict": "ok",  # no verdict but ok before 30 predictions
        }
    }
    stats = stats_of(printer)
    assert (stats.prediction_num, stats.last_p, stats.last_verdict) == (1, pytest.approx(0.7), "ok")
    assert stats.last_predicted_at is not None
    assert list(prediction_rows().values_list("print__filename", "prediction_num", "verdict")) == [
        ("benchy.gcode", 1, "ok")
    ]


def test_predict_statistics_follow_the_spec_over_several_snapshots(api, printer):
    start(api, printer)
    ps = []
    for color in [(255, 255, 255), (0, 0, 0), (255, 255, 255)]:
        ps.append(predict(api, printer, make_image_bytes(color=color, image_format="PNG")).json()["result"]["p"])

    stats = api.get(f"/api/v1/printers/{printer.id}/").json()["status"]["temporal_stats"]

    assert ps == pytest.approx([0.7, 0.0, 0.7])
    alpha = 2 / 13  # the spec's EWM span of 12, starting from 0
    assert stats == {
        "ewm_mean": pytest.approx(0.7 * alpha * (1 + (1 - alpha) ** 2)),
        "rolling_mean_short": pytest.approx(1.4 / 3),
        "rolling_mean_long": pytest.approx(1.4 / 3),
        "prediction_num": 3,
        "prediction_num_lifetime": 3,
    }


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP"])
def test_predict_accepts_jpeg_png_and_webp(api, printer, image_format):
    start(api, printer)

    response = predict(api, printer, make_image_bytes(image_format=image_format))

    assert response.status_code == 200


def test_predict_on_an_idle_printer_is_404_and_counts_nothing(api, printer):
    response = predict(api, printer)

    assert response.status_code == 404
    assert response.json() == {"error": "The printer is not printing.", "code": "not_found"}
    assert stats_of(printer).prediction_num_lifetime == 0


@pytest.fixture
def no_decoding(monkeypatch):
    """Fail the test if the upload is opened at all."""

    def refuse(*args, **kwargs):
        raise AssertionError("the image was decoded")

    monkeypatch.setattr("detection.image.Image.open", refuse)
    monkeypatch.setattr("detection.services.decode_image", refuse)


def test_predict_checks_the_printer_before_the_image(api, printer, no_decoding):
    """Ownership and printing come first (404): nobody makes us decode for a printer not theirs."""
    other = PrinterFactory()
    running = Print.objects.create(printer=other, filename="x.gcode", started_at=timezone.now())
    Printer.objects.filter(pk=other.pk).update(current_print=running)
    missing_id = Printer.objects.order_by("-pk").first().pk + 1000

    for target_id, error in [
        (other.pk, "Printer not found."),
        (missing_id, "Printer not found."),
        (printer.pk, "The printer is not printing."),
    ]:
        response = api.post(
            f"/api/v1/printers/{target_id}/predict/", {"img": snapshot(b"not an image")}, format="multipart"
        )

        assert response.status_code == 404
        assert response.json() == {"error": error, "code": "not_found"}
    assert not prediction_rows().exists()


def test_a_snapshot_whose_print_ended_while_the_model_ran_is_404_and_counts_nothing(api, printer, monkeypatch):
    from detection import services as detection_services
    from prints.services.lifecycle import print_finish, print_start

    start(api, printer, "first.gcode")
    failure_score = detection_services.failure_score

    def print_replaced_during_inference(detections):
        # The owner finishes the print and starts the next one while this snapshot is scored.
        print_finish(printer=printer, status="finished")
        print_start(printer=printer, filename="second.gcode")
        return failure_score(detections)

    monkeypatch.setattr(detection_services, "failure_score", print_replaced_during_inference)

    response = predict(api, printer)

    assert response.status_code == 404
    assert response.json() == {"error": "The print this snapshot belongs to has ended.", "code": "not_found"}
    assert stats_of(printer).prediction_num_lifetime == 0
    assert not prediction_rows().exists()


def test_predict_without_img_is_400(api, printer):
    start(api, printer)

    response = api.post(f"/api/v1/printers/{printer.id}/predict/", {}, format="multipart")

    assert response.status_code == 400
    assert response.json()["error"] == "img: This field is required."
    assert stats_of(printer).prediction_num == 0


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", "img: The image file is empty."),
        (b"GIF89a not really", "img: GIF images are not accepted; send a JPEG, PNG or WebP image."),
        (b"just text", "img: The file is not a JPEG, PNG or WebP image."),
    ],
)
def test_predict_with_an_undecodable_img_is_400_and_counts_nothing(api, printer, data, error):
    start(api, printer)

    response = predict(api, printer, data)

    assert response.status_code == 400
    assert response.json()["error"] == error
    assert stats_of(printer).prediction_num == 0


def test_predict_with_two_images_is_400(api, printer):
    start(api, printer)

    response = api.post(
        f"/api/v1/printers/{printer.id}/predict/", {"img": [snapshot(), snapshot()]}, format="multipart"
    )

    assert response.status_code == 400
    assert response.json()["error"] == "img: Send exactly one image."


def test_predict_needs_multipart(api, printer):
    start(api, printer)

    response = api.post(f"/api/v1/printers/{printer.id}/predict/", {"img": "abc"}, format="json")

    assert response.status_code == 415
    assert "error" in response.json()


def test_users_do_not_see_each_others_statistics(api, printer):
    other = PrinterFactory(owner=UserFactory())
    start(api, printer)
    predict(api, printer)

    assert stats_of(other).prediction_num_lifetime == 0
