"""The three separated administrators (issue 16 item 2; 三权分立, GB/T 22239-2019 8.1.5): each does its own acts
and is refused the others'; no account holds two administrator roles (services, the DB constraint, the
installation command); scopes are validated; every act writes one audit row citing its article, without any
password data."""
import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction

from rpms.accounts import administration as adm
from rpms.accounts.models import ApiToken, Role, User
from rpms.accounts.services import api_token_issue
from rpms.core import clock
from rpms.core.errors import Conflict, DomainError, Forbidden, NotFound
from rpms.core.models import ActionLog
from rpms.testing.builders import PASSWORD, user_build

pytestmark = pytest.mark.django_db

SYSTEM = "GB/T 22239-2019 8.1.5.1"
AUDIT = "GB/T 22239-2019 8.1.5.2"
SECURITY = "GB/T 22239-2019 8.1.5.3"


def _rows(action, user=None):
    rows = ActionLog.objects.filter(action=action)
    if user is not None:
        rows = rows.filter(object_type="accounts.user", object_id=str(user.pk))
    return list(rows.order_by("id"))


def _no_password_data(row, *passwords):
    text = json.dumps([row.before, row.after], ensure_ascii=False)
    assert "pbkdf2" not in text and "argon2" not in text and "$" not in text
    for password in passwords:
        assert password not in text
    for side in (row.before or {}, row.after or {}):
        assert "password" not in side


@pytest.fixture
def account(beijing):
    """An account the system administrator opened, without a role yet."""
    return user_build("t_plain", "", beijing, display_name="普通账户")


# --- the system administrator -------------------------------------------------------------------------------------

def test_system_admin_opens_an_account_with_a_generated_password_shown_once(system_admin, beijing):
    user, generated = adm.account_create(actor=system_admin, username="new_officer", display_name="海淀区新同事",
                                         email="new@example.invalid", city=beijing)
    assert generated and len(generated) >= 12
    user.refresh_from_db()
    assert user.check_password(generated) and user.role == "" and user.city == beijing and user.is_active
    assert not user.is_staff and not user.is_superuser
    [row] = _rows("accounts.account_create", user)
    assert row.actor == system_admin and row.article == SYSTEM
    assert row.after["username"] == "new_officer" and row.after["password_generated"] is True
    _no_password_data(row, generated, user.password)


def test_system_admin_may_type_the_initial_password_and_a_weak_one_is_refused_whole(system_admin):
    with pytest.raises(DomainError) as refused:
        adm.account_create(actor=system_admin, username="weakling", display_name="甲", password="123")
    assert refused.value.code == "weak_password"
    assert not User.objects.filter(username="weakling").exists() and not _rows("accounts.account_create")
    user, generated = adm.account_create(actor=system_admin, username="typed", display_name="乙",
                                         password="Typed-pass-2026!")
    assert generated is None and user.check_password("Typed-pass-2026!")
    _no_password_data(_rows("accounts.account_create", user)[0], "Typed-pass-2026!")


def test_a_username_taken_in_any_case_is_refused(system_admin, account):
    with pytest.raises(Conflict) as refused:
        adm.account_create(actor=system_admin, username="T_PLAIN", display_name="重名")
    assert refused.value.status == 409 and "已被使用" in refused.value.message


def test_system_admin_edits_the_profile_and_the_audit_row_holds_only_what_changed(system_admin, account):
    adm.account_profile_update(actor=system_admin, user=account, display_name="改名后", email=account.email)
    account.refresh_from_db()
    assert account.display_name == "改名后"
    [row] = _rows("accounts.account_update", account)
    assert row.article == SYSTEM and row.before == {"display_name": "普通账户"} and row.after == {"display_name": "改名后"}


def test_deactivation_revokes_tokens_and_reactivation_restores(system_admin, account):
    api_token_issue(user=account)
    adm.account_deactivate(actor=system_admin, user=account)
    account.refresh_from_db()
    assert not account.is_active
    assert not ApiToken.objects.filter(user=account, revoked_at__isnull=True).exists()
    with pytest.raises(Conflict):
        adm.account_deactivate(actor=system_admin, user=account)
    adm.account_reactivate(actor=system_admin, user=account)
    account.refresh_from_db()
    assert account.is_active
    [off] = _rows("accounts.account_deactivate", account)
    [on] = _rows("accounts.account_reactivate", account)
    assert off.article == on.article == SYSTEM and off.after["is_active"] is False and on.after == {"is_active": True}


