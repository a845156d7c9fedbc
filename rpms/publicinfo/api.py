"""Public information API (mounted at the API root, /api/v1/; paths written in full).

Public (anonymous):
- GET /public/datasets — the open-data catalogue (every dataset with its URLs and field dictionary)
- GET /public/{appointments|units|coverage|notices|honours|suggestion-stats}.json · .csv · /public/<slug>/fields
  (filters: ?city=<code>, and where the dataset has them &district=<code>, &year=YYYY); rpms.publicinfo.opendata
- GET /public/announcements?city=&kind=&year=&q=&page= · GET /public/announcements/{id}
- GET /public/policies/{city} — the rule book's articles with their published interpretations
Signed-in city administrators (others 403; another city's record 404):
- POST /announcements {"city"?, "kind", "title", "body", "record_url"?, "record_label"?} → 201
- POST /announcements/{id}/publish {"publish_on"?} · /withdraw {"reason"} · /attachments (multipart "file")
- POST /interpretations {"city"?, "title", "body", "articles": ["B19(3)", …]} → 201
- POST /interpretations/{id}/publish · /withdraw {"reason"}
"""
import datetime as dt
import json

from django.http import HttpResponse

from django.utils import timezone
from ninja import File, Router, Status
from ninja.responses import NinjaJSONEncoder
from ninja.files import UploadedFile

from rpms.accounts.models import Role
from rpms.core.api import auth_required, json_object_body, public_answer, require_role
from rpms.core.errors import DomainError, NotFound

from . import opendata, policies, selectors, services
from .models import Announcement, Interpretation

router = Router(tags=["公开信息"])

DATASET_SLUGS = ("appointments", "units", "coverage", "notices", "honours", "suggestion-stats")


def _base_url(request) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _json_response(payload) -> HttpResponse:
    """What django-ninja's default renderer answers for `payload` (the same bytes), as a response to keep."""
    return HttpResponse(json.dumps(payload, cls=NinjaJSONEncoder), content_type="application/json; charset=utf-8")


def _catalogue_entry(dataset: opendata.Dataset) -> dict:
    return {
        "dataset": dataset.slug, "title": dataset.title, "description": dataset.description,
        "available": dataset.available, "filters": list(dataset.filters),
        "json": dataset.json_url, "csv": dataset.csv_url, "fields_url": dataset.fields_url,
        "fields": dataset.field_dicts(),
    }


@router.get("/public/datasets", auth=None, summary="开放数据目录")
def dataset_catalogue(request):
    return {"datasets": [_catalogue_entry(d) for d in opendata.datasets()]}


def _register_dataset(slug: str):
    def fields(request):
        dataset = opendata.dataset_get(slug)
        return {"dataset": dataset.slug, "title": dataset.title, "fields": dataset.field_dicts()}

    def as_json(request):
        dataset = opendata.dataset_get(slug)
        return opendata.dataset_json_response(
            dataset, filters=opendata.dataset_filters(dataset, request.GET), base_url=_base_url(request),
            render=_json_response)

    def as_csv(request):
        dataset = opendata.dataset_get(slug)
        return opendata.dataset_csv_response(dataset, filters=opendata.dataset_filters(dataset, request.GET),
                                             base_url=_base_url(request))

    name = slug.replace("-", "_")
    for function, suffix in ((fields, "fields"), (as_json, "json"), (as_csv, "csv")):
        function.__name__ = f"dataset_{name}_{suffix}"
    router.get(f"/public/{slug}/fields", auth=None, summary=f"开放数据字段说明：{slug}")(fields)
    router.get(f"/public/{slug}.json", auth=None, summary=f"开放数据（JSON）：{slug}")(as_json)
    router.get(f"/public/{slug}.csv", auth=None, summary=f"开放数据（CSV）：{slug}")(as_csv)


for _slug in DATASET_SLUGS:
    _register_dataset(_slug)


# --- announcements, policies (public) --------------------------------------------------------------------


def _feed_item(item: selectors.FeedItem) -> dict:
    return {
        "source": item.source, "kind": item.kind, "kind_label": item.kind_label, "title": item.title,
        "date": item.date.isoformat() if item.date else None, "city": item.city.code, "url": item.url,
        "attachments": item.attachment_count,
        "window_start": item.window_start.isoformat() if item.window_start else None,
        "window_end": item.window_end.isoformat() if item.window_end else None,
        "state": item.state_label, "is_open": item.is_open, "objection_url": item.objection_url,
    }


@router.get("/public/announcements", auth=None, summary="公示公告列表（含征集公告和入库公示）")
@public_answer
def announcement_list(request):
    filters = selectors.feed_filters(request.GET)
    page = selectors.announcement_feed(filters=filters, page=selectors.page_from_params(request.GET))
    return {"count": page.total, "page": page.page, "pages": page.pages, "items": [_feed_item(i) for i in page.items]}


def _announcement_dict(a: Announcement) -> dict:
    return {
        "id": a.pk, "city": a.city.code, "kind": a.kind, "kind_label": a.get_kind_display(), "title": a.title,
        "body": a.body, "publish_on": a.publish_on.isoformat() if a.publish_on else None,
        "status": a.status, "record_url": a.record_url, "record_label": a.record_label, "url": a.get_absolute_url(),
        "attachments": [
            {"id": f.pk, "name": f.display_name, "kind": f.kind, "size": f.size, "url": f.get_absolute_url()}
            for f in a.attachments.all()
        ],
    }


@router.get("/public/announcements/{int:announcement_id}", auth=None, summary="公告详情")
@public_answer
def announcement_detail(request, announcement_id: int):
    return _announcement_dict(selectors.public_announcement_get(announcement_id))


