"""The deployment files (deploy/) stay true to the code.

- deploy/fangkong.env.example names every environment variable fangkong/settings.py reads, and no other.
- The systemd units: the web server restarts always, reads /etc/fangkong/fangkong.env, runs as its own user,
  hardened; the worker unit runs `fangkong jobs-worker` (the queue and its schedule), restarted always.
- nginx sets Host, X-Forwarded-For and X-Forwarded-Proto (SECURE=1 trusts it), lets through the app's largest
  upload, serves STATIC_ROOT, passes /healthz and /readyz, and neither adds nor hides a response header.
- gunicorn.conf.py is valid Python, binds where nginx proxies and logs no query string.

nginx is not needed (its configuration is parsed here); `systemd-analyze verify` runs when it is installed.
"""

from __future__ import annotations

import ast
import datetime as dt
import pathlib
import re
import runpy
import shutil
import subprocess
import sys
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.management import get_commands

from fangkong.settings import unsafe_settings

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
ENV_FILE = "/etc/fangkong/fangkong.env"
VENV_BIN = "/opt/fangkong/venv/bin/"


# --- the environment -------------------------------------------------------------------------------------------

def settings_env_names() -> set[str]:
    """The names settings.py reads: os.environ.get / os.getenv / os.environ[...] and its env_bool / env_list."""
    names: set[str] = set()
    for node in ast.walk(ast.parse((ROOT / "fangkong" / "settings.py").read_text())):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = ast.unparse(node.func)
            if func in ("os.environ.get", "os.getenv", "env_bool", "env_list"):
                names.add(node.args[0].value)
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            if isinstance(node.slice, ast.Constant):
                names.add(node.slice.value)
    return names


def env_example() -> dict[str, str | None]:
    """NAME -> value for the lines `NAME=value`, None for the commented-out `#NAME=` ones."""
    entries: dict[str, str | None] = {}
    for line in (DEPLOY / "fangkong.env.example").read_text().splitlines():
        if match := re.match(r"^(#?)([A-Z][A-Z0-9_]*)=(.*)$", line):
            commented, name, value = match.groups()
            assert name not in entries, f"{name} twice in fangkong.env.example"
            entries[name] = None if commented else value
    return entries


def test_the_env_example_names_every_variable_the_settings_read_and_no_other():
    read = settings_env_names()
    assert {"SECRET_KEY", "DATABASE_URL", "SECURE", "FANGKONG_DEMO"} <= read  # the parser finds them
    named = set(env_example())
    assert read - named == set(), "settings.py reads these: add them to deploy/fangkong.env.example"
    assert named - read == set(), "deploy/fangkong.env.example names these, which settings.py does not read"


def test_the_env_example_is_a_safe_deployment_that_cannot_start_with_its_placeholder_key():
    env = env_example()
    assert env["SECURE"] == "1"
    assert env["DATABASE_URL"] and env["DATABASE_URL"].startswith("postgres://")
    assert env["REDIS_URL"] and env["REDIS_URL"].startswith("redis://")
    assert env["FANGKONG_DEMO"] is None and env["DEBUG"] is None  # never set in production
    # The example's key is no key: the settings refuse to start until the operator generates one.
    assert any("SECRET_KEY" in problem for problem in unsafe_settings(env["SECRET_KEY"] or "", ["x"], False))
    assert unsafe_settings("k" * 10, (env["ALLOWED_HOSTS"] or "").split(","), False)[0].startswith("SECRET_KEY")


# --- systemd ---------------------------------------------------------------------------------------------------

