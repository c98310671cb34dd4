#!/usr/bin/env python3
"""Build, run and test prm_partner from a bare machine.

``python3 tools/prm_env.py run``   virtualenv + Odoo 18 + private PostgreSQL + demo
                                    database, then serve on http://127.0.0.1:8069.
``python3 tools/prm_env.py test``  the same build, a throwaway database, Odoo's test
                                    runner, pytest-odoo, the uninstall check and the
                                    linters; ends with ``N passed, N failed``.
``python3 tools/prm_env.py setup`` only build (idempotent).
``python3 tools/prm_env.py stop``  stop the private PostgreSQL cluster.

Everything built lives in one cache folder outside the clone (see ``cache_dir``),
keyed by the Odoo branch, so every clone on the machine reuses it. Every step checks
what is already there first, so the commands are idempotent and safe to interrupt.
Only the Python standard library is used here: this script is what installs the rest.
"""

import argparse
import glob
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MODULE = "prm_partner"
ODOO_GIT_URL = "https://github.com/odoo/odoo.git"
# wkhtmltopdf: Odoo prints every PDF (agreements, scorecards, signing) with it
APT_PACKAGES = [
    "libldap2-dev",
    "libsasl2-dev",
    "libpq-dev",
    "gcc",
    "git",
    "wkhtmltopdf",
]
PG_OS_USER_DEFAULT = "prm_pg"


# --------------------------------------------------------------------------------------
# Settings (all overridable by environment variables, listed in the README)
# --------------------------------------------------------------------------------------
def env(name, default):
    value = os.environ.get(name)
    return value if value not in (None, "") else default


IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
BRANCH = env("PRM_ODOO_BRANCH", "18.0")


def cache_dir():
    if os.environ.get("PRM_CACHE_DIR"):
        base = Path(os.environ["PRM_CACHE_DIR"])
    elif IS_ROOT:
        # root's home is not traversable by the non-root PostgreSQL user
        base = Path("/var/cache/prm_partner")
    else:
        xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        base = Path(xdg) / "prm_partner"
    return base / BRANCH


CACHE = cache_dir()
VENV = CACHE / "venv"
PY = VENV / "bin" / "python"
PG_DIR = CACHE / "pg"
PG_DATA = PG_DIR / "data"
PG_RUN = PG_DIR / "run"
PG_LOG = PG_DIR / "postgresql.log"
STATE = CACHE / "state"
LOGS = CACHE / "logs"

PG_EXTERNAL = env("PRM_PG_EXTERNAL", "0") == "1"
PG_HOST = env("PRM_PG_HOST", "127.0.0.1")
PG_PORT = int(env("PRM_PG_PORT", "54318"))
DB_USER = env("PRM_DB_USER", "odoo")
DB_PASSWORD = env("PRM_DB_PASSWORD", "odoo")
DB_NAME = env("PRM_DB_NAME", "prm_demo")
HTTP_PORT = int(env("PRM_HTTP_PORT", "8069"))
TEST_HTTP_PORT = int(env("PRM_TEST_HTTP_PORT", "8169"))
EXTRA_ADDONS = [p for p in env("PRM_ADDONS_PATH", "").split(",") if p]
PG_OS_USER = env("PRM_PG_OS_USER", PG_OS_USER_DEFAULT)

if DB_USER == "postgres":
    sys.exit("PRM_DB_USER=postgres is refused by Odoo: choose another role name.")


def step(msg):
    print(f"[prm] {msg}", flush=True)


def run(cmd, check=True, **kw):
    return subprocess.run([str(c) for c in cmd], check=check, **kw)


def file_hash(*paths):
    digest = hashlib.sha256()
    for path in paths:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()


def tree_hash(root):
    digest = hashlib.sha256()
    for path in sorted(Path(root).rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


# --------------------------------------------------------------------------------------
# System packages
# --------------------------------------------------------------------------------------
def pg_bindir():
    if os.environ.get("PRM_PG_BIN"):
        return Path(os.environ["PRM_PG_BIN"])
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parent.parent.name),
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def ensure_system_packages():
    wanted = list(APT_PACKAGES)
    if not PG_EXTERNAL and pg_bindir() is None:
        wanted.append("postgresql")
    if not shutil.which("dpkg"):
        return  # not Debian-like: the README lists what to install by hand
    missing = [
        p
        for p in wanted
        if run(["dpkg", "-s", p], check=False, capture_output=True).returncode
    ]
    if not missing:
        return
    if not IS_ROOT:
        sys.exit(
            f"Missing system packages: {' '.join(missing)}. "
            f"Install them (sudo apt-get install {' '.join(missing)}) and rerun."
        )
    step(f"installing system packages: {' '.join(missing)}")
    apt_env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "update", "-qq"], env=apt_env)
    run(["apt-get", "install", "-y", "-qq", *missing], env=apt_env)


