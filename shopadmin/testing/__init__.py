"""Test support shared by every app: fixtures loaded by the root conftest as pytest plugins."""
