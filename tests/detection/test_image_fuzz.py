"""Fuzzing the decoder with mutated real images: every outcome is an image or a refusal, never a crash.

The seeds are a real in-printer webcam frame (as its camera pipeline wrote it, and re-encoded as
PNG and WebP) and encodings of a photo-like picture (Pillow's Mandelbrot, with noise) in every
format and mode we accept, with the ancillary data that broke us before (EXIF, tRNS, restart
markers). Hypothesis mutates their bytes: flips, truncations, duplicated and dropped slices, splices
of one seed into another. Derandomized and bounded, so CI runs the same few hundred cases in seconds.
"""

import io
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from detection.image import DecodedImage, ImageLimits, InvalidImage, decode_image
from detection.models import PrinterStats
from tests.fixtures.images import snapshot

LIMITS = ImageLimits()


def picture(size=(96, 64)) -> Image.Image:
    """A small photo-like frame: smooth structure plus sensor-like noise."""
    base = Image.effect_mandelbrot(size, (-2, -1.2, 1, 1.2), 60).convert("RGB")
    noise = Image.frombytes("RGB", size, random.Random(1).randbytes(size[0] * size[1] * 3))  # noqa: S311 - pixels
    return Image.blend(base, noise, 0.2)


def encode(image, image_format, **save_args) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **save_args)
    return buffer.getvalue()


def seeds() -> list[bytes]:
    image = picture()
    exif = Image.Exif()
    exif[0x0112] = 6
    palette = image.convert("P")
    palette.info["transparency"] = 3
    return [
        encode(image, "JPEG", quality=90, exif=exif),
        encode(image, "JPEG", quality=90, progressive=True),
        encode(image, "JPEG", quality=90, restart_marker_blocks=2),
        encode(image.convert("CMYK"), "JPEG"),
        encode(image, "PNG", exif=exif),
        encode(image.convert("RGBA"), "PNG"),
        encode(palette, "PNG"),
        encode(image, "PNG", transparency=(1, 2, 3)),
        encode(image, "WEBP", quality=80, exif=exif),
        encode(image.convert("RGBA"), "WEBP", lossless=True),
    ]


# Real in-printer webcam frames from ../shared/datasets, where the tests can read it (CI can); never
# committed. Without it the generated seeds above still run.
WEBCAM_FRAMES = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "webcam-clean" / "images"


def real_seeds() -> list[bytes]:
    """A real webcam frame as its camera pipeline wrote it, and that frame re-encoded small as PNG and WebP."""
    frames = sorted(WEBCAM_FRAMES.glob("*/*.jpg"))[:1]
    out = []
    for frame in frames:
        out.append(frame.read_bytes())
        small = Image.open(frame).convert("RGB").resize((320, 240))
        out += [encode(small, "PNG"), encode(small, "WEBP", quality=80)]
    return out


SEEDS = seeds() + real_seeds()


@st.composite
def mutated(draw) -> bytes:
    """A seed with one to four byte-level mutations."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break  # an earlier mutation dropped everything
        kind = draw(st.sampled_from(["flip", "truncate", "duplicate", "drop", "splice", "insert"]))
        at = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "truncate":
            del data[max(at, 1) :]
        elif kind == "duplicate":
            end = min(len(data), at + draw(st.integers(1, 512)))
            data[end:end] = data[at:end] * draw(st.integers(1, 8))
        elif kind == "drop":
            del data[at : at + draw(st.integers(1, 64))]
        elif kind == "splice":
            other = draw(st.sampled_from(SEEDS))
            start = draw(st.integers(0, len(other) - 1))
            data[at:] = other[start:]
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
    return bytes(data)


fuzz = settings(max_examples=300, derandomize=True, deadline=None, database=None)


@fuzz
@given(data=mutated())
@pytest.mark.fuzz
def test_a_mutated_image_decodes_or_is_refused(data):
    try:
        outcome = decode_image(data, target_size=(32, 32), limits=LIMITS)
    except InvalidImage as exc:
        outcome = exc
    if isinstance(outcome, InvalidImage):
        assert str(outcome)
    else:
        assert isinstance(outcome, DecodedImage)
        assert outcome.pixels.mode == "RGB"
        assert min(outcome.width, outcome.height) > 0


@pytest.mark.django_db
@settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=mutated())
@pytest.mark.fuzz
@pytest.mark.slow
def test_a_mutated_image_through_the_api_is_200_or_400(api, printing, data):
    before = PrinterStats.objects.get(printer=printing).prediction_num

    response = api.post(f"/api/v1/printers/{printing.id}/predict/", {"img": snapshot(data)}, format="multipart")

    assert response.status_code in (200, 400), response.content
    after = PrinterStats.objects.get(printer=printing).prediction_num
    assert after == before + (response.status_code == 200)
    if response.status_code == 400:
        assert response.json()["error"].startswith("img: ")
