"""National vocabularies the rules refer to (degree and professional-title levels). They are
national standards, not city rules, so they are code; the fields, registrations and thresholds
that a city requires are data in its policy profile."""
from django.db import models


class DegreeLevel(models.TextChoices):
    NONE = "none", "无"
    JUNIOR_COLLEGE = "junior_college", "大专"
    BACHELOR = "bachelor", "本科"
    MASTER = "master", "硕士研究生"
    DOCTOR = "doctor", "博士研究生"


class TitleLevel(models.TextChoices):
    NONE = "none", "无"
    PRIMARY = "primary", "初级"
    INTERMEDIATE = "intermediate", "中级"
    DEPUTY_SENIOR = "deputy_senior", "副高级"
    SENIOR = "senior", "正高级"


DEGREE_ORDER = [c.value for c in DegreeLevel]
TITLE_ORDER = [c.value for c in TitleLevel]


def degree_rank(code: str) -> int:
    return DEGREE_ORDER.index(code) if code in DEGREE_ORDER else 0


def title_rank(code: str) -> int:
    return TITLE_ORDER.index(code) if code in TITLE_ORDER else 0
