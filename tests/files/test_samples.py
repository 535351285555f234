"""R10/R12: the sample files in fixtures/samples/ import as their README says."""

from __future__ import annotations

from pathlib import Path

from connector import catalog
from connector.files import import_codes, import_customers, read_customer_codes
from connector.generate import generate_for_customers
from connector.store import Store

from .conftest import stored_codes

SAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "samples"


def test_R10_R12_samples_import_cleanly(store: Store) -> None:
    catalog.create_promotion(store, name="Spring Sale", kind="order", rate=10)
    customers = import_customers(store, SAMPLES / "customers.csv")
    assert (customers.added, customers.lines) == (4, 4)
    assert catalog.list_customers(store)[2].name == "Cruz, Dana"
    wanted = read_customer_codes(SAMPLES / "customer-codes.csv")
    assert wanted == ["C0001", "C0002", "C0003", "C0004", "C9999"]
    bound = generate_for_customers(store, "Spring Sale", wanted)
    assert (bound.count, bound.skipped_customers) == (4, 1)
    assert import_codes(store, "Spring Sale", SAMPLES / "codes.txt").added == 4
    assert import_codes(store, "Spring Sale", SAMPLES / "netsuite-codes.csv").added == 3
    assert stored_codes(store, "Spring Sale")[-7:] == [
        "SPRING-7KQ2-XM", "SPRING-8HT3-ZP", "SPRING-9ND4-WR", "SPRING-2BV5-QT",
        "SPRING-3CX6-HN", "SPRING-4DY7-JK", "SPRING-5EZ8-LM"]
