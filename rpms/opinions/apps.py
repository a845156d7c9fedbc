"""Written opinions (书面意见, B11(3), P3(2)): independent, immutable once issued, versioned, verifiable.

A planner serving a unit drafts an opinion on a plan, a design scheme or a project, declares its
interests (B16: a declared conflict blocks issuing) and issues it: the content is frozen with a
SHA-256 hash and an issued document (number, verification code, PDF) from rpms.documents. The
opinion goes to the unit's hiring entity and the departments chosen ("收到的书面意见", with read
receipts); the design unit's response and departments' answers are recorded. A correction is a new
version that supersedes the old one; both are kept."""
from django.apps import AppConfig


class OpinionsConfig(AppConfig):
    name = "rpms.opinions"
    label = "opinions"
    verbose_name = "书面意见"

    def ready(self):
        from rpms.core import pending

        from .pending import pending_items

        pending.register(pending_items)
