"""Chinese labels for the codes the audit trail stores (issue #17 item 3): every action string that any service
passes to `audit_log`/`audit_read`, every object type that is not a model (a model's type is its verbose_name),
and people (a name, never a user name).

The table is data: a new action must get its label here (rpms/core/tests/test_labels.py scans the code base and
fails for an action without one). Unknown codes never reach a page raw: they fall back to the app's name."""
from django.apps import apps

ACTION_LABELS: dict[str, str] = {
    # accounts
    "accounts.2fa_enrolled": "启用两步验证",
    "accounts.2fa_recovery_regenerated": "重新生成两步验证恢复码",
    "accounts.2fa_reset": "重置两步验证",
    "accounts.account_create": "开设账户",
    "accounts.account_deactivate": "停用账户",
    "accounts.account_export": "导出账户清单",
    "accounts.account_reactivate": "重新启用账户",
    "accounts.account_update": "修改账户信息",
    "accounts.administrator_install": "安装时开设管理员账户",
    "accounts.locked": "账户锁定",
    "accounts.login": "登录",
    "accounts.login_failed": "登录失败",
    "accounts.login_password_ok": "口令验证通过",
    "accounts.logout": "退出登录",
    "accounts.otp_failed": "登录失败（动态验证码错误）",
    "accounts.password_change": "修改密码",
    "accounts.password_reset": "重置密码",
    "accounts.role_assign": "调整角色与管辖范围",
    "accounts.token_issued": "签发接口令牌",
    "accounts.token_otp_failed": "签发接口令牌失败（动态验证码错误）",
    "accounts.token_otp_missing": "签发接口令牌失败（缺少动态验证码）",
    "accounts.unlock": "解除账户锁定",
    "accounts.user_create": "创建用户",
    "accounts.city_account_create": "开设机构账户（区级工作人员、聘任主体）",
    "accounts.city_account_deactivate": "停用机构账户",
    "accounts.city_account_reactivate": "重新启用机构账户",
    "accounts.city_account_update": "修改机构账户",
    "accounts.city_password_reset": "重置机构账户密码（下次登录须修改）",
    "accounts.delegation_create": "委托同事代为办理",
    "accounts.delegation_revoke": "撤销工作委托",
    # appointments
    "appointments.appointment_create": "派驻聘任",
    "appointments.appointment_disclosure_set": "调整聘任公开状态",
    "appointments.appointment_end_removal": "因调出资源库终止聘任",
    "appointments.appointment_existing_enter": "录入既有聘任",
    "appointments.appointment_file": "聘用合同备案并公开",
    "appointments.appointment_renew": "续聘",
    "appointments.district_chief_appoint": "聘请区级总责任规划师",
    "appointments.existing_import_start": "开始导入既有聘任",
    "appointments.existing_import_step": "导入既有聘任（分批）",
    "appointments.existing_import_upload": "上传既有聘任名册",
    "appointments.removal_replace": "调出后替换责任规划师",
    "appointments.selection_approve": "批准选聘建议",
    "appointments.selection_propose": "提出选聘建议",
    "appointments.selection_return": "退回选聘建议",
    "appointments.selection_withdraw": "撤回选聘建议",
    "appointments.signed_contract_return": "退回签署的聘用合同",
    "appointments.signed_contract_submit": "提交签署的聘用合同",
    "appointments.termination_by_entity": "聘任主体解除聘任",
    "appointments.termination_consent": "同意解除聘任",
    "appointments.termination_evidence_add": "补充解除聘任证明材料",
    "appointments.termination_refuse": "不同意解除聘任",
    "appointments.termination_request": "申请解除聘任",
    "appointments.termination_statement": "提交解除聘任陈述意见",
    "appointments.termination_withdraw": "撤回解除聘任申请",
    "appointments.withdrawal_notice_set": "约定退出提前期",
    "appointments.withdrawal_replace": "退出后替换责任规划师",
    "appointments.withdrawal_request": "申请退出派驻",
    # assessments
    "assessments.assessment_absence_record": "登记考核缺席",
    "assessments.assessment_feedback": "反馈考核结果",
    "assessments.assessment_grade": "评定考核等次",
    "assessments.assessment_open": "启动年度考核",
    "assessments.assessment_score": "考核评分",
    "assessments.assessment_self_report": "提交述职报告",
    "assessments.district_assessment_record": "登记区级制度执行评估",
    "assessments.honour_decide": "决定表彰",
    "assessments.honour_list_publish": "公布表彰名单",
    "assessments.honour_nominate": "推荐表彰人选",
    "assessments.renewal_condition_set": "设定续聘条件",
    "assessments.replacement_flag_resolve": "处理替换提示",
    "assessments.violation_record": "登记违规情况",
    "assessments.violation_report": "违规情况告知所在单位",
    # cases
    "cases.case_review": "审核优秀案例",
    "cases.case_revise": "修改优秀案例",
    "cases.case_submit": "提交优秀案例",
    "cases.case_unpublish": "撤下优秀案例",
    # cities
    "cities.city_configure": "配置城市",
    "cities.policy_update": "修改政策配置",
    # core
    "core.data_backup": "数据备份",
    "core.data_key_rotate": "轮换数据密钥",
    "core.data_restore": "数据恢复",
    "core.personal_data_export": "导出个人信息",
    "core.private_file_download": "下载非公开文件",
    # dispatch
    "dispatch.conflict_declare": "申报利益冲突",
    "dispatch.conflict_withdraw": "撤回利益冲突申报",
    "dispatch.matching_run": "运行统筹选派匹配",
    "dispatch.proposal_replace": "人工替换选派建议",
    "dispatch.request_accept": "受理派驻需求",
    "dispatch.request_return": "退回派驻需求",
    "dispatch.request_submit": "提交派驻需求",
    "dispatch.request_withdraw": "撤回派驻需求",
    # duties
    "duties.data_material_add": "提供资料",
    "duties.data_material_download": "下载申请的资料",
    "duties.data_request_create": "提出资料申请",
    "duties.data_request_deliver": "答复资料申请",
    "duties.data_request_refuse": "拒绝资料申请",
    "duties.duty_evidence_add": "上传履职佐证材料",
    "duties.duty_evidence_remove": "删除履职佐证材料",
    "duties.duty_record_answer": "答复履职记录疑问",
    "duties.duty_record_confirm": "确认履职记录",
    "duties.duty_record_create": "填报履职记录",
    "duties.duty_record_delete": "删除履职记录",
    "duties.duty_record_query": "对履职记录提出疑问",
    "duties.duty_record_update": "修改履职记录",
    "duties.extra_work_create": "登记额外工作",
    "duties.extra_work_status": "变更额外工作状态",
    "duties.extra_work_update": "修改额外工作",
    "duties.monitoring_feedback_answer": "答复监督反馈",
    "duties.monitoring_feedback_file": "登记监督反馈",
    "duties.work_certificate_issue": "开具工作证明",
    "duties.work_certificate_revoke": "撤销工作证明",
    # finance
    "finance.allowance_pay": "发放交通通讯补贴",
    "finance.allowance_reconcile": "核对交通通讯补贴",
    "finance.allowances_generate": "生成交通通讯补贴",
    "finance.fee_payment_record": "登记服务费支付",
    "finance.fee_schedule_set": "设定服务费支付安排",
    # geography
    "geography.department_save": "保存相关部门",
    "geography.divisions_load": "导入行政区划",
    "geography.subdistrict_zone_type_set": "指定街道乡镇功能区类型",
    "geography.unit_merge": "合并责任单元",
    "geography.unit_rename": "责任单元更名",
    "geography.unit_split": "拆分责任单元",
    "geography.units_create_default": "生成默认责任单元",
    # notifications
    "notifications.reminders_send": "发送工作提醒",
    # opinions
    "opinions.attachment_add": "添加书面意见附件",
    "opinions.attachment_remove": "删除书面意见附件",
    "opinions.create": "起草书面意见",
    "opinions.discard": "放弃书面意见草稿",
    "opinions.interest_declare": "书面意见利益关系声明",
    "opinions.issue": "出具书面意见",
    "opinions.read": "阅知书面意见",
    "opinions.response_record": "登记书面意见采纳情况",
    "opinions.supersede": "更正书面意见",
    "opinions.update": "修改书面意见草稿",
    # publicinfo
    "publicinfo.announcement_create": "新建公告",
    "publicinfo.announcement_publish": "发布公告",
    "publicinfo.announcement_update": "修改公告",
    "publicinfo.announcement_withdraw": "撤回公告",
    "publicinfo.attachment_add": "添加公开附件",
    "publicinfo.attachment_remove": "删除公开附件",
    "publicinfo.interpretation_create": "新建政策解读",
    "publicinfo.interpretation_publish": "发布政策解读",
    "publicinfo.interpretation_update": "修改政策解读",
    "publicinfo.interpretation_withdraw": "撤回政策解读",
    # recruitment
    "recruitment.application_review": "审核入库申请",
    "recruitment.application_submit": "提交入库申请",
    "recruitment.call_create": "新建征集公告",
    "recruitment.call_publish": "发布征集公告",
    "recruitment.call_withdraw": "撤回征集公告",
    "recruitment.notice_close": "结束公示",
    "recruitment.notice_publish": "发布公示",
    "recruitment.notice_recompute": "重新计算公示期",
    "recruitment.objection_resolve": "处理公示异议",
    "recruitment.objection_submit": "提出公示异议",
    "recruitment.proof_add": "补充证明材料",
    # registry
    "registry.limit_exception_approve": "批准原则性规定例外",
    "registry.limit_exception_grant": "原则性规定例外",
    "registry.limit_exception_refuse": "不予批准原则性规定例外",
    "registry.limit_exception_request": "申请原则性规定例外",
    "registry.planner_commission": "定向委托入库",
    "registry.planner_create": "责任规划师入库",
    "registry.planner_leave_request": "申请退出资源库",
    "registry.planner_link_user": "关联责任规划师账户",
    "registry.planner_remove": "调出资源库",
    "registry.planners_mark_fictional": "标记演示数据",
    "registry.roster_import_start": "开始导入名册",
    "registry.roster_import_step": "导入名册（分批）",
    "registry.roster_import_upload": "上传名册",
    "registry.team_member_add": "添加团队成员",
    "registry.team_member_remove": "移出团队成员",
    "registry.team_member_core_set": "调整团队核心成员",
    "registry.team_leader_change": "更换团队负责人",
    "registry.team_member_invite": "邀请团队成员开通账户",
    "registry.team_member_join": "团队成员关联账户",
    "registry.profile_change_request": "申请变更资格信息",
    "registry.profile_change_approve": "核实通过资格信息变更",
    "registry.profile_change_reject": "不予通过资格信息变更",
    "registry.profile_update": "更新个人信息",
    # suggestions
    "suggestions.suggestion_close": "办结意见建议",
    "suggestions.suggestion_department_answer": "登记部门答复",
    "suggestions.suggestion_forward": "转交相关部门",
    "suggestions.suggestion_hide": "隐藏意见建议",
    "suggestions.suggestion_release": "审核放行意见建议",
    "suggestions.suggestion_reply": "答复意见建议",
    "suggestions.suggestion_submit": "提交意见建议",
    "suggestions.suggestion_unhide": "恢复公开意见建议",
    "suggestions.work_proposal_acknowledge": "签收工作建议",
    "suggestions.work_proposal_submit": "提交工作建议",
    # training
    "training.certificate_issue": "开具继续教育证明",
    "training.course_attendance_confirm": "确认课程出勤",
    "training.course_complete": "完成课程",
    "training.course_create": "新建课程",
    "training.course_enrol": "报名课程",
    "training.course_publish": "发布课程",
    "training.course_unpublish": "撤下课程",
    "training.course_update": "修改课程",
    "training.material_add": "添加课程材料",
    "training.material_finish": "学完课程材料",
    "training.material_open": "打开课程材料",
    "training.material_remove": "删除课程材料",
    "training.record_confirm": "确认继续教育学时",
    "training.record_create": "申报继续教育学时",
    "training.record_reject": "不予确认继续教育学时",
    "training.record_withdraw": "撤回继续教育学时申报",
    # workdays
    "workdays.year_delete": "删除年度工作日历",
    "workdays.year_enter": "录入年度工作日历",
}

