"""Public information pages (/info/).

Public (no account, phone friendly): 公示公告 (announcements with the recruitment calls and notices),
政策文件解读 (the rule books with their interpretations), 一张图 (the coverage map, B4), 开放数据.
City administrators: drafting, publishing and withdrawing announcements (with attachments) and
interpretations; auditors read the management pages without their forms."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render, resolve_url
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rpms.core import clock
from rpms.core.errors import Forbidden, NotFound
from rpms.core.excel import workbook_response
from rpms.core.inputs import date_value
from rpms.core.web import Submission, act, submit

from . import opendata, pagecache, policies, selectors, services
from .models import AnnouncementKind
from .permissions import is_publisher


# =============================================================================================
# Public
# =============================================================================================


@require_GET
def index(request):
    cities = selectors.public_cities()
    return render(request, "publicinfo/index.html", {
        "cities": cities,
        "latest": selectors.announcement_feed(page=1, page_size=5).items,
    })


@require_GET
def announcement_list(request):
    cities = selectors.public_cities()
    filters = selectors.feed_filters(request.GET, cities=cities)
    page = selectors.announcement_feed(filters=filters, page=selectors.page_from_params(request.GET))
    query = filters.as_query()
    return render(request, "publicinfo/announcement_list.html", {
        "cities": cities, "filters": filters, "page": page, "kinds": AnnouncementKind.choices,
        "years": selectors.feed_years(), "query": query,
    })


@require_GET
def announcement_detail(request, pk):
    announcement = selectors.public_announcement_get(pk)
    return render(request, "publicinfo/announcement_detail.html", {"announcement": announcement})


@require_GET
def attachment_download(request, pk, attachment_pk):
    from rpms.core.uploads import proof_response

    attachment = selectors.public_attachment_get(announcement_id=pk, attachment_id=attachment_pk)
    response = proof_response(attachment.path, download_name=attachment.display_name, reader=request.user,
                              audit=False)  # a published announcement's attachment is public
    response["Cache-Control"] = "public, max-age=300"  # a public document, not a personal proof
    return response


@require_GET
def policy_index(request):
    cities = [c for c in selectors.public_cities() if policies.rulebook(c) is not None]
    if len(cities) == 1:
        return redirect("publicinfo:policy_document", city_code=cities[0].code)
    return render(request, "publicinfo/policy_index.html", {
        "documents": [(c, policies.rulebook(c)) for c in cities],
    })


@require_GET
def policy_document(request, city_code):
    city = selectors.city_from_params({"city": city_code})
    page = selectors.policy_page(city)
    return render(request, "publicinfo/policy_document.html", {"city": city, **page})


@require_GET
def interpretation_detail(request, city_code, pk):
    city = selectors.city_from_params({"city": city_code})
    interpretation = selectors.public_interpretation_get(city=city, pk=pk)
    return render(request, "publicinfo/interpretation_detail.html", {"city": city, "interpretation": interpretation})


@require_GET
def coverage_map(request):
    """The city's districts coloured by coverage (counts from one grouped query), kept in the shared cache
    until an act changes the city's public data (rpms.publicinfo.pagecache)."""
    cities = selectors.public_cities()
    city = selectors.city_from_params(request.GET, cities=cities, default_first=True)
    if city is None:
        raise NotFound("尚未配置城市。", code="city_not_found")
    return pagecache.cached_page(
        request, scopes=pagecache.city_scopes([city.pk]), key=f"map:{city.code}",
        render=lambda: render(request, "publicinfo/map.html", {
            "cities": cities, "city": city, "coverage": selectors.city_coverage(city),
            "bands": selectors.COVERAGE_BANDS,
        }),
    )


def _district_page(request, district_code: str, template: str):
    page = selectors.page_from_params(request.GET)
    city_id = pagecache.district_city_id(district_code)

    def build():
        coverage, unassigned = selectors.district_coverage(district_code, page=page)
        return render(request, template, {
            "coverage": coverage, "city": coverage.district.city, "unassigned": unassigned,
            "bands": selectors.COVERAGE_BANDS,
        })

    if city_id is None:
        return build()  # unknown: 404
    return pagecache.cached_page(request, scopes=pagecache.city_scopes([city_id]),
                                 key=f"map:{district_code}:{page}", render=build)


@require_GET
def map_district(request, district_code):
    """A district's units with their planners or "空缺", a page at a time."""
    return _district_page(request, district_code, "publicinfo/map_district.html")


