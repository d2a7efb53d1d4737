"""Browser-test fixtures (Playwright driving Debian Chromium against a live server)."""
