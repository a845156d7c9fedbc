"""Data requests (B14(3)) and confidential materials (B16(1))."""
import pytest

from rpms.core.errors import Conflict, DomainError, Forbidden, NotFound
from rpms.core.models import ActionLog
from rpms.duties import selectors, services
from rpms.duties.models import DataRequest, DataRequestStatus, DownloadLog, LockedRecordError

from .conftest import upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def department(beijing, haidian):
    from rpms.geography.models import Department

    return Department.objects.create(city=beijing, district=haidian, name="海淀区住房和城乡建设委员会（测试）")


def _request(planner, unit, **overrides):
    values = {"addressee": "entity", "title": "万寿路街道老旧小区现状测绘图", "content": "2024 年以来的现状地形图和管线资料",
              "purpose": "编制街区更新实施方案"}
    values.update(overrides)
    return services.data_request_create(actor=planner.user, unit=unit, **values)


def test_a_planner_asks_its_hiring_entity_for_data_citing_b14_3(bj_planner, bj_unit):
    request = _request(bj_planner, bj_unit)
    assert request.status == DataRequestStatus.SUBMITTED
    assert request.addressee_name.startswith("聘任主体")
    assert ActionLog.objects.get(action="duties.data_request_create", object_id=str(request.pk)).article == "B14(3)"


def test_a_pingdingshan_request_cites_its_own_article(pds_planner, pds_unit, pingdingshan):
    request = _request(pds_planner, pds_unit)
    assert ActionLog.objects.get(action="duties.data_request_create", object_id=str(request.pk)).article == \
        pingdingshan.policy.articles["data_request"]


def test_a_planner_cannot_request_data_for_a_unit_it_does_not_serve(bj_planner, bj_other_unit):
    with pytest.raises(Forbidden):
        _request(bj_planner, bj_other_unit)
    assert not DataRequest.objects.exists()


def test_a_request_to_a_department_needs_a_department_of_the_city_and_district(bj_planner, bj_unit, department, chaoyang, beijing):
    from rpms.geography.models import Department

    with pytest.raises(DomainError):
        _request(bj_planner, bj_unit, addressee="department")
    elsewhere = Department.objects.create(city=beijing, district=chaoyang, name="朝阳区某部门（测试）")
    with pytest.raises(DomainError) as exc:
        _request(bj_planner, bj_unit, addressee="department", department=elsewhere)
    assert exc.value.code == "invalid_department"
    request = _request(bj_planner, bj_unit, addressee="department", department=department.pk)
    assert request.department == department and request.addressee_name == department.name


def test_delivery_needs_materials_and_marks_each_public_or_not(bj_planner, bj_unit, street_office):
    request = _request(bj_planner, bj_unit)
    with pytest.raises(DomainError) as exc:
        services.data_request_deliver(actor=street_office, request=request, materials=[])
    assert exc.value.code == "materials_required"
    request = services.data_request_deliver(
        actor=street_office, request=request, note="请注意保密",
        materials=[services.MaterialUpload(upload("现状图.pdf"), "现状地形图", False),
                   services.MaterialUpload(upload("公开规划.pdf"), "控规公示图", True)],
    )
    assert request.status == DataRequestStatus.DELIVERED
    assert sorted(request.materials.values_list("label", "is_public")) == [("控规公示图", True), ("现状地形图", False)]
    with pytest.raises(Conflict):
        services.data_request_refuse(actor=street_office, request=request, reason="晚了")


def test_a_refusal_requires_a_reason_and_ends_the_request(bj_planner, bj_unit, street_office):
    request = _request(bj_planner, bj_unit)
    with pytest.raises(DomainError):
        services.data_request_refuse(actor=street_office, request=request, reason=" ")
    request = services.data_request_refuse(actor=street_office, request=request, reason="涉及国家秘密，须经保密审查。")
    assert request.status == DataRequestStatus.REFUSED and "保密" in request.refusal_reason
    with pytest.raises(Conflict):
        services.data_request_deliver(actor=street_office, request=request, materials=[upload()])


def test_only_the_addressee_answers(bj_planner, bj_unit, other_entity, district_chaoyang, district_haidian, department):
    request = _request(bj_planner, bj_unit)
    for outsider in (other_entity, district_chaoyang, bj_planner.user):
        with pytest.raises(Forbidden):
            services.data_request_refuse(actor=outsider, request=request, reason="不行")
    # A department does not log in: the district officer (or the planner who received the files) records it.
    to_department = _request(bj_planner, bj_unit, addressee="department", department=department)
    services.data_request_deliver(actor=district_haidian, request=to_department, materials=[upload()])
    to_department.refresh_from_db()
    assert to_department.status == DataRequestStatus.DELIVERED


