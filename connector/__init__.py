"""promosync: promotions and single-use coupon codes, kept in step with NetSuite.

The public door. Everything a Python user needs is importable from here; modules whose names
start with an underscore, and names not listed in `__all__`, may change without notice.

    from connector import open_store, Register, mock_netsuite
"""

from connector.catalog import (
    add_customer,
    attach_group,
    create_group,
    create_promotion,
    delete_promotion,
    get_promotion,
    list_promotions,
)
from connector.codes import check_count, generic_format, parse_pattern, su_format
from connector.distribute import Distributor
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
from connector.netsuite import NetSuiteClient, OAuth2ClientCredentials, RetryPolicy, TokenAuth
from connector.redeem import Line, Register
from connector.settings import Settings, load_settings
from connector.store import Store, open_store

__version__ = "0.1.0"

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
]
