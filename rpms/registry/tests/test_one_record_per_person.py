"""One registry record per person and city: the database refuses a second active record with the same
ID number (a removed record stays as history and does not block a new one)."""
import pytest
from django.db import IntegrityError, transaction

from rpms.core.crypto import blind_index
from rpms.registry.models import Planner

pytestmark = pytest.mark.django_db


def test_a_second_record_with_the_same_id_number_is_refused_unless_the_first_was_removed(beijing, pingdingshan):
    Planner.objects.create(city=beijing, name="甲", id_number="11010819900101123X", pool_status="active")
    with pytest.raises(IntegrityError), transaction.atomic():
        Planner.objects.create(city=beijing, name="甲（重复）", id_number="11010819900101123X", pool_status="candidate")
    Planner.objects.create(city=pingdingshan, name="甲", id_number="11010819900101123X")  # another city's registry
    Planner.objects.filter(city=beijing).update(pool_status="removed")
    Planner.objects.create(city=beijing, name="甲（再次入库）", id_number="11010819900101123X", pool_status="active")
    assert Planner.objects.filter(id_number_index=blind_index("11010819900101123X", kind="id_number")).count() == 3
