"""The README's quick start works from a clone: what it ships, links and shows is there and true."""

from pathlib import Path

import pytest
from PIL import Image

from detection.conf import detection_settings
from tests.conftest import snapshot

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_SNAPSHOT = ROOT / "examples" / "snapshot.jpg"
# Small enough to keep in git and to read in a glance at the repository.
SAMPLE_SNAPSHOT_MAX_BYTES = 100 * 1024


def test_the_sample_snapshot_is_a_small_webcam_sized_jpeg_within_the_upload_limits():
    data = SAMPLE_SNAPSHOT.read_bytes()
    picture = Image.open(SAMPLE_SNAPSHOT)

    assert len(data) < SAMPLE_SNAPSHOT_MAX_BYTES
    assert len(data) <= detection_settings.MAX_IMAGE_BYTES
    assert picture.format == "JPEG"
    assert picture.size == (1024, 768)


@pytest.mark.django_db
def test_the_sample_snapshot_is_scored(api, printing):
    response = api.post(
        f"/api/v1/printers/{printing.id}/predict/",
        {"img": snapshot(SAMPLE_SNAPSHOT.read_bytes())},
        format="multipart",
    )

    assert response.status_code == 200
    assert response.json()["result"]["temporal_stats"]["prediction_num"] == 1