# --------------------------------------------------------------------------------------
# Odoo source
# --------------------------------------------------------------------------------------
def odoo_version(root):
    release = Path(root) / "odoo" / "release.py"
    if not release.is_file():
        return None
    match = re.search(r"version_info\s*=\s*\((\d+),\s*(\d+)", release.read_text())
    return f"{match.group(1)}.{match.group(2)}" if match else None


def importable_odoo(python):
    """Root of an Odoo source tree that ``python`` already imports, if any."""
    if not python or not Path(python).exists():
        return None
    code = "import odoo, os; print(os.path.dirname(os.path.dirname(odoo.__file__)))"
    res = run([python, "-c", code], check=False, capture_output=True, text=True)
    root = res.stdout.strip()
    return root if res.returncode == 0 and odoo_version(root) == BRANCH else None


def ensure_odoo():
    """Return the root of the Odoo source tree (the folder holding ``odoo/``)."""
    if os.environ.get("ODOO_SRC"):
        root = Path(os.environ["ODOO_SRC"]).resolve()
        if odoo_version(root) != BRANCH:
            sys.exit(f"ODOO_SRC={root} is not an Odoo {BRANCH} source tree.")
        return root
    for python in (PY, env("PRM_PYTHON", "python3")):
        root = importable_odoo(shutil.which(str(python)) or python)
        if root:
            return Path(root)
    root = CACHE / "odoo"
    if odoo_version(root) == BRANCH:
        return root
    step(f"cloning Odoo {BRANCH} (shallow) into {root} - this takes a few minutes")
    partial = CACHE / "odoo.partial"
    shutil.rmtree(partial, ignore_errors=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    run(["git", "clone", "--depth", "1", "--branch", BRANCH, ODOO_GIT_URL, partial])
    partial.rename(root)
    return root


def addons_paths(odoo_root):
    paths = [odoo_root / "odoo" / "addons", REPO, *map(Path, EXTRA_ADDONS)]
    legacy = odoo_root / "addons"
    if (legacy / "crm" / "__manifest__.py").exists() and not (
        paths[0] / "crm" / "__manifest__.py"
    ).exists():
        paths.insert(1, legacy)  # a git checkout keeps most add-ons in addons/
    return [str(p) for p in paths]


# --------------------------------------------------------------------------------------
# Python virtual environment
# --------------------------------------------------------------------------------------
def ensure_venv(odoo_root):
    requirements = odoo_root / "requirements.txt"
    dev_requirements = REPO / "tools" / "requirements-dev.txt"
    python = env("PRM_PYTHON", "python3")
    marker = VENV / ".prm-installed"
    wanted = json.dumps(
        {
            "reqs": file_hash(requirements, dev_requirements),
            "odoo": str(odoo_root),
            "python": run(
                [python, "-c", "import sys; print(sys.version)"],
                capture_output=True,
                text=True,
            ).stdout.strip(),
        }
    )
    if marker.exists() and marker.read_text() == wanted and PY.exists():
        return
    if not PY.exists():
        step(f"creating the virtual environment {VENV}")
        run([python, "-m", "venv", VENV])
    step("installing Odoo's Python requirements (first time: several minutes)")
    pip = [PY, "-m", "pip", "--disable-pip-version-check", "-q"]
    run([*pip, "install", "-U", "pip>=25.3", "setuptools>=80,<81", "wheel"])
    constraints = CACHE / "build-constraints.txt"
    constraints.write_text("setuptools<70\n")  # cbor2 5.4 does not build with newer
    run([*pip, "install", "--build-constraint", constraints, "-r", requirements])
    run([*pip, "install", "-r", dev_requirements])
    # gevent imports pkg_resources at run time: keep setuptools 80.x
    run([*pip, "install", "setuptools>=80,<81"])
    site = run(
        [PY, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(site, "odoo-src.pth").write_text(f"{odoo_root}\n")
    marker.write_text(wanted)


# --------------------------------------------------------------------------------------
# PostgreSQL: a private cluster on loopback, run as a non-root user
# --------------------------------------------------------------------------------------
def as_pg_user(cmd, **kw):
    if IS_ROOT:
        cmd = ["runuser", "-u", PG_OS_USER, "--", *cmd]
    return run(cmd, **kw)


def ensure_pg_os_user():
    if not IS_ROOT:
        return
    exists = run(["id", "-u", PG_OS_USER], check=False, capture_output=True)
    if exists.returncode:
        step(f"creating the system user {PG_OS_USER} to run PostgreSQL")
        run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                PG_OS_USER,
            ]
        )


def pg_running():
    bindir = pg_bindir()
    res = as_pg_user(
        [bindir / "pg_ctl", "status", "-D", PG_DATA], check=False, capture_output=True
    )
    return res.returncode == 0


def psql_admin(sql, db="postgres"):
    """Run SQL as the cluster's superuser over the private socket."""
    bindir = pg_bindir()
    return as_pg_user(
        [
            bindir / "psql",
            "-h",
            PG_RUN,
            "-p",
            PG_PORT,
            "-U",
            "prm_admin",
            "-d",
            db,
            "-v",
            "ON_ERROR_STOP=1",
            "-Atqc",
            sql,
        ],
        capture_output=True,
        text=True,
    ).stdout.strip()


def ensure_pg():
    """Start the private cluster if needed. Returns True when this call started it."""
    if PG_EXTERNAL:
        return False
    bindir = pg_bindir()
    if bindir is None:
        sys.exit("PostgreSQL binaries not found: install PostgreSQL or set PRM_PG_BIN.")
    ensure_pg_os_user()
    PG_DIR.mkdir(parents=True, exist_ok=True)
    if IS_ROOT:
        run(["chown", PG_OS_USER, PG_DIR])
    if not (PG_DATA / "PG_VERSION").exists():
        step(f"creating the PostgreSQL cluster in {PG_DATA}")
        partial = PG_DIR / "data.partial"
        as_pg_user(["rm", "-rf", partial])
        as_pg_user(
            [
                bindir / "initdb",
                "-D",
                partial,
                "-U",
                "prm_admin",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
            ],
            capture_output=True,
        )
        conf = partial / "postgresql.conf"
        settings = (
            "\n# prm_partner private development cluster\n"
            "listen_addresses = '127.0.0.1'\n"
            "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
            "max_connections = 200\nshared_buffers = 256MB\n"
        )
        as_pg_user(["sh", "-c", f"cat >> '{conf}'"], input=settings.encode())
        as_pg_user(["mv", partial, PG_DATA])
    as_pg_user(["mkdir", "-p", PG_RUN])
    if pg_running():
        return False
    step(f"starting PostgreSQL on {PG_HOST}:{PG_PORT}")
    as_pg_user(
        [
            bindir / "pg_ctl",
            "start",
            "-w",
            "-t",
            "60",
            "-D",
            PG_DATA,
            "-l",
            PG_LOG,
            "-o",
            f"-p {PG_PORT} -c unix_socket_directories={PG_RUN}",
        ],
        stdout=subprocess.DEVNULL,
    )
    exists = psql_admin(f"SELECT 1 FROM pg_roles WHERE rolname = '{DB_USER}'")
    if not exists:
        step(f"creating the database role {DB_USER}")
        psql_admin(f"CREATE ROLE \"{DB_USER}\" LOGIN CREATEDB PASSWORD '{DB_PASSWORD}'")
    return True


def stop_pg():
    if PG_EXTERNAL or not (PG_DATA / "PG_VERSION").exists() or not pg_running():
        return
    step("stopping PostgreSQL")
    as_pg_user(
        [pg_bindir() / "pg_ctl", "stop", "-m", "fast", "-D", PG_DATA],
        stdout=subprocess.DEVNULL,
    )


def psql(sql, db="postgres", check=True):
    bindir = pg_bindir() or Path(shutil.which("psql")).parent
    res = run(
        [
            bindir / "psql",
            "-h",
            PG_HOST,
            "-p",
            PG_PORT,
            "-U",
            DB_USER,
            "-d",
            db,
            "-Atqc",
            sql,
        ],
        check=False,
        capture_output=True,
        text=True,
        env=dict(os.environ, PGPASSWORD=DB_PASSWORD),
    )
    if check and res.returncode:
        sys.exit(f"psql failed: {res.stderr}")
    return res


def module_state(db):
    res = psql(
        f"SELECT state FROM ir_module_module WHERE name = '{MODULE}'",
        db=db,
        check=False,
    )
    return res.stdout.strip() if res.returncode == 0 else None


def drop_db(db):
    psql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


# --------------------------------------------------------------------------------------
# Odoo
# --------------------------------------------------------------------------------------
def write_config(odoo_root, name, http_port, extra=""):
    """Odoo config file for this clone, kept in the cache (one per clone path)."""
    clone = hashlib.sha256(str(REPO).encode()).hexdigest()[:10]
    path = CACHE / "conf" / f"{name}-{clone}.conf"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "[options]\n"
        f"addons_path = {','.join(addons_paths(odoo_root))}\n"
        f"db_host = {PG_HOST}\ndb_port = {PG_PORT}\n"
        f"db_user = {DB_USER}\ndb_password = {DB_PASSWORD}\n"
        f"http_interface = 127.0.0.1\nhttp_port = {http_port}\n"
        f"data_dir = {CACHE / 'filestore'}\n"
        "list_db = False\nwithout_demo = False\nmax_cron_threads = 1\n"
        f"{extra}"
    )
    return path


