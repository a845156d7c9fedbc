"""Issued documents (文书): a frozen snapshot of what was issued, its number, a public verification
code and a content hash, so that anyone holding a printed copy can check it on the site (B19(7), B22).

A document is never edited: a correction is a new document that supersedes the old one, and a
withdrawn document is revoked with a date and a reason. The PDF is always re-rendered from the
stored `context` snapshot, never from the live record it concerns.

What a document says about its standing follows what it is about (issue #11): a document tied to a
term (contract, certificate, dispatch notice) carries `valid_until`, the term's last day, and when
the appointment ends early its subject's documents are marked with `ended_on` and how (`ending`,
`ending_label`). "Ended" is computed from these dates (`verification_status`), never flipped by a
job: a document ended on or before today, or whose `valid_until` has passed, verifies as ended.

The dispatch notice follows the appointment like the certificate and the contract. It records an act,
but what it states is a posting in force; once the posting has ended, answering "valid" would tell the
holder of a printed notice that the planner still serves. It is not revoked (it was not wrong): it
verifies as ended, with the date and the kind of ending, and stays checkable as a genuine record. A
renewal does not re-issue it — it runs on to the new term's end (`documents_subject_extended`)."""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from rpms.core.models import TimeStampedModel
from rpms.core.states import StatusTransitions

from .integrity import CODE_ALPHABET, CODE_LENGTH  # noqa: F401 - the verification codes the documents carry

CODE_GROUP = 4


class DocumentKind(models.TextChoices):
    DISPATCH_NOTICE = "dispatch_notice", "派驻通知"
    APPOINTMENT_CERTIFICATE = "appointment_certificate", "聘任证书"
    APPOINTMENT_CONTRACT = "appointment_contract", "聘用合同"
    WRITTEN_OPINION = "written_opinion", "书面意见"
    WORK_CERTIFICATE = "work_certificate", "工作证明"
    TRAINING_CERTIFICATE = "training_certificate", "继续教育学时证明"
    ASSESSMENT_RESULT = "assessment_result", "考核结果通知"
    HONOUR_CERTIFICATE = "honour_certificate", "荣誉证书"


# Short codes used in document numbers, e.g. "BEIJING-PZTZ-2026-00012".
KIND_NUMBER_PREFIX = {
    DocumentKind.DISPATCH_NOTICE: "PZTZ",
    DocumentKind.APPOINTMENT_CERTIFICATE: "PRZS",
    DocumentKind.APPOINTMENT_CONTRACT: "PYHT",
    DocumentKind.WRITTEN_OPINION: "SMYJ",
    DocumentKind.WORK_CERTIFICATE: "GZZM",
    DocumentKind.TRAINING_CERTIFICATE: "JXJY",
    DocumentKind.ASSESSMENT_RESULT: "KHJG",
    DocumentKind.HONOUR_CERTIFICATE: "RYZS",
}


class DocumentStatus(models.TextChoices):
    VALID = "valid", "有效"
    REVOKED = "revoked", "已撤销"
    SUPERSEDED = "superseded", "已被新文书替代"


# The computed verification status "ended" (never stored: it follows from `ended_on` / `valid_until`).
ENDED = "ended"
VERIFICATION_STATUS_LABELS = {**dict(DocumentStatus.choices), ENDED: "已终止"}

# A term that ran out without renewal (no early-ending record: computed from `valid_until`).
ENDING_EXPIRY = "expiry"
ENDING_EXPIRY_LABEL = "聘期届满"


# Allowed transitions; everything else is refused by the services.
STATUS_TRANSITIONS = {
    DocumentStatus.VALID: {DocumentStatus.REVOKED, DocumentStatus.SUPERSEDED},
    DocumentStatus.REVOKED: set(),
    DocumentStatus.SUPERSEDED: set(),
}


def format_code(code: str) -> str:
    """"ABCDEFGHJKMNPQRS" → "ABCD-EFGH-JKMN-PQRS" (how it is printed and shown)."""
    return "-".join(code[i:i + CODE_GROUP] for i in range(0, len(code), CODE_GROUP))


