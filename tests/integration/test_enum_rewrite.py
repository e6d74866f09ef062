"""Removing and reordering enum values where the type reaches into every shape PostgreSQL has:
quoted names in a schema off the search path, types whose names share a prefix, partitioned
tables, views and materialized views, domains and generated columns; online and offline.

Each test makes its schema in SQL, then upgrades and downgrades through real Alembic revisions
holding the calls autogenerate writes, and checks what a user would: the type's values, the
rows, and that every dependent is there afterwards as it was before.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic import command

from service.db.enum_migrations import EnumMigrationError
from tests.integration.test_enum_migrations import Project

# How each change is written in a revision, and its reverse: (upgrade, downgrade, values after).
REMOVE = (
    "enum_values.remove_value({type}, 'B', values=['A', 'C']{schema})",
    "enum_values.add_value({type}, 'B', after='A'{schema})",
    ["A", "C"],
)
REORDER = (
    "enum_values.reorder_values({type}, values=['C', 'B', 'A']{schema})",
    "enum_values.reorder_values({type}, values=['A', 'B', 'C']{schema})",
    ["C", "B", "A"],
)
CHANGES = pytest.mark.parametrize("change", [REMOVE, REORDER], ids=["remove", "reorder"])


@pytest.fixture
def project(scratch_url: str, tmp_path: Path) -> Project:
    """An empty database with an Alembic history of its own."""
    from tools.schema import drop_everything

    asyncio.run(drop_everything(scratch_url))
    versions = tmp_path / "versions"
    versions.mkdir()
    return Project(scratch_url, versions)


def write_change(
    project: Project,
    change: tuple[str, str, list[str]],
    type_name: str = "status",
    schema: str | None = None,
) -> list[str]:
    """A revision making `change` to the type; returns the values it leaves."""
    upgrade, downgrade, after = change
    names = {"type": repr(type_name), "schema": f", schema={schema!r}" if schema else ""}
    project.write_revision("change", upgrade.format(**names), downgrade.format(**names))
    return after


def values(project: Project, type_name: str = "status", schema: str = "public") -> list[str]:
    rows = project.sql(
        "SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid"
        " JOIN pg_namespace n ON n.oid = t.typnamespace"
        " WHERE t.typname = $1 AND n.nspname = $2 ORDER BY e.enumsortorder",
        type_name,
        schema,
    )
    return [row[0] for row in rows]


def snapshot(project: Project, query: str) -> list[tuple[object, ...]]:
    return [tuple(row) for row in project.sql(query)]


def upgrade_and_downgrade_keep(
    project: Project,
    after: list[str],
    queries: list[str],
    type_name: str = "status",
    schema: str = "public",
) -> None:
    """Upgrade then downgrade; each query answers the same before, between and after."""
    before = [snapshot(project, q) for q in queries]
    project.upgrade()
    assert values(project, type_name, schema) == after
    assert [snapshot(project, q) for q in queries] == before
    project.downgrade()
    assert values(project, type_name, schema) == ["A", "B", "C"]
    assert [snapshot(project, q) for q in queries] == before


@CHANGES
def test_a_quoted_type_off_the_search_path_with_a_partial_index_and_a_check(
    project: Project, change: tuple[str, str, list[str]]
) -> None:
    project.sql('CREATE SCHEMA "Sales Ops"')
    project.run_script(
        """CREATE TYPE "Sales Ops"."Plan Kind" AS ENUM ('A', 'B', 'C');
        CREATE TABLE "Sales Ops"."Accounts" (
            id int PRIMARY KEY,
            "Plan" "Sales Ops"."Plan Kind" NOT NULL DEFAULT 'C',
            CONSTRAINT "Plan is known" CHECK ("Plan" IN ('A', 'C')));
        CREATE INDEX "Special accounts" ON "Sales Ops"."Accounts" (id) WHERE "Plan" = 'C';
        INSERT INTO "Sales Ops"."Accounts" VALUES (1, 'A'), (2, 'C'), (3, DEFAULT);
        COMMENT ON TYPE "Sales Ops"."Plan Kind" IS 'what an account pays for';
        REVOKE USAGE ON TYPE "Sales Ops"."Plan Kind" FROM PUBLIC"""
    )
    after = write_change(project, change, "Plan Kind", "Sales Ops")

    upgrade_and_downgrade_keep(
        project,
        after,
        [
            """SELECT id, "Plan"::text FROM "Sales Ops"."Accounts" ORDER BY id""",
            """SELECT pg_get_indexdef('"Sales Ops"."Special accounts"'::regclass)""",
            """SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
               WHERE conrelid = '"Sales Ops"."Accounts"'::regclass ORDER BY conname""",
            """SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef
               WHERE adrelid = '"Sales Ops"."Accounts"'::regclass""",
            """SELECT typacl::text[], pg_get_userbyid(typowner), obj_description(oid, 'pg_type')
               FROM pg_type WHERE oid = '"Sales Ops"."Plan Kind"'::regtype""",
        ],
        "Plan Kind",
        "Sales Ops",
    )
    # The CHECK and the default work on the new type.
    project.sql("""INSERT INTO "Sales Ops"."Accounts" (id) VALUES (4)""")
    with pytest.raises(Exception, match="Plan is known"):
        project.sql("""INSERT INTO "Sales Ops"."Accounts" VALUES (5, 'B')""")


def test_a_check_holding_the_removed_value_is_refused_by_name(project: Project) -> None:
    project.run_script(
        """CREATE TYPE status AS ENUM ('A', 'B', 'C');
        CREATE TABLE things (id int, status status CONSTRAINT not_b CHECK (status <> 'B'));
        INSERT INTO things VALUES (1, 'A')"""
    )
    write_change(project, REMOVE)

    with pytest.raises(
        EnumMigrationError,
        match=r"cannot remove 'B' from enum status: "
        r"constraint not_b on public\.things still mentions it",
    ):
        project.upgrade()

    assert values(project) == ["A", "B", "C"]
    [check] = project.sql(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'not_b'"
    )
    assert check[0] == "CHECK ((status <> 'B'::status))"


@CHANGES
def test_a_type_whose_name_starts_another_leaves_the_others_indexes_alone(
    project: Project, change: tuple[str, str, list[str]]
) -> None:
    project.run_script(
        """CREATE TYPE status AS ENUM ('A', 'B', 'C');
        CREATE TYPE status_extra AS ENUM ('A', 'B', 'C');
        CREATE TABLE things (id int, status status, extra status_extra);
        CREATE INDEX things_a ON things (id) WHERE status = 'A';
        CREATE TABLE extras (id int, extra status_extra);
        CREATE INDEX extras_b ON extras (id) WHERE extra = 'B';
        CREATE INDEX extras_all ON extras (extra);
        CREATE INDEX things_extra_b ON things (id) WHERE extra = 'B';
        INSERT INTO things VALUES (1, 'A', 'B');
        INSERT INTO extras VALUES (1, 'B')"""
    )
    # The other type's table is not touched at all; its index on our table is rebuilt with
    # the table (a new relfilenode) but never dropped (the same OID).
    others = (
        "SELECT relname, oid, CASE WHEN relname LIKE 'extras%' THEN relfilenode END"
        " FROM pg_class WHERE relname LIKE 'extras%' OR relname = 'things_extra_b' ORDER BY 1"
    )
    before = snapshot(project, others)
    [ours] = project.sql("SELECT oid FROM pg_class WHERE relname = 'things_a'")
    after = write_change(project, change)

    upgrade_and_downgrade_keep(
        project,
        after,
        [
            "SELECT id, status::text, extra::text FROM things",
            "SELECT pg_get_indexdef('things_a'::regclass)",
            "SELECT pg_get_indexdef('extras_b'::regclass)",
            "SELECT pg_get_indexdef('things_extra_b'::regclass)",
        ],
    )

    assert snapshot(project, others) == before  # never dropped, never rewritten
    [rebuilt] = project.sql("SELECT oid FROM pg_class WHERE relname = 'things_a'")
    assert rebuilt != ours  # ours was dropped and recreated
    assert values(project, "status_extra") == ["A", "B", "C"]


@CHANGES
def test_a_partitioned_table_converts_at_its_parent(
    project: Project, change: tuple[str, str, list[str]]
) -> None:
    project.run_script(
        """CREATE TYPE status AS ENUM ('A', 'B', 'C');
        CREATE TABLE events (
            region int NOT NULL, id int NOT NULL, status status NOT NULL DEFAULT 'A',
            history status[] NOT NULL DEFAULT '{A}', CHECK (status <> 'C' OR id > 0)
        ) PARTITION BY LIST (region);
        CREATE TABLE events_1 PARTITION OF events FOR VALUES IN (1);
        CREATE TABLE events_2 PARTITION OF events FOR VALUES IN (2)
            PARTITION BY RANGE (id);
        CREATE TABLE events_2_low PARTITION OF events_2 FOR VALUES FROM (0) TO (100);
        ALTER TABLE ONLY events_1 ALTER COLUMN status SET DEFAULT 'C';
        CREATE INDEX events_c ON events (id) WHERE status = 'C';
        INSERT INTO events (region, id, status, history) VALUES
            (1, 1, 'A', '{A,C}'), (1, 2, 'C', '{}'), (2, 3, 'C', '{C}');
        INSERT INTO events (region, id) VALUES (1, 4), (2, 5)"""
    )
    after = write_change(project, change)

    upgrade_and_downgrade_keep(
        project,
        after,
        [
            "SELECT tableoid::regclass::text, id, status::text, history::text[] FROM events"
            " ORDER BY id",
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname LIKE 'events%'"
            " AND pg_get_indexdef(i.indexrelid) LIKE '%WHERE%' ORDER BY 1",
            "SELECT conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE contype = 'c' ORDER BY 1",
            "SELECT adrelid::regclass::text, pg_get_expr(adbin, adrelid) FROM pg_attrdef"
            " ORDER BY 1, 2",
        ],
    )


def test_an_enum_partition_key_is_refused_and_nothing_changes(project: Project) -> None:
    project.run_script(
        """CREATE TYPE status AS ENUM ('A', 'B', 'C');
        CREATE TABLE by_status (id int, status status) PARTITION BY LIST (status);
        CREATE TABLE by_status_a PARTITION OF by_status FOR VALUES IN ('A');
        CREATE TABLE by_status_rest PARTITION OF by_status DEFAULT;
        INSERT INTO by_status VALUES (1, 'A'), (2, 'C')"""
    )
    write_change(project, REMOVE)

    with pytest.raises(
        EnumMigrationError,
        match=r"cannot rewrite enum status: it types the partition key of public\.by_status, "
        r"and PostgreSQL cannot change the type of a partition key column\. Nothing was changed",
    ):
        project.upgrade()

    assert values(project) == ["A", "B", "C"]
    assert snapshot(project, "SELECT id, status::text FROM by_status ORDER BY id") == [
        (1, "A"),
        (2, "C"),
    ]


@CHANGES
def test_views_on_views_and_a_materialized_view_are_recreated_as_they_were(
    project: Project, change: tuple[str, str, list[str]]
) -> None:
    project.run_script(
        """DROP ROLE IF EXISTS enum_rewrite_reader;
        CREATE TYPE status AS ENUM ('A', 'B', 'C');
        CREATE TABLE things (id int PRIMARY KEY, status status NOT NULL);
        INSERT INTO things VALUES (1, 'A'), (2, 'C'), (3, 'A');
        CREATE VIEW open_things WITH (security_barrier) AS
            SELECT id, status FROM things WHERE status <> 'C';
        CREATE VIEW open_ids AS SELECT id FROM open_things;
        CREATE MATERIALIZED VIEW status_counts AS
            SELECT status, count(*) AS n FROM things GROUP BY status;
        CREATE UNIQUE INDEX status_counts_status ON status_counts (status);
        COMMENT ON VIEW open_things IS 'things not closed';
        COMMENT ON COLUMN open_things.status IS 'never C';
        COMMENT ON MATERIALIZED VIEW status_counts IS 'refreshed nightly';
        CREATE ROLE enum_rewrite_reader;
        GRANT SELECT ON open_ids, status_counts TO enum_rewrite_reader"""
    )
    try:
        after = write_change(project, change)
        upgrade_and_downgrade_keep(
            project,
            after,
            [
                "SELECT * FROM open_ids ORDER BY id",
                "SELECT id, status::text FROM open_things ORDER BY id",
                "SELECT status::text, n FROM status_counts ORDER BY 1",
                "SELECT relname, relkind::text, pg_get_viewdef(oid), reloptions::text[],"
                " relacl::text[], obj_description(oid, 'pg_class'), relispopulated"
                " FROM pg_class WHERE relkind IN ('v', 'm')"
                " AND relnamespace = 'public'::regnamespace"
                " ORDER BY 1",
                "SELECT col_description('open_things'::regclass, 2)",
                "SELECT pg_get_indexdef('status_counts_status'::regclass)",
            ],
        )
    finally:
        project.run_script("DROP OWNED BY enum_rewrite_reader; DROP ROLE enum_rewrite_reader")


def test_a_view_with_a_rule_is_refused_naming_what_would_be_lost(project: Project) -> None:
    project.run_script(
        """CREATE TYPE status AS ENUM ('A', 'B', 'C');
        CREATE TABLE things (id int, status status);
        CREATE VIEW things_view AS SELECT id, status FROM things;
        CREATE RULE no_delete AS ON DELETE TO things_view DO INSTEAD NOTHING"""
    )
    write_change(project, REMOVE)

    with pytest.raises(
        EnumMigrationError, match=r"recreating view public\.things_view.*would lose rule no_delete"
    ):
        project.upgrade()

    assert values(project) == ["A", "B", "C"]


@CHANGES
def test_a_domain_over_the_type_is_recreated_over_the_new_one(
    project: Project, change: tuple[str, str, list[str]]
) -> None:
    project.run_script(
        """CREATE SCHEMA kinds;
        CREATE TYPE status AS ENUM ('A', 'B', 'C');
        CREATE DOMAIN kinds.settled AS status NOT NULL DEFAULT 'C'
            CONSTRAINT settled_not_open CHECK (VALUE <> 'A' OR VALUE IS NULL);
        COMMENT ON DOMAIN kinds.settled IS 'a status once settled';
        CREATE TABLE things (id int, settled kinds.settled, history kinds.settled[]);
        INSERT INTO things VALUES (1, 'C', '{C}'), (2, DEFAULT, NULL)"""
    )
    after = write_change(project, change)

    upgrade_and_downgrade_keep(
        project,
        after,
        [
            "SELECT id, settled::text, history::text[] FROM things ORDER BY id",
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a"
            " WHERE a.attrelid = 'things'::regclass AND a.attnum > 0 ORDER BY a.attnum",
            "SELECT t.typnotnull, pg_get_expr(t.typdefaultbin, 0),"
            " format_type(t.typbasetype, NULL),"
            " obj_description(t.oid, 'pg_type') FROM pg_type t WHERE t.typname = 'settled'",
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE contypid = 'kinds.settled'::regtype ORDER BY 1",
        ],
    )
    with pytest.raises(Exception, match="settled_not_open"):
        project.sql("INSERT INTO things (id, settled) VALUES (3, 'A')")


@CHANGES
def test_a_generated_column_reading_the_type_is_computed_again(
    project: Project, change: tuple[str, str, list[str]]
) -> None:
    project.run_script(
        """CREATE TYPE status AS ENUM ('A', 'B', 'C');
        CREATE TABLE things (
            id int, status status NOT NULL,
            is_open boolean GENERATED ALWAYS AS (status <> 'C') STORED,
            after_a boolean GENERATED ALWAYS AS (status > 'A') STORED);
        INSERT INTO things (id, status) VALUES (1, 'A'), (2, 'C')"""
    )
    write_change(project, change)
    expressions = (
        "SELECT a.attname, a.attgenerated::text, pg_get_expr(d.adbin, d.adrelid)"
        " FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum"
        " ORDER BY 1"
    )
    before = snapshot(project, expressions)

    project.upgrade()

    assert snapshot(project, expressions) == before
    # is_open reads the value; after_a its place in the (new) order.
    rows = snapshot(project, "SELECT id, status::text, is_open, after_a FROM things ORDER BY id")
    if change is REORDER:  # C, B, A: C is no longer after A
        assert rows == [(1, "A", True, False), (2, "C", False, False)]
    else:  # A, C
        assert rows == [(1, "A", True, False), (2, "C", False, True)]
    project.downgrade()
    assert snapshot(project, expressions) == before
    assert snapshot(
        project, "SELECT id, status::text, is_open, after_a FROM things ORDER BY id"
    ) == [(1, "A", True, False), (2, "C", False, True)]


def test_an_offline_script_reaching_every_shape_prints_no_notice(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    project.run_script(
        """CREATE SCHEMA "Off Path";
        CREATE TYPE "Off Path"."Kind" AS ENUM ('A', 'B', 'C');
        CREATE DOMAIN "Off Path".settled AS "Off Path"."Kind" CHECK (VALUE <> 'A');
        CREATE TABLE "Off Path".parts (
            region int, kind "Off Path"."Kind" DEFAULT 'A', settled "Off Path".settled,
            is_a boolean GENERATED ALWAYS AS (kind = 'A') STORED
        ) PARTITION BY LIST (region);
        CREATE TABLE "Off Path".parts_1 PARTITION OF "Off Path".parts FOR VALUES IN (1);
        CREATE INDEX parts_c ON "Off Path".parts (region) WHERE kind = 'C';
        CREATE VIEW "Off Path".kinds AS SELECT kind FROM "Off Path".parts WHERE kind <> 'C';
        CREATE MATERIALIZED VIEW "Off Path".counts AS
            SELECT kind, count(*) FROM "Off Path".parts GROUP BY kind;
        INSERT INTO "Off Path".parts (region, kind, settled) VALUES (1, 'A', 'C'), (1, 'C', 'C')"""
    )
    project.write_revision("start", "pass", "pass")
    project.upgrade()
    write_change(project, REMOVE, "Kind", "Off Path")
    capsys.readouterr()

    command.upgrade(project.config, "r0:head", sql=True)
    script = capsys.readouterr().out
    notices = project.run_script(script)

    assert notices == []
    assert values(project, "Kind", "Off Path") == ["A", "C"]
    assert snapshot(project, 'SELECT kind::text, settled::text, is_a FROM "Off Path".parts') == [
        ("A", "C", True),
        ("C", "C", False),
    ]
    assert snapshot(project, 'SELECT kind::text, count FROM "Off Path".counts ORDER BY 1') == [
        ("A", 1),
        ("C", 1),
    ]


def test_a_function_over_the_type_is_refused_by_name(project: Project) -> None:
    project.run_script(
        """CREATE TYPE status AS ENUM ('A', 'B', 'C');
        CREATE TABLE things (id int, status status);
        CREATE FUNCTION is_open(status) RETURNS boolean LANGUAGE sql
            IMMUTABLE RETURN $1 <> 'C'"""
    )
    write_change(project, REORDER)

    with pytest.raises(
        EnumMigrationError,
        match=r"cannot rewrite enum status: function is_open\(status\) uses it, and this "
        r"rewrite cannot carry that over\. Nothing was changed",
    ):
        project.upgrade()

    assert values(project) == ["A", "B", "C"]


def test_a_revisions_own_lock_timeout_is_the_one_it_waits(project: Project) -> None:
    import time

    import sqlalchemy as sa

    from service.db.enum_migrations import LOCK_TIMEOUT

    assert LOCK_TIMEOUT == "5s"
    project.run_script(
        """CREATE TYPE status AS ENUM ('A', 'B', 'C');
        CREATE TABLE things (id int, status status);
        INSERT INTO things VALUES (1, 'A')"""
    )
    project.write_revision(
        "reorder",
        "enum_values.reorder_values('status', values=['C', 'B', 'A'], lock_timeout='300ms')",
        "enum_values.reorder_values('status', values=['A', 'B', 'C'])",
    )

    with project.reading("things"):
        started = time.monotonic()
        with pytest.raises(sa.exc.DBAPIError, match="lock timeout"):
            project.upgrade()
        waited = time.monotonic() - started

    assert waited < 3  # the revision's 300 ms, not LOCK_TIMEOUT's 5 s
    assert values(project) == ["A", "B", "C"]


def test_the_old_type_steps_aside_under_another_name_when_its_own_is_taken_or_too_long(
    project: Project,
) -> None:
    long_name = "a_status_whose_name_is_as_long_as_postgresql_lets_it_be_xyz"
    assert len(long_name) == 59  # <name>__old would not fit in 63 bytes
    project.run_script(
        f"""CREATE TYPE {long_name} AS ENUM ('A', 'B', 'C');
        CREATE TYPE status AS ENUM ('A', 'B', 'C');
        CREATE TABLE status__old (id int);
        CREATE DOMAIN settled AS status;
        CREATE TABLE settled__old (id int);
        CREATE TABLE things (id int, long {long_name}, status status, settled settled);
        INSERT INTO things VALUES (1, 'A', 'C', 'C')"""
    )
    project.write_revision(
        "reorder both",
        f"enum_values.reorder_values({long_name!r}, values=['C', 'B', 'A'])\n"
        "    enum_values.remove_value('status', 'B', values=['A', 'C'])",
        "enum_values.add_value('status', 'B', after='A')\n"
        f"    enum_values.reorder_values({long_name!r}, values=['A', 'B', 'C'])",
    )

    project.upgrade()

    assert values(project, long_name) == ["C", "B", "A"]
    assert values(project) == ["A", "C"]
    assert snapshot(project, "SELECT long::text, status::text, settled::text FROM things") == [
        ("A", "C", "C")
    ]
    assert snapshot(project, "SELECT count(*) FROM status__old, settled__old") == [(0,)]
    project.downgrade()
    assert values(project, long_name) == ["A", "B", "C"]
    assert values(project) == ["A", "B", "C"]
