import pytest
from django.db import DatabaseError, transaction

from rpms.core.models import ActionLog, AppendOnlyError

pytestmark = pytest.mark.django_db


def test_queryset_update_is_refused(make_log):
    make_log(summary="原文")
    with pytest.raises(AppendOnlyError):
        ActionLog.objects.filter(summary="原文").update(summary="篡改")
    assert ActionLog.objects.get().summary == "原文"


def test_deleting_a_row_is_refused(make_log):
    make_log()
    with pytest.raises(AppendOnlyError):
        ActionLog.objects.first().delete()
    with pytest.raises(AppendOnlyError):
        ActionLog.objects.all().delete()
    assert ActionLog.objects.count() == 1


def test_saving_an_existing_row_is_refused(make_log):
    row = make_log(summary="原文")
    row.summary = "篡改"
    with pytest.raises(AppendOnlyError):
        row.save()


def test_the_database_refuses_a_raw_update(make_log):
    make_log(summary="原文")
    with pytest.raises(DatabaseError), transaction.atomic():
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {ActionLog._meta.db_table} SET summary = 'x'")
    assert ActionLog.objects.get().summary == "原文"
