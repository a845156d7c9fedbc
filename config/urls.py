from django.contrib import admin
from django.urls import include, path

from .api import api

admin.site.site_header = "责任规划师管理信息系统 · 管理后台"
admin.site.site_title = "RPMS 管理后台"
admin.site.index_title = "系统管理"

handler400 = "rpms.core.views.bad_request"

urlpatterns = [
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("accounts/", include("rpms.accounts.urls")),
    path("cities/", include("rpms.cities.urls")),
    path("geography/", include("rpms.geography.urls")),
    path("workdays/", include("rpms.workdays.urls")),
    path("audit/", include("rpms.core.urls")),
    path("pool/", include("rpms.registry.urls")),
    path("recruitment/", include("rpms.recruitment.urls")),
    path("verify/", include("rpms.documents.urls")),
    path("dispatch/", include("rpms.dispatch.urls")),
    path("appointments/", include("rpms.appointments.urls")),
    path("duties/", include("rpms.duties.urls")),
    path("opinions/", include("rpms.opinions.urls")),
    path("suggestions/", include("rpms.suggestions.urls")),
    path("assessments/", include("rpms.assessments.urls")),
    path("finance/", include("rpms.finance.urls")),
    path("training/", include("rpms.training.urls")),
    path("statistics/", include("rpms.reports.urls")),
    path("info/", include("rpms.publicinfo.urls")),
    path("cases/", include("rpms.cases.urls")),
    path("inbox/", include("rpms.notifications.urls")),
    path("", include("rpms.portal.urls")),
]
