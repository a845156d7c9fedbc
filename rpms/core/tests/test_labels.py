"""Issue #17 item 3: the audit trail shows every action, object type and city by its Chinese label — the pages, the
filters and the export — and every action string written anywhere in rpms/ has a label."""
import ast
import re
from io import BytesIO
from pathlib import Path

import pytest
from django.apps import apps
from django.urls import reverse
from openpyxl import load_workbook

from rpms.accounts.models import Role, User
from rpms.core.labels import ACTION_LABELS, OBJECT_TYPE_LABELS, action_label, object_type_label, person_name

RPMS = Path(__file__).resolve().parents[2]
CODE_PATTERN = re.compile(r"^([a-z][a-z0-9_]*)\.([a-z0-9_]+)$")

# Strings of the form "<app>.<name>" in the code that are no audit action (each says what it is instead).
NOT_ACTIONS = {
    "core.audit_choices": "dispatch_uid of a signal handler",
    "cities.policy_changed": "dispatch_uid of a signal handler",
    "cities.policy_deleted": "dispatch_uid of a signal handler",
    "core.data_key": "object type (OBJECT_TYPE_LABELS)",
    "core.privatefile": "object type (OBJECT_TYPE_LABELS)",
    "assessments.honour_list": "object type (OBJECT_TYPE_LABELS)",
    "suggestions.lookup": "rate-limit scope",
    "suggestions.submit": "rate-limit scope",
    "documents.verify": "rate-limit scope",
    "accounts.register": "rate-limit scope",
    "suggestions.submitted_codes": "session key",
    "training.credited": "notification event",
    "training.rejected": "notification event",
    "finance.allowance_paid": "notification event",
    "finance.fee_paid": "notification event",
    "recruitment.notice_recomputed": "notification event",
    "registry.profile_change_decided": "notification event",
    "registry.roster_import": "background job kind",
    "appointments.existing_import": "background job kind",
}


def _source_files():
    for path in RPMS.rglob("*.py"):
        if "tests" in path.parts or path.name.startswith("test") or "migrations" in path.parts:
            continue
        yield path


def _string_constants():
    labels = {config.label for config in apps.get_app_configs()}
    models = {model._meta.label_lower for model in apps.get_models()}
    found = {}
    for path in _source_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                match = CODE_PATTERN.match(node.value)
                if match and match.group(1) in labels and node.value not in models:
                    found.setdefault(node.value, str(path.relative_to(RPMS.parent)))
    return found


def _action_keywords():
    """Every literal passed as `action=` to any call in rpms/ (audit_log, audit_read, …)."""
    found = {}
    for path in _source_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                for keyword in node.keywords:
                    value = keyword.value
                    if keyword.arg == "action" and isinstance(value, ast.Constant) and isinstance(value.value, str):
                        if CODE_PATTERN.match(value.value):
                            found.setdefault(value.value, str(path.relative_to(RPMS.parent)))
    return found


def test_every_action_passed_to_a_call_has_a_chinese_label():
    actions = _action_keywords()
    assert len(actions) > 150  # the scan does find the services' actions
    missing = {action: where for action, where in actions.items() if action not in ACTION_LABELS}
    assert not missing, f"audit actions without a label in rpms/core/labels.py ACTION_LABELS: {missing}"


def test_every_app_dotted_string_in_the_code_is_a_labelled_action_or_a_declared_non_action():
    """Catches actions built elsewhere (constants, tables of (action, summary), variables)."""
    found = _string_constants()
    assert "recruitment.objection_submit" in found and "core.personal_data_export" in found
    missing = {code: where for code, where in found.items() if code not in ACTION_LABELS and code not in NOT_ACTIONS}
    assert not missing, (
        f"add a Chinese label to ACTION_LABELS (rpms/core/labels.py) or, if it is no audit action, to NOT_ACTIONS: {missing}"
    )


def test_every_label_is_chinese_and_every_object_type_literal_is_named():
    for code, label in ACTION_LABELS.items():
        assert re.search(r"[\u4e00-\u9fff]", label) and not re.search(r"[a-z]_[a-z]", label), code
    assert not set(NOT_ACTIONS) & set(ACTION_LABELS)
    object_types = set()
    for path in _source_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                for keyword in node.keywords:
                    value = keyword.value
                    if keyword.arg == "object_type" and isinstance(value, ast.Constant) and value.value:
                        object_types.add(value.value)
    assert object_types
    for code in object_types:
        label = object_type_label(code)
        assert label and label != "其他对象" and code not in label, code
    assert set(OBJECT_TYPE_LABELS) <= object_types | {"core.privatefile", "core.data_key"}


def test_labels_fall_back_to_chinese_never_to_the_code():
    assert action_label("recruitment.objection_submit") == "提出公示异议"
    assert action_label("recruitment.something_new") == "征集与入库 · 其他操作"
    assert action_label("nothing.at_all") == "其他操作"
    assert object_type_label("dispatch.dispatchrequest") == "派驻申请"
    assert object_type_label("no.such_model") == "其他对象"


