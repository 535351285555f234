"""Handing coupon-list codes to many users with a message each (R21, R42): the batch that
`promosync lists assign --users FILE --template T` and `POST /v1/lists/{name}/messages` run.

The template is checked for every user before the first code is handed out. Each hand-out is
`Distributor.assign` (one store transaction, R21's 24-hour rule). When the list runs out or
expires part-way, the codes already handed out are kept and their messages returned, with the
reason the rest were not: those users have their codes and must get their messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from connector.errors import DistributionError, FileInputError, InputError
from connector.files.readers import iter_rows
from connector.serve.messages import Message, Probe, Template, longest_code
from connector.store.schema import utcnow
from connector.text import plural

if TYPE_CHECKING:
    from connector import Distributor

MAX_USERS = 100_000
User = tuple[str, str | None]  # (user id, external id)


@dataclass(frozen=True)
class HandOut:
    messages: list[Message]
    stopped: str | None  # why the users after the last message got nothing, if they did not


def hand_out(distributor: Distributor, name: str, users: Sequence[User], campaign: str,
             template: Template, zone: tzinfo) -> HandOut:
    """A code and its message for each of `users`, in order (see the module's text)."""
    if not users:
        raise InputError("no users to hand codes to")
    if len(users) > MAX_USERS:
        raise InputError(f"at most {MAX_USERS:,} users at a time, not {len(users):,}")
    status = distributor.status(name)  # an unknown list is refused here, before anything
    stand_in = "X" * longest_code(distributor.store, status.name)
    now = utcnow()
    for user, _external in users:
        template.precheck(Probe(status.name, user, campaign, stand_in, now, status.expires_on),
                          zone)
    messages: list[Message] = []
    for user, external in users:
        try:
            given = distributor.assign(status.name, user=user, campaign=campaign,
                                       external_id=external)
        except DistributionError as exc:
            left = len(users) - len(messages)
            return HandOut(messages, f"{exc}; {plural(left, 'user')} got no code")
        messages.append(template.message(given, zone, external))
    return HandOut(messages, None)


def read_users(path: str | Path) -> list[User]:
    """A file of users, one a line: `user` or `user,external id` (CSV; blank lines skipped)."""
    users: list[User] = []
    problems: list[tuple[int, str]] = []
    for number, cells in iter_rows(path):
        if not cells or not cells[0].strip():
            continue
        if len(cells) > 2:
            problems.append((number, "a line is USER or USER,EXTERNAL_ID"))
            continue
        external = cells[1].strip() if len(cells) == 2 and cells[1].strip() else None
        users.append((cells[0].strip(), external))
        if len(users) > MAX_USERS:
            raise InputError(f"{path}: more than {MAX_USERS:,} users; split the file")
    if problems:
        raise FileInputError(str(path), problems)
    if not users:
        raise InputError(f"{path} holds no users")
    return users
