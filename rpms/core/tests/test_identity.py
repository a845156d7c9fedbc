"""Resident ID numbers (GB 11643-1999) and mobile numbers: what is accepted, what is refused and why."""

import datetime

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from rpms.core.errors import DomainError
from rpms.core.identity import (
    PROVINCE_CODES,
    IdNumberField,
    MobileField,
    id_number_birth_date,
    id_number_checksum,
    id_number_validator,
    mobile_validator,
    validate_id_number,
    validate_mobile,
)

# The worked example printed in GB 11643-1999 itself (fictional person).
STANDARD_EXAMPLE = "11010519491231002X"


def build(region="110108", birth="19850312", sequence="123"):
    first17 = region + birth + sequence
    return first17 + id_number_checksum(first17)


def refusal(value) -> DomainError:
    with pytest.raises(DomainError) as info:
        validate_id_number(value)
    assert info.value.code == "invalid_id_number"
    assert info.value.status == 400
    return info.value


def test_the_standards_worked_example_is_valid():
    assert id_number_checksum(STANDARD_EXAMPLE[:17]) == "X"
    assert validate_id_number(STANDARD_EXAMPLE) == STANDARD_EXAMPLE


def test_a_lower_case_x_is_accepted_and_normalised_to_upper_case():
    assert validate_id_number(STANDARD_EXAMPLE.lower()) == STANDARD_EXAMPLE


def test_surrounding_blanks_and_full_width_digits_are_folded():
    full_width = "".join(chr(ord(ch) + 0xFEE0) for ch in STANDARD_EXAMPLE)  # １１０…Ｘ
    assert validate_id_number(f"  {full_width} ") == STANDARD_EXAMPLE


def test_a_wrong_length_is_refused_with_the_actual_length():
    error = refusal(STANDARD_EXAMPLE[:17])
    assert "长度" in error.message and "18 位" in error.message and "17 位" in error.message
    assert "长度" in refusal(STANDARD_EXAMPLE + "1").message


def test_an_empty_value_asks_for_the_number():
    assert refusal("   ").message == "请填写身份证号码。"


@pytest.mark.parametrize("value", ["1101051949123100XX", "11010519491231A02X", "110105194912310O2X"])
def test_letters_other_than_a_final_x_are_refused(value):
    assert "格式" in refusal(value).message


def test_a_wrong_check_character_is_refused():
    wrong = STANDARD_EXAMPLE[:17] + "1"
    assert "校验位" in refusal(wrong).message


@hsettings(max_examples=200, deadline=None)
@given(
    sequence=st.text(alphabet="0123456789", min_size=3, max_size=3),
    position=st.integers(min_value=0, max_value=16),
    delta=st.integers(min_value=1, max_value=9),
)
def test_any_single_digit_mistake_is_caught_by_the_checksum(sequence, position, delta):
    valid = build(sequence=sequence)
    assert validate_id_number(valid) == valid
    digits = list(valid)
    digits[position] = str((int(digits[position]) + delta) % 10)
    mistyped = "".join(digits)
    assert id_number_checksum(mistyped[:17]) != mistyped[17]  # MOD 11-2 detects every single substitution
    with pytest.raises(DomainError):
        validate_id_number(mistyped)  # may fail on region or date first; never accepted


@pytest.mark.parametrize("birth", ["19990230", "20011301", "19850000"])
def test_an_impossible_birth_date_is_refused(birth):
    error = refusal(build(birth=birth))
    assert "出生日期" in error.message and birth in error.message


def test_a_birth_date_in_the_future_is_refused():
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    error = refusal(build(birth=f"{tomorrow:%Y%m%d}"))
    assert "出生日期" in error.message and "晚于今天" in error.message


def test_a_birth_date_before_1900_is_refused():
    error = refusal(build(birth="18991231"))
    assert "出生日期" in error.message and "1900" in error.message


def test_todays_and_1900s_first_birth_dates_are_accepted():
    today = timezone.localdate()
    assert validate_id_number(build(birth=f"{today:%Y%m%d}"))
    assert validate_id_number(build(birth="19000101"))


