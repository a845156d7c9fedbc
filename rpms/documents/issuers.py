"""Who issues what in a city: the one place that answers, from the city's policy, which body a
document names as its issuer (落款), whose letterhead it is printed under (文头, or none), and which
other bodies it may mention. Every context builder asks here instead of writing its own strings, so
a document names only bodies that exist in its city (issue #11: no 区级责任规划师工作专班 in
Pingdingshan, where the bureau and the local governments act, P6).

    dispatch notice       city dispatch (P6(2)): the bureau; local selection (B2, B19(1)(5)): the
                          hiring entity together with the district's work team (B6)
    certificate           the body that appoints: the hiring entity where it signs (B19(3)), else the
                          bureau (P6(3))
    contract              signed by the appointing body; no letterhead (a contract between parties);
                          filed only where `contract_filer` is the district work team (B19(3))
    written opinion       the planner's (team's) own, under no letterhead (B11(3), P3(2))
    work certificate      the hiring entity (B14(4))
    assessment result     the district work team (B20) where the district assesses; else the bureau
                          together with the local government (P6(4))
    training certificate  the bureau
    honour certificate    the bureau, on the district's nomination (B24)"""
from dataclasses import dataclass

from rpms.cities.models import AppointmentMode, ContractFiler, ContractSigner

from .models import DocumentKind


@dataclass(frozen=True)
class Issuer:
    name: str  # who signs the document off (落款)
    letterhead: str  # the masthead it is printed under; "" for none

    def context(self) -> dict:
        """The snapshot keys the templates read."""
        return {"issuer_name": self.name, "letterhead": self.letterhead}


def bureau_name(city) -> str:
    return city.bureau_name or city.name


def local_government_name(district) -> str:
    """The district's (or development zone's) government: 新华区人民政府, …开发区管理委员会."""
    name = district.name
    if getattr(district, "is_development_zone", False):
        return name if name.endswith(("管委会", "管理委员会")) else f"{name}管理委员会"
    return name if name.endswith("人民政府") else f"{name}人民政府"


def district_work_team_name(city, district) -> str:
    """B6: the district's 责任规划师工作专班 — "" where the city has none (policy `district_work_teams`)."""
    if district is None or not city.policy.district_work_teams:
        return ""
    return f"{district.name}责任规划师工作专班"


def district_body_name(city, district) -> str:
    """The district-level body a document may name: its work team where there is one, else its
    government (属地政府)."""
    return district_work_team_name(city, district) or local_government_name(district)


def contract_filing_body(city, district) -> str:
    """B19(3): the body the signed contract is filed with — the district work team where the policy
    files contracts there; "" where nobody files (P6(3): the bureau signs itself)."""
    if city.policy.contract_filer != ContractFiler.DISTRICT_WORK_TEAM:
        return ""
    return district_work_team_name(city, district)


def appointing_body(city, *, hiring_entity: str) -> str:
    """Who appoints (and signs the contract): the hiring entity where the policy says it signs
    (B19(3)), else the bureau (P6(3))."""
    if city.policy.contract_signer == ContractSigner.HIRING_ENTITY and hiring_entity:
        return hiring_entity
    return bureau_name(city)


def assessment_led_by_city(city) -> bool:
    """P6(4): the bureau, together with the local government, assesses where it dispatches planners
    or signs their contracts, and wherever there is no district work team; otherwise the district
    work team assesses (B20)."""
    policy = city.policy
    return (
        not policy.district_work_teams
        or policy.appointment_mode == AppointmentMode.CITY_DISPATCH
        or policy.contract_signer == ContractSigner.CITY_BUREAU
    )


def document_issuer(*, city, kind, district=None, hiring_entity: str = "", author: str = "",
                    city_leads: bool | None = None) -> Issuer:
    """The issuer and letterhead of a document of `kind` in `city` (see the module's table).

    `district`: the district concerned (dispatch notice, assessment result); `hiring_entity`: the
    unit's hiring entity as it signs; `author`: the planner or team writing an opinion; `city_leads`:
    for an assessment result, who assessed (default: the policy, `assessment_led_by_city`)."""
    kind = DocumentKind(kind)
    policy = city.policy
    bureau = bureau_name(city)
    if kind == DocumentKind.WRITTEN_OPINION:
        return Issuer(name=author, letterhead="")
    if kind == DocumentKind.APPOINTMENT_CONTRACT:
        return Issuer(name=appointing_body(city, hiring_entity=hiring_entity), letterhead="")
    if kind == DocumentKind.APPOINTMENT_CERTIFICATE:
        body = appointing_body(city, hiring_entity=hiring_entity)
        return Issuer(name=body, letterhead=body)
    if kind == DocumentKind.DISPATCH_NOTICE:
        if policy.appointment_mode == AppointmentMode.CITY_DISPATCH or not hiring_entity:
            return Issuer(name=bureau, letterhead=bureau)
        partner = district_work_team_name(city, district) or (
            f"{district.name}规划自然资源主管部门" if district is not None else ""
        )
        body = "、".join(name for name in (hiring_entity, partner) if name)
        return Issuer(name=body, letterhead=body)
    if kind == DocumentKind.WORK_CERTIFICATE:
        body = hiring_entity or bureau
        return Issuer(name=body, letterhead=body)
    if kind == DocumentKind.ASSESSMENT_RESULT:
        leads = assessment_led_by_city(city) if city_leads is None else city_leads
        team = "" if leads else district_work_team_name(city, district)
        if team:
            return Issuer(name=team, letterhead=team)
        body = f"{bureau}、{local_government_name(district)}" if district is not None else bureau
        return Issuer(name=body, letterhead=body)
    # training and honour certificates: the bureau
    return Issuer(name=bureau, letterhead=bureau)


def dispatch_notice_recipients(city, *, district, hiring_entity: str, planner_name: str) -> list[str]:
    """Whom the dispatch notice is addressed to: P6(2) the local government and the planner; under
    local selection the district work team (B19(5)) as well. The issuer is never its own recipient."""
    issuer = document_issuer(city=city, kind=DocumentKind.DISPATCH_NOTICE, district=district,
                             hiring_entity=hiring_entity).name
    if city.policy.appointment_mode == AppointmentMode.CITY_DISPATCH:
        names = [local_government_name(district), planner_name]
    else:
        names = [district_work_team_name(city, district), hiring_entity, planner_name]
    return [name for name in dict.fromkeys(names) if name and name not in issuer.split("、")]