@require_GET
def map_district_units(request, district_code):
    """The same list as an HTML fragment, loaded by the map when a visitor opens a district (map.js)."""
    return _district_page(request, district_code, "publicinfo/map_district_units.html")


@require_GET
def open_data(request):
    return render(request, "publicinfo/open_data.html", {
        "datasets": opendata.datasets(), "cities": selectors.public_cities(),
    })


# =============================================================================================
# Management (city administrators; auditors read)
# =============================================================================================


ANNOUNCEMENT_KEYS = ("kind", "title", "body", "record_url", "record_label")
INTERPRETATION_KEYS = ("title", "body", "articles")


@login_required
@require_GET
def manage(request):
    city = selectors.manage_city(request.user, request.GET)
    return render(request, "publicinfo/manage.html", {
        "city": city,
        "announcements": list(selectors.manage_announcements(user=request.user, city=city)[:200]),
        "interpretations": list(selectors.manage_interpretations(user=request.user, city=city)[:200]),
        "can_publish": is_publisher(request.user, city),
        "cities": selectors.public_cities() if not request.user.city_id or request.user.is_superuser else [],
    })


@login_required
@require_GET
def manage_export(request):
    city = selectors.manage_city(request.user, request.GET)
    rows = [
        (a.pk, a.get_kind_display(), a.title, a.get_status_display(), a.publish_on, a.attachment_count,
         a.created_by.display_name if a.created_by else "", a.published_at, a.withdraw_reason)
        for a in selectors.manage_announcements(user=request.user, city=city)
    ]
    return workbook_response(f"{city.name}公示公告", "公示公告",
                             ["编号", "类别", "标题", "状态", "发布日期", "附件数", "起草人", "发布操作时间", "撤回原因"], rows)


@login_required
@require_http_methods(["GET", "POST"])
def announcement_new(request):
    city = selectors.manage_city(request.user, request.GET)
    form = {key: request.POST.get(key, "") for key in ANNOUNCEMENT_KEYS} if request.method == "POST" else {"kind": ""}
    sent = Submission()
    if request.method == "POST":
        sent = submit(request, lambda: services.announcement_create(actor=request.user, city=city, **form),
                      success="公告草稿已保存。可上传附件，确认无误后发布。",
                      redirect_to=lambda announcement: resolve_url("publicinfo:manage_announcement",
                                                                   pk=announcement.pk))
        if sent.response:
            return sent.response
    elif not is_publisher(request.user, city):
        raise Forbidden("只有市级管理员可以发布公示公告和政策解读。")
    return render(request, "publicinfo/announcement_form.html", {
        "city": city, "form": form, "error": sent.error, "kinds": AnnouncementKind.choices, "announcement": None,
    }, status=400 if sent.error else 200)


@login_required
@require_http_methods(["GET", "POST"])
def manage_announcement(request, pk):
    announcement = selectors.manage_announcement_get(user=request.user, pk=pk)
    can_publish = is_publisher(request.user, announcement.city)
    sent = Submission()
    form = {key: getattr(announcement, key) for key in ANNOUNCEMENT_KEYS}
    if request.method == "POST":
        form = {key: request.POST.get(key, "") for key in ANNOUNCEMENT_KEYS}
        sent = submit(request, lambda: services.announcement_update(actor=request.user, announcement=announcement, **form),
                      success="公告已保存。",
                      redirect_to=resolve_url("publicinfo:manage_announcement", pk=announcement.pk))
        if sent.response:
            return sent.response
    return render(request, "publicinfo/manage_announcement.html", {
        "announcement": announcement, "city": announcement.city, "form": form, "error": sent.error,
        "kinds": AnnouncementKind.choices, "can_publish": can_publish, "today": clock.today(),
        "max_attachments": services.MAX_ATTACHMENTS,
    }, status=400 if sent.error else 200)


def _act(request, announcement_or_interpretation, call, success: str, target: str):
    return act(request, call, success=success, redirect_to=resolve_url(target, pk=announcement_or_interpretation.pk))


@login_required
@require_POST
def announcement_publish(request, pk):
    announcement = selectors.manage_announcement_get(user=request.user, pk=pk)
    raw = request.POST.get("publish_on", "")
    return _act(request, announcement,
                lambda: services.announcement_publish(
                    actor=request.user, announcement=announcement,
                    publish_on=date_value(raw, required=False, message="发布日期格式应为 YYYY-MM-DD。")),
                "公告已发布。", "publicinfo:manage_announcement")


