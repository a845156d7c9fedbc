import json
import shutil
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command

from rpms.core.models import ActionLog
from rpms.geography.models import District, ResponsibilityUnit, Subdistrict

from .helpers import BEIJING_GEOGRAPHY

SHIPPED_DIVISIONS = Path(django_settings.DATA_DIR) / "divisions"


@pytest.fixture
def data_dir(tmp_path, settings):
    shutil.copytree(SHIPPED_DIVISIONS, tmp_path / "divisions")
    (tmp_path / "cities").mkdir()
    geography = {**BEIJING_GEOGRAPHY, "subdistrict_zone_overrides": {"110114120": "eco_conservation"}}
    (tmp_path / "cities" / "beijing.json").write_text(
        json.dumps({"city": {}, "policy": {}, "geography": geography}, ensure_ascii=False), encoding="utf-8"
    )
    settings.DATA_DIR = tmp_path
    return tmp_path


def test_the_shipped_division_data_keeps_its_provenance_note():
    note = (SHIPPED_DIVISIONS / "README.md").read_text(encoding="utf-8")
    assert "统计用区划代码" in note and "china-division" in note
    assert (SHIPPED_DIVISIONS / "districts.csv").exists() and (SHIPPED_DIVISIONS / "subdistricts.csv").exists()


def test_load_divisions_reads_the_city_file_and_forms_default_units(data_dir, beijing, capsys):
    call_command("load_divisions", "beijing")

    assert District.objects.filter(city=beijing).count() == 16
    assert Subdistrict.objects.filter(district__city=beijing).count() == 349
    assert Subdistrict.objects.get(code="110114120").zone_type == "eco_conservation"  # 昌平 延寿镇
    assert ResponsibilityUnit.objects.filter(city=beijing).count() == 349
    out = capsys.readouterr().out
    assert "16 个区" in out and "349 个街道乡镇" in out and "新建默认责任单元 349 个" in out


def test_load_divisions_twice_changes_nothing(data_dir, beijing, capsys):
    call_command("load_divisions", "beijing")
    rows = ActionLog.objects.count()

    call_command("load_divisions", "beijing")

    assert ResponsibilityUnit.objects.count() == 349
    assert ActionLog.objects.count() == rows
    assert "新建默认责任单元 0 个" in capsys.readouterr().out


def test_load_divisions_without_units(data_dir, beijing):
    call_command("load_divisions", "beijing", "--no-units")
    assert Subdistrict.objects.count() == 349
    assert not ResponsibilityUnit.objects.exists()


def test_load_divisions_for_a_city_without_a_file_fails_in_chinese(data_dir, beijing):
    with pytest.raises(CommandError, match="找不到城市配置文件"):
        call_command("load_divisions", "tianjin")


def test_load_divisions_for_a_city_not_yet_created_fails_in_chinese(data_dir, db):
    with pytest.raises(CommandError, match="尚未建立"):
        call_command("load_divisions", "beijing")
