"""Issue #17 item 3: the audit log at 1366 px — every code by its Chinese label, and the table does not overflow
(long cells wrap, the before/after behind a link to the row's page)."""
import datetime

import pytest

from rpms.core.models import ActionLog

from .conftest import artifact_path, login

pytestmark = pytest.mark.django_db(transaction=True)

WIDE = {"width": 1366, "height": 768}


def test_the_audit_table_fits_1366_pixels_and_speaks_chinese(pages, beijing, audit_admin):
    at = datetime.datetime(2026, 3, 10, 12, 0, tzinfo=datetime.timezone.utc)
    for i in range(12):
        ActionLog.objects.create(
            at=at + datetime.timedelta(minutes=i), actor_repr="系统", action="recruitment.objection_submit",
            object_type="dispatch.dispatchrequest", object_id=str(1000 + i),
            object_repr="海淀区学院路街道、清河街道、西三旗街道责任单元派驻申请（含三个岗位）" * 2, city_code="beijing",
            article="B19(2)", summary="提出公示异议并附证明材料，要求核查公示人选的工作经历与职称证书是否属实" * 3,
            after={"status": "submitted", "note": "x" * 400},
        )
    page = login(pages.open(viewport=WIDE), audit_admin)
    page.goto("/audit/")
    table = page.locator("table.audit-table")
    assert table.is_visible()
    text = table.inner_text()
    assert "提出公示异议" in text and "派驻申请" in text and "北京市" in text
    assert "recruitment.objection_submit" not in text and "dispatch.dispatchrequest" not in text and "beijing" not in text
    page_width = page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= WIDE["width"], page_width
    box = table.bounding_box()
    wrap = page.locator(".table-wrap").first.bounding_box()
    assert box["x"] + box["width"] <= wrap["x"] + wrap["width"] + 1, (box, wrap)
    page.screenshot(path=str(artifact_path("audit_list_1366")), full_page=True)
    table.locator("tr", has_text="提出公示异议").first.get_by_role("link", name="查看").click()
    page.wait_for_load_state()
    assert "操作日志详情" in page.content() and "待受理" in page.inner_text("main")