@login_required
@require_POST
def announcement_withdraw(request, pk):
    announcement = selectors.manage_announcement_get(user=request.user, pk=pk)
    return _act(request, announcement,
                lambda: services.announcement_withdraw(actor=request.user, announcement=announcement,
                                                       reason=request.POST.get("reason", "")),
                "公告已撤回，公众不再能看到。", "publicinfo:manage_announcement")


@login_required
@require_POST
def attachment_upload(request, pk):
    announcement = selectors.manage_announcement_get(user=request.user, pk=pk)
    return _act(request, announcement,
                lambda: services.announcement_attachment_add(actor=request.user, announcement=announcement,
                                                             file=request.FILES.get("file"),
                                                             label=request.POST.get("label", "")),
                "附件已上传。", "publicinfo:manage_announcement")


@login_required
@require_POST
def attachment_remove(request, pk, attachment_pk):
    attachment = selectors.manage_attachment_get(user=request.user, announcement_id=pk, attachment_id=attachment_pk)
    return _act(request, attachment.announcement,
                lambda: services.announcement_attachment_remove(actor=request.user, attachment=attachment),
                "附件已删除。", "publicinfo:manage_announcement")


@login_required
@require_GET
def manage_attachment_download(request, pk, attachment_pk):
    """Managers download an attachment before the announcement is public."""
    from rpms.core.uploads import proof_response

    attachment = selectors.manage_attachment_get(user=request.user, announcement_id=pk, attachment_id=attachment_pk)
    return proof_response(attachment.path, download_name=attachment.display_name, reader=request.user, obj=attachment)


@login_required
@require_http_methods(["GET", "POST"])
def interpretation_new(request):
    city = selectors.manage_city(request.user, request.GET)
    form = {key: request.POST.get(key, "") for key in INTERPRETATION_KEYS} if request.method == "POST" else {}
    sent = Submission()
    if request.method == "POST":
        sent = submit(request, lambda: services.interpretation_create(actor=request.user, city=city, **form),
                      success="政策解读草稿已保存，确认无误后发布。",
                      redirect_to=lambda interpretation: resolve_url("publicinfo:manage_interpretation",
                                                                     pk=interpretation.pk))
        if sent.response:
            return sent.response
    elif not is_publisher(request.user, city):
        raise Forbidden("只有市级管理员可以发布公示公告和政策解读。")
    return render(request, "publicinfo/interpretation_form.html", {
        "city": city, "form": form, "error": sent.error, "interpretation": None, "document": policies.rulebook(city),
    }, status=400 if sent.error else 200)


@login_required
@require_http_methods(["GET", "POST"])
def manage_interpretation(request, pk):
    interpretation = selectors.manage_interpretation_get(user=request.user, pk=pk)
    sent = Submission()
    form = {"title": interpretation.title, "body": interpretation.body, "articles": "、".join(interpretation.articles)}
    if request.method == "POST":
        form = {key: request.POST.get(key, "") for key in INTERPRETATION_KEYS}
        sent = submit(request, lambda: services.interpretation_update(actor=request.user, interpretation=interpretation,
                                                                      **form),
                      success="政策解读已保存。",
                      redirect_to=resolve_url("publicinfo:manage_interpretation", pk=interpretation.pk))
        if sent.response:
            return sent.response
    return render(request, "publicinfo/manage_interpretation.html", {
        "interpretation": interpretation, "city": interpretation.city, "form": form, "error": sent.error,
        "can_publish": is_publisher(request.user, interpretation.city), "document": policies.rulebook(interpretation.city),
    }, status=400 if sent.error else 200)


@login_required
@require_POST
def interpretation_publish(request, pk):
    interpretation = selectors.manage_interpretation_get(user=request.user, pk=pk)
    return _act(request, interpretation,
                lambda: services.interpretation_publish(actor=request.user, interpretation=interpretation),
                "政策解读已发布，显示在所解读的条款旁。", "publicinfo:manage_interpretation")


@login_required
@require_POST
def interpretation_withdraw(request, pk):
    interpretation = selectors.manage_interpretation_get(user=request.user, pk=pk)
    return _act(request, interpretation,
                lambda: services.interpretation_withdraw(actor=request.user, interpretation=interpretation,
                                                         reason=request.POST.get("reason", "")),
                "政策解读已撤回。", "publicinfo:manage_interpretation")
