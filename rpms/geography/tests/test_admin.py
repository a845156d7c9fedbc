import pytest
from django.urls import reverse

from rpms.accounts.models import User
from rpms.geography.models import District, ResponsibilityUnit, Subdistrict


@pytest.fixture
def superuser(beijing_units):
    return User.objects.create_superuser(username="root", password="Pass-word-1234", email="root@example.invalid")


@pytest.mark.parametrize("model", [District, Subdistrict, ResponsibilityUnit])
def test_admin_lists_geography_read_only(client, superuser, model):
    client.force_login(superuser)
    meta = model._meta
    changelist = client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
    assert changelist.status_code == 200
    assert str(meta.verbose_name_plural) in changelist.content.decode()
    assert client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_add")).status_code == 403
    obj = model.objects.first()
    detail = client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk]))
    assert detail.status_code == 200
    response = client.post(reverse(f"admin:{meta.app_label}_{meta.model_name}_delete", args=[obj.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert model.objects.filter(pk=obj.pk).exists()