def unit(name: str) -> dict[str, list[str]]:
    """KEY -> its values (a key may repeat), comments dropped, `\\` continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", (DEPLOY / "systemd" / name).read_text())
    values: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            values.setdefault(key.strip(), []).append(value.strip())
    return values


def test_the_web_unit_runs_gunicorn_from_the_venv_hardened_and_always_restarted():
    web = unit("fangkong-web.service")
    assert web["Restart"] == ["always"]
    assert web["EnvironmentFile"] == [ENV_FILE]
    assert web["User"][0] not in ("", "root")
    assert web["ExecStart"] == [f"{VENV_BIN}gunicorn --config /etc/fangkong/gunicorn.conf.py fangkong.wsgi"]
    assert (ROOT / "fangkong" / "wsgi.py").exists()
    for option, value in (("NoNewPrivileges", "true"), ("ProtectSystem", "strict"), ("PrivateTmp", "true"),
                          ("ProtectHome", "true")):
        assert web[option] == [value], option


def test_the_app_writes_no_files_outside_tmp_so_the_web_unit_needs_no_read_write_paths():
    """ProtectSystem=strict leaves only the private /tmp writable: uploads (over FILE_UPLOAD_MAX_MEMORY_SIZE)
    and exports are temporary files there. Should the app get a media folder or its own upload directory,
    the unit needs a ReadWritePaths= for it."""
    assert not getattr(settings, "MEDIA_ROOT", "")
    assert getattr(settings, "FILE_UPLOAD_TEMP_DIR", None) is None
    assert "ReadWritePaths" not in unit("fangkong-web.service")


def test_the_worker_unit_runs_the_jobs_worker_from_the_venv_hardened_and_always_restarted():
    worker = unit("fangkong-worker.service")
    assert worker["Restart"] == ["always"]
    assert worker["EnvironmentFile"] == [ENV_FILE]
    assert worker["User"] == unit("fangkong-web.service")["User"]
    [run] = worker["ExecStart"]
    command = re.fullmatch(re.escape(VENV_BIN) + r"fangkong ([\w-]+)( .*)?", run)
    assert command and command.group(1) == "jobs-worker"
    assert "jobs-worker" in get_commands()
    assert worker["WantedBy"] == ["multi-user.target"]
    for option, value in (("NoNewPrivileges", "true"), ("ProtectSystem", "strict"), ("PrivateTmp", "true")):
        assert worker[option] == [value], option


def test_the_backup_units_back_up_nightly_into_backup_dir_and_check_a_restore_weekly():
    env = env_example()
    backup = unit("fangkong-backup.service")
    check = unit("fangkong-restore-check.service")
    for service in (backup, check):
        assert service["Type"] == ["oneshot"]
        assert service["EnvironmentFile"] == [ENV_FILE]
        assert service["User"] == unit("fangkong-web.service")["User"]
        assert service["ProtectSystem"] == ["strict"] and service["NoNewPrivileges"] == ["true"]
    assert backup["ExecStart"] == [f"{VENV_BIN}fangkong backup --keep 14"]
    assert backup["ReadWritePaths"] == [env["BACKUP_DIR"]]  # where the dumps go, the only writable place
    assert check["ExecStart"] == [f"{VENV_BIN}fangkong restore-check {env['BACKUP_DIR']}"]
    assert "ReadWritePaths" not in check
    available = get_commands()
    assert "backup" in available and "restore-check" in available
    for name, service in (("fangkong-backup", "fangkong-backup.service"),
                          ("fangkong-restore-check", "fangkong-restore-check.service")):
        timer = unit(f"{name}.timer")
        assert timer["Unit"] == [service] and timer["Persistent"] == ["true"]
        assert timer["WantedBy"] == ["timers.target"]


def test_the_web_unit_gives_prometheus_a_directory_emptied_at_each_start():
    web = unit("fangkong-web.service")
    (runtime,) = web["RuntimeDirectory"]
    assert web["Environment"] == [f"PROMETHEUS_MULTIPROC_DIR=/run/{runtime}"]
    assert web["RuntimeDirectoryPreserve"] == ["restart"]  # the job worker's files outlive a restart of the web
    worker = unit("fangkong-worker.service")
    assert worker["Environment"] == web["Environment"]  # the job worker reports into the same directory
    assert worker["ReadWritePaths"] == [f"-/run/{runtime}"]
    assert "fangkong-web.service" in worker["After"][0].split()
    assert env_example()["PROMETHEUS_MULTIPROC_DIR"] is None  # not for every command run with the env file
    assert callable(runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))["child_exit"])


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_analyze_verify_accepts_the_units(tmp_path):
    """The units with their /opt paths pointed at this virtualenv (verify checks that the programs exist)."""
    venv_bin = pathlib.Path(sys.executable).parent
    if not (venv_bin / "gunicorn").exists() or not (venv_bin / "fangkong").exists():
        pytest.skip("gunicorn or fangkong is not installed next to this Python")
    for path in (DEPLOY / "systemd").iterdir():
        (tmp_path / path.name).write_text(path.read_text().replace(VENV_BIN, f"{venv_bin}/"))
    result = subprocess.run(["systemd-analyze", "verify", *sorted(str(p) for p in tmp_path.iterdir())],
                            capture_output=True, text=True, timeout=120)
    # Only what concerns our units: verify also reports on the host's own units, and a container may
    # lack the user (`fangkong`) or a running systemd.
    ours = [line for line in result.stderr.splitlines() if "fangkong-" in line
            and "Failed to resolve user" not in line and "fangkong' does not exist" not in line]
    assert ours == [], result.stderr


# --- nginx -----------------------------------------------------------------------------------------------------

Directive = tuple[str, list[str], list]  # name, arguments, block (a list of directives, or [] without one)


def parse_nginx(text: str) -> list[Directive]:
    """A small parser of nginx's syntax: directives `name args;` and blocks `name args { ... }`."""
    tokens = re.findall(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|#[^\n]*|[{};]|[^\s{};\"'#]+", text)
    tokens = [t[1:-1] if t[:1] in "\"'" else t for t in tokens if not t.startswith("#")]
    position = 0

    def block() -> list[Directive]:
        nonlocal position
        directives: list[Directive] = []
        words: list[str] = []
        while position < len(tokens):
            token = tokens[position]
            position += 1
            if token == ";":
                directives.append((words[0], words[1:], []))
                words = []
            elif token == "{":
                directives.append((words[0], words[1:], block()))
                words = []
            elif token == "}":
                assert not words, f"unterminated directive {words}"
                return directives
            else:
                words.append(token)
        assert not words, f"unterminated directive {words}"
        return directives

    tree = block()
    assert position == len(tokens), "unbalanced braces"
    return tree


def find(directives: list[Directive], name: str) -> list[Directive]:
    return [d for d in directives if d[0] == name]


def walk(directives: list[Directive]):
    for directive in directives:
        yield directive
        yield from walk(directive[2])


def size_bytes(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kKmMgG]?)", value).groups()  # type: ignore[union-attr]
    return int(number) * {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}[unit.lower()]