def test_password_reset_gives_a_new_password_and_audits_without_it(system_admin, account):
    old_hash = account.password
    user, password = adm.account_password_reset(actor=system_admin, user=account)
    user.refresh_from_db()
    assert user.check_password(password) and not user.check_password(PASSWORD)
    assert user.password_must_change  # issue #17 item 7: a reset password is temporary
    [row] = _rows("accounts.password_reset", account)
    assert row.article == SYSTEM
    _no_password_data(row, password, old_hash, user.password)


@pytest.mark.parametrize("persona", ["security_admin", "audit_admin", "city_admin", "auditor"])
def test_only_the_system_admin_opens_edits_deactivates_and_resets(request, persona, account):
    actor = request.getfixturevalue(persona)
    for call in (
        lambda: adm.account_create(actor=actor, username="x_new", display_name="甲"),
        lambda: adm.account_profile_update(actor=actor, user=account, display_name="乙"),
        lambda: adm.account_deactivate(actor=actor, user=account),
        lambda: adm.account_password_reset(actor=actor, user=account),
    ):
        with pytest.raises(Forbidden):
            call()
    account.refresh_from_db()
    assert account.is_active and account.display_name == "普通账户" and not User.objects.filter(username="x_new").exists()


def test_a_superuser_is_not_an_administrator_of_the_pages(db, account):
    root = User.objects.create_superuser(username="t_root_adm", password=PASSWORD, email="r@example.invalid")
    with pytest.raises(Forbidden):
        adm.account_create(actor=root, username="x_new", display_name="甲")
    with pytest.raises(Forbidden):
        adm.account_role_assign(actor=root, user=account, role=Role.PLANNER)
    with pytest.raises(Forbidden):
        adm.account_list(actor=root)


def test_the_system_admin_cannot_touch_administrators_or_itself(system_admin, security_admin, audit_admin):
    for target in (security_admin, audit_admin, system_admin):
        with pytest.raises(Forbidden):
            adm.account_deactivate(actor=system_admin, user=target)
        with pytest.raises(Forbidden):
            adm.account_password_reset(actor=system_admin, user=target)
    assert User.objects.filter(role__in=[Role.SECURITY_ADMIN, Role.AUDIT_ADMIN, Role.SYSTEM_ADMIN], is_active=True).count() == 3


def test_superusers_are_outside_the_pages(system_admin):
    root = User.objects.create_superuser(username="t_root_x", password=PASSWORD, email="r@example.invalid")
    with pytest.raises(NotFound):
        adm.account_deactivate(actor=system_admin, user=root)
    assert root not in adm.account_list(actor=system_admin)


# --- the security administrator -----------------------------------------------------------------------------------

def test_security_admin_gives_a_role_and_scopes_and_the_row_shows_before_and_after(security_admin, account, beijing, haidian):
    adm.account_role_assign(actor=security_admin, user=account, role=Role.DISTRICT_OFFICER, city=beijing,
                            districts=[haidian])
    account.refresh_from_db()
    assert account.role == Role.DISTRICT_OFFICER and list(account.districts.all()) == [haidian]
    [row] = _rows("accounts.role_assign", account)
    assert row.actor == security_admin and row.article == SECURITY
    assert row.before == {"role": "", "city": "beijing", "districts": [], "subdistricts": []}
    assert row.after == {"role": "district_officer", "city": "beijing", "districts": ["110108"], "subdistricts": []}


@pytest.mark.parametrize("role", [Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN])
def test_no_administrator_role_is_given_through_the_pages(security_admin, account, role):
    with pytest.raises(Forbidden) as refused:
        adm.account_role_assign(actor=security_admin, user=account, role=role)
    assert refused.value.code == "administrator_role" and "安装" in refused.value.message
    account.refresh_from_db()
    assert account.role == "" and not _rows("accounts.role_assign")


def test_scopes_must_lie_in_the_accounts_city(security_admin, account, beijing, pingdingshan, haidian):
    pds_district = pingdingshan.districts.first()
    with pytest.raises(DomainError) as refused:
        adm.account_role_assign(actor=security_admin, user=account, role=Role.DISTRICT_OFFICER, city=beijing,
                                districts=[haidian, pds_district])
    assert refused.value.code == "district_outside_city"
    assert f"不属于北京市：{pds_district.name}" in refused.value.message
    pds_street = pds_district.subdistricts.first()
    with pytest.raises(DomainError) as refused:
        adm.account_role_assign(actor=security_admin, user=account, role=Role.HIRING_ENTITY, city=beijing,
                                subdistricts=[pds_street])
    assert refused.value.code == "subdistrict_outside_city" and pds_street.name in refused.value.message
    account.refresh_from_db()
    assert account.role == "" and not account.districts.exists() and not account.subdistricts.exists()
    assert not _rows("accounts.role_assign")


