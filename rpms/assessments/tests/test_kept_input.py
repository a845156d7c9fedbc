"""Issue #17 items 4 and 5 on the assessment pages: a refused scoring form is shown again at once with every score
and comment typed; grading asks for confirmation on a page that says what will follow."""
import re
from html import unescape

from rpms.assessments import services
from rpms.assessments.models import AssessmentStatus

from .conftest import appoint, inputs_in, into_window, score_all


def _value_of(page, name):
    tag = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', page).group(0)
    found = re.search(r'\bvalue="([^"]*)"', tag)
    return found.group(1) if found else None


def _criteria(case):
    return [c["code"] for c in case["city"].policy.assessment_criteria]


def test_one_out_of_range_score_keeps_all_scores_and_comments(bj_case, clock, login, district_haidian):
    assessment = services.assessment_open(actor=district_haidian, appointment=appoint(bj_case, clock))
    codes = _criteria(bj_case)
    assert len(codes) >= 2
    typed = {}
    for index, code in enumerate(codes):
        typed[f"score_{code}"] = f"{71 + index}"
        typed[f"comment_{code}"] = f"评语标记{index}号"
    typed[f"score_{codes[0]}"] = "250"  # out of range
    response = login(district_haidian).post(f"/assessments/{assessment.pk}/scores/", typed)
    page = unescape(response.content.decode())
    assert response.status_code == 400  # shown again, not redirected
    assert 'class="alert error"' in page  # the reason, on the page of the form
    for name, value in typed.items():
        assert _value_of(page, name) == value, name
    assert not assessment.scores.exists()  # nothing saved


def _ready_to_grade(case, clock, district_haidian):
    assessment = services.assessment_open(actor=district_haidian, appointment=appoint(case, clock))
    into_window(clock, assessment)
    inputs_in(case, assessment)
    score_all(case, assessment)
    return assessment


def test_grading_first_shows_what_will_follow_and_changes_nothing(bj_case, clock, login, district_haidian):
    assessment = _ready_to_grade(bj_case, clock, district_haidian)
    officer = login(district_haidian)
    url = f"/assessments/{assessment.pk}/grade/"
    first = officer.post(url, {"grade": "qualified", "comment": "评定意见甲乙丙"})
    page = unescape(first.content.decode())
    assessment.refresh_from_db()
    assert first.status_code == 200 and assessment.status == AssessmentStatus.OPEN
    assert "请确认" in page and "不能撤回" in page and "个人档案" in page and "考核结果通知" in page
    assert 'name="grade" value="qualified"' in page and 'value="评定意见甲乙丙"' in page  # carried in hidden fields
    assert 'name="confirm" value="1"' in page and "返回修改" in page

    back = officer.post(url, {"grade": "qualified", "comment": "评定意见甲乙丙", "confirm": "back"})
    again = unescape(back.content.decode())
    assessment.refresh_from_db()
    assert back.status_code == 200 and assessment.status == AssessmentStatus.OPEN
    assert "评定考核等次" in again and "评定意见甲乙丙</textarea>" in again
    assert 'value="qualified" required checked' in again  # the grade picked is picked again

    done = officer.post(url, {"grade": "qualified", "comment": "评定意见甲乙丙", "confirm": "1"})
    assessment.refresh_from_db()
    assert done.status_code == 302 and assessment.status == AssessmentStatus.GRADED
    assert assessment.grade_comment == "评定意见甲乙丙"


def test_grading_without_a_grade_is_refused_before_the_confirmation(bj_case, clock, login, district_haidian):
    assessment = _ready_to_grade(bj_case, clock, district_haidian)
    response = login(district_haidian).post(f"/assessments/{assessment.pk}/grade/", {"comment": "只写了意见"})
    page = unescape(response.content.decode())
    assert response.status_code == 400 and "请选择考核等次" in page and "只写了意见</textarea>" in page
