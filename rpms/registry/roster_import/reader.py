"""The roster's format: its columns, the .xlsx template for a city and reading an uploaded file."""
from __future__ import annotations

from rpms.cities.selectors import policy_article
from rpms.cities.vocabulary import DegreeLevel, TitleLevel
from rpms.core.identity import id_number_checksum
from rpms.core.spreadsheet import Column, TemplateBook, spreadsheet_read
from rpms.core.spreadsheet import SpreadsheetFile as RosterFile
from rpms.geography.models import District

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
SHEET_TITLE = "责任规划师名册"
INSTRUCTIONS_TITLE = "填写说明"
MAX_EXPERIENCE_YEARS = 70  # as on the application form (rpms.recruitment.services)
STEP = "roster_import"


COLUMNS: tuple[Column, ...] = (
    Column("name", "姓名", True, help="责任规划师本人姓名，不超过 100 个字符。", width=12),
    Column("id_number", "身份证号", True, help="18 位居民身份证号码，最后一位可能是 X；请保持本列为文本格式，以免 Excel 改写后几位。",
           aliases=("身份证号码", "公民身份号码"), width=22),
    Column("mobile", "手机号", True, help="11 位中国大陆手机号码。", aliases=("手机号码", "手机", "联系电话"), width=14),
    Column("email", "电子邮箱", help="选填。", aliases=("邮箱", "电子邮件"), width=24),
    Column("employer", "工作单位", help="选填，不超过 200 个字符。", aliases=("单位",), width=28),
    Column("degree", "学历", help="填写下列学历之一；不填视为“无”。", aliases=("最高学历",), width=12),
    Column("major", "专业", help="所学专业名称，如“城乡规划”“建筑学”，不超过 100 个字符。", aliases=("所学专业",), width=14),
    Column("major_field", "专业领域", help="所学专业所属的专业领域，填写下列专业领域之一（资格审查按此判断专业是否相关）。",
           aliases=("所学专业领域", "所学专业所属领域"), width=14),
    Column("title_level", "职称等级", help="填写下列职称等级之一；不填视为“无”。", aliases=("职称",), width=12),
    Column("title_field", "职称专业领域", help="职称所属的专业领域，填写下列专业领域之一。", width=14),
    Column("registrations", "执业资格", multiple=True, help="填写下列执业资格，多项用“、”或“,”分隔；没有可不填。",
           aliases=("执业资格证书",), width=22),
    Column("experience_years", "相关工作年限", help=f"整数，0 到 {MAX_EXPERIENCE_YEARS}；不填视为 0。", aliases=("工作年限",),
           width=12),
    Column("specialties", "擅长专业领域", True, multiple=True, help="至少一项，填写下列专业领域，多项用“、”或“,”分隔。",
           aliases=("擅长领域",), width=26),
    Column("districts", "熟悉的区", multiple=True, help="填写下列区的名称，多项用“、”或“,”分隔；没有可不填。",
           aliases=("熟悉区域",), width=22),
    # Issue #12 (5d): a roster admits only existing members, each with the evidence of their admission.
    Column("admitted_on", "入库日期", True, help="该人员原入库（经公示纳入资源库）的日期，如 2021-06-30；不能晚于今天。",
           aliases=("原入库日期", "入库时间"), width=14),
    Column("admission_evidence", "入库依据", True,
           help="原入库的依据：入库决定或入库公示的文号（如“某规划自然资源委〔2021〕12号”），或公示的网址（http:// 或 https:// 开头）。"
                "没有入库依据的人员不能通过名册导入，请经公开征集和公示入库。",
           aliases=("原入库依据", "入库文件", "入库公示"), width=32),
)
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}


# --- the template -----------------------------------------------------------------------------------


def _example_id_number() -> str:
    first17 = "11010819850615123"  # fictional
    return first17 + id_number_checksum(first17)