def odoo_cmd(config, *args):
    return [PY, "-m", "odoo", "-c", config, *args]


def setup():
    ensure_system_packages()
    odoo_root = ensure_odoo()
    ensure_venv(odoo_root)
    started = ensure_pg()
    return odoo_root, started


def cmd_setup(_args):
    setup()
    step(f"ready: cache {CACHE}")


def cmd_stop(_args):
    stop_pg()


def cmd_run(_args):
    t0 = time.time()
    odoo_root, started = setup()
    config = write_config(odoo_root, "run", HTTP_PORT, f"dbfilter = ^{DB_NAME}$\n")
    STATE.mkdir(parents=True, exist_ok=True)
    stamp = STATE / f"{DB_NAME}.module-hash"
    code_hash = tree_hash(REPO / MODULE)
    state = module_state(DB_NAME)
    if state != "installed":
        step(
            f"creating database {DB_NAME} with {MODULE} and demo data "
            "(first time: a few minutes)"
        )
        if state is not None:
            drop_db(DB_NAME)  # a half-built database from an interrupted run
        run(
            odoo_cmd(
                config,
                "-d",
                DB_NAME,
                "-i",
                MODULE,
                "--stop-after-init",
                "--log-level=warn",
            )
        )
        stamp.write_text(code_hash)
    elif not stamp.exists() or stamp.read_text() != code_hash:
        step(f"the add-on changed: updating {MODULE} in {DB_NAME}")
        run(
            odoo_cmd(
                config,
                "-d",
                DB_NAME,
                "-u",
                MODULE,
                "--stop-after-init",
                "--log-level=warn",
            )
        )
        stamp.write_text(code_hash)
    print(
        f"\n  prm_partner is starting on http://127.0.0.1:{HTTP_PORT}"
        f"  (ready after {time.time() - t0:.0f}s of setup)\n"
        "  Back office : admin / admin\n"
        "  Portal      : portal.reseller@prm-demo.example / prm-portal-demo\n"
        "  Stop with Ctrl-C (the database is kept).\n",
        flush=True,
    )
    proc = subprocess.Popen([str(c) for c in odoo_cmd(config, "-d", DB_NAME)])
    try:
        proc.wait()
    except KeyboardInterrupt:
        step("stopping Odoo")
        try:
            proc.wait(timeout=30)
        except (subprocess.TimeoutExpired, KeyboardInterrupt):
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    finally:
        if started:
            stop_pg()


