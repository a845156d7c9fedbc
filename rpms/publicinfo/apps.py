"""Public information services (B22, B4, B19(7)): announcements (公示公告) with the recruitment calls and
notices, policy documents and their interpretations (政策文件解读), the coverage map (一张图, B4) and open
data (开放数据). The rule books are parsed from data/policies, the district outlines read from data/geo."""
from django.apps import AppConfig


class PublicinfoConfig(AppConfig):
    name = "rpms.publicinfo"
    label = "publicinfo"
    verbose_name = "公开信息服务"

    def ready(self):
        # What the public sees is cached per city; the acts that change it make the cache stale (issue #15).
        from . import invalidation

        invalidation.connect()
