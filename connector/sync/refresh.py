"""Recognising a refreshed NetSuite sandbox before anything is written (R46).

An administrator who refreshes a sandbox from production (or from an older copy) leaves the
store's links pointing at records that are gone or that are now other records, and the
integration's tokens are not copied. Without this check a run would re-create everything,
update a wrong record by internal id, or fail every night with a bare credentials error.

The store's *settled* links are compared with what NetSuite holds: a chunk record with a
NetSuite internal id and the hash of a finished write (a create or re-create under way clears
the hash first, so a run killed mid-write is never mistaken for a refresh). The signs:

* gone: more than half of the settled links, and at least MIN_GONE, name an external id
  NetSuite no longer has. One record deleted by hand (or a few of many) is not a refresh: the
  plan re-creates it as before. A refresh removes every record promosync made, so "most, and
  more than one" separates the two without guessing at an account's size.
* moved: a record under a linked external id has another internal id than the link, or the
  link's internal id now holds a record that is not promosync's. NetSuite never reuses an
  internal id and promosync never moves an external id, so one such record is proof enough.
* credentials refused: NetSuite answers 401 (INVALID_LOGIN, or the token endpoint refuses the
  client) although these credentials worked before (a sync run reached NetSuite, or
  `netsuite check` cached the account's profile): the usual message gains "the account may
  have been refreshed" and what to do.

Any sign stops the command with `AccountRefreshed` (exit 2: a condition of the account, which
no rerun fixes; the ledger and `--report` say outcome refused with the same line). The way out
is `promosync sync rebaseline` (sync.rebaseline), after new credentials when they were refused.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import select

from connector.errors import AccountRefreshed, NetSuiteAuthError
from connector.netsuite import NetSuiteClient
from connector.store import Store
from connector.store import schema as s
from connector.sync import suiteql_values as sql
from connector.sync.model import ChunkRecord, RemoteChunk
from connector.sync.remote import PREFIX
from connector.sync.state import load_records
from connector.text import plural

MIN_GONE = 2
PAGE = 1000  # rows per SuiteQL page unless the mapping says otherwise
WHAT_TO_DO = ("if the sandbox was refreshed, run `promosync sync rebaseline` (it re-reads "
              "NetSuite and relinks the store, keeping every local redemption), then "
              "`promosync sync run`")


@dataclass
class Finding:
    """What the comparison saw: settled links, those gone, and those that point elsewhere."""

    account: str
    linked: int = 0
    gone: list[tuple[str, str]] = field(default_factory=list)  # (external id, store's id)
    moved: list[tuple[str, str, str]] = field(default_factory=list)  # (eid, store's id, now)

    @property
    def refreshed(self) -> bool:
        many_gone = len(self.gone) >= MIN_GONE and 2 * len(self.gone) > self.linked
        return many_gone or bool(self.moved)

    def message(self) -> str:
        seen = []
        if self.gone:
            eid, nid = self.gone[0]
            seen.append(f"{len(self.gone):,} of the {plural(self.linked, 'promotion record')} "
                        f"promosync linked are gone (e.g. {eid}, internal id {nid})")
        if self.moved:
            eid, nid, now = self.moved[0]
            seen.append(f"{plural(len(self.moved), 'link')} now point elsewhere (e.g. {eid}: "
                        f"the store has internal id {nid}, {now})")
        return (f"NetSuite account {self.account} no longer holds what the store links to; the "
                f"sandbox may have been refreshed: {'; '.join(seen)}. Nothing was written; "
                + WHAT_TO_DO)


def settled(records: Mapping[str, ChunkRecord], keys: Collection[str] | None = None
            ) -> dict[str, str]:
    """External id -> internal id of the links a finished write left (see module doc)."""
    out = {eid: str(r.netsuite_id) for eid, r in records.items()
           if r.netsuite_id and r.body_hash}
    if keys is not None:
        heads = tuple(f"{PREFIX}{k}-" for k in keys)
        out = {eid: nid for eid, nid in out.items() if eid.startswith(heads)}
    return out


def assess(account: str, links: Mapping[str, str], remote: Mapping[str, str],
           holders: Mapping[str, str | None]) -> Finding:
    """Compare `links` (eid -> the store's internal id) with `remote` (eid -> internal id of
    every promosync record NetSuite has) and `holders` (internal id -> external id, or None,
    of records at linked ids that are not among `remote`)."""
    found = Finding(account, linked=len(links))
    at_id = {nid: eid for eid, nid in remote.items()}
    for eid, nid in sorted(links.items()):
        now = remote.get(eid)
        if now is not None:
            if now != nid:
                found.moved.append((eid, nid, f"NetSuite has it under internal id {now}"))
            continue
        found.gone.append((eid, nid))
        holder = at_id[nid] if nid in at_id else holders.get(nid, "")
        if holder == "" or (holder or "").startswith(f"{eid}-retired-"):
            continue  # nothing is there now, or it is this chunk's own retired record
        what = f"external id {holder}" if holder else "no external id"
        found.moved.append((eid, nid, f"which now holds another record ({what})"))
    return found


def remote_ids(client: NetSuiteClient, keys: Collection[str] | None = None,
               page_size: int = PAGE) -> dict[str, str]:
    """External id -> internal id of every promotionCode under promosync's external ids (those
    of the promotions with external keys `keys`, when given): one keyset read, ids only."""
    where = f"externalid LIKE {sql.string(PREFIX + '%')}"
    if keys is not None:
        if not keys:
            return {}
        where = "(" + " OR ".join(f"externalid LIKE {sql.string(PREFIX + k + '-%')}"
                                  for k in keys) + ")"
    rows = client.suiteql_keyset(f"SELECT id, externalid FROM promotioncode WHERE {where} "
                                 "AND id > {after} ORDER BY id", page_size=page_size)
    return {str(r["externalid"]): str(r["id"]) for r in rows}


def holders(client: NetSuiteClient, ids: Collection[str], page_size: int = PAGE
            ) -> dict[str, str | None]:
    """Internal id -> external id (None: it has none) of the promotionCode records at `ids`;
    ids with no record are absent."""
    wanted = sorted(ids, key=int)
    out: dict[str, str | None] = {}
    for i in range(0, len(wanted), 500):
        for r in client.suiteql("SELECT id, externalid FROM promotioncode WHERE id IN "
                                f"({sql.integers(wanted[i:i + 500])})", page_size=page_size):
            eid = r.get("externalid")
            out[str(r["id"])] = str(eid) if eid not in (None, "") else None
    return out


def find(client: NetSuiteClient, records: Mapping[str, ChunkRecord],
         remote: Mapping[str, str] | None = None, keys: Collection[str] | None = None,
         page_size: int = PAGE) -> Finding:
    """The finding for the store's `records`; `remote` (eid -> id) when a snapshot has it
    already, else read here. No settled link: nothing to compare, no request."""
    links = settled(records, keys)
    if not links:
        return Finding(client.account_id)
    if remote is None:
        remote = remote_ids(client, keys, page_size)
    known = set(remote.values())
    lost = {nid for eid, nid in links.items() if eid not in remote and nid not in known}
    held = holders(client, lost, page_size) if lost else {}
    return assess(client.account_id, links, remote, held)


def refuse_if_refreshed(client: NetSuiteClient, records: Mapping[str, ChunkRecord],
                        snapshot: Mapping[str, RemoteChunk] | None = None,
                        keys: Collection[str] | None = None, page_size: int = PAGE) -> None:
    """Raise AccountRefreshed when the store's links say the account was refreshed."""
    remote = None if snapshot is None else {eid: r.id for eid, r in snapshot.items()}
    found = find(client, records, remote, keys, page_size)
    if found.refreshed:
        raise AccountRefreshed(found.message())