# --------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------
RESULT_RE = re.compile(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests when loading")
BAD_LOG_RE = re.compile(r"^\S+ \S+ \d+ (ERROR|CRITICAL) ", re.M)


def run_logged(cmd, log_path, env_extra=None):
    """Run ``cmd``, echo its key lines, keep all in ``log_path``; return its code."""
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [str(c) for c in cmd],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=dict(os.environ, **(env_extra or {})),
        )
        for line in proc.stdout:
            log.write(line)
            if os.environ.get("PRM_VERBOSE") == "1" or re.search(
                r" (ERROR|CRITICAL|WARNING) |odoo\.tests\.stats|tests when loading|"
                r"^(FAIL|ERROR)|passed|failed|Loading module",
                line,
            ):
                sys.stdout.write(line)
        return proc.wait()


def junit_counts(path):
    if not Path(path).exists():
        return 0, 0
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    total = sum(int(s.get("tests", 0)) for s in suites)
    bad = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    skipped = sum(int(s.get("skipped", 0)) for s in suites)
    return total - bad - skipped, bad


def run_pytest(name, pytest_args, env_extra, problems):
    """Run pytest with a JUnit report; return (passed, failed) from the report."""
    junit = LOGS / f"pytest-{name}.xml"
    log = LOGS / f"pytest-{name}.log"
    junit.unlink(missing_ok=True)
    rc = run_logged(
        [
            PY,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--junitxml={junit}",
            *pytest_args,
        ],
        log,
        env_extra,
    )
    if rc not in (0, 1):
        problems.append(f"pytest ({name}) exited with {rc}: see {log}")
    if BAD_LOG_RE.search(log.read_text()):
        problems.append(f"the pytest ({name}) log holds ERROR/CRITICAL: see {log}")
    return junit_counts(junit)