@router.get("/public/policies/{city_code}", auth=None, summary="制度文件条款及政策解读")
@public_answer
def policy_document(request, city_code: str):
    city = selectors.city_from_params({"city": city_code[:32]})
    page = selectors.policy_page(city)
    document = page["document"]

    def interp(i):
        return {"id": i.pk, "title": i.title, "body": i.body, "articles": i.articles,
                "published_at": timezone.localtime(i.published_at).isoformat() if i.published_at else None}

    return {
        "city": city.code, "title": document.title, "source": document.source_name, "sha256": document.sha256,
        "articles": [
            {"code": a.code, "anchor": a.anchor, "label": a.label, "heading": a.heading, "chapter": a.chapter,
             "paragraphs": list(a.paragraphs),
             "items": [{"code": i.code, "anchor": i.anchor, "label": i.label, "heading": i.heading,
                        "paragraphs": list(i.paragraphs)} for i in a.items]}
            for a in document.articles
        ],
        "interpretations": [interp(i) for i in page["interpretations"]],
    }


# --- management (city administrators) --------------------------------------------------------------------


def _city_for(request, data: dict):
    user = require_role(request, Role.CITY_ADMIN)
    code = str(data.get("city") or "").strip()
    if user.city_id and not user.is_superuser:
        city = user.city
        if code and code != city.code:
            raise NotFound()
        return city
    if not code:
        raise DomainError("请提供城市代码（city）。", code="missing_field")
    return selectors.city_from_params({"city": code})


def _str(data: dict, name: str) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, (str, int)):
        raise DomainError(f"字段 {name} 应为文字。", code="invalid_field")
    return str(value)


def _announcement(request, announcement_id: int) -> Announcement:
    require_role(request, Role.CITY_ADMIN)
    return selectors.manage_announcement_get(user=request.user, pk=announcement_id)


@router.post("/announcements", auth=auth_required, summary="起草公告", response={201: dict})
def announcement_create(request):
    data = json_object_body(request)
    announcement = services.announcement_create(
        actor=request.user, city=_city_for(request, data), kind=_str(data, "kind"), title=_str(data, "title"),
        body=_str(data, "body"), record_url=_str(data, "record_url"), record_label=_str(data, "record_label"),
    )
    return Status(201, _announcement_dict(announcement))


@router.post("/announcements/{int:announcement_id}/publish", auth=auth_required, summary="发布公告")
def announcement_publish(request, announcement_id: int):
    data = json_object_body(request) if request.body else {}
    raw = _str(data, "publish_on").strip()
    publish_on = None
    if raw:
        try:
            publish_on = dt.date.fromisoformat(raw)
        except ValueError:
            raise DomainError("发布日期（publish_on）格式应为 YYYY-MM-DD。", code="invalid_date") from None
    announcement = services.announcement_publish(actor=request.user, announcement=_announcement(request, announcement_id),
                                                 publish_on=publish_on)
    return _announcement_dict(announcement)


@router.post("/announcements/{int:announcement_id}/withdraw", auth=auth_required, summary="撤回公告")
def announcement_withdraw(request, announcement_id: int):
    data = json_object_body(request)
    announcement = services.announcement_withdraw(actor=request.user, announcement=_announcement(request, announcement_id),
                                                  reason=_str(data, "reason"))
    return _announcement_dict(announcement)


@router.post("/announcements/{int:announcement_id}/attachments", auth=auth_required, summary="上传公告附件",
             response={201: dict})
def announcement_attachment_add(request, announcement_id: int, file: UploadedFile = File(...)):  # noqa: B008 - ninja's idiom
    attachment = services.announcement_attachment_add(
        actor=request.user, announcement=_announcement(request, announcement_id), file=file,
        label=str(request.POST.get("label") or ""),
    )
    return Status(201, {"id": attachment.pk, "name": attachment.display_name, "kind": attachment.kind,
                        "size": attachment.size, "url": attachment.get_absolute_url()})


def _interpretation_dict(i: Interpretation) -> dict:
    document = policies.rulebook(i.city)
    return {
        "id": i.pk, "city": i.city.code, "title": i.title, "body": i.body, "status": i.status,
        "articles": [{"code": code, "label": document.describe(code) if document else ""} for code in i.articles],
        "published_at": timezone.localtime(i.published_at).isoformat() if i.published_at else None,
    }


def _articles(data: dict):
    value = data.get("articles")
    if isinstance(value, str):
        return value
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DomainError("articles 应为条款代码列表，如 [\"B19(3)\"]。", code="invalid_field")
    return value


def _interpretation(request, interpretation_id: int) -> Interpretation:
    require_role(request, Role.CITY_ADMIN)
    return selectors.manage_interpretation_get(user=request.user, pk=interpretation_id)


@router.post("/interpretations", auth=auth_required, summary="起草政策解读", response={201: dict})
def interpretation_create(request):
    data = json_object_body(request)
    interpretation = services.interpretation_create(
        actor=request.user, city=_city_for(request, data), title=_str(data, "title"), body=_str(data, "body"),
        articles=_articles(data),
    )
    return Status(201, _interpretation_dict(interpretation))


@router.post("/interpretations/{int:interpretation_id}/publish", auth=auth_required, summary="发布政策解读")
def interpretation_publish(request, interpretation_id: int):
    return _interpretation_dict(services.interpretation_publish(
        actor=request.user, interpretation=_interpretation(request, interpretation_id)))


@router.post("/interpretations/{int:interpretation_id}/withdraw", auth=auth_required, summary="撤回政策解读")
def interpretation_withdraw(request, interpretation_id: int):
    data = json_object_body(request)
    return _interpretation_dict(services.interpretation_withdraw(
        actor=request.user, interpretation=_interpretation(request, interpretation_id), reason=_str(data, "reason")))
