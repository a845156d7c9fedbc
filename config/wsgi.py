"""WSGI entry point for servers (gunicorn): production settings unless DJANGO_SETTINGS_MODULE says otherwise.

Like `runserver`, the application refuses to start while a system check reports an error — e.g. rpms.E010, a
process-local cache under production settings (rpms.core.checks)."""
import os

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()


def _refuse_to_start_on_check_errors():
    from django.core import checks

    errors = [message for message in checks.run_checks() if message.is_serious() and not message.is_silenced()]
    if errors:
        raise ImproperlyConfigured("系统检查未通过，拒绝启动（system check errors）：\n" + "\n".join(str(e) for e in errors))


_refuse_to_start_on_check_errors()
