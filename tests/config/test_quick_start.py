"""The README's quick start works from a clone: what it ships, links and shows is there and true."""

import json
import re
import shutil
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from PIL import Image

from detection.conf import detection_settings
from tests.fixtures.images import snapshot

ROOT = Path(__file__).resolve().parents[2]
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


def readme_links(text: str) -> list[str]:
    """The targets of the README's Markdown links and images that are not URLs or in-page anchors."""
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    return [target for target in targets if not re.match(r"[a-z][a-z0-9+.-]*:|#", target)]


@pytest.mark.parametrize("document", ["README.md", "docs/integrating.md"])
def test_every_relative_link_resolves_to_a_file_in_the_clone(document):
    text = (ROOT / document).read_text()
    folder = (ROOT / document).parent

    for target in readme_links(text):
        path = (folder / target.split("#")[0]).resolve()
        assert path.is_relative_to(ROOT), f"{document} links {target}, outside the repository"
        assert path.exists(), f"{document} links {target}, which is missing"


def test_the_spec_ships_in_docs():
    assert (ROOT / "docs" / "spec.md").read_text().startswith("---\ntitle: OAuth App Printer Management\n---")


def json_keys(value) -> object:
    """The shape of a JSON value: each object's keys, recursively; other values as None."""
    if isinstance(value, dict):
        return {key: json_keys(item) for key, item in value.items()}
    return None


@pytest.mark.django_db
def test_the_readme_printer_example_has_every_field_the_api_answers(api, printing):
    api.patch(f"/api/v1/printers/{printing.id}/", {"roi": {"x1": 0, "y1": 0, "x2": 1, "y2": 1}}, format="json")
    api.post(f"/api/v1/printers/{printing.id}/predict/", {"img": snapshot()}, format="multipart")
    answered = api.get(f"/api/v1/printers/{printing.id}/").json()
    readme = (ROOT / "README.md").read_text()
    example = re.search(r"A printer:\n\n```json\n(.*?)\n```", readme, re.DOTALL).group(1)

    assert json_keys(json.loads(example)) == json_keys(answered)


CURL = shutil.which("curl")
BASH = shutil.which("bash")


@pytest.mark.skipif(CURL is None or BASH is None, reason="the quick start is curl in a shell")
@pytest.mark.django_db(transaction=True)
def test_the_readme_quick_start_runs_as_written(live_server, tmp_path):
    """The README's shell block, run from the checkout against a live server.

    Only the address changes, and demo_token runs in-process (on the test database), its output
    eval'd exactly as the README's first line does.
    """
    out = StringIO()
    call_command("demo_token", stdout=out)
    (tmp_path / "demo_token.out").write_text(out.getvalue())
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"In another shell:\n\n```sh\n(.*?)\n```", readme, re.DOTALL).group(1)
    demo_token = '"$(.venv/bin/python manage.py demo_token)"'
    assert demo_token in block
    script = block.replace(demo_token, f'"$(cat {tmp_path / "demo_token.out"})"').replace(
        "http://127.0.0.1:8000", live_server.url
    )

    completed = subprocess.run(  # noqa: S603 - the README's own commands
        [BASH, "-e", "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )

    assert completed.returncode == 0, completed.stderr
    answers, text = [], completed.stdout
    while text.strip():
        answer, end = json.JSONDecoder().raw_decode(text.strip())
        answers.append(answer)
        text = text.strip()[end:]
    printers, started, predicted, finished = answers
    assert [printer["name"] for printer in printers] == ["Demo printer"]
    assert started["succeeded"] is True
    assert predicted["result"]["temporal_stats"]["prediction_num"] == 1
    assert finished["printer"]["current_print"] is None