class IssuedDocument(StatusTransitions, TimeStampedModel):
    TRANSITIONS = {"status": STATUS_TRANSITIONS}

    city = models.ForeignKey("cities.City", verbose_name="城市", on_delete=models.PROTECT, related_name="issued_documents")
    kind = models.CharField("文书类别", max_length=32, choices=DocumentKind.choices, db_index=True)
    title = models.CharField("标题", max_length=200)
    number = models.CharField("文书编号", max_length=64, unique=True)
    year = models.PositiveSmallIntegerField("年度")
    sequence = models.PositiveIntegerField("年度序号")
    verification_code = models.CharField("核验码", max_length=CODE_LENGTH, unique=True)
    content_hash = models.CharField("内容摘要（SHA-256）", max_length=64)
    context = models.JSONField("文书内容快照", default=dict, blank=True)
    subject_type = models.CharField("所涉对象类型", max_length=100, blank=True)
    subject_id = models.CharField("所涉对象编号", max_length=64, blank=True)
    holder_name = models.CharField("所涉人员或团队", max_length=200, blank=True)
    issued_at = models.DateTimeField("出具时间", default=timezone.now)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="出具人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField("状态", max_length=16, choices=DocumentStatus.choices, default=DocumentStatus.VALID)
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="撤销人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoke_reason = models.TextField("撤销原因", blank=True)
    superseded_at = models.DateTimeField("被替代时间", null=True, blank=True)
    supersedes = models.OneToOneField(
        "self", verbose_name="替代的文书", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    # Verification facts outside the frozen snapshot (and its hash): they follow what the document is about.
    valid_until = models.DateField("有效期至", null=True, blank=True, help_text="聘期类文书为本聘期最后一天；空表示不随日期失效")
    ended_on = models.DateField("终止日期", null=True, blank=True, help_text="所涉聘任提前结束的最后服务日")
    ending = models.CharField("终止方式", max_length=16, blank=True, help_text="如 termination、withdrawal、removal")
    ending_label = models.CharField("终止方式（中文）", max_length=50, blank=True)

    class Meta:
        verbose_name = "已出具文书"
        verbose_name_plural = "已出具文书"
        ordering = ["-issued_at", "-id"]
        indexes = [models.Index(fields=["subject_type", "subject_id"], name="documents_subject_idx")]
        constraints = [
            models.UniqueConstraint(fields=["city", "kind", "year", "sequence"], name="documents_number_sequence_unique"),
            models.CheckConstraint(
                condition=~Q(status="revoked") | (Q(revoked_at__isnull=False) & ~Q(revoke_reason="")),
                name="documents_revoked_has_date_and_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status="superseded") | Q(superseded_at__isnull=False),
                name="documents_superseded_has_date",
            ),
            # An ending always has its date and says how, in Chinese.
            models.CheckConstraint(
                condition=(Q(ended_on__isnull=True) & Q(ending="") & Q(ending_label=""))
                | (Q(ended_on__isnull=False) & ~Q(ending="") & ~Q(ending_label="")),
                name="documents_ending_has_date_and_kind",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.number}"

    @property
    def formatted_code(self) -> str:
        return format_code(self.verification_code)

    @property
    def short_hash(self) -> str:
        return self.content_hash[:16]

    @property
    def is_valid(self) -> bool:
        """Stored status valid (not revoked or superseded); see `verification_status` for "ended"."""
        return self.status == DocumentStatus.VALID

    def ended_as_of(self, on) -> tuple | None:
        """(ended_on, ending, ending_label) if this document has ended by `on`, else None.

        An early ending counts from its last day itself (an appointment terminated today verifies as
        ended today); a term runs out the day after `valid_until`. The earlier of the two wins."""
        found = []
        if self.ended_on is not None and self.ended_on <= on:
            found.append((self.ended_on, self.ending, self.ending_label))
        if self.valid_until is not None and self.valid_until < on:
            found.append((self.valid_until, ENDING_EXPIRY, ENDING_EXPIRY_LABEL))
        return min(found, key=lambda item: item[0]) if found else None

    def verification_status(self, on=None) -> str:
        """valid / ended / revoked / superseded on `on` (default today): revoked and superseded are
        stored acts; "ended" follows from the dates."""
        if self.status != DocumentStatus.VALID:
            return self.status
        from rpms.core import clock

        return ENDED if self.ended_as_of(on or clock.today()) else DocumentStatus.VALID

    @property
    def current_status(self) -> str:
        """`verification_status` today (for templates)."""
        return self.verification_status()

    @property
    def current_status_label(self) -> str:
        return VERIFICATION_STATUS_LABELS[self.current_status]

    @property
    def ended_note(self) -> str:
        """"2026-06-01 解除聘用合同" once ended, "2026-06-20 起退出派驻" for an ending still ahead, else ""."""
        from rpms.core import clock

        if self.status != DocumentStatus.VALID:
            return ""
        today = clock.today()
        ended = self.ended_as_of(today)
        if ended:
            return f"{ended[0].isoformat()} {ended[2]}"
        if self.ended_on is not None:
            return f"{self.ended_on.isoformat()} 起{self.ending_label}"
        return ""

    def can_become(self, status: str) -> bool:
        return self.can_transition(status)

    def verify_path(self) -> str:
        from django.urls import reverse

        return reverse("documents:verify_detail", args=[self.verification_code])

    def hash_matches(self) -> bool:
        """Whether the stored snapshot still hashes to the stored content hash (tamper check)."""
        from .integrity import content_hash

        return content_hash(kind=self.kind, title=self.title, number=self.number, context=self.context) == self.content_hash
