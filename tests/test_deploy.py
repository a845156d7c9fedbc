"""The production recipe in deploy/ agrees with the application it serves.

scripts/prod-smoke.sh runs the recipe for real (in .ci/run); these tests catch drift cheaply on every
`make test`: a variable the program reads but the environment template does not list, an upload limit the
nginx site would refuse, a path or socket that differs between nginx, gunicorn and the settings, a command
a systemd unit runs that does not exist.
"""
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.management import get_commands
from django.urls import reverse

ROOT = Path(settings.BASE_DIR)
DEPLOY = ROOT / "deploy"
ENV_TEMPLATE = DEPLOY / "rpms.env.example"
LOCATIONS = DEPLOY / "nginx" / "rpms-locations.conf"
SITE = DEPLOY / "nginx" / "rpms.conf"
UNITS = DEPLOY / "systemd"

_READ = re.compile(
    r"""(?:os\.environ\.get|os\.environ\.setdefault|os\.getenv|env_bool|env_list)\(\s*["']([A-Z][A-Z0-9_]+)["']"""
    r"""|os\.environ\[\s*["']([A-Z][A-Z0-9_]+)["']\s*\]"""
)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN_WORD = re.compile(r"\b[A-Za-z]{3,}\b")
_VAR_LINE = re.compile(r"^#?([A-Z][A-Z0-9_]+)=(.*)$")


def _variables_read() -> dict[str, str]:
    """Every environment variable the deployed program reads: settings, apps, WSGI, gunicorn config."""
    found = {}
    sources = [*(ROOT / "config").rglob("*.py"), *(ROOT / "rpms").rglob("*.py"), DEPLOY / "gunicorn.conf.py"]
    for path in sources:
        if "tests" in path.parts or "testing" in path.parts:
            continue
        for match in _READ.finditer(path.read_text("utf-8")):
            found.setdefault(match.group(1) or match.group(2), str(path.relative_to(ROOT)))
    return found


def _template() -> tuple[list[str], dict[str, str]]:
    lines = ENV_TEMPLATE.read_text("utf-8").splitlines()
    values = {}
    for line in lines:
        match = _VAR_LINE.match(line.strip())
        if match:
            values[match.group(1)] = match.group(2)
    return lines, values


def _comment_above(lines: list[str], index: int) -> str:
    """The comment block describing the variable on lines[index] (variables may share one block)."""
    text = []
    i = index - 1
    while i >= 0 and _VAR_LINE.match(lines[i].strip()):
        i -= 1
    while i >= 0 and lines[i].startswith("#") and not _VAR_LINE.match(lines[i].strip()):
        text.append(lines[i])
        i -= 1
    return "\n".join(text)


def _directive(text: str, name: str) -> list[str]:
    return re.findall(rf"^\s*{name}\s+([^;]+);", text, flags=re.M)


def _location_block(text: str, head: str) -> str:
    start = text.index(f"location {head} {{")
    return text[start:text.index("}", start)]


def _megabytes(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kKmMgG]?)", value.strip()).groups()
    return int(number) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit.lower()]


def test_every_variable_the_program_reads_is_in_the_environment_template_with_a_bilingual_comment():
    lines, values = _template()
    missing = {name: where for name, where in _variables_read().items() if name not in values}
    assert not missing, f"not listed in deploy/rpms.env.example: {missing}"
    for index, line in enumerate(lines):
        match = _VAR_LINE.match(line.strip())
        if not match:
            continue
        comment = _comment_above(lines, index)
        assert _CJK.search(comment) and _LATIN_WORD.search(comment), f"{match.group(1)}: no Chinese and English comment"