# Object types that are not a model's label (a model's type is shown by its verbose_name).
OBJECT_TYPE_LABELS: dict[str, str] = {
    "assessments.honour_list": "表彰名单",
    "backup": "数据备份",
    "core.data_key": "数据密钥",
    "core.privatefile": "非公开文件",
}

UNKNOWN_ACTION = "其他操作"
UNKNOWN_OBJECT_TYPE = "其他对象"


def _app_name(code: str) -> str:
    app_label = code.split(".", 1)[0]
    try:
        return str(apps.get_app_config(app_label).verbose_name)
    except LookupError:
        return ""


def action_label(code: str) -> str:
    """The Chinese label of an audit action ('recruitment.objection_submit' → '提出公示异议'); an action missing
    from the table falls back to its app's name ('征集与入库 · 其他操作'), never to the code."""
    if not code:
        return ""
    label = ACTION_LABELS.get(code)
    if label:
        return label
    app_name = _app_name(code)
    return f"{app_name} · {UNKNOWN_ACTION}" if app_name else UNKNOWN_ACTION


def object_type_label(code: str) -> str:
    """'dispatch.dispatchrequest' → the model's verbose_name ('派驻需求'); other types from OBJECT_TYPE_LABELS."""
    if not code:
        return ""
    label = OBJECT_TYPE_LABELS.get(code)
    if label:
        return label
    try:
        model = apps.get_model(code)
    except (LookupError, ValueError):
        return UNKNOWN_OBJECT_TYPE
    return str(model._meta.verbose_name)