@pytest.mark.parametrize("province", sorted(PROVINCE_CODES))
def test_every_listed_province_code_is_accepted(province):
    number = build(region=province + "0101")
    assert validate_id_number(number) == number


@pytest.mark.parametrize(
    "province",
    [
        "00",
        "10",
        "16",
        "20",
        "24",
        "30",
        "38",
        "40",
        "47",
        "49",
        "55",
        "60",
        "66",
        "70",
        "72",
        "80",
        "84",
        "90",
        "92",
        "99",
    ],
)
def test_an_unknown_province_code_is_refused(province):
    error = refusal(build(region=province + "0101"))
    assert "地区代码" in error.message and province in error.message


def test_the_listed_province_codes_are_exactly_the_standard_ones():
    standard = (
        "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82 83 91"
    )
    assert PROVINCE_CODES == frozenset(standard.split())


def test_the_birth_date_can_be_read_back():
    assert id_number_birth_date(STANDARD_EXAMPLE) == datetime.date(1949, 12, 31)


@pytest.mark.parametrize("bad", ["1234", "1101051949123100a", "abcdefghijklmnopq", ""])
def test_the_checksum_helper_wants_17_digits(bad):
    with pytest.raises(ValueError):
        id_number_checksum(bad)


# --- mobile numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "+8613812345678",
        "0086-13812345678",
        " 13812345678 ",
        "１３８１２３４５６７８",
    ],
)
def test_mobile_numbers_are_normalised_to_eleven_digits(raw):
    assert validate_mobile(raw) == "13812345678"


@pytest.mark.parametrize("prefix", ["13", "14", "15", "16", "17", "18", "19"])
def test_every_mobile_prefix_from_13_to_19_is_accepted(prefix):
    assert validate_mobile(prefix + "012345678") == prefix + "012345678"


@pytest.mark.parametrize(
    "raw",
    [
        "12812345678",
        "10012345678",
        "1381234567",
        "138123456789",
        "1381234567a",
        "23812345678",
        "+85213812345678",
        "(138)12345678",
    ],
)
def test_malformed_mobile_numbers_are_refused_in_chinese(raw):
    with pytest.raises(DomainError) as info:
        validate_mobile(raw)
    assert info.value.code == "invalid_mobile"
    assert "手机号码格式不正确" in info.value.message


def test_an_empty_mobile_asks_for_one():
    with pytest.raises(DomainError) as info:
        validate_mobile("  ")
    assert info.value.code == "invalid_mobile" and info.value.message == "请填写手机号码。"


# --- form fields and model validators --------------------------------------------------------------


class PersonForm(forms.Form):
    id_number = IdNumberField()
    mobile = MobileField()
    spare_mobile = MobileField(required=False)


def test_form_fields_clean_to_the_normalised_values():
    form = PersonForm(data={"id_number": STANDARD_EXAMPLE.lower(), "mobile": "+86 139-0000-1111", "spare_mobile": ""})
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"id_number": STANDARD_EXAMPLE, "mobile": "13900001111", "spare_mobile": ""}


def test_form_fields_show_the_precise_chinese_reason():
    form = PersonForm(data={"id_number": STANDARD_EXAMPLE[:17] + "1", "mobile": "12345"})
    assert not form.is_valid()
    assert form.errors["id_number"] == ["身份证号码校验位不正确，请逐位核对后重新输入。"]
    assert "手机号码格式不正确" in form.errors["mobile"][0]
    assert form.errors.as_data()["id_number"][0].code == "invalid_id_number"


def test_the_mobile_field_renders_as_a_telephone_input():
    html = str(PersonForm()["mobile"])
    assert 'type="tel"' in html


def test_model_validators_raise_django_validation_errors():
    id_number_validator(STANDARD_EXAMPLE)
    mobile_validator("13812345678")
    with pytest.raises(ValidationError) as info:
        id_number_validator("110105194912310021")
    assert info.value.code == "invalid_id_number"
    with pytest.raises(ValidationError) as info:
        mobile_validator("110")
    assert info.value.code == "invalid_mobile"