def cmd_test(args):
    t0 = time.time()
    odoo_root, started = setup()
    LOGS.mkdir(parents=True, exist_ok=True)
    db = f"prm_test_{secrets.token_hex(4)}"
    config = write_config(odoo_root, "test", TEST_HTTP_PORT)
    passed = failed = 0
    problems = []
    try:
        # 1. Odoo's runner: install with demo data and run every test
        step(
            f"installing {MODULE} in the throwaway database {db} and running its tests"
        )
        odoo_log = LOGS / "odoo-tests.log"
        rc = run_logged(
            odoo_cmd(
                config,
                "-d",
                db,
                "-i",
                MODULE,
                "--test-enable",
                "--stop-after-init",
                "--log-level=test",
                "--test-tags",
                args.tags or f"/{MODULE}",
            ),
            odoo_log,
        )
        text = odoo_log.read_text()
        results = RESULT_RE.findall(text)
        if results:
            fails, errors, total = map(int, results[-1])
            passed += total - fails - errors
            failed += fails + errors
            step(
                f"Odoo runner: {total - fails - errors} passed, {fails + errors} failed"
            )
        else:
            problems.append("Odoo's runner reported no result")
        if rc:
            problems.append(f"Odoo exited with {rc}")
        bad_lines = BAD_LOG_RE.findall(text)
        if bad_lines:
            problems.append(
                f"the Odoo log holds {len(bad_lines)} ERROR/CRITICAL line(s): "
                f"see {odoo_log}"
            )

        # 2. pytest-odoo: the fast tests again (HttpCase ones are skipped there)
        if not args.tags and module_state(db) == "installed":
            pot = LOGS / f"{MODULE}.pot"
            pot.unlink(missing_ok=True)
            run(
                [
                    PY,
                    "-W",
                    "ignore::UserWarning",
                    *odoo_cmd(config, "-d", db)[1:],
                    f"--i18n-export={pot}",
                    f"--modules={MODULE}",
                    "--stop-after-init",
                    "--log-level=warn",
                ],
                check=False,
                stdout=subprocess.DEVNULL,
            )
            step("running the fast tests again with pytest-odoo")
            test_env = {
                "PRM_TEST_DB": db,
                "PRM_ODOO_CONFIG": str(config),
                "PRM_EXPORTED_POT": str(pot),
            }
            ok, bad = run_pytest(
                "pytest-odoo",
                [
                    f"--odoo-config={config}",
                    f"--odoo-database={db}",
                    REPO / MODULE / "tests",
                ],
                test_env,
                problems,
            )
            # 3. last, on the same database: uninstall through a real Odoo process
            step("checking translations and that the add-on uninstalls cleanly")
            ok2, bad2 = run_pytest(
                "uninstall", ["-p", "no:odoo", REPO / "tests"], test_env, problems
            )
            passed, failed = passed + ok + ok2, failed + bad + bad2

        # 4. linters
        if not args.no_lint:
            step("running the linters (ruff, pylint-odoo)")
            for name, cmd in (
                ("ruff check", [PY, "-m", "ruff", "check", REPO]),
                ("ruff format", [PY, "-m", "ruff", "format", "--check", REPO]),
                ("README.rst", [PY, REPO / "tools" / "gen_readme.py", "--check"]),
                (
                    "pylint-odoo",
                    [PY, "-m", "pylint", "--rcfile", REPO / ".pylintrc", REPO / MODULE],
                ),
            ):
                if run(cmd, check=False, cwd=REPO).returncode:
                    problems.append(f"{name} found problems")
    finally:
        if not os.environ.get("PRM_KEEP_DB"):
            drop_db(db)
        if started and os.environ.get("PRM_STOP_PG") == "1":
            stop_pg()
    if passed + failed == 0:
        problems.append("no test ran")
    for problem in problems:
        print(f"[prm] FAILED: {problem}")
    print(f"[prm] test command took {time.time() - t0:.0f}s")
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed or problems else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("setup").set_defaults(func=cmd_setup)
    sub.add_parser("run").set_defaults(func=cmd_run)
    sub.add_parser("stop").set_defaults(func=cmd_stop)
    test = sub.add_parser("test")
    test.add_argument("--tags", help="Odoo --test-tags (skips pytest); default: all")
    test.add_argument("--no-lint", action="store_true")
    test.set_defaults(func=cmd_test)
    args = parser.parse_args()
    sys.exit(args.func(args) or 0)


if __name__ == "__main__":
    main()
