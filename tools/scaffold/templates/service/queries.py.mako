"""Every SQL statement of the ${p} resource.

Written with SQLAlchemy Core on the typed model; `make generate` compiles them into sql.py,
which storage.py runs (service/db/queries.py says how, and service/db/statements.py why). Edit
them here, then `make generate`; never sql.py.

Writes return the row they changed (`RETURNING`), so each is one round trip and atomic without
an explicit transaction.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy import Integer, and_, bindparam, delete, func, insert, or_, select, update

from service.db.queries import Query, subsets, variants
from service.${p}.domain import MUTABLE_FIELDS, ${S}
from service.${p}.models import ${S} as Table

# Every statement returns the columns named by the domain's fields, and each Query makes its
# rows domain objects by name; when it is built, it checks each field against its column.
COLUMNS = tuple(Table.__table__.c[field.name] for field in dataclasses.fields(${S}))


GET = Query(select(*COLUMNS).where(Table.id == bindparam("id")), ${S})
INSERT = Query(
    insert(Table)
    .values(id=bindparam("id"), display_name=bindparam("display_name"), state=bindparam("state"))
    .returning(*COLUMNS),
    ${S},
)
DELETE = Query(delete(Table).where(Table.id == bindparam("id")).returning(*COLUMNS), ${S})
_PAGE = select(*COLUMNS).order_by(Table.create_time, Table.id).limit(bindparam("limit", Integer))
FIRST_PAGE = Query(_PAGE, ${S})
NEXT_PAGE = Query(
    _PAGE.where(
        or_(
            Table.create_time > bindparam("after_time"),
            and_(Table.create_time == bindparam("after_time"), Table.id > bindparam("after_id")),
        )
    ),
    ${S},
)


@variants(fields=subsets(MUTABLE_FIELDS))
def update_row(fields: tuple[str, ...]) -> Query[${S}]:
    """Set these fields (each a parameter of its name) and update_time, on the row `id`."""
    values: dict[str, object] = {"update_time": func.now()}
    values.update({field: bindparam(field) for field in fields})
    statement = update(Table).where(Table.id == bindparam("id")).values(values)
    return Query(statement.returning(*COLUMNS), ${S})
