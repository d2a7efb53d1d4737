"""Stream the CSV export of a shop through the real view and report seconds and peak RSS (JSON).

Run by bench_catalog.py in its own process, so the peak RSS is this export's alone:
    DATABASE_URL=postgres://shopadmin_app@127.0.0.1:5432/bench_catalog \
        .venv/bin/python bench/bench_catalog_export.py --shop bench
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopadmin.test_settings")

import django  # noqa: E402

django.setup()

from django.test import Client  # noqa: E402

from shopadmin.models import Membership  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--shop", required=True)
    args = parser.parse_args()
    from shopadmin.tenancy import all_shops_access

    with all_shops_access():  # memberships are row-secured
        membership = Membership.objects.select_related("user").filter(shop__slug=args.shop).first()
    client = Client()
    client.force_login(membership.user)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    response = client.get(f"/app/{args.shop}/catalog/export.csv")
    rows, size = 0, 0
    for chunk in response.streaming_content:
        rows += chunk.count(b"\n")
        size += len(chunk)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "seconds": round(seconds, 1),
                "rows": rows - 1,
                "megabytes": round(size / 1e6, 1),
                "peak_rss_mb": round(peak, 1),
                "rss_before_export_mb": round(rss_before, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
