"""Builders for recruitment tests: applicants, calls, application data per city, notices at a
chosen date, and the test clock."""
import datetime as dt
import itertools

from rpms.accounts.models import Role, User
from rpms.core.identity import id_number_checksum
from rpms.recruitment import services

PASSWORD = "Applicant-pass-2026!"
_seq = itertools.count(1)

BJ_DECLARATIONS = ["familiarity", "commitment"]
PDS_DECLARATIONS = ["political", "familiarity", "good_record"]


def fictional_id_number(n: int | None = None, *, region: str = "110108", birth: str = "19850101") -> str:
    """A valid (checksum-correct) fictional resident ID number."""
    n = next(_seq) if n is None else n
    first17 = f"{region}{birth}{n % 1000:03d}"
    return first17 + id_number_checksum(first17)


def fictional_mobile(n: int | None = None) -> str:
    n = next(_seq) if n is None else n
    return f"139{n % 100000000:08d}"


def applicant(username: str, city=None, **extra) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, role=Role.PLANNER, city=city,
                                    display_name=extra.pop("display_name", username), **extra)
    return user


def beijing_data(**overrides) -> dict:
    """An eligible Beijing individual (B18: a registered planner with 6 years)."""
    n = next(_seq)
    data = {
        "kind": "individual",
        "name": f"北京申请人{n}",
        "id_number": fictional_id_number(n),
        "mobile": fictional_mobile(n),
        "email": f"bj{n}@example.invalid",
        "employer": "虚构规划设计研究院",
        "degree": "master",
        "major": "城乡规划学",
        "degree_field": "urban_rural_planning",
        "title_level": "intermediate",
        "title_field": "urban_rural_planning",
        "registrations": ["registered_planner"],
        "experience_years": 6,
        "specialties": ["urban_rural_planning", "urban_renewal"],
        "districts": ["110108"],
        "declarations": list(BJ_DECLARATIONS),
    }
    data.update(overrides)
    return data


def pingdingshan_data(**overrides) -> dict:
    """An eligible Pingdingshan individual (P4(2): bachelor in planning with an intermediate title)."""
    n = next(_seq)
    data = {
        "kind": "individual",
        "name": f"平顶山申请人{n}",
        "id_number": fictional_id_number(n, region="410402"),
        "mobile": fictional_mobile(n),
        "employer": "虚构城乡规划设计院",
        "degree": "bachelor",
        "major": "城乡规划",
        "degree_field": "urban_rural_planning",
        "title_level": "intermediate",
        "title_field": "urban_rural_planning",
        "registrations": [],
        "experience_years": 4,
        "specialties": ["urban_rural_planning"],
        "districts": ["410402"],
        "declarations": list(PDS_DECLARATIONS),
    }
    data.update(overrides)
    return data


def open_call(admin, city, **overrides):
    fields = {
        "title": f"{city.name}责任规划师公开征集（测试）",
        "kind": "open",
        "requirements": "具备相关专业背景，熟悉本市规划。",
        "specialties": ["urban_rural_planning"],
        "deadline": dt.date.today() + dt.timedelta(days=30),
    }
    fields.update(overrides)
    return services.call_create(actor=admin, city=city, **fields)


def approved_application(admin, call, user, data):
    application = services.application_submit(actor=user, call=call, data=data)
    return services.application_review(actor=admin, application=application, decision="approve", reason="符合条件",
                                       scores={"background": 80, "title": 70, "experience": 75, "local_familiarity": 60})

