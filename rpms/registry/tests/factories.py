"""Pool members for registry tests, made through the audited planner_create service."""
import itertools

from rpms.core.identity import id_number_checksum
from rpms.registry.models import PoolStatus
from rpms.registry.services import planner_create

_seq = itertools.count(100)


def fictional_id_number(n=None, region="110108"):
    n = next(_seq) if n is None else n
    first17 = f"{region}19800202{n % 1000:03d}"
    return first17 + id_number_checksum(first17)


def pool_member(city, name, *, districts=(), status=PoolStatus.ACTIVE, **fields):
    n = next(_seq)
    values = {
        "id_number": fictional_id_number(n),
        "mobile": f"137{n:08d}",
        "employer": "虚构设计院",
        "title_level": "deputy_senior",
        "title_field": "urban_rural_planning",
        "experience_years": 8,
        "specialties": ["urban_rural_planning"],
        "pool_status": status,
    }
    values.update(fields)
    return planner_create(actor=None, city=city, name=name, familiar_districts=list(districts), **values)