def action_choices(codes) -> list[tuple[str, str]]:
    """(code, label) pairs for a filter drop-down, ordered by label."""
    return sorted(((code, action_label(code)) for code in codes), key=lambda pair: (pair[1], pair[0]))


def object_type_choices(codes) -> list[tuple[str, str]]:
    return sorted(((code, object_type_label(code)) for code in codes), key=lambda pair: (pair[1], pair[0]))


def city_names() -> dict[str, str]:
    """{city code: city name} (one query; core sits below cities, so the model is looked up by name)."""
    City = apps.get_model("cities", "City")
    return dict(City.objects.values_list("code", "name"))


def person_name(user) -> str:
    """How a person is named on a page: the display name, else the role's label — never the user name."""
    if user is None:
        return "系统"
    name = (getattr(user, "display_name", "") or "").strip()
    if name:
        return name
    get_role_display = getattr(user, "get_role_display", None)
    role = get_role_display() if callable(get_role_display) and getattr(user, "role", "") else ""
    if role:
        return str(role)
    if getattr(user, "is_superuser", False):
        return "系统管理员（安装用）"
    return "用户"


def _field_of(model, key: str):
    if model is None:
        return None
    try:
        return model._meta.get_field(key)
    except Exception:  # noqa: BLE001 — FieldDoesNotExist, or a key that is no field name
        return None


