"""Read-side use cases: paginated history (transactions) and postings (ledger)."""

from __future__ import annotations

from typing import Any

from huabei import errors
from huabei.i18n import N_
from huabei.platform.unit_of_work import Huabei

MAX_PAGE = 100


def _page(rows: list[Any], limit: int, id_field: str, present: Any) -> dict[str, Any]:
    has_more = len(rows) > limit
    rows = rows[:limit]
    data = [present(r) for r in rows]
    return {
        "data": data,
        "has_more": has_more,
        "next_cursor": getattr(rows[-1], id_field) if has_more and rows else None,
    }


def _check_page(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise errors.invalid("invalid_request", detail=N_("the page size is 1 to {maximum}"), maximum=MAX_PAGE)


def transactions(
    system: Huabei, account_id: int, *, limit: int = 20, starting_after: int | None = None
) -> dict[str, Any]:
    """Newest first; pass ``next_cursor`` as ``starting_after`` for the next page."""
    _check_page(limit)
    with system.uow(readonly=True) as uow:
        if uow.accounts.get(account_id) is None:
            raise errors.not_found("account_not_found", account_id=account_id)
        rows = uow.ledger.entries(account_id, limit, starting_after)
        return _page(
            rows,
            limit,
            "entry_id",
            lambda r: {
                "transaction_id": r.entry_id,
                "type": r.kind,
                "amount": r.amount,
                "ref_id": r.ref_id,
                "memo": r.memo,
                "business_date": r.business_date.isoformat(),
                "created_at": r.created_at.isoformat() if r.created_at else None,
            },
        )


def postings(system: Huabei, account_id: int, *, limit: int = 20, starting_after: int | None = None) -> dict[str, Any]:
    _check_page(limit)
    with system.uow(readonly=True) as uow:
        if uow.accounts.get(account_id) is None:
            raise errors.not_found("account_not_found", account_id=account_id)
        rows = uow.ledger.postings(account_id, limit, starting_after)
        return _page(
            rows,
            limit,
            "posting_id",
            lambda r: {
                "posting_id": r.posting_id,
                "entry_id": r.entry_id,
                "ledger_account": r.ledger_account,
                "amount": r.amount,
                "business_date": r.business_date.isoformat(),
            },
        )


def list_accounts(system: Huabei, *, limit: int = 20, starting_after: int | None = None) -> dict[str, Any]:
    """Credit lines, newest first (operators' and the web pages' overview)."""
    from huabei.lines.service import account_snapshots

    _check_page(limit)
    with system.uow(readonly=True) as uow:
        ids = uow.accounts.ids(limit + 1, starting_after)
        has_more = len(ids) > limit
        ids = ids[:limit]
        return {
            "data": account_snapshots(uow, ids),
            "has_more": has_more,
            "next_cursor": ids[-1] if has_more and ids else None,
        }


def list_users(system: Huabei, *, limit: int = 20, starting_after: str | None = None) -> dict[str, Any]:
    """Users in id order, with their open line (operators' overview, ``huabei users list``)."""
    _check_page(limit)
    with system.uow(readonly=True) as uow:
        rows = uow.users.page(limit + 1, starting_after)
        has_more = len(rows) > limit
        rows = rows[:limit]
        return {
            "data": [
                {
                    "user_id": r.user_id,
                    "name": r.name,
                    "real_name_verified": r.real_name_verified,
                    "created_on": r.created_on.isoformat(),
                    "account_id": uow.accounts.open_account_of(r.user_id),
                }
                for r in rows
            ],
            "has_more": has_more,
            "next_cursor": rows[-1].user_id if has_more and rows else None,
        }