@pytest.mark.django_db
def test_person_name_is_the_display_name_else_the_role_never_the_user_name():
    named = User(username="wang_wu", display_name="王五", role=Role.PLANNER)
    unnamed = User(username="CITY_ADMIN", display_name="", role=Role.CITY_ADMIN)
    assert person_name(named) == "王五"
    assert person_name(unnamed) == str(unnamed.get_role_display())
    assert "CITY_ADMIN" not in person_name(unnamed)
    assert person_name(None) == "系统"


# --- the pages ---------------------------------------------------------------------------------------------------

@pytest.fixture
def labelled_rows(make_log, beijing):
    officer = User.objects.create_user(username="hd_worker_01", password="Pw-for-tests-123", role=Role.DISTRICT_OFFICER,
                                       city=beijing, display_name="赵六")
    objection = make_log(action="recruitment.objection_submit", object_type="recruitment.objection", object_id="7",
                         object_repr="对公示的异议", summary="提出异议", actor=officer, actor_repr="hd_worker_01")
    request = make_log(action="dispatch.request_submit", object_type="dispatch.dispatchrequest", object_id="9",
                       object_repr="海淀区派驻申请", summary="提交派驻申请",
                       before={"status": "submitted"}, after={"status": "accepted"})
    return objection, request


@pytest.mark.django_db
def test_audit_list_shows_chinese_labels_for_actions_object_types_cities_and_actors(client, auditor, labelled_rows):
    client.force_login(auditor)
    response = client.get(reverse("core:audit_list"))
    html = response.content.decode()
    assert response.status_code == 200
    for text in ("提出公示异议", "提交派驻需求", "派驻申请 #9", "北京市", "赵六"):
        assert text in html
    for raw in ("recruitment.objection_submit", "dispatch.dispatchrequest", "dispatch.request_submit",
                '<span class="badge">beijing</span>', "hd_worker_01"):
        assert raw not in html.replace('value="recruitment.objection_submit"', "").replace(
            'value="dispatch.request_submit"', "").replace('value="dispatch.dispatchrequest"', "")
    # the filters offer the labels (the codes stay the option values)
    assert '<option value="recruitment.objection_submit">提出公示异议</option>' in html
    assert '<option value="dispatch.dispatchrequest">派驻申请</option>' in html


@pytest.mark.django_db
def test_audit_actor_filter_finds_the_person_by_name(client, auditor, labelled_rows):
    client.force_login(auditor)
    html = client.get(reverse("core:audit_list"), {"actor": "赵六"}).content.decode()
    assert "提出异议" in html and "提交派驻申请" not in html


@pytest.mark.django_db
def test_audit_detail_names_fields_and_choice_values_in_chinese(client, auditor, labelled_rows):
    _, request = labelled_rows
    client.force_login(auditor)
    response = client.get(reverse("core:audit_detail", args=[request.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "提交派驻需求" in html and "派驻申请" in html and "北京市" in html
    assert "状态" in html and "待受理" in html and "已受理" in html
    assert "dispatch.request_submit" not in html and "beijing" not in html and "accepted" not in html


@pytest.mark.django_db
def test_audit_detail_of_another_city_is_not_found(client, city_admin, make_log):
    row = make_log(city_code="pingdingshan", summary="平顶山市的记录")
    client.force_login(city_admin)
    assert client.get(reverse("core:audit_detail", args=[row.pk])).status_code == 404


@pytest.mark.django_db
def test_audit_export_has_chinese_labels(client, auditor, labelled_rows):
    client.force_login(auditor)
    response = client.get(reverse("core:audit_export"))
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    data = [dict(zip(rows[0], row)) for row in rows[1:]]
    by_summary = {row["摘要"]: row for row in data}
    objection = by_summary["提出异议"]
    assert objection["动作"] == "提出公示异议"
    assert objection["城市"] == "北京市"
    assert objection["操作人"] == "赵六" and objection["操作人账户"] == "hd_worker_01"
    request = by_summary["提交派驻申请"]
    assert request["对象类型"] == "派驻申请"
    assert request["动作"] == "提交派驻需求"


def test_change_rows_name_fields_and_coded_values_in_chinese():
    from rpms.core.labels import change_rows

    rows = change_rows("accounts.user", {"failed_login_count": 1, "is_active": True},
                       {"failed_login_count": 2, "is_active": False, "reason": "unknown_user"})
    by_label = {row["label"]: row for row in rows}
    assert by_label["连续登录失败次数"]["after"] == "2"
    assert by_label["原因"]["after"] == "用户名不存在"
    assert any(row["after"] == "否" and row["before"] == "是" for row in rows)
    assert not any("_" in row["label"] for row in rows)
