"""Free text shown to the public: identity numbers, mobile and landline numbers and e-mail addresses typed
inside it come out masked (PIPL art. 28–29); dates, years, amounts, postcodes and document numbers do not."""
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from rpms.core.masking import mask_public_data, mask_public_text

CHINESE = "居民小区门口人行道破损建议修缮请尽快联系我谢谢问题反映街道社区规划的是在有和，。；！？、"
filler = st.text(alphabet=CHINESE, min_size=1, max_size=12)
digit = st.sampled_from("0123456789")


def digits(n):
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


@st.composite
def id_numbers(draw):
    region = str(draw(st.integers(110000, 659999)))
    born = draw(st.dates(dt.date(1930, 1, 1), dt.date(2025, 12, 31)))
    sequence = draw(digits(3))
    check = draw(st.sampled_from("0123456789Xx"))
    birth = born.strftime("%Y%m%d")
    style = draw(st.sampled_from(["whole", "6-8-4 space", "6-8-4 hyphen", "6-4-4-4 space", "6-4-4-4 hyphen"]))
    if style == "whole":
        return region + birth + sequence + check
    sep = " " if "space" in style else "-"
    if style.startswith("6-8-4"):
        return sep.join([region, birth, sequence + check])
    return sep.join([region, birth[:4], birth[4:], sequence + check])


@st.composite
def old_id_numbers(draw):
    region = str(draw(st.integers(110000, 659999)))
    born = draw(st.dates(dt.date(1930, 1, 1), dt.date(1999, 12, 31)))
    return region + born.strftime("%y%m%d") + draw(digits(3))


@st.composite
def mobiles(draw):
    number = "1" + draw(st.sampled_from("3456789")) + draw(digits(9))
    style = draw(st.sampled_from(["whole", "3-4-4 space", "3-4-4 hyphen"]))
    if style != "whole":
        sep = " " if "space" in style else "-"
        number = sep.join([number[:3], number[3:7], number[7:]])
    prefix = draw(st.sampled_from(["", "+86", "+86 ", "86", "86-", "0086 "]))
    return prefix + number


@st.composite
def landlines(draw):
    area = draw(st.sampled_from(["010", "020", "021", "022", "0371", "0375", "0755", "0512"]))
    length = 8 if len(area) == 3 else draw(st.sampled_from([7, 8]))
    local = draw(st.sampled_from("23456789")) + draw(digits(length - 1))
    style = draw(st.sampled_from(["{a}-{l}", "({a}){l}", "（{a}）{l}", "{a} {l}", "{a}{l}", "{a}-{l}-{e}", "{a}-{l}转{e}"]))
    return style.format(a=area, l=local, e=draw(st.integers(1, 9999)))


@st.composite
def labelled_locals(draw):
    label = draw(st.sampled_from(["电话：", "电话", "座机 ", "固话:", "Tel:", "热线"]))
    return label + draw(st.sampled_from("23456789")) + draw(digits(7))


@st.composite
def emails(draw):
    name = draw(st.from_regex(r"[a-z0-9][a-z0-9._\-]{0,15}", fullmatch=True))
    domain = draw(st.from_regex(r"[a-z0-9]{1,10}(\.[a-z0-9]{1,8})?\.(com|cn|net|org|com\.cn)", fullmatch=True))
    return f"{name}@{domain}"


def only_digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


@hsettings(max_examples=300, deadline=None)
@given(before=filler, after=filler, value=st.one_of(id_numbers(), old_id_numbers(), mobiles(), landlines()))
def test_identity_and_phone_numbers_typed_in_chinese_text_are_always_masked(before, after, value):
    masked = mask_public_text(before + value + after)
    assert value not in masked
    assert only_digits(value) not in only_digits(masked)
    assert "***" in masked
    assert masked.startswith(before) and masked.endswith(after)


@hsettings(max_examples=200, deadline=None)
@given(before=filler, after=filler, value=labelled_locals())
def test_a_local_number_after_a_phone_label_is_masked(before, after, value):
    masked = mask_public_text(before + value + after)
    assert value not in masked and value[-8:] not in masked and "****" in masked


