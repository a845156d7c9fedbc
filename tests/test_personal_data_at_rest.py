"""Issue #16 item 3 (GB/T 39786-2021): identity numbers, mobiles and residents' contacts are stored SM4-encrypted,
found and de-duplicated through SM3 blind indexes; a dump of a database with demo data holds none of them in
clear; `rotate_data_key` moves every value to a new key and the application still reads them."""
import datetime as dt
import re
from io import StringIO
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from rpms.core import crypto
from rpms.core.crypto_migrations import EncryptColumns
from rpms.core.errors import Conflict
from rpms.core.models import ActionLog
from rpms.recruitment.models import Application, Objection
from rpms.registry.models import Planner
from rpms.suggestions.models import Suggestion
from rpms.testing import builders
from tests.browser import builders as browser_builders

pytestmark = pytest.mark.django_db

# (not the digits of a decimal fraction, such as a timing 0.000969707005424425 kept in a job's JSON)
ID_LIKE = re.compile(r"(?<![0-9A-Za-z.])\d{17}[\dXx](?![0-9A-Za-z])")
MOBILE_LIKE = re.compile(r"(?<![0-9A-Za-z.])1[3-9]\d{9}(?![0-9A-Za-z])")
NEW_KEY = "rotated-test-data-key-" + "7" * 24


def _raw(table: str, pk: int, *columns: str) -> tuple:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(table)} WHERE id = %s", [pk])
        return cursor.fetchone()


