"""The steps of the institution that a city's rule book must cite (rules as data).

Every service that acts cites the city's own article for the step, read from the policy profile's
`articles` map (`rpms.cities.selectors.policy_article`): Beijing's dossier shows B19(7) where
Pingdingshan's shows P5(2). A new city lists its article for every step below; a step's label is what
a user sees."""

ARTICLE_STEPS: dict[str, str] = {
    # Recruitment and the pool (#3)
    "call_open": "公开征集",
    "call_targeted": "定向补充征集",
    "review": "审核遴选",
    "notice": "入库公示",
    "objection": "公示异议处理",
    "admission": "正式入库",
    "commission": "定向委托入库",
    "roster_import": "既有名册导入",
    "pool_update": "资源库动态管理",
    "removal": "调出资源库",
    "leave_request": "本人申请退出资源库",
    "team_core_cap": "团队核心成员登记",
    # Dispatch and appointments (#4)
    "dispatch_request": "派驻申请",
    "matching": "统筹选派",
    "unit_cap": "同时服务责任单元上限",
    "selection": "属地选聘提名与审核",
    "appointment": "派驻聘任",
    "existing_entry": "既有聘任补录",
    "contract": "聘用合同",
    "contract_signing": "签订聘用合同",
    "filing": "合同备案",
    "disclosure": "聘用信息公开",
    "renewal": "续聘",
    "termination": "解除聘用合同",
    "withdrawal": "退出派驻",
    "replacement": "调整补位",
    "district_chief": "区级总责任规划师",
    "multi_role": "双师/多师协同",
    "coverage": "服务全覆盖",
    # Duties and residents (#5)
    "duty_record": "履职记录",
    "duty_confirm": "履职记录确认",
    "opinion": "独立出具书面意见",
    "opinion_interest": "利益冲突声明",
    "data_request": "申请获取现状信息和规划资料",
    "confidential_material": "未公开信息保密",
    "work_certificate": "工作证明",
    "extra_work": "另行签订合同的工作",
    "suggestion": "收集群众意见建议",
    "suggestion_reply": "答复群众意见建议",
    "suggestion_forward": "转交相关部门",
    "suggestion_moderation": "意见建议内容管理",
    "work_proposal": "形成工作建议",
    "monitoring_feedback": "实施监督反馈",
    # Assessment, honours, money, statistics (#6)
    "assessment": "年度考核评议",
    "assessment_consequence": "考核结果运用",
    "violation": "违规行为处理",
    "district_assessment": "对各区制度执行情况的评估",
    "honour": "表彰奖励",
    "allowance": "交通通讯补贴",
    "fee": "服务费用支付",
    "training": "继续教育和培训",
    "statistics": "年度统计分析",
    # Public information services (#7)
    "announcement": "公示公告",
    "policy_interpretation": "政策文件解读",
    "case": "优秀案例推荐",
    "course": "线上培训",
    "notification": "工作提醒",
}


def policy_article(city, step: str) -> str:
    """The city's own article for a step of the institution (ARTICLE_STEPS), e.g.
    policy_article(beijing, "notice") == "B19(7)" and "P5(2)" for Pingdingshan. Audit rows and dossier
    events cite it. (Here, beside the steps, so that the policy's own helpers — rpms.cities.limits — can
    cite without importing the selectors.)"""
    if step not in ARTICLE_STEPS:
        raise ValueError(f"unknown step: {step}")
    return (city.policy.articles or {}).get(step, "")
