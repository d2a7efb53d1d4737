"""What the merchant spent on ads, per source and month (orders.models.AdSpend): enter, change,
remove, and import a CSV file of `source,month,amount[,note]` (every row checked first; all
rows written or none).

Amounts are in the shop currency. A month is stored as its first day. A source is written as
the landings write it (orders.attribution.normalise_source): `Facebook` and `fb` are
`facebook`, `tiktok` is `tiktok_shop`, so spend and visits meet on the same row of the report.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from orders.attribution import normalise_source
from orders.errors import OrdersErrorCode
from orders.models import AdSpend
from shopadmin.audit import audit_record
from shopadmin.inputs import parse_localized_decimal
from shopadmin.models import Shop
from shopadmin.numerals import ascii_digits
from shopadmin.spreadsheets import restore
from shopadmin.words import Words

CSV_COLUMNS = ("source", "month", "amount")
MAX_ROWS = 5000
_MONTH = re.compile(r"(\d{4})-(\d{1,2})(?:-(\d{1,2}))?")


def first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _source(value: str) -> str:
    source = normalise_source(value)
    if not source:
        raise ValidationError(
            {
                "source": ValidationError(
                    _("Name the source, e.g. facebook, instagram, tiktok_shop or whatsapp."),
                    code=OrdersErrorCode.SOURCE_REQUIRED,
                )
            }
        )
    return source


def _taken(source: str, month: dt.date) -> ValidationError:
    return ValidationError(
        {
            "month": ValidationError(
                _("%(source)s already has a spend for %(month)s: change that one.")
                % {"source": source, "month": f"{month:%Y-%m}"},
                code=OrdersErrorCode.AD_SPEND_MONTH_TAKEN,
            )
        }
    )


def _changes(spend: AdSpend) -> dict:
    return {
        "source": spend.source,
        "month": f"{spend.month:%Y-%m}",
        "amount": str(spend.amount),
        "note": spend.note,
    }


@transaction.atomic
def ad_spend_create(*, shop: Shop, source: str, month: dt.date, amount: Decimal, note: str = "") -> AdSpend:
    """Enter a month's spend with a source; a month already entered is refused (change it instead)."""
    source = _source(source)
    month = first_of_month(month)
    if AdSpend.objects.filter(source=source, month=month).exists():
        raise _taken(source, month)
    spend = AdSpend(shop=shop, source=source, month=month, amount=amount, note=note or "")
    spend.full_clean(exclude=["shop"])
    spend.save()
    audit_record(action="ad_spend.create", instance=spend, changes={k: [None, v] for k, v in _changes(spend).items()})
    return spend


@transaction.atomic
def ad_spend_update(
    *,
    spend: AdSpend,
    source: str | None = None,
    month: dt.date | None = None,
    amount: Decimal | None = None,
    note: str | None = None,
) -> AdSpend:
    """Change a month's spend (any of its fields)."""
    spend = AdSpend.objects.select_for_update().get(pk=spend.pk)
    before = _changes(spend)
    if source is not None:
        spend.source = _source(source)
    if month is not None:
        spend.month = first_of_month(month)
    if amount is not None:
        spend.amount = amount
    if note is not None:
        spend.note = note
    if AdSpend.objects.filter(source=spend.source, month=spend.month).exclude(pk=spend.pk).exists():
        raise _taken(spend.source, spend.month)
    spend.updated_at = timezone.now()
    spend.full_clean(exclude=["shop"])
    spend.save()
    after = _changes(spend)
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if changes:
        audit_record(action="ad_spend.update", instance=spend, changes=changes)
    return spend


@transaction.atomic
def ad_spend_delete(*, spend: AdSpend) -> None:
    audit_record(action="ad_spend.delete", instance=spend, changes={k: [v, None] for k, v in _changes(spend).items()})
    spend.delete()


# --- CSV import -----------------------------------------------------------------------------------


@dataclass
class AdSpendImportResult:
    created: int
    updated: int


def _parse_month(text: str) -> dt.date | None:
    """`2026-11` or a day of it (`2026-11-01`), in any digits."""
    match = _MONTH.fullmatch(ascii_digits(text).strip())
    if not match:
        return None
    year, month, day = int(match[1]), int(match[2]), int(match[3] or 1)
    try:
        dt.date(year, month, day)
        return dt.date(year, month, 1)
    except ValueError:
        return None


