"""Byte ranges and content detection, as pure functions."""
import pytest

from rpms.training.media import UNSATISFIABLE, detect, parse_range

from .conftest import MP4_BYTES, PDF_BYTES, WEBM_BYTES


@pytest.mark.parametrize("header, expected", [
    ("bytes=0-99", (0, 99)),
    ("bytes=900-", (900, 999)),
    ("bytes=-100", (900, 999)),
    ("bytes=-5000", (0, 999)),
    ("bytes=990-5000", (990, 999)),
    ("bytes=1000-", UNSATISFIABLE),
    ("bytes=1000-1200", UNSATISFIABLE),
    ("bytes=-0", UNSATISFIABLE),
    ("bytes=50-10", None),
    ("bytes=0-1,5-6", None),
    ("items=0-1", None),
    ("", None),
    ("bytes=-", None),
])
def test_parse_range(header, expected):
    assert parse_range(header, 1000) == expected


def test_detection_by_magic_bytes():
    assert detect(PDF_BYTES[:64]) == "pdf"
    assert detect(MP4_BYTES[:64]) == "mp4"
    assert detect(WEBM_BYTES[:64]) == "webm"
    matroska = WEBM_BYTES[:64].replace(b"\x42\x82\x84webm", b"\x42\x82\x88matroska")
    assert detect(matroska) is None
    assert detect(b"\x00\x00\x00\x14ftypqt  ") is None
    assert detect(b"GIF89a") is None
