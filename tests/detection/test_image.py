"""Decoding uploads: accepted formats and modes, orientation, and refusals."""

import io
import random
import struct
import zlib

import pytest
from PIL import Image

from detection.image import ImageLimits, InvalidImage, check_limits, decode_image, decode_plan, read_header
from detection.region import Region, decode_size
from tests.detection import hostile_images as hostile
from tests.fixtures.images import make_image_bytes


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


@pytest.mark.parametrize("size", [(4000, 3000), (1280, 720)])
def test_a_jpeg_with_its_last_scan_repeated_300_times_is_refused_before_decoding(nothing_is_opened, size):
    data = progressive_jpeg_with_repeated_last_scan(size, 300)

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


# --- Issue 23: refused formats never reach Pillow, tiny markers and chunks, decoding memory ----------

SERVICE = ImageLimits()  # the service's defaults (detection/defaults.py)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (hostile.eps(), "EPS images are not accepted"),
        (hostile.gif_comment_blocks(), "GIF images are not accepted"),
        (hostile.im(), r"^The file is not a JPEG, PNG or WebP image\.$"),
        (hostile.iptc(), r"^The file is not a JPEG, PNG or WebP image\.$"),
        (b"II*\x00" + b"\x00" * 100, "TIFF images are not accepted"),
        (b"BM" + b"\x00" * 100, "BMP images are not accepted"),
    ],
    ids=["eps-10mib", "gif-comment-sub-blocks-10mib", "im-10mib", "iptc-10mib", "tiff", "bmp"],
)
@pytest.mark.parametrize("limits", [SERVICE, None], ids=["limits", "trusted"])
def test_a_refused_format_is_named_from_its_magic_bytes_without_pillow(monkeypatch, data, message, limits):
    opened = []
    monkeypatch.setattr("detection.image.Image.open", lambda *args, **kwargs: opened.append(args))

    with pytest.raises(InvalidImage, match=message):
        decode_image(data, limits=limits)
    assert opened == []  # Pillow's EPS, IM, IPTC and GIF plugins loop in Python over the whole file


def test_a_jpeg_over_the_byte_limit_is_refused_for_its_size_before_its_markers_are_walked():
    # 10 MiB of two-byte COM segments and no end: walking it took 1.2-1.6 s, only to find it corrupt.
    data = hostile.jpeg_of_com_segments(10 * hostile.MIB)[:-2]

    with pytest.raises(
        InvalidImage, match=r"^The image file is too large: 10,485,7\d\d bytes; a JPEG may have at most 655,360\.$"
    ):
        decode_image(data, limits=SERVICE)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (hostile.png_with_chunks(54_000), r"^The PNG has more than 1,000 chunks; at most 1,000 are accepted"),
        (hostile.jpeg_of_com_segments(640 * 1024), r"^The JPEG has more than 1,000 marker segments; at most 1,000"),
        (hostile.jpeg_of_rst_markers(640 * 1024), r"^The image data is corrupt or truncated\.$"),
        (hostile.jpeg_of_tem_markers(1024), r"^The image data is corrupt or truncated\.$"),
    ],
    ids=["png-54000-empty-chunks", "jpeg-640kib-of-com-segments", "jpeg-rst-outside-a-scan", "jpeg-tem-outside-a-scan"],
)
def test_an_upload_made_of_tiny_markers_or_chunks_is_refused_before_pillow_opens_it(nothing_is_opened, data, message):
    assert len(data) <= SERVICE.max_image_bytes

    with pytest.raises(InvalidImage, match=message):
        decode_image(data, limits=SERVICE)


def test_the_segment_limit_is_inclusive_and_counts_every_chunk():
    limits = ImageLimits(max_image_segments=10)
    at_the_limit = hostile.png_with_chunks(6)  # IHDR, 6 empty chunks, IDAT, IEND: 9 ... plus none
    assert decode_image(hostile.png_with_chunks(7), limits=limits).width == 16  # 10 chunks
    assert decode_image(at_the_limit, limits=limits).width == 16
    with pytest.raises(InvalidImage, match="more than 10 chunks"):
        decode_image(hostile.png_with_chunks(8), limits=limits)


@pytest.fixture
def pillow_parses_no_metadata(monkeypatch):
    """Fail if Pillow parses EXIF (a TIFF directory), Photoshop resources or PNG text while decoding."""
    from PIL import JpegImagePlugin, PngImagePlugin, TiffImagePlugin

    def refuse(*args, **kwargs):
        raise AssertionError("Pillow parsed metadata")

    monkeypatch.setattr(TiffImagePlugin.ImageFileDirectory_v2, "load", refuse)
    for name in ("chunk_tEXt", "chunk_zTXt", "chunk_iTXt", "chunk_iCCP", "chunk_eXIf"):
        monkeypatch.setattr(PngImagePlugin.PngStream, name, refuse)
    # Every APPn but JFIF's APP0 and Adobe's APP14, and COM: Pillow looks their handlers up in MARKER.
    for marker in [*range(0xFFE1, 0xFFEE), 0xFFEF, 0xFFFE]:
        name, description, _ = JpegImagePlugin.MARKER[marker]
        monkeypatch.setitem(JpegImagePlugin.MARKER, marker, (name, description, refuse))


