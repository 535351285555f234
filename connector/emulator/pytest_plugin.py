"""pytest plugin: the `netsuite_emulator` fixture (an active in-process `mock_netsuite`).

Enable with `pytest_plugins = ["connector.emulator.pytest_plugin"]` in a conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connector.emulator.inprocess import mock_netsuite


@pytest.fixture
def netsuite_emulator() -> Iterator[mock_netsuite]:
    """A fresh emulator intercepting https://1234567-sb1.suitetalk.api.netsuite.com."""
    with mock_netsuite() as emu:
        yield emu
