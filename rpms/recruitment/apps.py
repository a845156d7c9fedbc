"""Recruitment: open and targeted calls (P5(1), P5(3)), applications with proofs, eligibility
(B18, P4), review and selection (P5(1)), public notices with objections (P5(2)), admission."""
from django.apps import AppConfig


class RecruitmentConfig(AppConfig):
    name = "rpms.recruitment"
    label = "recruitment"
    verbose_name = "征集与入库"