@pytest.mark.parametrize(
    "data",
    [
        hostile.jpeg_with_app_segment(hostile.exif_pointing_many_tags_at_one_blob()),
        hostile.jpeg_with_app_segment(hostile.photoshop_resources(), marker=0xED, copies=9),
        hostile.jpeg_with_app_segment(b"a comment", marker=0xFE, copies=900),
        png_with_chunk(b"zTXt", b"k\x00\x00" + zlib.compress(b"\x00" * 1_000_000)),
        png_with_chunk(b"eXIf", hostile.exif_pointing_many_tags_at_one_blob()[6:]),
    ],
    ids=["jpeg-exif-2000-tags-on-one-blob", "jpeg-9-photoshop-blocks", "jpeg-900-comments", "png-ztxt-1mb", "png-exif"],
)
def test_pillow_is_given_only_what_decoding_needs(pillow_parses_no_metadata, data):
    decoded = decode_image(data, target_size=(8, 6), limits=SERVICE)

    assert decoded.pixels.mode == "RGB"
    assert decoded.pixels.info.keys() <= {
        "jfif",
        "jfif_version",
        "jfif_unit",
        "jfif_density",
        "dpi",
        "adobe",
        "adobe_transform",
        "progressive",
        "progression",
    }


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP"])
def test_the_exif_orientation_is_read_from_the_file_not_by_pillow(pillow_parses_no_metadata, image_format):
    exif = Image.Exif()
    exif[0x0112] = 6
    data = make_image_bytes((64, 48), image_format=image_format, exif=exif)

    decoded = decode_image(data, limits=SERVICE)

    assert (decoded.width, decoded.height) == (48, 64)


def test_a_sequential_jpeg_in_separate_scans_has_the_full_decode_budget():
    # 4096x4096 with its components in three scans: libjpeg buffers every coefficient (+96 MB).
    data = hostile.sequential_jpeg((4096, 4096))
    assert len(data) <= SERVICE.max_image_bytes
    header = read_header(data)
    assert (header.scans, header.full_decode) == (3, True)

    with pytest.raises(
        InvalidImage,
        match=r"^The image is too large: 4096x4096 pixels; a multi-scan JPEG may have at most 1,228,800\.$",
    ):
        decode_image(data, limits=SERVICE)


def test_a_small_sequential_jpeg_in_separate_scans_decodes():
    decoded = decode_image(hostile.sequential_jpeg((640, 480)), target_size=(320, 320), limits=SERVICE)

    assert (decoded.width, decoded.height) == (640, 480)
    assert decoded.pixels.getpixel((0, 0)) == (128, 128, 128)


def test_a_jpeg_whose_frame_claims_more_than_its_scans_hold_is_bounded_by_what_it_claims():
    multi_scan = hostile.sequential_jpeg((16, 16), sof_size=(4096, 4096))
    with pytest.raises(InvalidImage, match="4096x4096 pixels; a multi-scan JPEG"):
        decode_image(multi_scan, limits=SERVICE)
    one_scan = hostile.sequential_jpeg((16, 16), sof_size=(4096, 4096), interleaved=True)

    assert decode_plan(read_header(one_scan), (320, 320), SERVICE) == (512, 512)


@pytest.mark.parametrize(("components", "accepted"), [(1, True), (3, True), (4, False)])
def test_a_baseline_jpeg_pays_for_its_components(components, accepted):
    data = hostile.sequential_jpeg((16, 16), sof_size=(4096, 4096), interleaved=True, components=components)
    header = read_header(data)

    if accepted:
        check_limits(header, SERVICE)
    else:
        with pytest.raises(InvalidImage, match=r"^The image is too large: 4096x4096 pixels in 4 components; "):
            check_limits(header, SERVICE)


@pytest.mark.parametrize(
    ("frame", "roi", "decoded"),
    [
        ((4096, 4096), Region(0, 0, 1, 0.05), (2048, 2048)),  # the strip: 4096x4096 before
        ((4096, 4096), Region(0, 0, 0.05, 1), (2048, 2048)),
        ((4096, 4096), None, (512, 512)),
        ((1280, 720), None, (640, 360)),
        ((1280, 720), Region(0.2, 0.1, 0.8, 0.9), (1280, 720)),  # a print bed: as before
        ((3840, 2160), Region(0.25, 0.25, 0.75, 0.75), (1920, 1080)),
        ((3840, 2160), Region(0, 0.45, 1, 0.5), (1920, 1080)),  # a strip of 4K: 3840x2160 before
    ],
)
def test_the_decoded_size_is_bounded_whatever_the_region(frame, roi, decoded):
    data = hostile.sequential_jpeg((16, 16), sof_size=frame, interleaved=True)
    target = (320, 320) if roi is None else decode_size(roi, (320, 320))

    assert decode_plan(read_header(data), target, SERVICE) == decoded
    assert decoded[0] * decoded[1] <= SERVICE.max_decoded_pixels


def test_a_thin_strip_roi_decodes_a_4096_jpeg_at_half_size():
    data = make_image_bytes((4096, 4096), color=(90, 90, 90))

    decoded = decode_image(data, target_size=decode_size(Region(0, 0, 1, 0.05), (320, 320)), limits=SERVICE)

    assert (decoded.width, decoded.height) == (4096, 4096)
    assert decoded.pixels.size == (2048, 2048)
