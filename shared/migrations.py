"""Alembic, per service, without an ``alembic.ini``.

Each service keeps its migrations in ``services/<service>/migrations`` (``env.py``, ``script.py.mako``,
``versions/``). Its ``env.py`` is three lines::

    from shared.migrations import run_env

    run_env("orgs")

Everything else lives here, so the services cannot drift apart: the async engine, batch mode on SQLite,
type comparison, the target metadata (``services.<service>.db.target_metadata()``: the service's own
``Base.metadata`` plus :data:`shared.db.kit_metadata`).

Run migrations with :func:`upgrade` / :func:`downgrade` (or ``tochuc migrate``). They are synchronous and
Alembic's ``env.py`` runs its own event loop, so from async code call them in a thread::

    await asyncio.to_thread(upgrade, "orgs", database_url)

Generate a revision with :func:`make_revision` (autogenerate against a scratch SQLite database)::

    python -c "from shared.migrations import make_revision; make_revision('orgs', 'organizations')"
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, event, pool
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine

__all__ = [
    "AppliedStep",
    "MigrationError",
    "alembic_config",
    "current_heads",
    "downgrade",
    "has_migrations",
    "make_revision",
    "migrations_dir",
    "redact_url",
    "run_env",
    "upgrade",
]

T = TypeVar("T")

# File names of new revisions sort by date: 2026_11_29_1a2b3c4d5e6f_organizations.py
FILE_TEMPLATE = "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s"


class MigrationError(RuntimeError):
    """A service or its migrations cannot be found."""


@dataclass(frozen=True)
class AppliedStep:
    """One revision applied by :func:`upgrade` or :func:`downgrade`."""

    source: tuple[str, ...]
    destination: tuple[str, ...]
    is_upgrade: bool
    doc: str

    def __str__(self) -> str:
        step = f"{','.join(self.source) or 'base'} -> {','.join(self.destination) or 'base'}"
        return f"{step} ({self.doc})" if self.doc else step


def migrations_dir(service: str) -> Path:
    """The ``migrations`` directory of ``services.<service>`` (found by import, so installs work too)."""
    try:
        spec = importlib.util.find_spec(f"services.{service}")
    except (ImportError, ValueError) as exc:
        raise MigrationError(f"service {service!r} cannot be imported: {exc}") from exc
    if spec is None or not spec.submodule_search_locations:
        raise MigrationError(f"service {service!r} is not installed (no package services.{service})")
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "migrations"
        if (candidate / "env.py").is_file():
            return candidate
    raise MigrationError(f"service {service!r} has no migrations (services/{service}/migrations/env.py)")


def has_migrations(service: str) -> bool:
    try:
        migrations_dir(service)
    except MigrationError:
        return False
    return True


def alembic_config(service: str, database_url: str) -> Config:
    """A programmatic Alembic configuration for one service's database.

    The URL travels in ``config.attributes`` rather than in the ini options: configparser would choke on a
    ``%`` in a password.
    """
    config = Config(attributes={"service": service, "database_url": database_url})
    config.set_main_option("script_location", str(migrations_dir(service)))
    config.set_main_option("path_separator", "os")
    config.set_main_option("file_template", FILE_TEMPLATE)
    ruff = Path(sys.executable).parent / "ruff"
    if ruff.is_file():
        # Keep generated revisions ruff-formatted like the rest of the code.
        hooks = {
            "ruff_fix": "check --fix --exit-zero --silent REVISION_SCRIPT_FILENAME",
            "ruff_format": "format --quiet REVISION_SCRIPT_FILENAME",
        }
        config.set_section_option("post_write_hooks", "hooks", ", ".join(hooks))
        for name, options in hooks.items():
            config.set_section_option("post_write_hooks", f"{name}.type", "exec")
            config.set_section_option("post_write_hooks", f"{name}.executable", str(ruff))
            config.set_section_option("post_write_hooks", f"{name}.options", options)
    return config


def upgrade(service: str, database_url: str, revision: str = "head") -> list[AppliedStep]:
    """Upgrade ``service``'s database to ``revision``; returns the steps applied (empty if up to date).

    Synchronous, and ``env.py`` runs its own event loop: async callers use
    ``await asyncio.to_thread(upgrade, service, url)``.
    """
    config = alembic_config(service, database_url)
    applied: list[AppliedStep] = []
    config.attributes["applied"] = applied
    command.upgrade(config, revision)
    return applied


def downgrade(service: str, database_url: str, revision: str) -> list[AppliedStep]:
    """Downgrade ``service``'s database to ``revision`` (e.g. ``-1`` or ``base``); returns the steps.

    Synchronous, like :func:`upgrade`: async callers use ``asyncio.to_thread``.
    """
    config = alembic_config(service, database_url)
    applied: list[AppliedStep] = []
    config.attributes["applied"] = applied
    command.downgrade(config, revision)
    return applied


def current_heads(database_url: str) -> tuple[str, ...]:
    """The revisions the database is at (empty before the first migration). Synchronous."""

    def read(connection: Connection) -> tuple[str, ...]:
        return MigrationContext.configure(connection).get_current_heads()

    async def main() -> tuple[str, ...]:
        engine = create_async_engine(database_url, poolclass=pool.NullPool)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(read)
        finally:
            await engine.dispose()

    return _run_coroutine(main)


def make_revision(
    service: str,
    message: str,
    *,
    database_url: str | None = None,
    autogenerate: bool = True,
    revision_id: str | None = None,
) -> Path:
    """Write a new revision of ``service`` and return its path.

    Without ``database_url`` the comparison runs against a scratch SQLite database brought to head first,
    so autogenerate sees exactly what the existing revisions create. Review the result: autogenerate does
    not see renames, server defaults or data moves.
    """
    scratch: Path | None = None
    if database_url is None:
        scratch = Path(tempfile.mkdtemp(prefix=f"tochuc-{service}-revision-"))
        database_url = f"sqlite+aiosqlite:///{scratch / 'scratch.db'}"
    try:
        if autogenerate:
            upgrade(service, database_url)
        config = alembic_config(service, database_url)
        script = command.revision(config, message=message, autogenerate=autogenerate, rev_id=revision_id)
        scripts = script if isinstance(script, list) else [script]
        if not scripts or scripts[0] is None:
            raise MigrationError("alembic wrote no revision")
        return Path(scripts[0].path)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def redact_url(database_url: str) -> str:
    """The URL with its password hidden, for messages and logs."""
    try:
        return make_url(database_url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable database URL>"


# --- env.py -----------------------------------------------------------------------------------------


def run_env(service: str | None = None) -> None:
    """The body of every service's ``migrations/env.py`` (offline and online, async engine).

    ``service`` names the service whose ``db.target_metadata()`` feeds autogenerate; the database URL
    comes from ``config.attributes["database_url"]`` (set by :func:`alembic_config`) or, when Alembic is
    driven some other way, from the service's settings (``<SERVICE>_DATABASE_URL`` or the SQLite default).
    A test may hand over an open connection in ``config.attributes["connection"]``.
    """
    from alembic import context

    config = context.config
    service = service or config.attributes.get("service") or config.get_main_option("service")
    if not service:
        raise MigrationError("run_env() needs the service name")
    database_url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    if not database_url:
        from shared.settings import ServiceSettings

        database_url = ServiceSettings.load(service).database_url
    options = _context_options(service, database_url, config.attributes.get("applied"))

    if context.is_offline_mode():
        context.configure(
            url=database_url,
            literal_binds=True,
            dialect_opts={"paramstyle": "named"},
            **options,
        )
        with context.begin_transaction():
            context.run_migrations()
        return

    def do_run_migrations(connection: Connection) -> None:
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()

    given: Connection | None = config.attributes.get("connection")
    if given is not None:
        do_run_migrations(given)
        return

    async def run_async() -> None:
        engine = create_async_engine(database_url, poolclass=pool.NullPool)
        if _is_sqlite(database_url):
            _sqlite_transactional_ddl(engine.sync_engine)
        try:
            async with engine.connect() as connection:
                await connection.run_sync(do_run_migrations)
        finally:
            await engine.dispose()

    _run_coroutine(run_async)


def _context_options(service: str, database_url: str, applied: list[AppliedStep] | None) -> dict[str, Any]:
    sqlite = _is_sqlite(database_url)
    options: dict[str, Any] = {
        "target_metadata": _target_metadata(service),
        "compare_type": True,
        # SQLite alters tables by copying them; batch mode does that for us.
        "render_as_batch": sqlite,
        # With the BEGIN recipe below, SQLite runs DDL in a transaction: a failed migration leaves nothing.
        "transactional_ddl": True,
    }
    if applied is not None:

        def record(*, ctx: Any, step: Any, heads: Any, run_args: Any) -> None:
            up = step.up_revision
            applied.append(
                AppliedStep(
                    source=tuple(step.source_revision_ids),
                    destination=tuple(step.destination_revision_ids),
                    is_upgrade=bool(step.is_upgrade),
                    doc=(up.doc or "").strip() if up is not None else "",
                )
            )

        options["on_version_apply"] = record
    return options


def _target_metadata(service: str) -> Sequence[MetaData] | MetaData | None:
    """``services.<service>.db.target_metadata()``; ``None`` while the service has no models yet."""
    module_name = f"services.{service}.db"
    if importlib.util.find_spec(module_name) is None:
        return None
    module = importlib.import_module(module_name)
    factory: Callable[[], Sequence[MetaData] | MetaData] | None = getattr(module, "target_metadata", None)
    if factory is None:
        raise MigrationError(f"{module_name} has no target_metadata() function")
    metadata = factory()
    return list(metadata) if isinstance(metadata, list | tuple) else metadata


def _is_sqlite(database_url: str) -> bool:
    return database_url.startswith("sqlite")


def _sqlite_transactional_ddl(sync_engine: Any) -> None:
    """Let SQLite run DDL inside a transaction (SQLAlchemy's documented pysqlite recipe).

    The driver would otherwise commit before each DDL statement. Foreign keys stay off (the default of a new
    connection), as batch mode's copy-and-rename of a referenced table requires.
    """

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")


def _run_coroutine(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``asyncio.run`` — in a helper thread when this thread already runs a loop (it would refuse)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(factory()))
        except BaseException as exc:
            error.append(exc)

    thread = threading.Thread(target=target, name="alembic-env")
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]
