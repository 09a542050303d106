"""Credit-bureau reporting (征信报送): one record per credit line and month, and the
monthly file built from them (docs/billing.md, "Credit-bureau file").

The end-of-day step ``bureau_records`` writes, on the first day of a month, the record of
every line that is open or still owes or holds money for the month just ended: credit
limit, balance, amount overdue, days past due, bucket, the worst bucket during the month
and the line's status (one set-based ``INSERT … SELECT``). ``huabei bureau export --month M``
renders the month's file. A wrong record is never edited: :func:`correct_record` writes the
next ``seq`` for the same line and month, which supersedes it and goes into the file as a
correction (``C``) that replaces the original at the bureau.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from huabei import errors
from huabei.billing import calendar as cal
from huabei.events import BureauRecordCorrected
from huabei.i18n import N_
from huabei.money import format_yuan
from huabei.platform.sql import AccountRange
from huabei.platform.unit_of_work import Huabei, UnitOfWork

FORMAT_VERSION = "1"
FILE_TAG = "HUABEI-BUREAU"
ACCOUNT_STATUSES = ("normal", "overdue", "frozen", "closed")
#: Fields an operator may correct.
CORRECTABLE = ("credit_limit", "balance", "amount_overdue", "days_past_due", "bucket", "worst_bucket", "account_status")
_MONTH_RE = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")


def _last_close(uow: UnitOfWork) -> dt.date | None:
    from huabei.billing.positions import last_close_date

    return last_close_date(uow)


def bureau_step(uow: UnitOfWork, day: dt.date, accounts: AccountRange | None = None) -> dict[str, Any]:
    """EOD step ``bureau_records``: on the first day of a month, the records of the month before."""
    if day.day != 1:
        return {"records": 0}
    month = (day - dt.timedelta(days=1)).strftime("%Y-%m")
    n = uow.bureau.write_month(
        month=month,
        as_of=day,
        since=_last_close(uow),
        format_version=FORMAT_VERSION,
        now=uow.now(),
        grace_days=uow.terms.billing.grace_days,
        accounts=accounts,
    )
    return {"month": month, "records": n}


def correction_problem(
    record: dict[str, Any], changed: set[str], worst_dpd: int, line_state: str
) -> tuple[str, str, Any] | None:
    """The first way a corrected record contradicts itself or the line, as ``(field, basis,
    basis's value)``, or ``None``. Checked only where a changed field is involved (a record the
    job wrote is consistent). ``worst_dpd``: the most days past due any bill of the line reached
    from the month's first day to the record's date (0: never overdue then)."""
    dpd, bucket, overdue = record["days_past_due"], record["bucket"], record["amount_overdue"]
    status, worst_bucket, balance = record["account_status"], record["worst_bucket"], record["balance"]
    order = cal.DPD_BUCKETS.index
    rules: list[tuple[set[str], bool, tuple[str, str, Any]]] = [
        ({"days_past_due"}, dpd > worst_dpd, ("days_past_due", "days_past_due_reached", worst_dpd)),
        ({"bucket", "days_past_due"}, bucket != cal.dpd_bucket(dpd), ("bucket", "days_past_due", dpd)),
        ({"amount_overdue", "days_past_due"}, (overdue > 0) != (dpd > 0), ("amount_overdue", "days_past_due", dpd)),
        ({"amount_overdue", "balance"}, overdue > max(balance, 0), ("amount_overdue", "balance", balance)),
        (
            {"worst_bucket", "bucket"},
            order(worst_bucket) < order(bucket),
            ("worst_bucket", "bucket", bucket),
        ),
        (
            {"account_status", "bucket", "days_past_due"},
            (status == "overdue") != (bucket != "current") and status != "closed",
            ("account_status", "bucket", bucket),
        ),
        (
            {"account_status"},
            status == "closed" and line_state != "closed",
            ("account_status", "line_state", line_state),
        ),
    ]
    for fields, broken, problem in rules:
        if broken and fields & changed:
            return problem
    return None


def check_month(month: str) -> str:
    if not isinstance(month, str) or not _MONTH_RE.match(month):
        raise errors.invalid("invalid_month", month=month)
    return month


def _record_view(r: Any) -> dict[str, Any]:
    return {
        "account_id": r.account_id,
        "user_id": r.user_id,
        "month": r.month,
        "seq": r.seq,
        "action": "A" if r.seq == 1 else "C",
        "format_version": r.format_version,
        "as_of": r.as_of.isoformat(),
        "credit_limit": r.credit_limit,
        "balance": r.balance,
        "amount_overdue": r.amount_overdue,
        "days_past_due": r.days_past_due,
        "bucket": r.bucket,
        "worst_bucket": r.worst_bucket,
        "account_status": r.account_status,
        "reason": r.reason,
    }


def records(system: Huabei, month: str) -> list[dict[str, Any]]:
    check_month(month)
    with system.uow(readonly=True) as uow:
        return [_record_view(r) for r in uow.bureau.records(month)]


def export(system: Huabei, month: str) -> str:
    """The month's file, format version 1 (pipe-separated, UTF-8, one record a line)::

        H|HUABEI-BUREAU|1|<month>|<generated on>|<records>
        D|<A or C>|<seq>|<account_id>|<user_id>|<month>|<as_of>|<credit_limit>|<balance>|
          <amount_overdue>|<days_past_due>|<bucket>|<worst_bucket>|<account_status>
        T|<records>|<sum of balances>|<sum of amounts overdue>

    Amounts are yuan with two decimals. ``A`` is a line's first record of the month, ``C`` a
    correction that replaces every earlier record of the same line and month.
    """
    check_month(month)
    with system.uow(readonly=True) as uow:
        rows = uow.bureau.records(month)
        if not rows:
            raise errors.not_found("bureau_month_not_reported", month=month)
        today = uow.today()
    out = [f"H|{FILE_TAG}|{FORMAT_VERSION}|{month}|{today.isoformat()}|{len(rows)}"]
    for r in rows:
        v = _record_view(r)
        out.append(
            "|".join(
                str(x)
                for x in (
                    "D",
                    v["action"],
                    r.seq,
                    r.account_id,
                    r.user_id,
                    r.month,
                    v["as_of"],
                    format_yuan(r.credit_limit),
                    format_yuan(r.balance),
                    format_yuan(r.amount_overdue),
                    r.days_past_due,
                    r.bucket,
                    r.worst_bucket,
                    r.account_status,
                )
            )
        )
    out.append(
        f"T|{len(rows)}|{format_yuan(sum(r.balance for r in rows))}|{format_yuan(sum(r.amount_overdue for r in rows))}"
    )
    return "\n".join(out) + "\n"


def correct_record(
    system: Huabei, account_id: int, month: str, *, reason: str, changes: dict[str, Any]
) -> dict[str, Any]:
    """A corrected record for a line and month: the next ``seq``, superseding the current one."""
    check_month(month)
    unknown = set(changes) - set(CORRECTABLE)
    if unknown or not changes:
        raise errors.invalid(
            "invalid_request",
            detail=N_("the fields that can be corrected are {expected}"),
            expected=", ".join(CORRECTABLE),
        )
    for k in ("bucket", "worst_bucket"):
        if k in changes and changes[k] not in cal.DPD_BUCKETS:
            raise errors.invalid(
                "invalid_request", detail=N_("{field}: one of {expected}"), field=k, expected=", ".join(cal.DPD_BUCKETS)
            )
    if "account_status" in changes and changes["account_status"] not in ACCOUNT_STATUSES:
        raise errors.invalid(
            "invalid_request",
            detail=N_("{field}: one of {expected}"),
            field="account_status",
            expected=", ".join(ACCOUNT_STATUSES),
        )
    for k in ("credit_limit", "balance", "amount_overdue", "days_past_due"):
        v = changes.get(k)
        if k in changes and (isinstance(v, bool) or not isinstance(v, int) or (k != "balance" and v < 0)):
            raise errors.invalid("invalid_request", detail=N_("{field}: a whole number"), field=k)
    with system.uow() as uow:
        current = uow.bureau.record(account_id, month)
        if current is None:  # no record: the line did not exist (or owed nothing) that month
            raise errors.not_found("bureau_record_not_found", account_id=account_id, month=month)
        values = dict(current._mapping)
        values.pop("record_id")
        values.update(changes)
        line = uow.accounts.get(account_id)
        worst = uow.billing.worst_days_past_due(account_id, dt.date.fromisoformat(f"{month}-01"), current.as_of)
        problem = correction_problem(values, set(changes), worst, line.state.value if line else "closed")
        if problem is not None:
            field, basis, basis_value = problem
            raise errors.unprocessable(
                "bureau_correction_inconsistent",
                account_id=account_id,
                month=month,
                field=field,
                value=str(values[field]),
                basis=basis,
                basis_value=str(basis_value),
            )
        values.update(
            seq=current.seq + 1, superseded=False, reason=reason, created_on=uow.today(), created_at=uow.now()
        )
        uow.bureau.supersede(account_id, month, current.seq)
        uow.bureau.add(**values)
        uow.events.record(
            BureauRecordCorrected(
                account_id=account_id, month=month, seq=values["seq"], reason=reason, changes=changes
            ),
            business_date=uow.today(),
            now=uow.now(),
        )
        uow.commit()
        return _record_view(uow.bureau.record(account_id, month))