def _delivered(planner, unit, entity):
    request = _request(planner, unit)
    return services.data_request_deliver(
        actor=entity, request=request,
        materials=[services.MaterialUpload(upload("未公开.pdf"), "未公开现状图", False),
                   services.MaterialUpload(upload("公开.pdf"), "公开图则", True)],
    )


def test_non_public_materials_reach_only_the_planner_the_entity_and_the_district(
    bj_planner, bj_unit, street_office, district_haidian, district_chaoyang, other_entity, city_admin, auditor, bj_other
):
    request = _delivered(bj_planner, bj_unit, street_office)
    secret = request.materials.get(is_public=False)
    for entitled in (bj_planner.user, street_office, district_haidian):
        material = selectors.data_material_get(user=entitled, request_pk=request.pk, material_pk=secret.pk)
        services.data_material_download(actor=entitled, material=material)
    # City administrators and auditors may see that the request exists, but not the confidential file.
    for reader in (city_admin, auditor):
        material = selectors.data_material_get(user=reader, request_pk=request.pk, material_pk=secret.pk)
        with pytest.raises(NotFound):
            services.data_material_download(actor=reader, material=material)
    # Others do not even see the request.
    for outsider in (district_chaoyang, other_entity, bj_other.user):
        with pytest.raises(NotFound):
            selectors.data_material_get(user=outsider, request_pk=request.pk, material_pk=secret.pk)
    logs = DownloadLog.objects.filter(material=secret)
    assert sorted(logs.values_list("user_id", flat=True)) == sorted([bj_planner.user.pk, street_office.pk, district_haidian.pk])
    audit = ActionLog.objects.filter(action="duties.data_material_download", object_id=str(secret.pk))
    assert audit.count() == 3
    assert set(audit.values_list("article", flat=True)) == {"B16(1)"}


def test_a_public_material_is_downloadable_by_city_readers_and_logged_too(bj_planner, bj_unit, street_office, city_admin):
    request = _delivered(bj_planner, bj_unit, street_office)
    public = request.materials.get(is_public=True)
    material = selectors.data_material_get(user=city_admin, request_pk=request.pk, material_pk=public.pk)
    services.data_material_download(actor=city_admin, material=material)
    assert DownloadLog.objects.get(material=public).user == city_admin
    assert ActionLog.objects.get(action="duties.data_material_download", object_id=str(public.pk)).article == "B14(3)"


def test_the_download_log_is_append_only(bj_planner, bj_unit, street_office):
    request = _delivered(bj_planner, bj_unit, street_office)
    secret = request.materials.get(is_public=False)
    services.data_material_download(actor=bj_planner.user, material=secret)
    log = DownloadLog.objects.get()
    with pytest.raises(LockedRecordError):
        log.save()
    with pytest.raises(LockedRecordError):
        log.delete()
    with pytest.raises(LockedRecordError):
        DownloadLog.objects.all().delete()


def test_a_supplement_can_be_added_after_delivery_only(bj_planner, bj_unit, street_office):
    request = _request(bj_planner, bj_unit)
    with pytest.raises(Conflict):
        services.data_material_add(actor=street_office, request=request, file=upload())
    request = services.data_request_deliver(actor=street_office, request=request, materials=[upload()])
    material = services.data_material_add(actor=street_office, request=request, file=upload("补充.pdf"), label="补充",
                                          is_public=True)
    assert material.is_public and request.materials.count() == 2


def test_request_lists_are_scoped(bj_planner, bj_unit, bj_other, bj_other_unit, street_office, district_chaoyang, city_admin,
                                  pds_planner, pds_unit, pds_entity):
    mine = _request(bj_planner, bj_unit)
    theirs = _request(bj_other, bj_other_unit)
    pds = _request(pds_planner, pds_unit)
    assert [r.pk for r in selectors.data_request_list(user=bj_planner.user)] == [mine.pk]
    assert [r.pk for r in selectors.data_request_list(user=street_office)] == [mine.pk]
    assert selectors.data_request_list(user=district_chaoyang) == []
    assert {r.pk for r in selectors.data_request_list(user=city_admin)} == {mine.pk, theirs.pk}
    assert [r.pk for r in selectors.data_request_list(user=pds_entity)] == [pds.pk]


def test_a_delivery_refused_after_storing_leaves_no_file_and_no_row(bj_planner, bj_unit, street_office, settings):
    from rpms.duties.models import DataMaterial

    request = _request(bj_planner, bj_unit)
    with pytest.raises(DomainError):
        services.data_request_deliver(actor=street_office, request=request,
                                      materials=[services.MaterialUpload(upload(), "名" * 101, False)])
    request.refresh_from_db()
    assert request.status == DataRequestStatus.SUBMITTED
    assert not DataMaterial.objects.exists()
    root = settings.PRIVATE_MEDIA_ROOT
    assert not root.exists() or not any(p.is_file() for p in root.rglob("*"))
    assert not ActionLog.objects.filter(action="duties.data_request_deliver").exists()
