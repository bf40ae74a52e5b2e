"""The shared Alembic runner, on a throwaway service package (independent of any real service's models)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import textwrap
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from fakesvc_support import (
    BROKEN_REVISION_3,
    REVISION_1,
    REVISION_2,
    SERVICE,
    forget_fake_modules,
    write_fake_service,
)
from sqlalchemy.engine import make_url

import services
from shared.migrations import (
    MigrationError,
    alembic_config,
    current_heads,
    downgrade,
    has_migrations,
    make_revision,
    migrations_dir,
    upgrade,
)
from shared.settings import sqlite_url
from shared.supervisor import installed_services


@pytest.fixture
def fake_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``services.fakesvc`` with two revisions, importable for the duration of the test."""
    root = tmp_path / "pkgs"
    package = write_fake_service(root, [REVISION_1, REVISION_2])
    monkeypatch.setattr(services, "__path__", [*services.__path__, str(root)])
    forget_fake_modules()
    yield package
    forget_fake_modules()


@pytest.fixture
async def any_database_url(tmp_path: Path) -> AsyncIterator[str]:
    """A fresh SQLite file, or a fresh PostgreSQL database under ``make test-pg``."""
    if os.environ.get("TOCHUC_TEST_DB") != "postgresql":
        yield sqlite_url(tmp_path / "any.db")
        return
    import asyncpg

    server = os.environ.get("TOCHUC_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"tochuc_test_migrations_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = make_url(server).set(drivername="postgresql+asyncpg", database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def tables(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {row[0] for row in conn.execute("select name from sqlite_master where type = 'table'")}


def columns(db: Path, table: str) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {row[1] for row in conn.execute(f"pragma table_info({table})")}


def test_config_is_programmatic_and_keeps_the_url_out_of_the_ini(fake_service: Path) -> None:
    url = "postgresql+asyncpg://tochuc:p%40ss%word@db/orgs"
    config = alembic_config(SERVICE, url)
    assert config.get_main_option("script_location") == str(fake_service / "migrations")
    assert config.attributes == {"service": SERVICE, "database_url": url}
    assert config.get_main_option("sqlalchemy.url") is None


def test_unknown_service_is_a_clear_error() -> None:
    with pytest.raises(MigrationError, match="not installed"):
        migrations_dir("nosuchservice")


def test_upgrade_downgrade_round_trip_on_sqlite(fake_service: Path, tmp_path: Path) -> None:
    db = tmp_path / "fake.db"
    url = sqlite_url(db)

    steps = upgrade(SERVICE, url)
    assert [(s.source, s.destination) for s in steps] == [((), ("0001",)), (("0001",), ("0002",))]
    assert {"widgets", "alembic_version"} <= tables(db)
    assert columns(db, "widgets") == {"id", "name", "colour"}
    assert current_heads(url) == ("0002",)

    assert upgrade(SERVICE, url) == []  # already at head: nothing to do

    steps = downgrade(SERVICE, url, "0001")
    assert [(s.source, s.destination, s.is_upgrade) for s in steps] == [(("0002",), ("0001",), False)]
    assert columns(db, "widgets") == {"id", "name"}

    downgrade(SERVICE, url, "base")
    assert "widgets" not in tables(db)
    assert current_heads(url) == ()


def test_a_failed_migration_leaves_the_sqlite_database_untouched(fake_service: Path, tmp_path: Path) -> None:
    db = tmp_path / "fake.db"
    url = sqlite_url(db)
    upgrade(SERVICE, url)
    (fake_service / "migrations" / "versions" / "0003_rev.py").write_text(
        textwrap.dedent(BROKEN_REVISION_3).lstrip()
    )

    with pytest.raises(RuntimeError, match="boom"):
        upgrade(SERVICE, url)

    assert "gadgets" not in tables(db)
    assert current_heads(url) == ("0002",)


async def test_async_callers_run_it_in_a_thread(fake_service: Path, any_database_url: str) -> None:
    """Also the round trip on PostgreSQL under ``make test-pg``."""
    url = any_database_url
    await asyncio.to_thread(upgrade, SERVICE, url)
    assert await asyncio.to_thread(current_heads, url) == ("0002",)
    await asyncio.to_thread(downgrade, SERVICE, url, "base")
    assert await asyncio.to_thread(current_heads, url) == ()
    await asyncio.to_thread(upgrade, SERVICE, url)
    assert await asyncio.to_thread(current_heads, url) == ("0002",)


async def test_called_from_a_running_loop_it_still_works(fake_service: Path, tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "fake.db")
    upgrade(SERVICE, url)  # blocks the loop, but does not fail on asyncio.run
    assert current_heads(url) == ("0002",)


def test_autogenerate_sees_the_models_and_finds_nothing_missing(fake_service: Path) -> None:
    """The models and the revisions agree, so a new autogenerated revision is empty."""
    path = make_revision(SERVICE, "nothing to do", revision_id="0003")
    text = path.read_text()
    assert path.parent == fake_service / "migrations" / "versions"
    assert 'revision: str = "0003"' in text
    assert "op.create_table" not in text
    assert "op.add_column" not in text
    upgrade_body = text.split("def upgrade() -> None:")[1].split("def downgrade")[0]
    assert [line.strip() for line in upgrade_body.splitlines() if line.strip() and "#" not in line] == [
        "pass"
    ]


def test_autogenerate_renders_batch_operations_for_a_model_change(fake_service: Path) -> None:
    db_py = fake_service / "db.py"
    db_py.write_text(
        db_py.read_text().replace(
            "    colour:", "    size: Mapped[int | None] = mapped_column(Integer)\n    colour:"
        )
    )
    path = make_revision(SERVICE, "widget size", revision_id="0003")
    text = path.read_text()
    assert 'with op.batch_alter_table("widgets"' in text
    assert 'batch_op.add_column(sa.Column("size", sa.Integer(), nullable=True))' in text


def test_offline_mode_prints_sql(fake_service: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from alembic import command

    config = alembic_config(SERVICE, "postgresql+asyncpg://u:secret@localhost/fake")
    command.upgrade(config, "head", sql=True)
    out = capsys.readouterr().out
    assert "CREATE TABLE widgets" in out
    assert "ALTER TABLE widgets ADD COLUMN colour VARCHAR(20)" in out


@pytest.mark.parametrize("service", [s for s in installed_services() if has_migrations(s)])
async def test_each_service_migrations_match_its_models(service: str, any_database_url: str) -> None:
    """Upgrade to head, then autogenerate finds nothing to do, and the way back down to base works."""
    from alembic import command
    from alembic.util.exc import AutogenerateDiffsDetected

    url = any_database_url
    await asyncio.to_thread(upgrade, service, url)
    try:
        await asyncio.to_thread(command.check, alembic_config(service, url))
    except AutogenerateDiffsDetected as exc:
        pytest.fail(f"{service}: models and migrations differ — add a revision:\n{exc}")
    await asyncio.to_thread(downgrade, service, url, "base")
    assert await asyncio.to_thread(current_heads, url) == ()
