from pathlib import Path

import pytest

from localization.rates import parse_ecb_daily
from localization.services import ecb_rates_store

DATA = Path(__file__).parent / "data"


@pytest.fixture
def ecb_rates(db):
    """The shipped sample of the ECB daily feed (2025-11-21), stored as shared reference rates."""
    date, rates = parse_ecb_daily((DATA / "eurofxref-daily.xml").read_bytes())
    ecb_rates_store(date=date, rates=rates)
    return rates
