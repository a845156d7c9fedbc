"""Input for the calculator (page and API) and the entry form. Query strings are parsed here, as strings,
so that every malformed value becomes a DomainError with a Chinese message instead of a 500."""
from __future__ import annotations

import datetime as dt
import re

from django import forms

from rpms.core.errors import DomainError

from .models import MAX_YEAR, MIN_YEAR
from .selectors import MAX_DAYS, MIN_DAYS

_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def parse_date_param(value: str | None, *, label: str, param: str) -> dt.date:
    value = (value or "").strip()
    if not value:
        raise DomainError(f"缺少{label}（参数 {param}），格式为 YYYY-MM-DD。", code="missing_param")
    if not _ISO_DATE.match(value):
        raise DomainError(f"{label}“{value[:20]}”格式不正确，应为 YYYY-MM-DD。", code="invalid_date")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise DomainError(f"{label}“{value}”不是存在的日期。", code="invalid_date") from None


def parse_days_param(value: str | None, *, param: str = "days") -> int:
    value = (value or "").strip()
    if not value:
        raise DomainError(f"缺少工作日天数（参数 {param}）。", code="missing_param")
    if not re.fullmatch(r"[+-]?[0-9]{1,6}", value):
        raise DomainError(f"工作日天数“{value[:20]}”必须是整数。", code="invalid_days")
    days = int(value)
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise DomainError(f"工作日天数必须在 {MIN_DAYS} 到 {MAX_DAYS} 之间。", code="days_out_of_range")
    return days


class CalendarYearEntryForm(forms.Form):
    year = forms.IntegerField(
        label="年度",
        min_value=MIN_YEAR,
        max_value=MAX_YEAR,
        error_messages={"required": "请填写年度。", "invalid": "年度应为四位数字。"},
    )
    source = forms.CharField(
        label="依据文件",
        max_length=200,
        help_text="例如：国办发明电〔2026〕X号",
        error_messages={"required": "请填写依据文件。"},
    )
    notice_text = forms.CharField(
        label="通知原文",
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text=(
            "粘贴《国务院办公厅关于某年部分节假日安排的通知》正文；"
            "或每行一个日期/区间，如“2027-10-01 至 2027-10-07 放假 国庆节”“2027-09-26 上班 国庆节”。"
        ),
        error_messages={"required": "请粘贴通知原文。"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].error_messages.update(
            {"min_value": f"年度不能早于 {MIN_YEAR} 年。", "max_value": f"年度不能晚于 {MAX_YEAR} 年。"}
        )
