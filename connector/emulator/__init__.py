"""A stateful NetSuite SuiteTalk REST emulator for tests, demos and benchmarks (R33-R35).

    from connector.emulator import mock_netsuite, EmulatorServer, TEST_CREDENTIALS
    from connector.emulator.profiles import options_for, load_profile   # which account

`EmulatorOptions()` plays the default account, `EmulatorOptions.evidence_default()` the account
as public evidence shows it, `options_for(name)` a named plausible variant and `load_profile`
the account a profile file describes.

`mock_netsuite()` intercepts requests in-process (via `responses`); `EmulatorServer()` serves the
same emulator over HTTP on 127.0.0.1. Layers: backend (state + NetSuite rules, SQLite;
SuiteQL in suiteql_engine), handlers (HTTP shapes from fixtures/netsuite), control (the
/__emulator__/ actions), routes (one table and one dispatch for both, faults, limits, counted in
traffic), core (makes the parts and wires them), transports (inprocess, http_server).
"""

from connector.emulator.backend import NetSuiteBackend
from connector.emulator.core import Emulator
from connector.emulator.faults import FaultRule, Faults
from connector.emulator.http_server import EmulatorServer
from connector.emulator.inprocess import DEFAULT_BASE_URL, HostNotIntercepted, mock_netsuite
from connector.emulator.options import TEST_CREDENTIALS, Credentials, EmulatorOptions
from connector.emulator.recorder import Recorder, Replayer, scrub

__all__ = [
    "DEFAULT_BASE_URL",
    "Credentials",
    "Emulator",
    "EmulatorOptions",
    "EmulatorServer",
    "FaultRule",
    "Faults",
    "HostNotIntercepted",
    "NetSuiteBackend",
    "Recorder",
    "Replayer",
    "TEST_CREDENTIALS",
    "mock_netsuite",
    "scrub",
]