def check(store: Store, client: NetSuiteClient, page_size: int = PAGE) -> None:
    """The check before a run's or a mirror's first write (it reads NetSuite: ids only)."""
    with store.read() as conn:
        records = load_records(conn)
    refuse_if_refreshed(client, records, page_size=page_size)


def worked_before(store: Store, account: str) -> str | None:
    """How we know the credentials once worked: the account's profile is cached (the account
    check of `netsuite check` or of a first sync run reached it), and when a sync run last
    reached NetSuite; None when this account was never reached from this store."""
    runs, profiles = s.sync_runs, s.netsuite_profiles
    with store.read() as conn:
        checked = conn.scalar(select(profiles.c.checked_at).where(profiles.c.account == account))
        ended = conn.scalar(select(runs.c.finished_at).where(runs.c.status.in_(("ok", "partial")))
                            .order_by(runs.c.finished_at.desc()).limit(1))
    if checked is None:
        return None
    if ended is not None:
        return f"a sync run reached NetSuite with them at {ended:%Y-%m-%d %H:%M} UTC"
    return f"the account was checked with them at {checked:%Y-%m-%d %H:%M} UTC"


@contextmanager
def credentials_checked(store: Store, client: NetSuiteClient) -> Iterator[None]:
    """A 401 from credentials that worked before becomes AccountRefreshed: the usual message,
    then that the account may have been refreshed and what to do."""
    try:
        yield
    except NetSuiteAuthError as exc:
        before = worked_before(store, client.account_id)
        if before is None:
            raise
        raise AccountRefreshed(
            f"{exc}; these credentials worked before ({before}): the sandbox may have been "
            "refreshed (a refresh copies neither access tokens nor OAuth 2.0 client mappings): "
            "create new credentials, set them, then run `promosync sync rebaseline`") from exc
