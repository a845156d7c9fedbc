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
    "appointment": "派驻聘任",
    "contract": "聘用合同",
    "filing": "合同备案",
    "disclosure": "聘用信息公开",
    "renewal": "续聘",
    "termination": "解除聘用合同",
    "withdrawal": "退出派驻",
    "replacement": "调整补位",
    "district_chief": "区级总责任规划师",
    "multi_role": "双师/多师协同",
    "coverage": "服务全覆盖",
}