@pytest.mark.parametrize(("role", "kwargs", "code"), [
    (Role.CITY_ADMIN, {"city": None}, "city_required"),
    (Role.DISTRICT_OFFICER, {}, "district_required"),
    (Role.HIRING_ENTITY, {}, "subdistrict_required"),
    ("nonsense", {}, "invalid_role"),
])
def test_each_role_needs_its_scope(security_admin, account, beijing, role, kwargs, code):
    with pytest.raises(DomainError) as refused:
        adm.account_role_assign(actor=security_admin, user=account, role=role, **{"city": beijing, **kwargs})
    assert refused.value.code == code and refused.value.status == 400


def test_an_auditor_may_have_no_city(security_admin, account):
    adm.account_role_assign(actor=security_admin, user=account, role=Role.AUDITOR, city=None)
    account.refresh_from_db()
    assert account.role == Role.AUDITOR and account.city is None


def test_administrators_cannot_change_their_own_or_each_others_roles(security_admin, system_admin, beijing):
    for target in (security_admin, system_admin):
        with pytest.raises(Forbidden):
            adm.account_role_assign(actor=security_admin, user=target, role=Role.CITY_ADMIN, city=beijing)
        target.refresh_from_db()
    assert security_admin.role == Role.SECURITY_ADMIN and system_admin.role == Role.SYSTEM_ADMIN


@pytest.mark.parametrize("persona", ["system_admin", "audit_admin", "city_admin"])
def test_only_the_security_admin_gives_roles_and_unlocks(request, persona, account, beijing):
    actor = request.getfixturevalue(persona)
    User.objects.filter(pk=account.pk).update(failed_login_count=5, locked_until=clock.now() + timedelta(minutes=10))
    with pytest.raises(Forbidden):
        adm.account_role_assign(actor=actor, user=account, role=Role.PLANNER, city=beijing)
    with pytest.raises(Forbidden):
        adm.account_unlock(actor=actor, user=account)
    account.refresh_from_db()
    assert account.role == "" and account.failed_login_count == 5 and account.is_locked()


def test_security_admin_unlocks_a_locked_account(security_admin, account, settings):
    from rpms.accounts.services import login_failure_record

    for _ in range(settings.RPMS_LOGIN_MAX_FAILURES):
        login_failure_record(user=account)
    account.refresh_from_db()
    assert account.is_locked()
    adm.account_unlock(actor=security_admin, user=account)
    account.refresh_from_db()
    assert not account.is_locked() and account.failed_login_count == 0
    [row] = _rows("accounts.unlock", account)
    assert row.actor == security_admin and row.article == SECURITY
    with pytest.raises(Conflict):
        adm.account_unlock(actor=security_admin, user=account)


def test_the_audit_admin_reads_no_account_list(audit_admin):
    with pytest.raises(Forbidden):
        adm.account_list(actor=audit_admin)
    with pytest.raises(Forbidden):
        adm.account_export_record(actor=audit_admin, rows=1, filters={})


# --- no account holds two of these ---------------------------------------------------------------------------------

@pytest.mark.parametrize("field", ["is_superuser", "is_staff"])
def test_the_database_refuses_an_administrator_who_is_also_superuser_or_staff(system_admin, field):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=system_admin.pk).update(**{field: True})
    system_admin.refresh_from_db()
    assert not getattr(system_admin, field)


def test_a_superuser_cannot_be_given_an_administrator_role_even_by_hand(db):
    root = User.objects.create_superuser(username="t_root_y", password=PASSWORD, email="r@example.invalid")
    root.role = Role.AUDIT_ADMIN
    with pytest.raises(ValidationError) as refused:
        root.full_clean()
    assert "不能同时是超级用户" in str(refused.value)
    with pytest.raises(IntegrityError), transaction.atomic():
        root.save()


