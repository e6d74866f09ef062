"""The statements of service/invitations/queries.py, compiled by `make generate` (tools/sql.py): do not edit.

The server runs these; tests/tools/test_sql.py checks they are what queries.py
compiles to now.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from generated.invitations.v1.invitations_enums import InvitationStatus, Role
from service.db.statements import Statement, enum_reader, enum_writer
from service.invitations.domain import Invitation

if TYPE_CHECKING:
    from service.db.statements import Record

_read_role = enum_reader(Role)
_read_invitation_status = enum_reader(InvitationStatus)
_write_invitation_role = enum_writer(Role, "invitation_role")
_write_invitation_status = enum_writer(InvitationStatus, "invitation_status")
_invitation_columns = (
    ("id", "uuid"),
    ("email", None),
    ("role", None),
    ("status", None),
    ("create_time", "datetime"),
    ("update_time", "datetime"),
    ("expire_time", "datetime"),
)


def _invitation(record: Record) -> Invitation:
    return Invitation(
        record[0],
        record[1],
        _read_role(record[2]),
        _read_invitation_status(record[3]),
        record[4],
        record[5],
        record[6],
    )


GET: Statement[Invitation] = Statement(
    "SELECT invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time \n"
    "FROM invitations \n"
    "WHERE invitations.id = $1::UUID",
    (("id", None),),
    _invitation,
    _invitation_columns,
)


INSERT: Statement[Invitation] = Statement(
    "WITH changed AS \n"
    "(INSERT INTO invitations (id, email, role, status, expire_time) VALUES ($1::UUID, $2::VARCHAR, $3::invitation_role, $4::invitation_status, $5::TIMESTAMP WITH TIME ZONE) RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
    " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'CREATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
    "FROM changed",
    (
        ("id", None),
        ("email", None),
        ("role", _write_invitation_role),
        ("status", _write_invitation_status),
        ("expire_time", None),
    ),
    _invitation,
    _invitation_columns,
)


DELETE: Statement[Invitation] = Statement(
    "WITH changed AS \n"
    "(DELETE FROM invitations WHERE invitations.id = $1::UUID RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
    " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'DELETED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
    "FROM changed",
    (("id", None),),
    _invitation,
    _invitation_columns,
)


_LIST_PAGE: dict[tuple[object, ...], Statement[Invitation]] = {
    (False, False): Statement(
        "SELECT invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time \n"
        "FROM invitations ORDER BY invitations.create_time, invitations.id \n"
        " LIMIT $1::INTEGER",
        (("limit", None),),
        _invitation,
        _invitation_columns,
    ),
    (False, True): Statement(
        "SELECT invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time \n"
        "FROM invitations \n"
        "WHERE invitations.create_time > $1::TIMESTAMP WITH TIME ZONE OR invitations.create_time = $1::TIMESTAMP WITH TIME ZONE AND invitations.id > $2::UUID ORDER BY invitations.create_time, invitations.id \n"
        " LIMIT $3::INTEGER",
        (("after_time", None), ("after_id", None), ("limit", None)),
        _invitation,
        _invitation_columns,
    ),
    (True, False): Statement(
        "SELECT invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time \n"
        "FROM invitations \n"
        "WHERE invitations.status = $1::invitation_status ORDER BY invitations.create_time, invitations.id \n"
        " LIMIT $2::INTEGER",
        (("status", _write_invitation_status), ("limit", None)),
        _invitation,
        _invitation_columns,
    ),
    (True, True): Statement(
        "SELECT invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time \n"
        "FROM invitations \n"
        "WHERE invitations.status = $1::invitation_status AND (invitations.create_time > $2::TIMESTAMP WITH TIME ZONE OR invitations.create_time = $2::TIMESTAMP WITH TIME ZONE AND invitations.id > $3::UUID) ORDER BY invitations.create_time, invitations.id \n"
        " LIMIT $4::INTEGER",
        (
            ("status", _write_invitation_status),
            ("after_time", None),
            ("after_id", None),
            ("limit", None),
        ),
        _invitation,
        _invitation_columns,
    ),
}


def list_page(by_status: bool, after_cursor: bool) -> Statement[Invitation]:
    return _LIST_PAGE[by_status, after_cursor]


_UPDATE_ROW: dict[tuple[object, ...], Statement[Invitation]] = {
    ((), False, False): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET update_time=now() WHERE invitations.id = $1::UUID RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (("id", None),),
        _invitation,
        _invitation_columns,
    ),
    ((), False, True): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET update_time=now() WHERE invitations.id = $1::UUID AND (invitations.expire_time IS NULL OR invitations.expire_time > now()) RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (("id", None),),
        _invitation,
        _invitation_columns,
    ),
    ((), True, False): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET update_time=now() WHERE invitations.id = $1::UUID AND invitations.status = $2::invitation_status RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (("id", None), ("only_from", _write_invitation_status)),
        _invitation,
        _invitation_columns,
    ),
    ((), True, True): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET update_time=now() WHERE invitations.id = $1::UUID AND invitations.status = $2::invitation_status AND (invitations.expire_time IS NULL OR invitations.expire_time > now()) RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (("id", None), ("only_from", _write_invitation_status)),
        _invitation,
        _invitation_columns,
    ),
    (("status",), False, False): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET status=$1::invitation_status, update_time=now() WHERE invitations.id = $2::UUID RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (("set_status", _write_invitation_status), ("id", None)),
        _invitation,
        _invitation_columns,
    ),
    (("status",), False, True): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET status=$1::invitation_status, update_time=now() WHERE invitations.id = $2::UUID AND (invitations.expire_time IS NULL OR invitations.expire_time > now()) RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (("set_status", _write_invitation_status), ("id", None)),
        _invitation,
        _invitation_columns,
    ),
    (("status",), True, False): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET status=$1::invitation_status, update_time=now() WHERE invitations.id = $2::UUID AND invitations.status = $3::invitation_status RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (
            ("set_status", _write_invitation_status),
            ("id", None),
            ("only_from", _write_invitation_status),
        ),
        _invitation,
        _invitation_columns,
    ),
    (("status",), True, True): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET status=$1::invitation_status, update_time=now() WHERE invitations.id = $2::UUID AND invitations.status = $3::invitation_status AND (invitations.expire_time IS NULL OR invitations.expire_time > now()) RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (
            ("set_status", _write_invitation_status),
            ("id", None),
            ("only_from", _write_invitation_status),
        ),
        _invitation,
        _invitation_columns,
    ),
    (("expire_time",), False, False): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET update_time=now(), expire_time=$1::TIMESTAMP WITH TIME ZONE WHERE invitations.id = $2::UUID RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (("set_expire_time", None), ("id", None)),
        _invitation,
        _invitation_columns,
    ),
    (("expire_time",), False, True): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET update_time=now(), expire_time=$1::TIMESTAMP WITH TIME ZONE WHERE invitations.id = $2::UUID AND (invitations.expire_time IS NULL OR invitations.expire_time > now()) RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (("set_expire_time", None), ("id", None)),
        _invitation,
        _invitation_columns,
    ),
    (("expire_time",), True, False): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET update_time=now(), expire_time=$1::TIMESTAMP WITH TIME ZONE WHERE invitations.id = $2::UUID AND invitations.status = $3::invitation_status RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (("set_expire_time", None), ("id", None), ("only_from", _write_invitation_status)),
        _invitation,
        _invitation_columns,
    ),
    (("expire_time",), True, True): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET update_time=now(), expire_time=$1::TIMESTAMP WITH TIME ZONE WHERE invitations.id = $2::UUID AND invitations.status = $3::invitation_status AND (invitations.expire_time IS NULL OR invitations.expire_time > now()) RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (("set_expire_time", None), ("id", None), ("only_from", _write_invitation_status)),
        _invitation,
        _invitation_columns,
    ),
    (("expire_time", "status"), False, False): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET status=$1::invitation_status, update_time=now(), expire_time=$2::TIMESTAMP WITH TIME ZONE WHERE invitations.id = $3::UUID RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (("set_status", _write_invitation_status), ("set_expire_time", None), ("id", None)),
        _invitation,
        _invitation_columns,
    ),
    (("expire_time", "status"), False, True): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET status=$1::invitation_status, update_time=now(), expire_time=$2::TIMESTAMP WITH TIME ZONE WHERE invitations.id = $3::UUID AND (invitations.expire_time IS NULL OR invitations.expire_time > now()) RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (("set_status", _write_invitation_status), ("set_expire_time", None), ("id", None)),
        _invitation,
        _invitation_columns,
    ),
    (("expire_time", "status"), True, False): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET status=$1::invitation_status, update_time=now(), expire_time=$2::TIMESTAMP WITH TIME ZONE WHERE invitations.id = $3::UUID AND invitations.status = $4::invitation_status RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (
            ("set_status", _write_invitation_status),
            ("set_expire_time", None),
            ("id", None),
            ("only_from", _write_invitation_status),
        ),
        _invitation,
        _invitation_columns,
    ),
    (("expire_time", "status"), True, True): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET status=$1::invitation_status, update_time=now(), expire_time=$2::TIMESTAMP WITH TIME ZONE WHERE invitations.id = $3::UUID AND invitations.status = $4::invitation_status AND (invitations.expire_time IS NULL OR invitations.expire_time > now()) RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (
            ("set_status", _write_invitation_status),
            ("set_expire_time", None),
            ("id", None),
            ("only_from", _write_invitation_status),
        ),
        _invitation,
        _invitation_columns,
    ),
    (("role",), False, False): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET role=$1::invitation_role, update_time=now() WHERE invitations.id = $2::UUID RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (("set_role", _write_invitation_role), ("id", None)),
        _invitation,
        _invitation_columns,
    ),
    (("role",), False, True): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET role=$1::invitation_role, update_time=now() WHERE invitations.id = $2::UUID AND (invitations.expire_time IS NULL OR invitations.expire_time > now()) RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (("set_role", _write_invitation_role), ("id", None)),
        _invitation,
        _invitation_columns,
    ),
    (("role",), True, False): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET role=$1::invitation_role, update_time=now() WHERE invitations.id = $2::UUID AND invitations.status = $3::invitation_status RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (
            ("set_role", _write_invitation_role),
            ("id", None),
            ("only_from", _write_invitation_status),
        ),
        _invitation,
        _invitation_columns,
    ),
    (("role",), True, True): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET role=$1::invitation_role, update_time=now() WHERE invitations.id = $2::UUID AND invitations.status = $3::invitation_status AND (invitations.expire_time IS NULL OR invitations.expire_time > now()) RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (
            ("set_role", _write_invitation_role),
            ("id", None),
            ("only_from", _write_invitation_status),
        ),
        _invitation,
        _invitation_columns,
    ),
    (("role", "status"), False, False): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET role=$1::invitation_role, status=$2::invitation_status, update_time=now() WHERE invitations.id = $3::UUID RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (
            ("set_role", _write_invitation_role),
            ("set_status", _write_invitation_status),
            ("id", None),
        ),
        _invitation,
        _invitation_columns,
    ),
    (("role", "status"), False, True): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET role=$1::invitation_role, status=$2::invitation_status, update_time=now() WHERE invitations.id = $3::UUID AND (invitations.expire_time IS NULL OR invitations.expire_time > now()) RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (
            ("set_role", _write_invitation_role),
            ("set_status", _write_invitation_status),
            ("id", None),
        ),
        _invitation,
        _invitation_columns,
    ),
    (("role", "status"), True, False): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET role=$1::invitation_role, status=$2::invitation_status, update_time=now() WHERE invitations.id = $3::UUID AND invitations.status = $4::invitation_status RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (
            ("set_role", _write_invitation_role),
            ("set_status", _write_invitation_status),
            ("id", None),
            ("only_from", _write_invitation_status),
        ),
        _invitation,
        _invitation_columns,
    ),
    (("role", "status"), True, True): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET role=$1::invitation_role, status=$2::invitation_status, update_time=now() WHERE invitations.id = $3::UUID AND invitations.status = $4::invitation_status AND (invitations.expire_time IS NULL OR invitations.expire_time > now()) RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (
            ("set_role", _write_invitation_role),
            ("set_status", _write_invitation_status),
            ("id", None),
            ("only_from", _write_invitation_status),
        ),
        _invitation,
        _invitation_columns,
    ),
    (("role", "expire_time"), False, False): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET role=$1::invitation_role, update_time=now(), expire_time=$2::TIMESTAMP WITH TIME ZONE WHERE invitations.id = $3::UUID RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (("set_role", _write_invitation_role), ("set_expire_time", None), ("id", None)),
        _invitation,
        _invitation_columns,
    ),
    (("role", "expire_time"), False, True): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET role=$1::invitation_role, update_time=now(), expire_time=$2::TIMESTAMP WITH TIME ZONE WHERE invitations.id = $3::UUID AND (invitations.expire_time IS NULL OR invitations.expire_time > now()) RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (("set_role", _write_invitation_role), ("set_expire_time", None), ("id", None)),
        _invitation,
        _invitation_columns,
    ),
    (("role", "expire_time"), True, False): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET role=$1::invitation_role, update_time=now(), expire_time=$2::TIMESTAMP WITH TIME ZONE WHERE invitations.id = $3::UUID AND invitations.status = $4::invitation_status RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (
            ("set_role", _write_invitation_role),
            ("set_expire_time", None),
            ("id", None),
            ("only_from", _write_invitation_status),
        ),
        _invitation,
        _invitation_columns,
    ),
    (("role", "expire_time"), True, True): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET role=$1::invitation_role, update_time=now(), expire_time=$2::TIMESTAMP WITH TIME ZONE WHERE invitations.id = $3::UUID AND invitations.status = $4::invitation_status AND (invitations.expire_time IS NULL OR invitations.expire_time > now()) RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (
            ("set_role", _write_invitation_role),
            ("set_expire_time", None),
            ("id", None),
            ("only_from", _write_invitation_status),
        ),
        _invitation,
        _invitation_columns,
    ),
    (("role", "expire_time", "status"), False, False): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET role=$1::invitation_role, status=$2::invitation_status, update_time=now(), expire_time=$3::TIMESTAMP WITH TIME ZONE WHERE invitations.id = $4::UUID RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (
            ("set_role", _write_invitation_role),
            ("set_status", _write_invitation_status),
            ("set_expire_time", None),
            ("id", None),
        ),
        _invitation,
        _invitation_columns,
    ),
    (("role", "expire_time", "status"), False, True): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET role=$1::invitation_role, status=$2::invitation_status, update_time=now(), expire_time=$3::TIMESTAMP WITH TIME ZONE WHERE invitations.id = $4::UUID AND (invitations.expire_time IS NULL OR invitations.expire_time > now()) RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (
            ("set_role", _write_invitation_role),
            ("set_status", _write_invitation_status),
            ("set_expire_time", None),
            ("id", None),
        ),
        _invitation,
        _invitation_columns,
    ),
    (("role", "expire_time", "status"), True, False): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET role=$1::invitation_role, status=$2::invitation_status, update_time=now(), expire_time=$3::TIMESTAMP WITH TIME ZONE WHERE invitations.id = $4::UUID AND invitations.status = $5::invitation_status RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (
            ("set_role", _write_invitation_role),
            ("set_status", _write_invitation_status),
            ("set_expire_time", None),
            ("id", None),
            ("only_from", _write_invitation_status),
        ),
        _invitation,
        _invitation_columns,
    ),
    (("role", "expire_time", "status"), True, True): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET role=$1::invitation_role, status=$2::invitation_status, update_time=now(), expire_time=$3::TIMESTAMP WITH TIME ZONE WHERE invitations.id = $4::UUID AND invitations.status = $5::invitation_status AND (invitations.expire_time IS NULL OR invitations.expire_time > now()) RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (
            ("set_role", _write_invitation_role),
            ("set_status", _write_invitation_status),
            ("set_expire_time", None),
            ("id", None),
            ("only_from", _write_invitation_status),
        ),
        _invitation,
        _invitation_columns,
    ),
    (("email",), False, False): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET email=$1::VARCHAR, update_time=now() WHERE invitations.id = $2::UUID RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (("set_email", None), ("id", None)),
        _invitation,
        _invitation_columns,
    ),
    (("email",), False, True): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET email=$1::VARCHAR, update_time=now() WHERE invitations.id = $2::UUID AND (invitations.expire_time IS NULL OR invitations.expire_time > now()) RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (("set_email", None), ("id", None)),
        _invitation,
        _invitation_columns,
    ),
    (("email",), True, False): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET email=$1::VARCHAR, update_time=now() WHERE invitations.id = $2::UUID AND invitations.status = $3::invitation_status RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (("set_email", None), ("id", None), ("only_from", _write_invitation_status)),
        _invitation,
        _invitation_columns,
    ),
    (("email",), True, True): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET email=$1::VARCHAR, update_time=now() WHERE invitations.id = $2::UUID AND invitations.status = $3::invitation_status AND (invitations.expire_time IS NULL OR invitations.expire_time > now()) RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (("set_email", None), ("id", None), ("only_from", _write_invitation_status)),
        _invitation,
        _invitation_columns,
    ),
    (("email", "status"), False, False): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET email=$1::VARCHAR, status=$2::invitation_status, update_time=now() WHERE invitations.id = $3::UUID RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (("set_email", None), ("set_status", _write_invitation_status), ("id", None)),
        _invitation,
        _invitation_columns,
    ),
    (("email", "status"), False, True): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET email=$1::VARCHAR, status=$2::invitation_status, update_time=now() WHERE invitations.id = $3::UUID AND (invitations.expire_time IS NULL OR invitations.expire_time > now()) RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (("set_email", None), ("set_status", _write_invitation_status), ("id", None)),
        _invitation,
        _invitation_columns,
    ),
    (("email", "status"), True, False): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET email=$1::VARCHAR, status=$2::invitation_status, update_time=now() WHERE invitations.id = $3::UUID AND invitations.status = $4::invitation_status RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (
            ("set_email", None),
            ("set_status", _write_invitation_status),
            ("id", None),
            ("only_from", _write_invitation_status),
        ),
        _invitation,
        _invitation_columns,
    ),
    (("email", "status"), True, True): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET email=$1::VARCHAR, status=$2::invitation_status, update_time=now() WHERE invitations.id = $3::UUID AND invitations.status = $4::invitation_status AND (invitations.expire_time IS NULL OR invitations.expire_time > now()) RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (
            ("set_email", None),
            ("set_status", _write_invitation_status),
            ("id", None),
            ("only_from", _write_invitation_status),
        ),
        _invitation,
        _invitation_columns,
    ),
    (("email", "expire_time"), False, False): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET email=$1::VARCHAR, update_time=now(), expire_time=$2::TIMESTAMP WITH TIME ZONE WHERE invitations.id = $3::UUID RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (("set_email", None), ("set_expire_time", None), ("id", None)),
        _invitation,
        _invitation_columns,
    ),
    (("email", "expire_time"), False, True): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET email=$1::VARCHAR, update_time=now(), expire_time=$2::TIMESTAMP WITH TIME ZONE WHERE invitations.id = $3::UUID AND (invitations.expire_time IS NULL OR invitations.expire_time > now()) RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (("set_email", None), ("set_expire_time", None), ("id", None)),
        _invitation,
        _invitation_columns,
    ),
    (("email", "expire_time"), True, False): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET email=$1::VARCHAR, update_time=now(), expire_time=$2::TIMESTAMP WITH TIME ZONE WHERE invitations.id = $3::UUID AND invitations.status = $4::invitation_status RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (
            ("set_email", None),
            ("set_expire_time", None),
            ("id", None),
            ("only_from", _write_invitation_status),
        ),
        _invitation,
        _invitation_columns,
    ),
    (("email", "expire_time"), True, True): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET email=$1::VARCHAR, update_time=now(), expire_time=$2::TIMESTAMP WITH TIME ZONE WHERE invitations.id = $3::UUID AND invitations.status = $4::invitation_status AND (invitations.expire_time IS NULL OR invitations.expire_time > now()) RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (
            ("set_email", None),
            ("set_expire_time", None),
            ("id", None),
            ("only_from", _write_invitation_status),
        ),
        _invitation,
        _invitation_columns,
    ),
    (("email", "expire_time", "status"), False, False): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET email=$1::VARCHAR, status=$2::invitation_status, update_time=now(), expire_time=$3::TIMESTAMP WITH TIME ZONE WHERE invitations.id = $4::UUID RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (
            ("set_email", None),
            ("set_status", _write_invitation_status),
            ("set_expire_time", None),
            ("id", None),
        ),
        _invitation,
        _invitation_columns,
    ),
    (("email", "expire_time", "status"), False, True): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET email=$1::VARCHAR, status=$2::invitation_status, update_time=now(), expire_time=$3::TIMESTAMP WITH TIME ZONE WHERE invitations.id = $4::UUID AND (invitations.expire_time IS NULL OR invitations.expire_time > now()) RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (
            ("set_email", None),
            ("set_status", _write_invitation_status),
            ("set_expire_time", None),
            ("id", None),
        ),
        _invitation,
        _invitation_columns,
    ),
    (("email", "expire_time", "status"), True, False): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET email=$1::VARCHAR, status=$2::invitation_status, update_time=now(), expire_time=$3::TIMESTAMP WITH TIME ZONE WHERE invitations.id = $4::UUID AND invitations.status = $5::invitation_status RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (
            ("set_email", None),
            ("set_status", _write_invitation_status),
            ("set_expire_time", None),
            ("id", None),
            ("only_from", _write_invitation_status),
        ),
        _invitation,
        _invitation_columns,
    ),
    (("email", "expire_time", "status"), True, True): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET email=$1::VARCHAR, status=$2::invitation_status, update_time=now(), expire_time=$3::TIMESTAMP WITH TIME ZONE WHERE invitations.id = $4::UUID AND invitations.status = $5::invitation_status AND (invitations.expire_time IS NULL OR invitations.expire_time > now()) RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (
            ("set_email", None),
            ("set_status", _write_invitation_status),
            ("set_expire_time", None),
            ("id", None),
            ("only_from", _write_invitation_status),
        ),
        _invitation,
        _invitation_columns,
    ),
    (("email", "role"), False, False): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET email=$1::VARCHAR, role=$2::invitation_role, update_time=now() WHERE invitations.id = $3::UUID RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (("set_email", None), ("set_role", _write_invitation_role), ("id", None)),
        _invitation,
        _invitation_columns,
    ),
    (("email", "role"), False, True): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET email=$1::VARCHAR, role=$2::invitation_role, update_time=now() WHERE invitations.id = $3::UUID AND (invitations.expire_time IS NULL OR invitations.expire_time > now()) RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (("set_email", None), ("set_role", _write_invitation_role), ("id", None)),
        _invitation,
        _invitation_columns,
    ),
    (("email", "role"), True, False): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET email=$1::VARCHAR, role=$2::invitation_role, update_time=now() WHERE invitations.id = $3::UUID AND invitations.status = $4::invitation_status RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (
            ("set_email", None),
            ("set_role", _write_invitation_role),
            ("id", None),
            ("only_from", _write_invitation_status),
        ),
        _invitation,
        _invitation_columns,
    ),
    (("email", "role"), True, True): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET email=$1::VARCHAR, role=$2::invitation_role, update_time=now() WHERE invitations.id = $3::UUID AND invitations.status = $4::invitation_status AND (invitations.expire_time IS NULL OR invitations.expire_time > now()) RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (
            ("set_email", None),
            ("set_role", _write_invitation_role),
            ("id", None),
            ("only_from", _write_invitation_status),
        ),
        _invitation,
        _invitation_columns,
    ),
    (("email", "role", "status"), False, False): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET email=$1::VARCHAR, role=$2::invitation_role, status=$3::invitation_status, update_time=now() WHERE invitations.id = $4::UUID RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (
            ("set_email", None),
            ("set_role", _write_invitation_role),
            ("set_status", _write_invitation_status),
            ("id", None),
        ),
        _invitation,
        _invitation_columns,
    ),
    (("email", "role", "status"), False, True): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET email=$1::VARCHAR, role=$2::invitation_role, status=$3::invitation_status, update_time=now() WHERE invitations.id = $4::UUID AND (invitations.expire_time IS NULL OR invitations.expire_time > now()) RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (
            ("set_email", None),
            ("set_role", _write_invitation_role),
            ("set_status", _write_invitation_status),
            ("id", None),
        ),
        _invitation,
        _invitation_columns,
    ),
    (("email", "role", "status"), True, False): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET email=$1::VARCHAR, role=$2::invitation_role, status=$3::invitation_status, update_time=now() WHERE invitations.id = $4::UUID AND invitations.status = $5::invitation_status RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (
            ("set_email", None),
            ("set_role", _write_invitation_role),
            ("set_status", _write_invitation_status),
            ("id", None),
            ("only_from", _write_invitation_status),
        ),
        _invitation,
        _invitation_columns,
    ),
    (("email", "role", "status"), True, True): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET email=$1::VARCHAR, role=$2::invitation_role, status=$3::invitation_status, update_time=now() WHERE invitations.id = $4::UUID AND invitations.status = $5::invitation_status AND (invitations.expire_time IS NULL OR invitations.expire_time > now()) RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (
            ("set_email", None),
            ("set_role", _write_invitation_role),
            ("set_status", _write_invitation_status),
            ("id", None),
            ("only_from", _write_invitation_status),
        ),
        _invitation,
        _invitation_columns,
    ),
    (("email", "role", "expire_time"), False, False): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET email=$1::VARCHAR, role=$2::invitation_role, update_time=now(), expire_time=$3::TIMESTAMP WITH TIME ZONE WHERE invitations.id = $4::UUID RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (
            ("set_email", None),
            ("set_role", _write_invitation_role),
            ("set_expire_time", None),
            ("id", None),
        ),
        _invitation,
        _invitation_columns,
    ),
    (("email", "role", "expire_time"), False, True): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET email=$1::VARCHAR, role=$2::invitation_role, update_time=now(), expire_time=$3::TIMESTAMP WITH TIME ZONE WHERE invitations.id = $4::UUID AND (invitations.expire_time IS NULL OR invitations.expire_time > now()) RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (
            ("set_email", None),
            ("set_role", _write_invitation_role),
            ("set_expire_time", None),
            ("id", None),
        ),
        _invitation,
        _invitation_columns,
    ),
    (("email", "role", "expire_time"), True, False): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET email=$1::VARCHAR, role=$2::invitation_role, update_time=now(), expire_time=$3::TIMESTAMP WITH TIME ZONE WHERE invitations.id = $4::UUID AND invitations.status = $5::invitation_status RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (
            ("set_email", None),
            ("set_role", _write_invitation_role),
            ("set_expire_time", None),
            ("id", None),
            ("only_from", _write_invitation_status),
        ),
        _invitation,
        _invitation_columns,
    ),
    (("email", "role", "expire_time"), True, True): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET email=$1::VARCHAR, role=$2::invitation_role, update_time=now(), expire_time=$3::TIMESTAMP WITH TIME ZONE WHERE invitations.id = $4::UUID AND invitations.status = $5::invitation_status AND (invitations.expire_time IS NULL OR invitations.expire_time > now()) RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (
            ("set_email", None),
            ("set_role", _write_invitation_role),
            ("set_expire_time", None),
            ("id", None),
            ("only_from", _write_invitation_status),
        ),
        _invitation,
        _invitation_columns,
    ),
    (("email", "role", "expire_time", "status"), False, False): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET email=$1::VARCHAR, role=$2::invitation_role, status=$3::invitation_status, update_time=now(), expire_time=$4::TIMESTAMP WITH TIME ZONE WHERE invitations.id = $5::UUID RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (
            ("set_email", None),
            ("set_role", _write_invitation_role),
            ("set_status", _write_invitation_status),
            ("set_expire_time", None),
            ("id", None),
        ),
        _invitation,
        _invitation_columns,
    ),
    (("email", "role", "expire_time", "status"), False, True): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET email=$1::VARCHAR, role=$2::invitation_role, status=$3::invitation_status, update_time=now(), expire_time=$4::TIMESTAMP WITH TIME ZONE WHERE invitations.id = $5::UUID AND (invitations.expire_time IS NULL OR invitations.expire_time > now()) RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (
            ("set_email", None),
            ("set_role", _write_invitation_role),
            ("set_status", _write_invitation_status),
            ("set_expire_time", None),
            ("id", None),
        ),
        _invitation,
        _invitation_columns,
    ),
    (("email", "role", "expire_time", "status"), True, False): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET email=$1::VARCHAR, role=$2::invitation_role, status=$3::invitation_status, update_time=now(), expire_time=$4::TIMESTAMP WITH TIME ZONE WHERE invitations.id = $5::UUID AND invitations.status = $6::invitation_status RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (
            ("set_email", None),
            ("set_role", _write_invitation_role),
            ("set_status", _write_invitation_status),
            ("set_expire_time", None),
            ("id", None),
            ("only_from", _write_invitation_status),
        ),
        _invitation,
        _invitation_columns,
    ),
    (("email", "role", "expire_time", "status"), True, True): Statement(
        "WITH changed AS \n"
        "(UPDATE invitations SET email=$1::VARCHAR, role=$2::invitation_role, status=$3::invitation_status, update_time=now(), expire_time=$4::TIMESTAMP WITH TIME ZONE WHERE invitations.id = $5::UUID AND invitations.status = $6::invitation_status AND (invitations.expire_time IS NULL OR invitations.expire_time > now()) RETURNING invitations.id, invitations.email, invitations.role, invitations.status, invitations.create_time, invitations.update_time, invitations.expire_time)\n"
        " SELECT changed.id, changed.email, changed.role, changed.status, changed.create_time, changed.update_time, changed.expire_time, pg_notify('invitations', CAST(json_build_object('kind', 'UPDATED', 'invitation', row_to_json(changed)) AS TEXT)) AS pg_notify_1 \n"
        "FROM changed",
        (
            ("set_email", None),
            ("set_role", _write_invitation_role),
            ("set_status", _write_invitation_status),
            ("set_expire_time", None),
            ("id", None),
            ("only_from", _write_invitation_status),
        ),
        _invitation,
        _invitation_columns,
    ),
}


def update_row(
    fields: tuple[str, ...], only_from: bool, only_unexpired: bool
) -> Statement[Invitation]:
    return _UPDATE_ROW[fields, only_from, only_unexpired]