@hsettings(max_examples=200, deadline=None)
@given(before=filler, after=filler, value=emails())
def test_email_addresses_are_always_masked(before, after, value):
    masked = mask_public_text(before + " " + value + " " + after)
    assert value not in masked
    assert "***@" in masked


@st.composite
def ordinary_numbers(draw):
    kind = draw(st.sampled_from(["date", "year", "amount", "postcode", "code", "time", "percent", "count"]))
    if kind == "date":
        day = draw(st.dates(dt.date(1990, 1, 1), dt.date(2100, 12, 31)))
        return day.strftime(draw(st.sampled_from(["%Y-%m-%d", "%Y年%m月%d日", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d"])))
    if kind == "year":
        return f"{draw(st.integers(1949, 2100))}年"
    if kind == "amount":
        value = draw(st.integers(0, 10**12))
        cents = draw(st.integers(0, 99))
        shape = draw(st.sampled_from(["{v}元", "{v:,}元", "{v}.{c:02d}元", "{v:,}.{c:02d} 元", "{v}万元", "¥{v:,}.{c:02d}元"]))
        return shape.format(v=value, c=cents)
    if kind == "postcode":
        return draw(st.sampled_from("0123456789")) + draw(digits(5))
    if kind == "code":
        city = draw(st.sampled_from(["BEIJING", "PINGDINGSHAN"]))
        prefix = draw(st.sampled_from(["PZTZ", "HTBA", "RKGS", "ZS"]))
        return f"{city}-{prefix}-{draw(st.integers(2000, 2100))}-{draw(st.integers(0, 99999)):05d}"
    if kind == "time":
        return f"{draw(st.integers(0, 23)):02d}:{draw(st.integers(0, 59)):02d}"
    if kind == "percent":
        return f"{draw(st.integers(0, 100))}.{draw(st.integers(0, 9))}%"
    return f"{draw(st.integers(0, 10**6))}件"


@hsettings(max_examples=400, deadline=None)
@given(parts=st.lists(st.tuples(filler, ordinary_numbers()), min_size=1, max_size=5), tail=filler)
def test_dates_amounts_postcodes_and_document_numbers_are_left_alone(parts, tail):
    text = "".join(a + b for a, b in parts) + tail
    assert mask_public_text(text) == text


@pytest.mark.parametrize("typed, shown", [
    ("请联系13800138000", "请联系138****8000"),
    ("电话 138 0013 8000。", "电话 138****8000。"),
    ("+86 138-0013-8000", "+86 138****8000"),
    ("身份证110101199003071234", "身份证110***********1234"),
    ("身份证号 11010519491231002X 谢谢", "身份证号 110***********002X 谢谢"),
    ("座机010-62345678", "座机010-****5678"),
    ("（0375）2345678", "（0375）***5678"),
    ("0375-1234567", "0375-***4567"),
    ("电话：6234 5678", "电话：****5678"),
    ("邮箱 zhangsan@example.com。", "邮箱 z***@example.com。"),
    ("手机１３８００１３８０００", "手机138****8000"),
])
def test_worked_examples(typed, shown):
    assert mask_public_text(typed) == shown


def test_nothing_typed_and_data_structures():
    assert mask_public_text(None) == ""
    assert mask_public_text("") == ""
    data = {"content": "电话13800138000", "replies": [{"text": "邮箱 a@b.cn"}], "count": 3, "received_on": "2026-12-02"}
    assert mask_public_data(data) == {"content": "电话138****8000", "replies": [{"text": "邮箱 a***@b.cn"}],
                                      "count": 3, "received_on": "2026-12-02"}


@pytest.mark.parametrize("text", [
    "摘要 a3f113800138000b110101199003071234cccc",  # a hash: digits glued to letters are no phone or ID
    "编号 DOC13912345678X",
    "核验码 BEIJING-PZTZ-2026-00012，日期 2026-12-02，金额 13800000000元，邮编 100081",
    "2026年12月2日 13:45 共 12 件，占 12.5%",
])
def test_codes_hashes_and_ordinary_numbers_are_left_as_they_are(text):
    assert mask_public_text(text) == text