def test_installing_refuses_an_account_that_holds_another_role(db, security_admin, city_admin):
    for holder in (security_admin, city_admin):
        with pytest.raises(Conflict) as refused:
            adm.administrator_install(role=Role.SYSTEM_ADMIN, username=holder.username, password="Another-pass-2026!")
        assert refused.value.code == "role_taken" and "不能兼任" in refused.value.message
        holder.refresh_from_db()
        assert holder.role != Role.SYSTEM_ADMIN
    root = User.objects.create_superuser(username="t_root_z", password=PASSWORD, email="r@example.invalid")
    with pytest.raises(Conflict) as refused:
        adm.administrator_install(role=Role.AUDIT_ADMIN, username=root.username, password="Another-pass-2026!")
    assert refused.value.code == "superuser_account"


@pytest.mark.parametrize("role", [Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN])
def test_an_ordinary_account_creation_never_makes_an_administrator(db, role):
    from rpms.accounts.services import user_create

    with pytest.raises(DomainError) as refused:
        user_create(actor=None, username="sneaky", password="Sneaky-pass-2026!", role=role)
    assert refused.value.code == "administrator_role"
    assert not User.objects.filter(username="sneaky").exists()


# --- the installation command ----------------------------------------------------------------------------------------

def _install(**options):
    out = StringIO()
    call_command("create_administrators", stdout=out, **options)
    return out.getvalue()


INSTALL = {
    "system_admin_username": "i_sys", "system_admin_password": "Sys-pass-2026!x",
    "security_admin_username": "i_sec", "security_admin_password": "Sec-pass-2026!x",
    "audit_admin_username": "i_aud", "audit_admin_password": "Aud-pass-2026!x",
}


def test_create_administrators_installs_three_accounts_once(db):
    out = _install(**INSTALL)
    assert out.count("已创建") == 3
    users = {u.username: u for u in User.objects.filter(username__in=["i_sys", "i_sec", "i_aud"])}
    assert {u.role for u in users.values()} == {Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN}
    assert users["i_sys"].check_password("Sys-pass-2026!x") and users["i_aud"].check_password("Aud-pass-2026!x")
    assert not any(u.is_staff or u.is_superuser or u.city_id for u in users.values())
    rows = _rows("accounts.administrator_install")
    assert sorted(r.article for r in rows) == [SYSTEM, AUDIT, SECURITY]
    for row in rows:
        _no_password_data(row, "Sys-pass-2026!x", "Sec-pass-2026!x", "Aud-pass-2026!x")
    audit_rows = ActionLog.objects.count()
    out = _install(**INSTALL)  # idempotent: nothing changes, nothing is audited
    assert out.count("无变化") == 3 and ActionLog.objects.count() == audit_rows
    assert User.objects.filter(role__in=[Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN]).count() == 3


def test_create_administrators_updates_a_password_with_one_audit_row(db):
    _install(**INSTALL)
    out = _install(system_admin_username="i_sys", system_admin_password="Sys-new-pass-2027!")
    assert "已更新" in out
    user = User.objects.get(username="i_sys")
    assert user.check_password("Sys-new-pass-2027!")
    row = _rows("accounts.administrator_install", user)[-1]
    assert row.after == {"password_changed": True} and row.article == SYSTEM
    _no_password_data(row, "Sys-new-pass-2027!")


def test_create_administrators_reads_the_environment(db, monkeypatch):
    monkeypatch.setenv("RPMS_AUDIT_ADMIN_USERNAME", "env_aud")
    monkeypatch.setenv("RPMS_AUDIT_ADMIN_PASSWORD", "Env-aud-pass-2026!")
    _install()
    assert User.objects.get(username="env_aud").role == Role.AUDIT_ADMIN


def test_create_administrators_refuses_one_account_for_two_roles(db):
    with pytest.raises(CommandError, match="不能兼任"):
        _install(**{**INSTALL, "security_admin_username": "I_SYS"})
    assert not User.objects.filter(username__in=["i_sys", "i_aud", "I_SYS"]).exists()
    _install(**INSTALL)
    with pytest.raises(CommandError, match="不能兼任"):  # an existing security admin is not reused as system admin
        _install(system_admin_username="i_sec", system_admin_password="Whatever-pass-2026!")
    assert User.objects.get(username="i_sec").role == Role.SECURITY_ADMIN


def test_create_administrators_needs_a_password_for_a_new_account_and_a_name(db):
    with pytest.raises(CommandError, match="初始密码"):
        _install(system_admin_username="no_pass")
    with pytest.raises(CommandError, match="至少给出"):
        _install()
    assert not User.objects.filter(username="no_pass").exists()
