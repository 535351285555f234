"""The store: creation, versions, migrations, refusing what is not a store (issue 2, item 3)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from connector import catalog
from connector.errors import ConfigError, InputError, NotAStoreError, StoreError, StoreVersionError
from connector.store import open_store, schema


def test_store_is_created_on_first_use_with_a_schema_version(sqlite_url: str) -> None:
    st = open_store(sqlite_url)
    assert st.schema_version() == schema.LATEST_VERSION
    st.close()


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "notes.db"
    bad.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(NotAStoreError, match="not a promosync store"):
        open_store(f"sqlite:///{bad}")
    assert bad.read_text().startswith("these are my notes"), "the file is left alone"


def test_a_database_of_another_program_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("create table invoices (id integer)")
    con.commit()
    con.close()
    with pytest.raises(NotAStoreError):
        open_store(f"sqlite:///{other}")


def test_a_store_from_a_newer_promosync_is_refused(sqlite_url: str) -> None:
    st = open_store(sqlite_url)
    with st.begin() as conn:
        conn.execute(
            schema.meta.update().where(schema.meta.c.key == "schema_version").values(value="99")
        )
    st.close()
    with pytest.raises(StoreVersionError, match="newer"):
        open_store(sqlite_url)


def test_an_older_store_is_upgraded_in_place(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    st = open_store(sqlite_url)
    catalog.create_promotion(st, name="Kept", kind="order", rate=1)
    st.close()

    def v2(conn):  # a later release adding a column
        conn.execute(text("ALTER TABLE promotions ADD COLUMN note VARCHAR(50)"))

    later = schema.LATEST_VERSION + 1
    monkeypatch.setattr(schema, "LATEST_VERSION", later)
    monkeypatch.setitem(schema.MIGRATIONS, later, v2)
    monkeypatch.setattr("connector.store.engine.LATEST_VERSION", later)
    st = open_store(sqlite_url)
    assert st.schema_version() == later
    assert catalog.get_promotion(st, "Kept").name == "Kept", "data survives the upgrade"
    with st.read() as conn:
        assert conn.execute(text("SELECT note FROM promotions")).all() == [(None,)]
    st.close()


def test_unknown_database_kind_and_missing_folder_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unsupported"):
        open_store("mysql://x/y")
    with pytest.raises(ConfigError, match="does not exist"):
        open_store(f"sqlite:///{tmp_path}/no/such/dir/p.db")


def test_unreachable_postgres_is_one_clear_store_error() -> None:
    with pytest.raises(StoreError, match="cannot open the store") as err:
        open_store(
            "postgresql://someone:hunter2@127.0.0.1:9/none", connect_args={"connect_timeout": 2}
        )
    assert "hunter2" not in str(err.value)


def test_R3_code_text_is_unique_and_found_case_insensitively(store) -> None:
    from connector import generate, history
    from connector.store.bulk import insert_codes

    catalog.create_promotion(store, name="P", kind="order", rate=1)
    batch = generate.generate_codes(store, "P", count=1)
    with store.read() as conn:
        code = conn.scalar(schema.codes.select().with_only_columns(schema.codes.c.code))
    assert history.code_history(store, f"  {code.lower()} ")[0].code == code
    with store.begin() as conn:
        base = {"promotion_id": 1, "batch_id": batch.batch_id, "max_uses": 1}
        assert insert_codes(conn, store.dialect, [code], base) == 0, (
            "the same text is never stored twice"
        )


def test_R1_promotion_names_are_unique_and_rules_checked(store) -> None:
    catalog.create_promotion(store, name="A", kind="item", rate=10)
    with pytest.raises(InputError, match="exists"):
        catalog.create_promotion(store, name="A", kind="item", rate=10)
    with pytest.raises(InputError, match="unknown kind"):
        catalog.create_promotion(store, name="B", kind="bogus", rate=10)
    with pytest.raises(InputError, match="cannot exceed 100"):
        catalog.create_promotion(store, name="B", kind="order", rate=150)
    with pytest.raises(InputError, match="need a --pattern"):
        catalog.create_promotion(store, name="B", kind="order", rate=5, codes_from="netsuite")
    with pytest.raises(InputError, match="end date"):
        from datetime import date

        catalog.create_promotion(
            store, name="B", kind="order", rate=5, start=date(2026, 2, 1), end=date(2026, 1, 1)
        )


def test_R2_group_with_dates_template_customers_attached_to_promotions(store) -> None:
    from datetime import date

    catalog.add_customer(store, "c1")
    group = catalog.create_group(
        store, name="G", start=date(2026, 1, 1), template="AB-[N.4]", customers=["C1"]
    )
    assert group.customers == ("C1",) and group.template == "AB-[N.4]"
    for name in ("P1", "P2"):
        catalog.create_promotion(store, name=name, kind="order", rate=1)
        catalog.attach_group(store, promotion=name, group="G")
    assert catalog.get_promotion(store, "P2").groups == ("G",)
    with pytest.raises(InputError):
        catalog.create_group(store, name="H", template="[Q.2]")


def test_R41_a_version_6_store_keeps_its_idempotency_keys_without_their_foreign_key(
    store_url: str,
) -> None:
    """Version 7 drops idempotency_keys' foreign key to api_keys (every claim locked the
    key's row); the keys kept under it survive the upgrade."""
    from connector.serve.keys import create_key

    st = open_store(store_url)
    made = create_key(st, "till", ["register"])[0]
    with st.begin() as conn:  # the table as version 6 made it, with a key kept in it
        conn.execute(text("DROP TABLE idempotency_keys"))
        key_type = "BIGINT" if st.dialect == "postgresql" else "INTEGER"
        conn.execute(text(
            f"CREATE TABLE idempotency_keys (api_key_id {key_type} NOT NULL "
            "REFERENCES api_keys (id), key VARCHAR(255) NOT NULL, "
            "fingerprint VARCHAR(64) NOT NULL, status INTEGER, response TEXT, "
            "created_at TIMESTAMP NOT NULL, PRIMARY KEY (api_key_id, key))"))
        conn.execute(text("CREATE INDEX ix_idempotency_keys_created "
                          "ON idempotency_keys (created_at)"))
        conn.execute(text("INSERT INTO idempotency_keys VALUES "
                          "(:id, 'k-1', 'f', 201, '{}', '2026-12-06 10:00:00')"), {"id": made.id})
        conn.execute(schema.meta.update().where(schema.meta.c.key == "schema_version")
                     .values(value="6"))
    st.close()
    st = open_store(store_url)
    try:
        assert st.schema_version() == schema.LATEST_VERSION == 7
        with st.read() as conn:
            kept = conn.execute(text("SELECT api_key_id, key, status FROM idempotency_keys")).all()
            if st.dialect == "postgresql":
                bound = conn.scalar(text(
                    "SELECT count(*) FROM pg_constraint "
                    "WHERE conrelid = 'idempotency_keys'::regclass AND contype = 'f'"))
            else:
                bound = len(conn.execute(text("PRAGMA foreign_key_list(idempotency_keys)"))
                            .all())
            indexes = {found["name"] for found in inspect(conn).get_indexes("idempotency_keys")}
        assert kept == [(made.id, "k-1", 201)]
        assert bound == 0
        assert "ix_idempotency_keys_created" in indexes
    finally:
        st.close()
