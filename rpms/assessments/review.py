"""When a review may be graded (issue #12: P6(4) 聘期届满前……综合评议; B20 年度考核), computed from its dates
and its inputs — never from a flag.

- The review window: the last `review_window_days` days of the service year assessed (policy; both
  cities 30), i.e. from `period_end − (N − 1)` to `period_end`; a grade is never given before the window
  opens (it may be given later, after the year has ended). A city without a window (null) grades whenever
  the inputs are in.
- The inputs: those the city's assessment criteria name (`inputs` of each criterion, see
  `PolicyProfile.review_inputs`): the planner's 述职 (`self_report`) and the hiring entity's 属地反馈
  (`entity_feedback`). Each is in when submitted, or when the assessing body has recorded its absence.
- The inputs are asked for when the review opens: the later of the day the assessment was opened and the
  day the window opens (a review opened early does not make the planner report on a year barely begun).
  Deadline: `review_input_working_days` working days (policy; both cities 10) counted from the day after
  (rpms.workdays: the State Council schedule, make-up days included). From the day after the deadline the
  assessing body may record an input still missing as absent.
- Grading is allowed from `allowed_from`: the window's first day, or if an input is still missing, the
  day after its deadline (when its absence can be recorded) if that is later.

One query for the absences (none when they are prefetched) plus the working-day calendar's two."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from .models import REVIEW_INPUT_PARTY, ReviewInput

SUBMITTED = "submitted"
ABSENT = "absent"
MISSING = "missing"
STATUS_LABELS = {SUBMITTED: "已提交", ABSENT: "逾期未提交（已记录缺失）", MISSING: "尚未提交"}


@dataclass
class ReviewState:
    period_end: dt.date
    window_days: int | None
    window_opens: dt.date
    requested_from: dt.date
    working_days: int
    deadline: dt.date
    deadline_provisional: bool
    deadline_explanation: list[str]
    inputs: list[dict] = field(default_factory=list)
    today: dt.date | None = None

    @property
    def missing_inputs(self) -> list[dict]:
        return [i for i in self.inputs if i["status"] == MISSING]

    @property
    def window_open(self) -> bool:
        return self.today >= self.window_opens

    @property
    def deadline_passed(self) -> bool:
        return self.today > self.deadline

    @property
    def allowed_from(self) -> dt.date:
        day = self.window_opens
        if self.missing_inputs:
            day = max(day, self.deadline + dt.timedelta(days=1))
        return day

    @property
    def ready(self) -> bool:
        return self.window_open and not self.missing_inputs

    def missing(self) -> list[dict]:
        """What stops grading today, as JSON-safe items (the API's `missing`)."""
        items = []
        if not self.window_open:
            items.append({"code": "review_window", "label": "考核评议窗口", "opens": self.window_opens.isoformat(),
                          "text": f"考核评议窗口自 {self.window_opens} 开启（考核期 {self.period_end} 结束前 "
                                  f"{self.window_days} 天内评定）"})
        for item in self.missing_inputs:
            after = (self.deadline + dt.timedelta(days=1)).isoformat()
            text = f"{item['party']}的{item['label']}（提交期限 {self.deadline}"
            text += "，已逾期，组织考核方可记录缺失后评定）" if self.deadline_passed else f"；逾期未提交的，自 {after} 起可记录缺失）"
            items.append({"code": item["code"], "label": item["label"], "party": item["party"],
                          "deadline": self.deadline.isoformat(), "absence_recordable_from": after, "text": text})
        return items

    def refusal_text(self, article: str) -> str:
        reasons = "；".join(m["text"] for m in self.missing())
        text = f"现在还不能评定考核等次（{article}）。尚缺：{reasons}。"
        if self.allowed_from > self.today:
            text += f"最早自 {self.allowed_from} 起可以评定。"
        else:
            text += "提交期限已过：请先记录逾期未提交的评议材料，即可评定。"
        return text

    def as_dict(self) -> dict:
        return {
            "window_days": self.window_days,
            "window_opens": self.window_opens.isoformat(),
            "period_end": self.period_end.isoformat(),
            "requested_from": self.requested_from.isoformat(),
            "working_days": self.working_days,
            "deadline": self.deadline.isoformat(),
            "deadline_provisional": self.deadline_provisional,
            "deadline_explanation": list(self.deadline_explanation),
            "inputs": [dict(i) for i in self.inputs],
            "ready": self.ready,
            "allowed_from": self.allowed_from.isoformat(),
            "missing": self.missing(),
            "computed_on": self.today.isoformat(),
        }


def window_opens(assessment) -> dt.date:
    days = assessment.city.policy.review_window_days
    if not days:
        return assessment.period_start
    return max(assessment.period_start, assessment.period_end - dt.timedelta(days=days - 1))


def _aware_date(value) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def review_state(assessment, *, today: dt.date | None = None, absences=None) -> ReviewState:
    """The review's window, deadline and inputs as of `today` (the system's clock by default)."""
    from rpms.core import clock
    from rpms.workdays.selectors import add_working_days

    today = today or clock.today()
    policy = assessment.city.policy
    opens = window_opens(assessment)
    opened_on = assessment.opened_on or (clock.localdate(assessment.opened_at) if assessment.opened_at else today)
    requested_from = max(opened_on, opens)
    days = policy.review_input_working_days or 1
    deadline = add_working_days(requested_from + dt.timedelta(days=1), days)
    if absences is None:
        absences = list(assessment.absences.all())
    by_input = {a.input: a for a in absences}
    inputs = []
    for code in policy.review_inputs():
        choice = ReviewInput(code)
        absence = by_input.get(code)
        if code == ReviewInput.SELF_REPORT:
            at = assessment.self_reported_at if assessment.self_reported_at else None
        else:
            at = assessment.entity_feedback_at if assessment.entity_feedback_at else None
        status = SUBMITTED if at else (ABSENT if absence is not None else MISSING)
        inputs.append({
            "code": code, "label": choice.label, "party": REVIEW_INPUT_PARTY[choice], "status": status,
            "status_label": STATUS_LABELS[status], "submitted_at": _aware_date(at),
            "absence": absence.as_dict() if absence is not None else None,
        })
    return ReviewState(
        period_end=assessment.period_end, window_days=policy.review_window_days, window_opens=opens,
        requested_from=requested_from, working_days=days, deadline=deadline.end,
        deadline_provisional=deadline.provisional, deadline_explanation=list(deadline.explanation), inputs=inputs,
        today=today,
    )


def review_lines(review: dict) -> list[dict]:
    """Label/value lines in Chinese for the result (page, API, notice): each input and how it came in."""
    if not review:
        return []
    lines = []
    for item in review.get("inputs", []):
        if item["status"] == SUBMITTED:
            value = f"{(item.get('submitted_at') or '')[:10]} 提交"
        elif item["status"] == ABSENT:
            absence = item.get("absence") or {}
            value = (f"逾期未提交：提交期限 {absence.get('deadline', '')}（自 {absence.get('requested_from', '')} 起 "
                     f"{absence.get('working_days', '')} 个工作日），{absence.get('recorded_at', '')[:10]} 由"
                     f"{absence.get('recorded_by') or '组织考核方'}记录缺失，评议未等待该材料")
            if absence.get("note"):
                value += f"（{absence['note']}）"
        else:
            value = f"尚未提交（提交期限 {review.get('deadline', '')}）"
        lines.append({"label": f"{item['label']}（{item['party']}）", "value": value})
    return lines
