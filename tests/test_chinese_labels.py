"""Issue #17 item 3: what a user sees names things in Chinese — never a code, a file name or a user name. One test
per place that showed one: error pages, the admin greeting, people on records (dossier, unit history), zone types,
duty categories, the working-day calendar's source, the policy document's source."""
import pytest
from django.urls import reverse

from rpms.accounts.models import Role, User
from rpms.core.models import ActionLog

pytestmark = pytest.mark.django_db


def _page(client, user, url, status=200):
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.content.decode()


def test_an_error_page_explains_in_chinese_and_shows_no_error_code(client, district_haidian):
    html = _page(client, district_haidian, reverse("core:audit_list"), status=403)
    assert "无权操作" in html and "您的账户角色无权执行此操作" in html
    assert "错误代码" not in html and "forbidden" not in html


def test_the_admin_greets_the_person_by_name_or_role_never_by_user_name(client):
    named = User.objects.create_superuser(username="install_root", password="Pw-for-tests-123",
                                          display_name="安装负责人")
    html = _page(client, named, reverse("admin:index"))
    assert "欢迎，<strong>安装负责人</strong>" in html
    assert "install_root" not in html
    unnamed = User.objects.create_superuser(username="CITY_ADMIN", password="Pw-for-tests-123", role=Role.CITY_ADMIN)
    html = _page(client, unnamed, reverse("admin:index"))
    assert "欢迎，<strong>市级管理员</strong>" in html
    assert "CITY_ADMIN" not in html


def test_a_user_is_named_by_the_display_name_else_the_role_also_in_the_audit_trail():
    assert str(User(username="lisi_01", display_name="李四", role=Role.PLANNER)) == "李四"
    assert str(User(username="lisi_01", role=Role.PLANNER)) == "责任规划师"
    from django.db import transaction

    from rpms.core.audit import audit_log

    user = User.objects.create_user(username="wangwu_02", password="Pw-for-tests-123", role=Role.AUDITOR)
    with transaction.atomic():
        row = audit_log(actor=None, action="accounts.account_update", obj=user)
    assert row.object_repr == "审计员" and row.object_id == str(user.pk)  # the account is identified by its number


def test_the_dossier_names_the_officer_not_the_account(client, beijing, haidian, city_admin):
    from rpms.registry.tests.factories import pool_member

    planner = pool_member(beijing, "甲规划", districts=[haidian])
    client.force_login(city_admin)
    done = client.post(f"/pool/{planner.pk}/remove/", {"ground": "other_unsuitable", "note": "不宜继续", "confirm": "1"})
    assert done.status_code == 302
    html = _page(client, city_admin, f"/pool/{planner.pk}/")
    assert "调出资源库" in html
    assert f"<td>{city_admin.display_name}</td>" in html
    assert city_admin.username not in html


def test_the_unit_history_names_the_officer_not_the_account(client, beijing, haidian, district_haidian):
    from rpms.geography.models import ResponsibilityUnit
    from rpms.geography.services import unit_rename

    unit = ResponsibilityUnit.objects.filter(district=haidian, dissolved_at__isnull=True).first()
    unit_rename(actor=district_haidian, unit=unit, name="改名后的责任单元")
    assert ActionLog.objects.filter(action="geography.unit_rename", actor=district_haidian).exists()
    html = _page(client, district_haidian, reverse("geography:unit_detail", args=[unit.pk]))
    assert f"<td>{district_haidian.display_name}</td>" in html
    assert district_haidian.username not in html


def test_zone_types_are_shown_by_label_never_by_code(client, beijing, haidian, city_admin):
    html = _page(client, city_admin, reverse("geography:district_list"))
    assert "功能区类型与工作重点" in html
    assert "sub_centre" not in html and "<td>core</td>" not in html
    type(haidian).objects.filter(pk=haidian.pk).update(zone_type="retired_zone")  # a code the policy no longer lists
    html = _page(client, city_admin, reverse("geography:district_detail", args=[haidian.code]))
    assert "本市政策中已无此类型" in html and "retired_zone" not in html


def test_a_duty_category_the_policy_does_not_list_is_not_shown_by_its_code(beijing):
    from rpms.duties.models import DutyRecord

    code = beijing.policy.duty_categories[0]["code"]
    assert DutyRecord(city=beijing, category=code).category_label() == beijing.policy.duty_categories[0]["label"]
    assert DutyRecord(city=beijing, category="co_something_old").category_label() == "本市政策中已无此类别"


def test_the_workday_calendar_names_its_source_in_chinese(client, city_admin):
    client.force_login(city_admin)
    response = client.get(reverse("workdays:year_list"))
    html = response.content.decode()
    assert "国务院办公厅公布的安排（系统内置）" in html
    assert "holidays" not in html and "软件包" not in html
    year = next(row.year for row in response.context["rows"] if row.source == "package")
    html = _page(client, city_admin, reverse("workdays:year_detail", args=[year]))
    assert "系统内置的国务院节假日安排数据" in html
    assert "holidays" not in html and "软件包" not in html and "chinesecalendar" not in html


def test_the_policy_document_names_its_source_by_title_not_file_name(client, beijing, anon):
    html = client.get(reverse("publicinfo:policy_document", args=["beijing"])).content.decode()
    assert "原文来源：《" in html
    assert ".txt" not in html


def test_a_team_members_specialty_is_shown_by_its_label(client, beijing, haidian, city_admin):
    from rpms.registry.models import TeamMember
    from rpms.registry.tests.factories import pool_member

    team = pool_member(beijing, "虚构规划团队", districts=[haidian], kind="team", leader_name="团队负责人")
    TeamMember.objects.create(planner=team, name="成员甲", specialty="landscape", is_core=True)
    TeamMember.objects.create(planner=team, name="成员乙", specialty="retired_specialty")
    html = _page(client, city_admin, f"/pool/{team.pk}/")
    assert f"<td>成员甲</td><td>{beijing.policy.specialty_label('landscape')}</td>" in html
    assert "本市政策中已无此专业领域" in html
    assert "<td>landscape</td>" not in html and "retired_specialty" not in html
