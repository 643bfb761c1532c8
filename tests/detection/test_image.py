"""Decoding uploads: accepted formats and modes, orientation, and refusals."""

import io
import random
import struct
import zlib

import pytest
from PIL import Image

from detection.image import ImageLimits, InvalidImage, decode_image, read_header
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


# --- Limits checked from the header, before any decoding (issue 14) ---------------------------------

LIMITS = ImageLimits(max_pixels=4096 * 4096, max_full_decode_pixels=4096 * 4096, max_aspect_ratio=4, max_jpeg_scans=32)


def webp_lossless_declaring(width, height):
    """The 34-byte lossless WebP header of a width x height image (RFC 9649 section 3.2), no pixels."""
    bits = (width - 1) | (height - 1) << 14 | 1 << 28  # alpha_is_used, version 0
    vp8l = b"\x2f" + struct.pack("<I", bits) + b"\x00"
    return b"RIFF" + struct.pack("<I", 4 + 8 + len(vp8l)) + b"WEBP" + b"VP8L" + struct.pack("<I", len(vp8l)) + vp8l


def progressive_jpeg_with_repeated_last_scan(size, repeats, color=(200, 30, 90)):
    """The attack of issue 14: a progressive JPEG whose last scan (and its data) is sent ``repeats`` more times."""
    data = make_image_bytes(size, color=color, progressive=True, quality=90)
    last_scan = data[data.rindex(b"\xff\xda") : -2]
    return data[:-2] + last_scan * repeats + data[-2:]


@pytest.fixture
def nothing_is_opened(monkeypatch):
    """Fail the test if Pillow so much as opens the file (let alone decodes it)."""

    def refuse(*args, **kwargs):
        raise AssertionError("Pillow opened the upload")

    monkeypatch.setattr("detection.image.Image.open", refuse)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (webp_lossless_declaring(7000, 7000), "too large: 7000x7000 pixels"),
        (png_declaring(50_000_000, 1), "too large: 50000000x1 pixels"),
        (png_declaring(40000, 40000), "too large: 40000x40000 pixels"),
        (png_declaring(8000, 1000), "too narrow: 8000x1000 pixels"),
        (png_declaring(1000, 4001), "too narrow: 1000x4001 pixels"),
    ],
    ids=["webp-7000x7000", "png-50000000x1", "png-40000x40000", "png-8-to-1", "png-1-to-4.001"],
)
def test_limits_refuse_from_the_header_before_pillow_opens_the_file(nothing_is_opened, data, message):
    with pytest.raises(InvalidImage, match=message):
        decode_image(data, limits=LIMITS)


@pytest.mark.parametrize(
    ("save_args", "chunk"),
    [
        ({"quality": 80}, b"VP8 "),
        ({"lossless": True}, b"VP8L"),
        ({"lossless": True, "exif": b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x00"}, b"VP8X"),
    ],
)
def test_the_webp_header_gives_the_size_pillow_reads(save_args, chunk):
    data = make_image_bytes((321, 123), image_format="WEBP", **save_args)
    header = read_header(data)

    assert data[12:16] == chunk
    assert (header.format, header.width, header.height) == ("WEBP", 321, 123)
    assert Image.open(io.BytesIO(data)).size == (321, 123)


def test_images_at_the_limits_are_accepted():
    assert decode_image(make_image_bytes((400, 100), image_format="PNG"), limits=LIMITS).width == 400
    small = ImageLimits(max_pixels=640 * 480, max_full_decode_pixels=640 * 480)
    assert decode_image(make_image_bytes((640, 480)), limits=small).height == 480


def test_full_decode_formats_have_their_own_pixel_budget():
    limits = ImageLimits(max_pixels=1000 * 1000, max_full_decode_pixels=500 * 500)

    assert decode_image(make_image_bytes((800, 800)), limits=limits).width == 800  # baseline JPEG: drafted
    for image_format, save_args in [("PNG", {}), ("WEBP", {}), ("JPEG", {"progressive": True})]:
        with pytest.raises(InvalidImage, match="too large: 800x800"):
            decode_image(make_image_bytes((800, 800), image_format=image_format, **save_args), limits=limits)


def noise(size, seed=0):
    """Random pixels: entropy-coded JPEG data full of 0xFF00 stuffing."""
    return Image.frombytes("RGB", size, random.Random(seed).randbytes(size[0] * size[1] * 3))  # noqa: S311 - pixels


def encoded(image, image_format="JPEG", **save_args):
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **save_args)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("save_args", "scans"),
    [
        ({}, 1),
        ({"restart_marker_blocks": 1}, 1),  # a restart marker after every block, inside the scan
        ({"progressive": True}, 10),  # libjpeg's progression for YCbCr (jcparam.c)
        ({"progressive": True, "restart_marker_rows": 1}, 10),
    ],
    ids=["baseline", "restart-markers", "progressive", "progressive-restarts"],
)
def test_the_marker_walk_counts_scans_through_stuffed_bytes_and_restart_markers(save_args, scans):
    data = encoded(noise((256, 192)), quality=95, **save_args)
    assert b"\xff\x00" in data

    header = read_header(data)

    assert (header.format, header.width, header.height, header.scans) == ("JPEG", 256, 192, scans)
    assert header.full_decode == ("progressive" in save_args)


def test_a_jpeg_with_its_last_scan_repeated_300_times_is_refused_before_decoding(nothing_is_opened):
    data = progressive_jpeg_with_repeated_last_scan((4000, 3000), 300)

    with pytest.raises(InvalidImage, match=r"^The JPEG has 310 scans; at most 32 are accepted"):
        decode_image(data, limits=LIMITS)