def database_dump() -> str:
    """Every row of every table as the database holds it (SQLite: iterdump; PostgreSQL: each row's JSON text)."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return "\n".join(connection.connection.iterdump())
    parts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT row_to_json(t)::text FROM {connection.ops.quote_name(table)} t")
            parts.extend(f"{table}\t{row[0]}" for row in cursor.fetchall())
    return "\n".join(parts)


def test_a_planners_identity_number_and_mobile_are_ciphertext_in_the_table_and_plain_in_python(beijing):
    person = builders.person_data(beijing, 901)
    planner = builders.pool_commission(city=beijing, person=person)
    id_number, mobile, index = _raw("registry_planner", planner.pk, "id_number", "mobile", "id_number_index")
    assert crypto.is_encrypted(id_number) and crypto.is_encrypted(mobile)
    assert person["id_number"] not in id_number and person["mobile"] not in mobile
    assert index == crypto.blind_index(person["id_number"], kind="id_number")
    fresh = Planner.objects.get(pk=planner.pk)
    assert (fresh.id_number, fresh.mobile) == (person["id_number"], person["mobile"])
    assert list(Planner.objects.filter(pk=planner.pk).values_list("id_number", "mobile")) == [
        (person["id_number"], person["mobile"])]


def test_a_query_on_an_encrypted_field_by_content_fails_loudly_rather_than_finding_nothing(beijing):
    with pytest.raises(FieldError, match="不能按内容查询"):
        list(Planner.objects.filter(id_number="11010819900307123X"))
    with pytest.raises(FieldError):
        list(Planner.objects.filter(mobile__startswith="138"))
    assert Planner.objects.filter(id_number="").count() == Planner.objects.filter(id_number_index="").count()


def test_the_same_identity_number_cannot_enter_the_registry_twice(beijing):
    person = builders.person_data(beijing, 902)
    first = builders.pool_commission(city=beijing, person=person)
    with pytest.raises(Conflict) as refused:
        builders.pool_commission(city=beijing, person={**person, "name": "另一人（虚构）"})
    assert refused.value.code == "already_in_pool"
    # written lower-case or with spaces, it is the same person
    with pytest.raises(Conflict):
        builders.pool_commission(city=beijing, person={**person, "id_number": person["id_number"].lower()})
    # the database refuses it too (the unique constraint is on the blind index)
    with pytest.raises(IntegrityError), transaction.atomic():
        Planner.objects.create(city=beijing, name="绕过服务", id_number=person["id_number"], pool_status="active")
    assert Planner.objects.filter(id_number_index=first.id_number_index).count() == 1


def test_one_application_per_identity_number_per_call_and_the_roster_check_still_find_the_person(beijing, city_admin, clock):
    from rpms.accounts.models import Role, User
    from rpms.recruitment import services
    from rpms.registry.roster_import import pool_id_numbers

    monday = dt.date(2026, 11, 23)
    clock.set(monday)
    call = browser_builders.open_call(city_admin, beijing, deadline=monday + dt.timedelta(days=10))
    data = browser_builders.beijing_application_data("申请人甲", 931)
    first_user, second_user = (User.objects.create_user(username=f"enc_applicant_{i}", password=None, role=Role.PLANNER,
                                                        city=beijing, display_name="申请人") for i in (1, 2))
    services.application_submit(actor=first_user, call=call, data=data)
    with pytest.raises(Conflict) as refused:
        services.application_submit(actor=second_user, call=call, data={**data, "name": "申请人乙"})
    assert refused.value.code == "duplicate_id_number"
    assert Application.objects.filter(call=call).count() == 1

    person = builders.person_data(beijing, 903)
    planner = builders.pool_commission(city=beijing, person=person)
    assert pool_id_numbers(city=beijing, id_numbers=[person["id_number"], data["id_number"]]) == {
        person["id_number"]: planner.name}


def test_a_dump_of_a_database_with_demo_data_holds_no_identity_or_mobile_number_in_clear(
        beijing, city_admin, clock, tmp_path, settings):
    from rpms.recruitment.services import objection_submit
    from rpms.registry.roster_import import roster_import_upload
    from rpms.suggestions.services import suggestion_submit

    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    call_command("seed_demo", "--planners", "6", stdout=StringIO(), stderr=StringIO())
    monday = dt.date(2026, 11, 23)
    clock.set(monday)
    known = {p.id_number for p in Planner.objects.all()} | {p.mobile for p in Planner.objects.all()}
    # what the demo does not cover: a public notice with its candidates, an objection, a resident's contact,
    # a roster validated and waiting to be imported
    notice, applications = browser_builders.notice_with_candidates(city_admin, beijing, start=monday, names=["候选人（虚构）"])
    objection_submit(notice=notice, application_id=applications["候选人（虚构）"].pk, content="反映该候选人资历情况。",
                     contact_name="异议人王先生", contact_phone="13512345678")
    unit = builders.unit_of(beijing, "110108001")
    suggestion_submit(actor=None, unit=unit, category="suggestion", content="小区门口人行道破损，建议修缮。",
                      contact_name="居民张女士", contact_phone="13612345678")
    waiting = [builders.person_data(beijing, 950 + i) for i in range(2)]
    pending = roster_import_upload(actor=city_admin, city=beijing, uploaded_file=builders.roster_upload(
        [{**p, "major_field": p["degree_field"], "admitted_on": "2025-01-02", "districts": [],
          "admission_evidence": "测试规划委〔2025〕1号"} for p in waiting]))
    assert pending.valid_rows == 2 and pending.batches.count() == 1
    for application in applications.values():
        known |= {application.id_number, application.mobile}
    known |= {p["id_number"] for p in waiting} | {p["mobile"] for p in waiting}
    known |= {"13512345678", "13612345678", "异议人王先生", "居民张女士"}
    assert len(known) > 12 and Planner.objects.count() >= 6 and Suggestion.objects.exclude(contact_phone="").exists()
    assert Objection.objects.count() == 1

    dump = database_dump()
    assert "registry_planner" in dump and len(dump) > 100_000
    found = sorted(value for value in known if value and value in dump)
    assert found == [], f"in clear in the dump: {found}"
    patterns = sorted(set(ID_LIKE.findall(dump)) | set(MOBILE_LIKE.findall(dump)))
    assert patterns == [], f"identity- or mobile-like numbers in the dump: {patterns[:20]}"
    # and the application still reads them: the staff see the full values, the public the masked ones
    assert Objection.objects.get().contact_phone == "13512345678"


def test_rotate_data_key_moves_every_value_to_the_new_key_and_the_application_still_reads_them(
        beijing, city_admin, settings):
    from rpms.suggestions.services import suggestion_submit

    old_key = crypto.current_key()
    person = builders.person_data(beijing, 904)
    planner = builders.pool_commission(city=beijing, person=person)
    unit = builders.unit_of(beijing, "110108001")
    suggestion = suggestion_submit(actor=None, unit=unit, category="suggestion", content="建议增设座椅。",
                                   contact_name="居民李先生", contact_phone="13612340000")
    before = ActionLog.objects.count()

    settings.RPMS_DATA_KEY_PREVIOUS = settings.RPMS_DATA_KEY
    settings.RPMS_DATA_KEY = NEW_KEY
    new_key = crypto.current_key()
    out = StringIO()
    call_command("rotate_data_key", stdout=out)
    text = out.getvalue()
    assert f"当前密钥：{new_key.key_id}；原密钥：{old_key.key_id}" in text and "重新加密" in text
    assert "已是当前密钥 0 个值" in text.splitlines()[-1]

    for model, fields in ((Planner, ("id_number", "mobile")), (Application, ("id_number", "mobile")),
                          (Suggestion, ("contact_name", "contact_phone"))):
        for row in _all_raw(model, fields):
            assert all(value in ("", None) or crypto.key_id_of(value) == new_key.key_id for value in row), model
    settings.RPMS_DATA_KEY_PREVIOUS = ""  # the old key is gone: everything opens with the new one alone
    fresh = Planner.objects.get(pk=planner.pk)
    assert (fresh.id_number, fresh.mobile) == (person["id_number"], person["mobile"])
    assert fresh.id_number_index == crypto.blind_index(person["id_number"], kind="id_number", key=new_key)
    assert Suggestion.objects.get(pk=suggestion.pk).contact_phone == "13612340000"
    with pytest.raises(Conflict):  # the duplicate check works with the new index key
        builders.pool_commission(city=beijing, person=person)

    row = ActionLog.objects.filter(action="core.data_key_rotate").get()
    assert ActionLog.objects.count() == before + 1
    assert row.article == "GB/T 39786-2021" and row.after["key_id"] == new_key.key_id
    assert row.after["totals"]["reencrypted"] >= 4 and row.after["totals"]["indexes"] >= 1

    again = StringIO()
    call_command("rotate_data_key", stdout=again)  # idempotent: nothing left to move
    assert "重新加密 0 个值" in again.getvalue().splitlines()[-1]
    assert "重算检索索引 0 个" in again.getvalue().splitlines()[-1]


def test_rotate_data_key_stops_at_a_value_no_configured_key_opens(beijing, settings):
    from django.core.management.base import CommandError

    builders.pool_commission(city=beijing, person=builders.person_data(beijing, 905))
    settings.RPMS_DATA_KEY = NEW_KEY  # the previous key was not given
    with pytest.raises(CommandError, match="无法解密"):
        call_command("rotate_data_key", stdout=StringIO())


def _all_raw(model, fields):
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(quote(f) for f in fields)} FROM {quote(model._meta.db_table)}")
        return cursor.fetchall()


def test_the_data_migration_encrypts_existing_rows_fills_the_index_and_reverses(beijing):
    planner = builders.pool_commission(city=beijing, person=builders.person_data(beijing, 906))
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:  # a row as it was before the migration: in clear, no index
        cursor.execute(f"UPDATE {quote('registry_planner')} SET id_number = %s, mobile = %s, id_number_index = %s "
                       f"WHERE id = %s", ["11010819900307123X", "13800139999", "", planner.pk])
    operation = EncryptColumns("planner", columns={"id_number": "id_number", "mobile": "mobile"},
                               indexes={"id_number_index": "id_number"})
    operation.app_label = "registry"
    editor = SimpleNamespace(connection=connection)
    operation.forward(apps, editor)
    id_number, mobile, index = _raw("registry_planner", planner.pk, "id_number", "mobile", "id_number_index")
    assert crypto.is_encrypted(id_number) and crypto.is_encrypted(mobile)
    assert index == crypto.blind_index("11010819900307123X", kind="id_number")
    assert Planner.objects.get(pk=planner.pk).mobile == "13800139999"
    operation.forward(apps, editor)  # idempotent
    assert _raw("registry_planner", planner.pk, "id_number")[0] == id_number
    operation.backward(apps, editor)
    assert _raw("registry_planner", planner.pk, "id_number", "mobile") == ("11010819900307123X", "13800139999")
