"""Masking personal information for anything a member of the public can see (PIPL art. 28–29).

- `mask_id_number` / `mask_mobile`: one identifier held in its own field (a dossier, an application).
- `mask_public_text`: free text typed by a person (a resident's suggestion, an objection, a reply, an
  announcement, a case) as it is shown to the public. Inside the text it masks

      identity numbers     18 digits (last may be X) or the old 15-digit form, also written 6-8-4 or
                           6-4-4-4 with spaces or hyphens          → 110***********123X
      mobile numbers       1[3-9] + 9 digits, with or without +86 / 86 / 0086, written whole, 3-4-4
                           or 3-8 with spaces or hyphens             → 138****8000
      landline numbers     an area code 0xx / 0xxx with its 7- or 8-digit number: 010-12345678,
                           (010)12345678, 0375 1234567, 01012345678   → 010-****5678;
                           a bare 7- or 8-digit number right after 电话 / 座机 / 固话 / 热线 / Tel
      e-mail addresses     name@domain                               → z***@example.com

  and leaves ordinary numbers alone: dates (2026-12-02), years, amounts (12,345.00 元), postcodes,
  document numbers (BEIJING-PZTZ-2026-00012). Full-width digits (１３８…) are read as digits.
- `mask_public_data`: the same for every string inside a JSON-like answer (API, open data).
- `mask_personal_fields`: the values under the keys of personal fields (`id_number`, `mobile`, `contact_phone`,
  `contact_name`, ...) inside a JSON-like value masked by their own rule: the audit trail's before/after
  snapshots keep the fact of a change, never the identifier itself (it is stored SM4-encrypted in its table,
  GB/T 39786-2021, and the audit rows are in every dump too).

The stored text keeps what was typed; only what is shown to the public passes through here.
"""
from __future__ import annotations

import re

__all__ = ["mask_id_number", "mask_mobile", "mask_name", "mask_personal_fields", "mask_public_text", "mask_public_data"]


def mask_id_number(value: str) -> str:
    value = value or ""
    if len(value) < 8:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_mobile(value: str) -> str:
    value = value or ""
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "****" + value[-4:]


# Full-width digits, letters and separators are matched as their ASCII forms; the mapping keeps every
# character at its place, so a match found in the translated text is replaced in the original.
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FULL_WIDTH.update({0x3000: 0x20, 0x2010: 0x2D, 0x2011: 0x2D, 0x2012: 0x2D, 0x2013: 0x2D, 0x2014: 0x2D, 0x2212: 0x2D})

_SEP = r"[ \-]"  # one space or hyphen between groups of digits
# Digits that belong to a longer number, a decimal, an amount or a code glued to Latin letters (a hash,
# "DOC13912345678X") do not start or end a match; a label glued to the number ("Tel13800138000") does.
_LABELS = ("Tel", "TEL", "tel", "Mobile", "mobile", "MOBILE", "Phone", "phone", "PHONE", "Mob", "ID", "Id", "No", "NO")
_GLUED_LABEL = "|".join(f"(?<={label})" for label in _LABELS)
_BEFORE = r"(?:(?<![0-9A-Za-z])|" + _GLUED_LABEL + r")(?<![0-9][.,])"
_AFTER = r"(?![0-9A-Za-z])(?![.,][0-9])(?!\s?(?:元|万元|亿元|%|％))"

_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+\-])([A-Za-z0-9._%+\-]+)@([A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,})")

