"""The online way to remove or reorder enum values: `remove_value(..., online=True)` and
`reorder_values(..., online=True)`, for a big table that must stay readable and writable.

The default way converts the column with ALTER COLUMN ... TYPE: one statement that rewrites the
table and its indexes under an ACCESS EXCLUSIVE lock, so nothing reads or writes the table
until the revision commits (seconds per million rows). The online way (online.sql) instead:

1. prepare, in the revision's transaction: refuses, changing nothing, anything but one plain
   column of one plain table with a single-column primary key (arrays, indexes, constraints,
   views, partitions, inheritance, other columns of the type, functions or domains using it),
   and refuses while rows hold the removed value. Then creates the new type as `<type>__new`,
   adds a nullable column `<column>__new` of it (no default, so no rewrite) and a trigger that
   keeps it in step on every INSERT and every UPDATE of the column. Catalog changes only: a
   brief ACCESS EXCLUSIVE lock, under the lock timeout. Then the revision's transaction is
   committed. The new type and the trigger's function carry a comment that marks them as this
   migration's: a rerun drops only such leftovers.
2. fill, outside any transaction (Alembic's autocommit block): copies the existing rows in
   batches of BATCH_ROWS by primary key, each batch its own short transaction. Readers are
   never blocked; a writer waits only for the batch holding its row (row locks, released at
   each batch's commit). Then, if the column is NOT NULL, a CHECK (... IS NOT NULL) NOT VALID
   (a brief ACCESS EXCLUSIVE lock, committed at once) and its VALIDATE (a scan that blocks
   neither reads nor writes).
3. swap, in a new transaction that also records the revision: under ACCESS EXCLUSIVE, drops
   the trigger and the old column, renames the new column, sets NOT NULL (the validated CHECK
   spares the scan), drops the old type, renames the new type and restores the default. No scan,
   no rewrite: readers and writers wait for milliseconds.

Batches cannot commit inside a revision's own transaction: there, the first ALTER TABLE would
hold its ACCESS EXCLUSIVE lock until the end, and the fill would lock every row until the end;
nothing would be gained over the default way. That is why the revision's transaction is
committed after step 1, and why this costs what it costs:

- Not atomic. Operations before it in the same revision are committed with step 1: give an
  online operation a revision of its own. Running the revision again starts over (step 1 drops
  what an interrupted run left).
- The column moves to the end of the table: `SELECT *` and COPY without a column list see a
  new order (the models name their columns, so the service does not mind).
- More disk during the fill: every row is updated once, so the table holds a dead version of
  each until vacuum, and the dropped column's bytes stay in each row until it is next written.
  The new column has no statistics until ANALYZE (autovacuum will get to it).
- Writes of a value being removed fail from step 1 on (the trigger cannot cast it).
- Slower in total: every row is written once more, in small transactions, plus the validation
  scan (docs/benchmarks.md: 4-8 times the default way's time on 1,000,000 rows).
- Steps 1 and 3 (and the CHECK) queue for their lock behind any transaction using the table,
  autovacuum included, and everything else queues behind them, for up to the lock timeout
  (LOCK_TIMEOUT) before they give up: run it when no long transaction is open on the table, as
  with the default way.
- Offline (--sql) scripts hold it as COMMIT, the fill, BEGIN: psql runs them (one statement at
  a time); a client sending the whole script as one query string cannot, since the fill commits.
- Interrupted (an error, a lost connection, the lock timeout) after step 1: the revision is not
  recorded, and the new column, type and trigger stay, kept in step, until it is run again.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from importlib import resources

from alembic.operations import Operations

from service.db.enum_migrations.plan import RemoveEnumValueOp, ReorderEnumValuesOp

BATCH_ROWS = 10_000  # rows per fill transaction: each batch holds its rows' locks this long


@functools.cache
def _steps() -> dict[str, str]:
    """online.sql by step: {"prepare": ..., "fill": ..., "swap": ...}."""
    text = resources.files(__package__).joinpath("online.sql").read_text()
    steps = {}
    for part in text.split("-- step: ")[1:]:
        name, _, sql = part.partition("\n")
        steps[name.strip()] = sql.strip()
    return steps


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def online_sql(
    type_name: str,
    schema: str | None,
    values: list[str],
    *,
    removing: str | None = None,
    lock_timeout: str,
) -> tuple[str, str, str]:
    """The prepare, fill and swap blocks that recreate the type with `values` online."""
    literals = [type_name, *(schema or "",), *values, removing or ""]
    if any("$enum_online$" in literal or "$sync$" in literal for literal in literals):
        raise ValueError("a name or value contains '$enum_online$' or '$sync$'")
    fields = {
        "schema": _literal(schema) if schema else "NULL",
        "name": _literal(type_name),
        "removing": _literal(removing) if removing is not None else "NULL",
        "values": ", ".join(_literal(v) for v in values),
        "lock_timeout": _literal(lock_timeout),
        "batch_rows": str(BATCH_ROWS),
    }
    steps = _steps()
    prepare, fill, swap = (steps[name].format(**fields) for name in ("prepare", "fill", "swap"))
    return prepare, fill, swap


def convert_online(
    operations: Operations,
    op: RemoveEnumValueOp | ReorderEnumValuesOp,
    *,
    execute: Callable[[Operations, str], None],
    lock_timeout: str,
) -> None:
    """Run the three steps; `execute` runs one block and turns its refusals into errors."""
    removing = op.value if isinstance(op, RemoveEnumValueOp) else None
    prepare, fill, swap = online_sql(
        op.type_name, op.schema, op.values, removing=removing, lock_timeout=lock_timeout
    )
    execute(operations, prepare)
    with operations.get_context().autocommit_block():
        execute(operations, fill)
    execute(operations, swap)