def seconds(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)(s|m)?", value).groups()  # type: ignore[union-attr]
    return int(number) * (60 if unit == "m" else 1)


@pytest.fixture(scope="module")
def nginx() -> list[Directive]:
    return parse_nginx((DEPLOY / "nginx" / "fangkong.conf").read_text())


def servers(nginx: list[Directive]) -> tuple[list[Directive], list[Directive]]:
    """The plain-HTTP server's directives and the TLS server's."""
    plain = [s[2] for s in find(nginx, "server") if any("ssl" not in d[1] for d in find(s[2], "listen"))]
    tls = [s[2] for s in find(nginx, "server") if all("ssl" in d[1] for d in find(s[2], "listen"))]
    assert len(plain) == 1 and len(tls) == 1
    return plain[0], tls[0]


def headers(server: list[Directive]) -> dict[str, str]:
    return {d[1][0].lower(): " ".join(d[1][1:]) for d in find(server, "proxy_set_header")}


def test_nginx_proxies_to_gunicorn_with_host_forwarded_for_and_the_scheme(nginx):
    plain, tls = servers(nginx)
    (upstream,) = find(nginx, "upstream")
    gunicorn = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    assert find(upstream[2], "server")[0][1][0] == gunicorn["bind"]
    for server in (plain, tls):
        # Set at the server, inherited by every location (none sets a proxy_set_header of its own).
        assert headers(server)["x-forwarded-proto"] == "$scheme"
        assert headers(server)["host"] == "$host"
        assert "x-forwarded-for" in headers(server)
        for location in find(server, "location"):
            assert not find(location[2], "proxy_set_header"), location[1]
            for proxy in find(location[2], "proxy_pass"):
                assert proxy[1] == [f"http://{upstream[1][0]}"]
    assert seconds(find(tls, "proxy_read_timeout")[0][1][0]) > gunicorn["timeout"]


def test_nginx_lets_the_largest_upload_through(nginx):
    _plain, tls = servers(nginx)
    limit = int(env_example().get("IMPORT_MAX_UPLOAD_BYTES") or settings.IMPORT_MAX_UPLOAD_BYTES)
    (body,) = find(tls, "client_max_body_size")
    assert size_bytes(body[1][0]) > max(limit, settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
                                        settings.FILE_UPLOAD_MAX_MEMORY_SIZE)