_ID_18 = re.compile(
    _BEFORE
    + r"(?P<id>[1-9]\d{5}(?P<s>" + _SEP + r"?)(?:\d{8}|\d{4}(?P=s)\d{4})(?P=s)\d{3}[\dXx])"
    + r"(?![0-9A-Za-z])"
)
# The first-generation 15-digit number: region, YYMMDD (a real month and day), 3-digit sequence.
_ID_15 = re.compile(
    _BEFORE
    + r"(?P<id>[1-9]\d{5}(?P<s>" + _SEP + r"?)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?P=s)\d{3})"
    + r"(?![0-9A-Za-z])"
)
_MOBILE = re.compile(
    _BEFORE + r"(?<!\+)"
    + r"(?P<prefix>(?:\+\s?86|0086|86)" + _SEP + r"?)?"
    + r"(?P<number>1[3-9]\d(?:\d{8}|(?P<s>" + _SEP + r")\d{4}(?P=s)\d{4}|" + _SEP + r"\d{8})|1[3-9]\d{2}"
    + _SEP + r"\d{3}" + _SEP + r"\d{4})"
    + _AFTER
)
# Area codes: 010 and 02x have 8-digit numbers, 0[3-9]xx 7 or 8. Written whole, the number must start
# with 2-9 (as real local numbers do); after a separator or brackets any first digit but 0 is read.
_LANDLINE = re.compile(
    _BEFORE
    + r"(?:(?P<area>(?:[(（]\s?0\d{2,3}\s?[)）]\s?|0\d{2,3}" + _SEP + r"))(?P<local>[1-9]\d{2,3}" + _SEP + r"?\d{4})"
    + r"|(?P<area2>0\d{2,3})(?P<local2>[2-9]\d{6,7}))"
    + r"(?P<ext>(?:-|转|ext\.?\s?)\d{1,5})?"
    + _AFTER
)
_LABELLED_LOCAL = re.compile(
    r"(?P<label>(?:电话|座机|固话|热线|联系方式|Tel|TEL|tel|Phone|phone)\s?(?:号码)?\s?[:：]?\s?)"
    + r"(?P<local>[2-9]\d{2,3}" + _SEP + r"?\d{4})"
    + _AFTER
)


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit() or ch in "Xx")


def _mask_email(match: re.Match, original: str) -> str:
    name = original[match.start(1):match.end(1)]
    return f"{name[0]}***@{original[match.start(2):match.end(2)]}"


def _mask_id(match: re.Match, original: str) -> str:
    return mask_id_number(_digits(match.group("id")).upper())


def _mask_mobile(match: re.Match, original: str) -> str:
    prefix = original[match.start("prefix"):match.end("prefix")] if match.group("prefix") else ""
    return prefix + mask_mobile(_digits(match.group("number")))


def _mask_local(local: str) -> str:
    digits = _digits(local)
    return "*" * (len(digits) - 4) + digits[-4:]


def _mask_landline(match: re.Match, original: str) -> str:
    area = "area" if match.group("area") else "area2"
    local = "local" if match.group("area") else "local2"
    return (original[match.start(area):match.end(area)] + _mask_local(match.group(local))
            + ("-****" if match.group("ext") else ""))


def _mask_labelled(match: re.Match, original: str) -> str:
    return original[match.start("label"):match.end("label")] + _mask_local(match.group("local"))


_RULES = (
    (_EMAIL, _mask_email),
    (_ID_18, _mask_id),
    (_MOBILE, _mask_mobile),
    (_ID_15, _mask_id),
    (_LANDLINE, _mask_landline),
    (_LABELLED_LOCAL, _mask_labelled),
)


def mask_public_text(text) -> str:
    """`text` as the public may read it: identity numbers, mobile and landline numbers and e-mail
    addresses masked; everything else as typed. None → ""."""
    if text is None:
        return ""
    text = str(text)
    if not text:
        return text
    for pattern, replace in _RULES:
        # Match on the ASCII reading of the text, replace in the text itself (same positions).
        probe = text.translate(_FULL_WIDTH)
        parts, last = [], 0
        for match in pattern.finditer(probe):
            parts.append(text[last:match.start()])
            parts.append(replace(match, text))
            last = match.end()
        if parts:
            parts.append(text[last:])
            text = "".join(parts)
    return text


def mask_public_data(value):
    """Every string inside `value` (dicts, lists, tuples) through `mask_public_text`; keys are kept."""
    if isinstance(value, str):
        return mask_public_text(value)
    if isinstance(value, dict):
        return {key: mask_public_data(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_public_data(item) for item in value]
    return value


def mask_name(value: str) -> str:
    """A person's name with all but its first character masked: 张三丰 → 张**."""
    value = value or ""
    return value[:1] + "*" * (len(value) - 1)


# The keys under which personal identifiers are kept, and how each is masked.
PERSONAL_FIELD_MASKS = {
    "id_number": mask_id_number,
    "mobile": mask_mobile,
    "contact_phone": mask_public_text,  # a mobile or a landline
    "contact_name": mask_name,
}


def mask_personal_fields(value):
    """`value` (dicts, lists) with the value of every key named in PERSONAL_FIELD_MASKS masked; the rest as is."""
    if isinstance(value, dict):
        return {
            key: (PERSONAL_FIELD_MASKS[key](item) if key in PERSONAL_FIELD_MASKS and isinstance(item, str)
                  else mask_personal_fields(item))
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [mask_personal_fields(item) for item in value]
    return value