@transaction.atomic
def ad_spend_import(*, shop: Shop, data: str) -> AdSpendImportResult:
    """Read `source,month,amount[,note]` rows (a header first; amounts in the shop currency, as the
    importer's language writes numbers or plain `1234.50`; native digits too), check every row,
    then set each month's spend (a month already entered is changed) — or raise with every row's
    error under `file` and write nothing."""
    reader = csv.DictReader(io.StringIO(data))
    fields = [(name or "").strip().lower() for name in (reader.fieldnames or [])]
    missing = [name for name in CSV_COLUMNS if name not in fields]
    if missing:
        raise ValidationError(
            {
                "file": [
                    ValidationError(
                        _("Missing columns: %(missing)s. The first row must name the columns %(expected)s.")
                        % {"missing": ", ".join(missing), "expected": "source,month,amount (,note)"},
                        code=OrdersErrorCode.CSV_COLUMNS_MISSING,
                    )
                ]
            }
        )
    reader.fieldnames = fields
    errors: list[ValidationError] = []
    plan: dict[tuple[str, dt.date], tuple[Decimal, str]] = {}
    seen_at: dict[tuple[str, dt.date], int] = {}
    for line, row in enumerate(reader, start=2):
        if line - 1 > MAX_ROWS:
            errors.append(
                ValidationError(
                    _("The file has more than %(max)s rows; split it.") % {"max": MAX_ROWS},
                    code=OrdersErrorCode.AD_SPEND_ROW_INVALID,
                )
            )
            break
        cells = {name: restore(value).strip() if isinstance(value, str) else "" for name, value in row.items() if name}
        if not any(cells.values()):
            continue  # a blank line
        problems = []
        source = normalise_source(cells.get("source", ""))
        if not source:
            problems.append(_("the source is empty"))
        month = _parse_month(cells.get("month", ""))
        if month is None:
            problems.append(
                _("the month “%(value)s” is not a month such as 2026-11") % {"value": cells.get("month", "")[:20]}
            )
        amount = parse_localized_decimal(cells.get("amount", "")) if cells.get("amount") else None
        if amount is None:
            problems.append(
                _("the amount “%(value)s” is not a number such as 1250.50") % {"value": cells.get("amount", "")[:20]}
            )
        elif amount < 0:
            problems.append(_("the amount cannot be negative"))
        elif amount.as_tuple().exponent < -3 or abs(amount) >= Decimal("1e11"):
            problems.append(_("the amount has more than 3 decimals or 11 digits"))
        note = cells.get("note", "")
        if len(note) > 300:
            problems.append(_("the note is longer than 300 characters"))
        if not problems and (source, month) in seen_at:
            problems.append(
                _("%(source)s %(month)s is already on row %(row)s")
                % {"source": source, "month": f"{month:%Y-%m}", "row": seen_at[(source, month)]}
            )
        if problems:
            errors.append(
                ValidationError(
                    _("Row %(line)s: %(problems)s.") % {"line": line, "problems": "; ".join(problems)},
                    code=OrdersErrorCode.AD_SPEND_ROW_INVALID,
                )
            )
            continue
        seen_at[(source, month)] = line
        plan[(source, month)] = (amount, note)
    if errors:
        raise ValidationError({"file": errors})
    if not plan:
        raise ValidationError(
            {"file": [ValidationError(_("The file has no rows."), code=OrdersErrorCode.AD_SPEND_ROW_INVALID)]}
        )
    held = {
        (spend.source, spend.month): spend
        for spend in AdSpend.objects.select_for_update().filter(
            source__in={source for source, _month in plan}, month__in={month for _source, month in plan}
        )
    }
    now = timezone.now()
    created, updated = [], []
    for (source, month), (amount, note) in plan.items():
        spend = held.get((source, month))
        if spend is None:
            created.append(AdSpend(shop=shop, source=source, month=month, amount=amount, note=note))
        elif spend.amount != amount or spend.note != note:
            spend.amount, spend.note, spend.updated_at = amount, note, now
            updated.append(spend)
    AdSpend.objects.bulk_create(created)
    AdSpend.objects.bulk_update(updated, ["amount", "note", "updated_at"])
    audit_record(
        action="ad_spend.import",
        instance=shop,
        model_label="orders.AdSpend",
        object_repr=Words(
            gettext_noop("%(created)d months entered, %(updated)d changed"), created=len(created), updated=len(updated)
        ),
        changes={"rows": [None, len(plan)]},
    )
    return AdSpendImportResult(created=len(created), updated=len(updated))
