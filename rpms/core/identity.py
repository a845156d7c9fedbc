"""Checking the personal identifiers an applicant types in: the mainland resident ID number
(居民身份证号码, GB 11643-1999) and the mainland mobile number.

Each `validate_*` function returns the normalised value or raises `DomainError` with a stable code
(`invalid_id_number`, `invalid_mobile`) and a Chinese message that says exactly what is wrong.
Full-width characters typed through a Chinese input method (`１１０…`, `Ｘ`) are folded to ASCII
first. Masking for public display lives in `rpms.core.masking` (`mask_id_number`, `mask_mobile`).

Form fields (`IdNumberField`, `MobileField`) and model-field validators (`id_number_validator`,
`mobile_validator`) wrap the same checks for forms and `full_clean()`.
"""

import datetime
import re
import unicodedata

from django import forms
from django.core.exceptions import ValidationError

from . import clock
from .errors import DomainError

# GB 11643-1999: ISO 7064 MOD 11-2 over the first 17 digits, weights 2^(17-i) mod 11.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"

# First two digits: the province-level division (GB/T 2260), plus 71 Taiwan, 81 Hong Kong, 82 Macao
# (also used by the residence permits for those residents), 83 the Taiwan residents' residence permit
# and 91 the foreigners' permanent residence ID card.
# fmt: off
PROVINCE_CODES = frozenset({
    "11", "12", "13", "14", "15",                     # North
    "21", "22", "23",                                 # Northeast
    "31", "32", "33", "34", "35", "36", "37",         # East
    "41", "42", "43", "44", "45", "46",               # Central-South
    "50", "51", "52", "53", "54",                     # Southwest
    "61", "62", "63", "64", "65",                     # Northwest
    "71", "81", "82", "83", "91",
})
# fmt: on

_EARLIEST_BIRTH = datetime.date(1900, 1, 1)
_MOBILE_RE = re.compile(r"1[3-9][0-9]{9}")
_MOBILE_SEPARATORS = re.compile(r"[\s\-]+")


def _fold(value) -> str:
    """Full-width digits/letters to ASCII, surrounding blanks removed."""
    return unicodedata.normalize("NFKC", str(value or "")).strip()


def id_number_checksum(first17: str) -> str:
    """The check character (0–9 or X) for the first 17 digits of a resident ID number.

    Lets tests and fixtures build valid fictional numbers: `base + id_number_checksum(base)`.
    Raises ValueError unless `first17` is exactly 17 ASCII digits.
    """
    if not (isinstance(first17, str) and len(first17) == 17 and first17.isascii() and first17.isdigit()):
        raise ValueError("first17 must be 17 ASCII digits")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS))
    return _CHECK_CHARS[total % 11]


def _invalid_id(reason: str) -> DomainError:
    return DomainError(f"身份证号码{reason}", code="invalid_id_number")


def validate_id_number(value: str) -> str:
    """The normalised 18-character resident ID number (upper-case X), or DomainError
    `invalid_id_number` with the precise reason (长度、字符、地区代码、出生日期、校验位)."""
    number = _fold(value).upper()
    if not number:
        raise DomainError("请填写身份证号码。", code="invalid_id_number")
    if len(number) != 18:
        raise _invalid_id(f"长度不正确：应为 18 位，实际为 {len(number)} 位。")
    if not re.fullmatch(r"[0-9]{17}[0-9X]", number):
        raise _invalid_id("格式不正确：前 17 位应为数字，最后一位应为数字或字母 X。")
    if number[:2] not in PROVINCE_CODES:
        raise _invalid_id(f"地区代码不正确：前两位“{number[:2]}”不是有效的省级行政区划代码。")
    raw_birth = number[6:14]
    try:
        birth = datetime.date(int(raw_birth[:4]), int(raw_birth[4:6]), int(raw_birth[6:]))
    except ValueError:
        raise _invalid_id(f"中的出生日期“{raw_birth}”不是有效日期。") from None
    if birth < _EARLIEST_BIRTH:
        raise _invalid_id(f"中的出生日期“{raw_birth}”早于 1900 年，不正确。")
    if birth > clock.today():
        raise _invalid_id(f"中的出生日期“{raw_birth}”晚于今天，不正确。")
    if id_number_checksum(number[:17]) != number[17]:
        raise _invalid_id("校验位不正确，请逐位核对后重新输入。")
    return number


def id_number_birth_date(value: str) -> datetime.date:
    """The birth date encoded in a resident ID number (validated first)."""
    number = validate_id_number(value)
    return datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def validate_mobile(value: str) -> str:
    """The 11-digit mainland mobile number (1[3-9]xxxxxxxxx), with spaces, hyphens and a leading
    +86 / 0086 removed; DomainError `invalid_mobile` otherwise."""
    mobile = _MOBILE_SEPARATORS.sub("", _fold(value))
    if not mobile:
        raise DomainError("请填写手机号码。", code="invalid_mobile")
    for prefix in ("+86", "0086"):
        if mobile.startswith(prefix):
            mobile = mobile[len(prefix) :]
            break
    if not _MOBILE_RE.fullmatch(mobile):
        raise DomainError("手机号码格式不正确：应为 11 位数字，以 13–19 开头。", code="invalid_mobile")
    return mobile


def _as_validation_error(check, value):
    try:
        return check(value)
    except DomainError as exc:
        raise ValidationError(exc.message, code=exc.code) from exc


def id_number_validator(value) -> None:
    """For `validators=[...]` on a model field: the same check, as a Django ValidationError."""
    _as_validation_error(validate_id_number, value)


def mobile_validator(value) -> None:
    """For `validators=[...]` on a model field: the same check, as a Django ValidationError."""
    _as_validation_error(validate_mobile, value)


class IdNumberField(forms.CharField):
    """A form field that cleans to the normalised ID number (upper-case X)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "身份证号码")
        kwargs.setdefault("max_length", 30)  # room for blanks and full-width input before folding
        kwargs.setdefault("help_text", "18 位居民身份证号码，最后一位可能是 X。")
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("autocomplete", "off")
        self.widget.attrs.setdefault("spellcheck", "false")

    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return value
        return _as_validation_error(validate_id_number, value)


class MobileField(forms.CharField):
    """A form field that cleans to the 11-digit mobile number."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "手机号码")
        kwargs.setdefault("max_length", 30)
        kwargs.setdefault("help_text", "11 位中国大陆手机号码。")
        super().__init__(**kwargs)
        self.widget.input_type = "tel"
        self.widget.attrs.setdefault("autocomplete", "tel")
        self.widget.attrs.setdefault("inputmode", "tel")

    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return value
        return _as_validation_error(validate_mobile, value)