def _value_text(field, value) -> str:
    import json

    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    choices = getattr(field, "flatchoices", None) if field is not None else None
    if choices and isinstance(value, str):
        return str(dict(choices).get(value, value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str)
    return str(value)


def _text_of(field, key: str, value) -> str:
    if isinstance(value, str) and (key, value) in VALUE_LABELS:
        return VALUE_LABELS[(key, value)]
    return _value_text(field, value)


def change_rows(object_type: str, before, after) -> list[dict]:
    """The before/after columns of an audit row as [{label, before, after}], each key named by the model field's
    verbose_name and each choice value by its label, where the object type is a model."""
    try:
        model = apps.get_model(object_type) if object_type and "." in object_type else None
    except (LookupError, ValueError):
        model = None
    before = before if isinstance(before, dict) else ({"value": before} if before is not None else {})
    after = after if isinstance(after, dict) else ({"value": after} if after is not None else {})
    rows = []
    for key in list(dict.fromkeys([*before, *after])):
        field = _field_of(model, key)
        label = str(field.verbose_name) if field is not None and hasattr(field, "verbose_name") else FIELD_LABELS.get(
            key, key)
        rows.append({
            "label": label,
            "raw_key": label == key,  # no label known: the stored key, shown as raw data
            "before": _text_of(field, key, before.get(key)) if key in before else "—",
            "after": _text_of(field, key, after.get(key)) if key in after else "—",
            "changed": before.get(key) != after.get(key),
        })
    return rows


# Keys the services put in before/after that are not a model field of the object.
FIELD_LABELS: dict[str, str] = {
    "value": "内容",
    "what": "导出内容",
    "filters": "筛选条件",
    "status": "状态",
    "note": "说明",
    "count": "数量",
    "file_name": "文件名",
    "name": "名称",
    "reason": "原因",
    "second_factor": "第二因素",
    "username": "输入的用户名",
    "unit_ids": "涉及的责任单元",
}

# Coded values of those keys (the login failures' reasons, the second factor's kind).
VALUE_LABELS: dict[tuple[str, str], str] = {
    ("reason", "password"): "密码错误",
    ("reason", "otp"): "动态验证码错误",
    ("reason", "token_otp"): "动态验证码错误（签发接口令牌）",
    ("reason", "unknown_user"): "用户名不存在",
    ("reason", "locked"): "账户处于锁定期",
    ("second_factor", "totp"): "认证器应用动态验证码",
    ("second_factor", "recovery_code"): "恢复码",
}
