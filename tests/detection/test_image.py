"""Decoding uploads: accepted formats and modes, orientation, and refusals."""

import io
import struct
import zlib

import pytest
from PIL import Image

from detection.image import InvalidImage, decode_image
from tests.conftest import make_image_bytes


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP"])
def test_accepted_formats_decode_to_rgb_at_their_size(image_format):
    decoded = decode_image(make_image_bytes((320, 200), image_format=image_format))

    assert decoded.pixels.mode == "RGB"
    assert (decoded.width, decoded.height) == (320, 200)


@pytest.mark.parametrize(("mode", "color"), [("L", 128), ("CMYK", (0, 0, 0, 0)), ("RGBA", (255, 0, 0, 0))])
def test_other_modes_become_rgb(mode, color):
    image_format = "PNG" if mode == "RGBA" else "JPEG"

    decoded = decode_image(make_image_bytes((64, 48), color=color, image_format=image_format, mode=mode))

    assert decoded.pixels.mode == "RGB"
    assert decoded.pixels.size == (64, 48)


def test_transparent_pixels_become_white():
    decoded = decode_image(make_image_bytes((8, 8), color=(255, 0, 0, 0), image_format="PNG", mode="RGBA"))

    assert decoded.pixels.getpixel((0, 0)) == (255, 255, 255)


def test_exif_rotated_jpeg_is_turned_upright():
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to view"
    data = make_image_bytes((640, 480), image_format="JPEG", exif=exif)

    decoded = decode_image(data, target_size=(96, 64))

    assert (decoded.width, decoded.height) == (480, 640)
    assert decoded.pixels.width < decoded.pixels.height


def test_draft_decodes_large_jpegs_at_reduced_scale_but_reports_the_upload_size():
    decoded = decode_image(make_image_bytes((1280, 720)), target_size=(320, 256))

    assert (decoded.width, decoded.height) == (1280, 720)
    assert decoded.pixels.size == (640, 360)  # 1/2 keeps at least 320x256


def gif_bytes():
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="GIF")
    return buffer.getvalue()


def truncated_jpeg():
    data = make_image_bytes((640, 480), color=(200, 30, 90))
    return data[: len(data) * 2 // 3]


def png_declaring(width, height):
    """A PNG whose header declares a size and holds almost no data."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"hello, not an image", "not a JPEG, PNG or WebP"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not a JPEG, PNG or WebP"),
        (gif_bytes(), "GIF images are not accepted"),
        (truncated_jpeg(), "corrupt or truncated"),
    ],
    ids=["empty", "text", "svg", "gif", "truncated-jpeg"],
)
def test_undecodable_uploads_are_refused_with_a_reason(data, message):
    with pytest.raises(InvalidImage, match=message):
        decode_image(data)


def test_a_header_declaring_a_gigantic_image_is_refused_before_decoding(monkeypatch):
    def no_decoding(self, *args, **kwargs):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr("PIL.ImageFile.ImageFile.load", no_decoding)

    with pytest.raises(InvalidImage, match="too large"):
        decode_image(png_declaring(40000, 40000))
