"""promosync: promotions and single-use coupon codes, kept in step with NetSuite.

The public door. Everything a Python user needs is importable from here; modules whose names
start with an underscore, and names not listed in `__all__`, may change without notice.

    from connector import open_store, Register, mock_netsuite

Names are imported on first use (PEP 562), so `promosync --version` does not pay for the
emulator, the NetSuite client and the redemption engine it does not touch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connector._lazy import lazy_getattr

if TYPE_CHECKING:
    from connector.catalog import (
        add_customer,
        attach_group,
        create_group,
        create_promotion,
        delete_promotion,
        get_promotion,
        list_promotions,
        update_promotion,
    )
    from connector.codes import check_count, generic_format, parse_pattern, su_format
    from connector.emulator import EmulatorOptions, EmulatorServer, mock_netsuite
    from connector.errors import (
        ConfigError,
        ConnectorError,
        InputError,
        NetSuiteError,
        RedemptionError,
        StoreError,
        SyncLocked,
    )
    from connector.generate import CodeOptions, generate_codes, generate_for_customers
    from connector.history import code_history
    from connector.lists import Distributor
    from connector.netsuite import NetSuiteClient, OAuth2ClientCredentials, RetryPolicy, TokenAuth
    from connector.redeem import Line, Register
    from connector.settings import Settings, load_settings
    from connector.store import Store, open_store

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "CodeOptions": "connector.generate",
    "ConfigError": "connector.errors",
    "ConnectorError": "connector.errors",
    "Distributor": "connector.lists",
    "EmulatorOptions": "connector.emulator",
    "EmulatorServer": "connector.emulator",
    "InputError": "connector.errors",
    "Line": "connector.redeem",
    "NetSuiteClient": "connector.netsuite",
    "NetSuiteError": "connector.errors",
    "OAuth2ClientCredentials": "connector.netsuite",
    "RedemptionError": "connector.errors",
    "Register": "connector.redeem",
    "RetryPolicy": "connector.netsuite",
    "Settings": "connector.settings",
    "Store": "connector.store",
    "StoreError": "connector.errors",
    "SyncLocked": "connector.errors",
    "TokenAuth": "connector.netsuite",
    "add_customer": "connector.catalog",
    "attach_group": "connector.catalog",
    "check_count": "connector.codes",
    "code_history": "connector.history",
    "create_group": "connector.catalog",
    "create_promotion": "connector.catalog",
    "delete_promotion": "connector.catalog",
    "generate_codes": "connector.generate",
    "generate_for_customers": "connector.generate",
    "generic_format": "connector.codes",
    "get_promotion": "connector.catalog",
    "list_promotions": "connector.catalog",
    "load_settings": "connector.settings",
    "mock_netsuite": "connector.emulator",
    "open_store": "connector.store",
    "parse_pattern": "connector.codes",
    "su_format": "connector.codes",
    "update_promotion": "connector.catalog",
}

__all__ = [
    "CodeOptions",
    "ConfigError",
    "ConnectorError",
    "Distributor",
    "EmulatorOptions",
    "EmulatorServer",
    "InputError",
    "Line",
    "NetSuiteClient",
    "NetSuiteError",
    "OAuth2ClientCredentials",
    "RedemptionError",
    "Register",
    "RetryPolicy",
    "Settings",
    "Store",
    "StoreError",
    "SyncLocked",
    "TokenAuth",
    "add_customer",
    "attach_group",
    "check_count",
    "code_history",
    "create_group",
    "create_promotion",
    "delete_promotion",
    "generate_codes",
    "generate_for_customers",
    "generic_format",
    "get_promotion",
    "list_promotions",
    "load_settings",
    "mock_netsuite",
    "open_store",
    "parse_pattern",
    "su_format",
    "update_promotion",
]


__getattr__ = lazy_getattr(__name__, _EXPORTS, globals())


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