def test_environment_template_is_for_production():
    _, values = _template()
    assert values["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
    assert values["DEBUG"] == "0"
    assert values["RPMS_JOBS_INLINE"] == "0"
    assert values["RPMS_FILE_DELIVERY"] == "x-accel"
    assert values["SECRET_KEY"] == "", "the template must not ship a key"
    assert values["RPMS_DATA_KEY"] == "", "the template must not ship a data key"
    assert values["RPMS_AUDIT_KEY"] == "", "the template must not ship the audit trail's key"


def test_environment_template_with_a_secret_key_passes_the_deployment_checks():
    _, values = _template()
    names = set(_variables_read()) | set(values)
    # DJANGO_ALLOW_ASYNC_UNSAFE is set by the browser tests for their own process (Playwright's loop) and
    # leaks into later tests on the same worker; a deployment never has it.
    env = {key: value for key, value in os.environ.items() if key not in names | {"DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update({key: value for key, value in values.items() if key in _active_variables()})
    env["SECRET_KEY"] = secrets.token_urlsafe(50)
    env["RPMS_DATA_KEY"] = secrets.token_hex(32)  # required like SECRET_KEY (rpms.E020)
    env["RPMS_AUDIT_KEY"] = secrets.token_urlsafe(32)
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def _active_variables() -> set[str]:
    """The variables the template sets (not the commented-out ones, which keep their defaults)."""
    lines, _ = _template()
    return {match.group(1) for line in lines if (match := re.match(r"^([A-Z][A-Z0-9_]+)=", line))}


def test_nginx_request_size_limits_admit_the_largest_uploads_and_no_more_than_needed():
    from rpms.cases.services import MAX_PHOTOS
    from rpms.core.uploads import max_proof_bytes
    from rpms.training.media import max_bytes

    text = LOCATIONS.read_text("utf-8")
    server_part = re.split(r"^location ", text, maxsplit=1, flags=re.M)[0]
    server_level = _megabytes(_directive(server_part, "client_max_body_size")[0])
    # A case with all its photos, plus room for the form fields and multipart framing.
    assert server_level >= MAX_PHOTOS * max_proof_bytes() + 1024**2
    assert server_level < max_bytes("mp4"), "the 500 MB limit belongs to the course-material routes only"

    course_page = reverse("training:course_detail", args=[12])
    course_api = "/api/v1/training/courses/12/materials"
    routes = re.findall(r"location ~ (\S+) \{", text)
    for url in (course_page, course_api):
        matching = [r for r in routes if re.match(r, url)]
        assert matching, f"no nginx location for the upload route {url}"
        block = _location_block(text, f"~ {matching[0]}")
        assert _megabytes(_directive(block, "client_max_body_size")[0]) >= max_bytes("mp4") + 1024**2
        assert "proxy_pass http://rpms_app" in block


def test_nginx_paths_agree_with_the_environment_template_and_settings():
    _, values = _template()
    text = LOCATIONS.read_text("utf-8")
    static = _location_block(text, "/static/")
    assert _directive(static, "alias") == [values["STATIC_ROOT"] + "/"]
    assert settings.STATIC_URL == "/static/"
    private = _location_block(text, settings.RPMS_XACCEL_PREFIX)
    assert re.search(r"^\s*internal;", private, flags=re.M), "the private location must be internal"
    assert _directive(private, "alias") == [values["PRIVATE_MEDIA_ROOT"] + "/"]
    # Downloads keep the protection Django gives them (rpms.core.uploads.proof_response), which nginx drops.
    assert "add_header Content-Security-Policy \"default-src 'none'; sandbox\" always;" in private
    assert "add_header X-Content-Type-Options nosniff always;" in private
    # Course materials are shown inline in the site's own pages.
    from rpms.training.media import FOLDER

    courses = _location_block(text, f"{settings.RPMS_XACCEL_PREFIX}{FOLDER}/")
    assert re.search(r"^\s*internal;", courses, flags=re.M)
    assert _directive(courses, "alias") == [f"{values['PRIVATE_MEDIA_ROOT']}/{FOLDER}/"]
    assert "sandbox" not in courses and "X-Frame-Options SAMEORIGIN" in courses
    # Django trusts X-Real-IP from the proxy (rpms.core.context.client_ip); nginx must overwrite it.
    assert "proxy_set_header X-Real-IP $remote_addr;" in text
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in text
    site = SITE.read_text("utf-8")
    assert "include /etc/nginx/snippets/rpms-locations.conf;" in site


def test_gunicorn_nginx_and_systemd_meet_at_one_socket():
    namespace: dict = {}
    exec(compile((DEPLOY / "gunicorn.conf.py").read_text("utf-8"), "gunicorn.conf.py", "exec"), namespace)
    assert namespace["workers"] == 3
    bind = namespace["bind"]
    assert bind.startswith("unix:/run/rpms/")
    assert f"server {bind} " in SITE.read_text("utf-8")
    web = (UNITS / "rpms-web.service").read_text("utf-8")
    assert "RuntimeDirectory=rpms" in web
    assert "--config /srv/rpms/deploy/gunicorn.conf.py config.wsgi" in web


def test_systemd_units_run_commands_that_exist_under_production_settings():
    commands = get_commands()
    ran = []
    for unit in sorted(UNITS.glob("*.service")):
        text = unit.read_text("utf-8")
        assert "Environment=DJANGO_SETTINGS_MODULE=config.settings.production" in text, unit.name
        assert "EnvironmentFile=/etc/rpms/rpms.env" in text, unit.name
        for exec_start in re.findall(r"^ExecStart=(.+)$", text, flags=re.M):
            words = exec_start.split()
            if "manage.py" in words:
                name = words[words.index("manage.py") + 1]
                assert name in commands, f"{unit.name}: manage.py {name} does not exist"
                ran.append(name)
    assert {"rqworker", "send_reminders", "allowances_generate"} <= set(ran)
    worker = (UNITS / "rpms-worker.service").read_text("utf-8")
    assert "rqworker default --with-scheduler" in worker and "default" in settings.RQ_QUEUES
    timer = (UNITS / "rpms-reminders.timer").read_text("utf-8")
    assert re.search(r"^OnCalendar=.*Asia/Shanghai$", timer, flags=re.M) and "Persistent=true" in timer
