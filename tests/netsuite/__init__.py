"""Tests of the NetSuite REST client (connector/netsuite)."""
