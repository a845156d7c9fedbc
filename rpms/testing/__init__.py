"""Test builders shared by every app's tests (CONVENTIONS: one set of builders that create records
through the services). Imported only by tests."""