def test_nginx_redirects_plain_http_and_passes_the_health_probes_through(nginx):
    plain, tls = servers(nginx)
    for server in (plain, tls):
        locations = {" ".join(d[1]): d[2] for d in find(server, "location")}
        for probe in ("/healthz", "/readyz"):
            assert find(locations[f"= {probe}"], "proxy_pass"), probe
        assert not [d for d in walk(server) if d[0] in ("auth_basic", "auth_request", "deny", "allow")]
    (everything,) = [d[2] for d in find(plain, "location") if d[1] == ["/"]]
    assert find(everything, "return")[0][1] == ["301", "https://$host$request_uri"]
    assert find(tls, "ssl_certificate") and find(tls, "ssl_certificate_key")
    assert find(tls, "gzip")[0][1] == ["on"]
    assert "text/css" in find(tls, "gzip_types")[0][1]


def test_nginx_serves_static_root(nginx):
    _plain, tls = servers(nginx)
    (static,) = [d[2] for d in find(tls, "location") if d[1] == [f"/{settings.STATIC_URL.strip('/')}/"]]
    assert find(static, "alias")[0][1] == [f"{env_example()['STATIC_ROOT']}/"]


def test_nginx_neither_adds_nor_hides_response_headers(nginx):
    """The app sets its security headers (CSP, X-Frame-Options, nosniff, Referrer-Policy, Permissions-Policy,
    HSTS): a header added here would duplicate or contradict one, a hidden one would be lost."""
    forbidden = {"add_header", "proxy_hide_header", "proxy_ignore_headers", "more_set_headers",
                 "more_clear_headers", "add_trailer"}
    assert [d for d in walk(nginx) if d[0] in forbidden] == []


def test_nginx_logs_no_query_string_and_no_self_report_token(nginx):
    (log_format,) = find(nginx, "log_format")
    fmt = " ".join(log_format[1][1:])
    for variable in ("$request ", "$request_uri", "$args", "$query_string", "$http_referer", "$uri"):
        assert variable not in fmt + " ", variable
    for server in servers(nginx):
        for log in find(server, "access_log"):
            assert log[1][-1] in ("off", log_format[1][0])
    (masked,) = find(nginx, "map")
    assert masked[1] == ["$uri", "$fangkong_log_path"]


# --- gunicorn --------------------------------------------------------------------------------------------------

def test_gunicorn_conf_is_valid_and_logs_no_query_string_nor_self_report_token():
    conf = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    assert conf["bind"] == "127.0.0.1:8000"
    assert conf["forwarded_allow_ips"] == "127.0.0.1"
    assert conf["workers"] >= 1 and conf["max_requests"] > 0 and conf["max_requests_jitter"] > 0
    assert conf["timeout"] > 0
    for atom in ("%(r)s", "%(q)s", "%(f)s", "{raw_uri}"):
        assert atom not in conf["access_log_format"], atom

    from gunicorn.config import Config

    config = Config()
    for name in ("bind", "workers", "timeout", "max_requests", "max_requests_jitter", "forwarded_allow_ips",
                 "access_log_format", "logger_class", "accesslog"):
        config.set(name, conf[name])  # gunicorn's own validation of each setting
    logger = conf["SafeLogger"](config)
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/r/SeCrEtToKeN/?q=x", "SERVER_PROTOCOL": "HTTP/1.1",
               "PATH_INFO": "/r/SeCrEtToKeN/", "QUERY_STRING": "q=x"}
    response = SimpleNamespace(status="200 OK", headers=[], sent=10)
    request = SimpleNamespace(headers=[("X-FORWARDED-FOR", "203.0.113.7")])
    line = conf["access_log_format"] % logger.atoms_wrapper_class(
        logger.atoms(response, request, environ, dt.timedelta(milliseconds=5)))
    assert "SeCrEtToKeN" not in line and "q=x" not in line
    assert '"GET /r/-/ HTTP/1.1" 200 10' in line and line.startswith("203.0.113.7 ")


# --- README ----------------------------------------------------------------------------------------------------

def test_the_readme_lists_the_deploy_files():
    readme = (ROOT / "README.md").read_text()
    for path in sorted(DEPLOY.rglob("*")):
        if path.is_file():
            assert str(path.relative_to(ROOT)) in readme, path


def test_the_readme_names_every_setting_read_from_the_environment():
    readme = (ROOT / "README.md").read_text()
    missing = sorted(name for name in settings_env_names() if f"`{name}`" not in readme)
    assert missing == [], "document these settings in README's settings list"