def roster_template_bytes(city) -> bytes:
    """The .xlsx template for `city`: the roster sheet (headers only; ID and mobile columns formatted as
    text) and the "填写说明" sheet with each column, the city's allowed values and a fictional example."""
    policy = city.policy
    districts = list(District.objects.filter(city=city).order_by("sort_order", "code").values_list("name", flat=True))
    book = TemplateBook(columns=COLUMNS, sheet_title=SHEET_TITLE, max_rows=MAX_ROWS, text_keys=("id_number", "mobile"),
                        choices={"degree": [c.label for c in DegreeLevel], "title_level": [c.label for c in TitleLevel]},
                        notes_title=INSTRUCTIONS_TITLE)
    line, bold = book.line, book.bold

    line(f"{city.name}责任规划师名册导入模板 · 填写说明", font=book.title_font)
    line(f"1. 在“{SHEET_TITLE}”工作表中每行填写一名责任规划师（只接受个人；团队请在资源库的团队页面登记）。第一行为列名，请勿修改或删除。")
    line(f"2. 每一行按入库申请的同一规则校验：身份证号校验码、手机号、选聘条件（{policy_article(city, STEP) or '本市规定'}；"
         f"资格条件依据 {(policy.eligibility_rules or {}).get('article', '')}）、下列可选值、文件内和资源库中的重复身份证号。")
    line(f"3. 一次最多 {MAX_ROWS} 行、文件不超过 {MAX_FILE_BYTES // (1024 * 1024)} MB，仅支持 .xlsx 格式。")
    line("4. 有错误的行会逐行逐列列出；有错误时不能“全部导入”，可修正后重新上传，或选择“只导入无误的行”。")
    line("   名册只用于登记已经入库的人员：每行须填写原入库日期和入库依据（入库决定或入库公示的文号或网址）；"
         "没有入库依据的人员不能导入，请经公开征集、审核和公示后入库。")
    declarations = _declaration_rules(policy)
    if declarations:
        line("5. 导入即表示本单位已核实名册人员符合以下声明类条件：")
        for item in declarations:
            line("", item["article"], item["label"])
    line("")
    book.columns_help(COLUMNS)
    line("")
    line("可选值", "", "", font=bold)
    line("学历", "", "、".join(c.label for c in DegreeLevel))
    line("职称等级", "", "、".join(c.label for c in TitleLevel))
    line("专业领域", "", "、".join(s["label"] for s in policy.specialties))
    line("执业资格", "", "、".join(r["label"] for r in policy.registrations))
    line("熟悉的区", "", "、".join(districts))
    line("")
    line("示例（虚构人员，仅供参考，请勿填入名册）", font=bold)
    line(*[c.header for c in COLUMNS], font=bold)
    specialties = [s["label"] for s in policy.specialties][:2]
    registrations = [r["label"] for r in policy.registrations][:1]
    line("张示例", _example_id_number(), "13800138000", "example@example.com", "示例规划设计研究院（虚构）", "硕士研究生",
         "城乡规划", specialties[0] if specialties else "", "副高级", specialties[0] if specialties else "",
         "、".join(registrations), 8, "、".join(specialties), "、".join(districts[:2]), "2021-06-30",
         "示例规划自然资源委〔2021〕12号（虚构）")
    return book.bytes()


# --- reading the file ---------------------------------------------------------------------------------


def roster_file_read(uploaded_file, *, file_name: str = "") -> RosterFile:
    """The rows of an uploaded roster (.xlsx), or DomainError with a Chinese message: not .xlsx, too
    large, no header row / missing columns, no data rows, more than MAX_ROWS rows."""
    return spreadsheet_read(uploaded_file, columns=COLUMNS, sheet_title=SHEET_TITLE, max_rows=MAX_ROWS,
                            max_file_bytes=MAX_FILE_BYTES, file_name=file_name, default_name="名册.xlsx",
                            numeric_keys=("id_number", "mobile"), file_noun="名册", row_noun="责任规划师")



def _declaration_rules(policy) -> list[dict]:
    # The same walk the application form uses (rpms.recruitment.services.declaration_rules).
    from rpms.cities.eligibility import declaration_rules

    return declaration_rules(policy)
