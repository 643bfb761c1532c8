"""Hostile uploads of issue 23, generated: the unit tests refuse or bound each, bench/worst_upload.py times them.

Each function builds the file an attacker sent, at any size, from nothing but bytes (and Pillow for a
small real JPEG where one is needed). Pure: no Django.
"""

from __future__ import annotations

import io
import itertools
import struct
import zlib

from PIL import Image

MIB = 1024 * 1024


def pad_to(head: bytes, unit: bytes, size: int, tail: bytes = b"") -> bytes:
    """``head``, then ``unit`` repeated, then ``tail``: as many units as fit in ``size`` bytes."""
    return head + unit * max(0, (size - len(head) - len(tail)) // len(unit)) + tail


# --- Refused formats that Pillow's plugins parse in Python at open (item 1) -------------------------


def eps(size: int = 10 * MIB) -> bytes:
    """An EPS file of one-character comment lines: Pillow reads its header a byte at a time."""
    return pad_to(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 8 8\n", b"%a\n", size)


def im(size: int = 10 * MIB) -> bytes:
    """An IM (IFUNC) file whose header is a long list of comments, one line each."""
    return pad_to(b"Image type: L image\r\nImage size (x*y): 8*8\r\n", b"Comment: x\r\n", size)


def iptc(size: int = 10 * MIB) -> bytes:
    """An IPTC/NAA data stream of empty fields, each a Python loop in Pillow."""
    return pad_to(b"", b"\x1c\x01\x00\x00\x00", size)


def gif_comment_blocks(size: int = 10 * MIB) -> bytes:
    """A GIF whose comment extension is made of one-byte sub-blocks: Pillow keeps a list entry for each."""
    head = b"GIF89a" + struct.pack("<HHBBB", 8, 8, 0, 0, 0) + b"\x21\xfe"
    tail = b"\x00" + b"\x2c" + struct.pack("<HHHHB", 0, 0, 8, 8, 0) + b"\x02\x02\x4c\x01\x00" + b"\x3b"
    return pad_to(head, b"\x01x", size, tail)


# --- JPEGs made of markers (items 1 and 4) ------------------------------------------------------


def small_jpeg(size: tuple[int, int] = (64, 48)) -> bytes:
    """A real baseline JPEG to hang markers on."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (40, 120, 200)).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def jpeg_with_markers_after_soi(marker: bytes, size: int) -> bytes:
    """A real JPEG with ``marker`` repeated between SOI and its first segment, to ``size`` bytes."""
    data = small_jpeg()
    return pad_to(data[:2], marker, size, data[2:])


def jpeg_of_com_segments(size: int) -> bytes:
    """Two-byte COM segments (FF FE 00 02, each empty) before the frame: a marker loop per 4 bytes."""
    return jpeg_with_markers_after_soi(b"\xff\xfe\x00\x02", size)


def jpeg_of_rst_markers(size: int) -> bytes:
    """Restart markers (FF D0) outside any scan, where T.81 allows none."""
    return jpeg_with_markers_after_soi(b"\xff\xd0", size)


def jpeg_of_tem_markers(size: int) -> bytes:
    """TEM markers (FF 01) outside any scan."""
    return jpeg_with_markers_after_soi(b"\xff\x01", size)


def jpeg_with_app_segment(payload: bytes, marker: int = 0xE1, copies: int = 1) -> bytes:
    """A real JPEG with ``copies`` APPn (or COM) segments holding ``payload`` after SOI."""
    data = small_jpeg()
    segment = struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload
    return data[:2] + segment * copies + data[2:]


def tiff_ifd(entries: list[tuple[int, int, int, bytes]], *, tail: bytes = b"") -> bytes:
    """A big-endian TIFF header and IFD0 of ``(tag, type, count, 4-byte value or offset)`` entries, then ``tail``."""
    body = struct.pack(">H", len(entries)) + b"".join(
        struct.pack(">HHI", tag, kind, count) + value for tag, kind, count, value in entries
    )
    return b"MM\x00\x2a" + struct.pack(">I", 8) + body + b"\x00\x00\x00\x00" + tail


def exif_pointing_many_tags_at_one_blob(blob: int = 30_000, max_bytes: int = 65_000) -> bytes:
    """EXIF (an APP1 payload) whose IFD0 points as many tags as fit at one ``blob``-byte value.

    Pillow's EXIF parser loops over every entry in Python and copies the value for each.
    """
    count = (max_bytes - 6 - 8 - 6 - blob) // 12
    offset = 8 + 2 + 12 * count + 4
    entries = [(0x8000 + n, 7, blob, struct.pack(">I", offset)) for n in range(count)]
    return b"Exif\x00\x00" + tiff_ifd(entries, tail=b"\x00" * blob)


def photoshop_resources(max_bytes: int = 65_000) -> bytes:
    """An APP13 payload of as many empty Photoshop resource blocks as fit: Pillow loops over each in Python."""
    block = b"8BIM\x04\x04\x00\x00\x00\x00\x00\x00"
    return pad_to(b"Photoshop 3.0\x00", block, max_bytes)


# --- PNG made of chunks (item 4) ----------------------------------------------------------------


def png_chunk(kind: bytes, data: bytes = b"") -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_with_chunks(count: int, kind: bytes = b"ruSt", size: tuple[int, int] = (16, 12)) -> bytes:
    """A real 16x12 RGB PNG with ``count`` empty chunks of ``kind`` (ancillary, private) before its IDAT."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (9, 99, 199)).save(buffer, format="PNG")
    data = buffer.getvalue()
    at = data.index(b"IDAT") - 4
    return data[:at] + png_chunk(kind) * count + data[at:]


def png_with_idat_split(size: tuple[int, int], pieces: int) -> bytes:
    """A real PNG whose pixel data is split into ``pieces`` IDAT chunks: a Python loop each in Pillow."""
    width, height = size
    raw = b"".join(b"\x00" + bytes((x * 7 + y * 13) % 256 for x in range(width * 3)) for y in range(height))
    compressed = zlib.compress(raw, 9)
    cuts = [len(compressed) * n // pieces for n in range(pieces + 1)]
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idats = b"".join(png_chunk(b"IDAT", compressed[start:end]) for start, end in itertools.pairwise(cuts))
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + idats + png_chunk(b"IEND")


# --- JPEGs whose decoding holds the whole image (item 5) ----------------------------------------

# The luminance tables of ITU T.81 Annex K.3: DC category 0 is "00", the AC end-of-block "1010".
_DC_LUMINANCE = bytes([0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]) + bytes(range(12))
_AC_LUMINANCE_COUNTS = bytes([0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7D])
_AC_LUMINANCE_VALUES = bytes.fromhex(
    "01020300041105122131410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728292a"
    "3435363738393a434445464748494a535455565758595a636465666768696a737475767778797a838485868788898a92939495"
    "969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9ea"
    "f1f2f3f4f5f6f7f8f9fa"
)


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def _flat_blocks(blocks: int) -> bytes:
    """Entropy-coded data of ``blocks`` flat grey blocks: each "00" (no DC change) + "1010" (end of block)."""
    whole, rest = divmod(blocks, 4)  # 4 blocks are 24 bits: 0x28 0xA2 0x8A, never a 0xFF byte
    bits = "001010" * rest
    tail = int((bits + "1" * (-len(bits) % 8)) or "0", 2).to_bytes(len(bits) // 8 + (len(bits) % 8 > 0), "big")
    return b"\x28\xa2\x8a" * whole + (tail if rest else b"")


def sequential_jpeg(
    size: tuple[int, int],
    *,
    components: int = 3,
    interleaved: bool = False,
    sof_size: tuple[int, int] | None = None,
    drop_data: bool = False,
) -> bytes:
    """A valid baseline (SOF0) grey JPEG of ``components`` components at 1x1 sampling, flat grey.

    ``interleaved=False`` gives one scan per component (non-interleaved sequential: libjpeg must
    buffer every coefficient of the frame). ``sof_size`` makes the frame header claim another size
    than the data covers (the decoder fills the rest), and ``drop_data`` sends no entropy data at all.
    """
    width, height = size
    frame_w, frame_h = sof_size or size
    blocks = -(-width // 8) * -(-height // 8)
    tables = _segment(0xDB, b"\x00" + bytes([1] * 64)) + _segment(
        0xC4, b"\x00" + _DC_LUMINANCE + b"\x10" + _AC_LUMINANCE_COUNTS + _AC_LUMINANCE_VALUES
    )
    frame = _segment(
        0xC0,
        struct.pack(">BHHB", 8, frame_h, frame_w, components)
        + b"".join(bytes([c + 1, 0x11, 0]) for c in range(components)),
    )
    data = b"" if drop_data else _flat_blocks(blocks)
    if interleaved:
        scans = _segment(
            0xDA, bytes([components]) + b"".join(bytes([c + 1, 0]) for c in range(components)) + b"\x00\x3f\x00"
        )
        scans += b"" if drop_data else _flat_blocks(blocks * components)
    else:
        scans = b"".join(_segment(0xDA, bytes([1, c + 1, 0, 0, 0x3F, 0])) + data for c in range(components))
    return b"\xff\xd8" + tables + frame + scans + b"\xff\xd9"