def test_the_scan_limit_is_inclusive():
    data = progressive_jpeg_with_repeated_last_scan((64, 48), 22)  # 32 scans

    assert read_header(data).scans == 32
    assert decode_image(data, limits=LIMITS).width == 64
    with pytest.raises(InvalidImage, match="33 scans"):
        decode_image(progressive_jpeg_with_repeated_last_scan((64, 48), 23), limits=LIMITS)


def jpeg_parts():
    data = make_image_bytes((64, 48), color=(10, 200, 30))
    sof = data.index(b"\xff\xc0")
    sos = data.index(b"\xff\xda")
    return data, sof, sos


def nonsense_jpegs():
    data, sof, sos = jpeg_parts()
    sof_segment = data[sof : sof + 2 + int.from_bytes(data[sof + 2 : sof + 4], "big")]
    return {
        "garbage-after-soi": data[:2] + b"\xffhello" + data[2:],
        "no-marker-where-one-belongs": data[:sof] + b"\x00" + data[sof:],
        "length-past-the-end": data[:2] + b"\xff\xe1\xff\xff" + b"x" * 10,
        "scan-before-frame": data[:sof] + data[sos:],
        "two-frames": data[:sof] + sof_segment + data[sof:],
        "lossless-frame": data[:sof] + b"\xff\xc3" + data[sof + 2 :],
        "zero-height-dnl": data[: sof + 5] + b"\x00\x00" + data[sof + 7 :],
        "no-end-of-image": data[:-2],
        "only-soi": b"\xff\xd8\xff",
        "no-scan": data[:sos] + b"\xff\xd9",
    }


@pytest.mark.parametrize("name", list(nonsense_jpegs()))
def test_a_jpeg_whose_markers_make_no_sense_is_refused_before_opening(nothing_is_opened, name):
    with pytest.raises(InvalidImage, match=r"^The image data is corrupt or truncated\.$"):
        decode_image(nonsense_jpegs()[name], limits=LIMITS)


# --- Malformed ancillary data: a 400 or ignored, never a crash ------------------------------------


def png_with_chunk(kind, payload, mode="RGB"):
    data = make_image_bytes((16, 12), color=(9, 99, 199) if mode == "RGB" else 5, image_format="PNG", mode=mode)
    at = data.index(b"IDAT") - 4
    return data[:at] + png_chunk(kind, payload) + data[at:]


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


GARBAGE_EXIF = b"Exif\x00\x00garbage, not TIFF"


def test_a_one_byte_trns_chunk_in_an_rgb_png_is_corrupt():
    with pytest.raises(InvalidImage, match="corrupt"):
        decode_image(png_with_chunk(b"tRNS", b"\x01"), limits=LIMITS)


@pytest.mark.parametrize(
    "data",
    [
        png_with_chunk(b"eXIf", b"garbage!!"),
        png_with_chunk(b"eXIf", b"MM\x00\x2a\x00\x00\x00\x08\xff\xff"),
        make_image_bytes((16, 12), image_format="WEBP", exif=b"garbage"),
        make_image_bytes((16, 12), image_format="WEBP", exif=GARBAGE_EXIF),
        make_image_bytes((16, 12), image_format="JPEG", exif=GARBAGE_EXIF),
        make_image_bytes((16, 12), image_format="JPEG", exif=b"Exif\x00\x00II*\x00\xff\xff\xff\x7f"),
    ],
    ids=["png-exif-garbage", "png-exif-bad-offset", "webp-exif-garbage", "webp-exif-not-tiff", "jpeg-app1", "jpeg-ifd"],
)
def test_broken_exif_is_ignored_and_the_image_taken_as_upright(data):
    decoded = decode_image(data, target_size=(8, 6), limits=LIMITS)

    assert (decoded.width, decoded.height) == (16, 12)
    assert decoded.pixels.mode == "RGB"


def test_large_png_and_webp_are_reduced_towards_the_target_size():
    decoded = decode_image(make_image_bytes((2000, 1000), image_format="PNG"), target_size=(320, 320))

    assert (decoded.width, decoded.height) == (2000, 1000)
    assert decoded.pixels.size == (667, 334)  # reduce(3): the largest factor keeping 320 on both sides


def test_exif_rotated_png_is_turned_upright_after_reducing():
    exif = Image.Exif()
    exif[0x0112] = 8
    decoded = decode_image(make_image_bytes((1200, 700), image_format="PNG", exif=exif), target_size=(320, 320))

    assert (decoded.width, decoded.height) == (700, 1200)
    assert decoded.pixels.size == (350, 600)


def test_a_progressive_jpeg_with_more_scans_than_libjpeg_writes_gets_proportionally_fewer_pixels():
    limits = ImageLimits(max_full_decode_pixels=100 * 100, max_jpeg_scans=32)
    ten_scans = make_image_bytes((100, 100), color=(1, 2, 3), progressive=True)
    twenty_scans = progressive_jpeg_with_repeated_last_scan((100, 100), 10)
    small_twenty_scans = progressive_jpeg_with_repeated_last_scan((70, 70), 10)

    assert decode_image(ten_scans, limits=limits).width == 100
    assert decode_image(small_twenty_scans, limits=limits).width == 70  # 4,900 <= 10,000 x 10 / 20
    with pytest.raises(InvalidImage, match="too large: 100x100 pixels; a progressive JPEG may have at most 5,000"):
        decode_image(twenty_scans, limits=limits)


def test_a_16_bit_png_is_refused_from_its_header(nothing_is_opened):
    data = png_declaring(64, 48)
    sixteen_bit = data[:24] + b"\x10" + data[25:]

    with pytest.raises(InvalidImage, match=r"^16-bit PNG images are not accepted; send 8 bits a channel\.$"):
        decode_image(sixteen_bit, limits=LIMITS)
