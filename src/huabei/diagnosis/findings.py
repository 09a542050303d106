"""诊断: why a credit line cannot be used, as findings computed from the account's own data (pure).

:func:`diagnose` turns one consistent read of a line (:class:`AccountFacts`, built by
``huabei.diagnosis.service`` in one read-only unit of work) into a :class:`Diagnosis`:

* the line's **state** (:class:`State`): usable, usable with limits, frozen, closed;
* the **findings**, most severe first: each is a reason code with its structured data
  (amounts in fen, dates, ids), sentences saying what was seen (the evidence), what to do
  and when or on what it lifts. A finding per active restriction comes from the explainer
  registered for its cause in :data:`EXPLAINERS` (one function per cause; a cause without
  one gets :func:`explain_generic`, an honest "contact us" with the lifting date if known);
  then the findings of the line itself (a bill overdue, the limit used up, spending left on
  an expired temporary limit);
* the **checks** the second seed asks users to do by hand, done for them: the limit, its
  last change, overdue bills, recent purchases and repayments, the score and its change,
  the credit-bureau report.

Every sentence is a :class:`Sentence`: an English gettext msgid (marked with ``N_``) and its
parameters, typed so the renderer (``huabei.diagnosis.render``) formats them per locale:
:class:`Fen` (money), :class:`Period` (a bill month), ``datetime.date``, ``int``, and
:class:`Code` (a reason code, rendered as its message). Nothing here reads a clock or a
database: the same facts give the same diagnosis.
"""

from __future__ import annotations

from huabei.diagnosis.checks import checks_of
from huabei.diagnosis.explainers import explainer_for, overdue_bill_sentence
from huabei.diagnosis.vocabulary import (
    AccountFacts,
    Diagnosis,
    Fen,
    Finding,
    Period,
    Sentence,
    State,
    Term,
    local_time,
    say,
)
from huabei.i18n import N_
from huabei.lines.rules import BLOCK_OVERDUE, is_frozen
from huabei.restrictions.causes import CAUSES, SEVERITY, Capability, LiftRule

# --- findings of the line itself ---------------------------------------------------------


def _bill_findings(a: AccountFacts, covered: set[str]) -> list[Finding]:
    if "overdue_reported" in covered:
        return []  # the restriction's finding already lists every overdue bill
    out = []
    for b in a.overdue_bills():
        out.append(
            Finding(
                code="bill_overdue",
                kind="bill",
                blocks=(Capability.PURCHASE.value, Capability.LIMIT_RAISE.value),
                data={
                    "bill_id": b.bill_id,
                    "period": Period(b.period),
                    "due_date": b.due_date,
                    "outstanding": Fen(b.outstanding),
                    "days_past_due": a.days_past_due(b),
                },
                says=overdue_bill_sentence(a, b),
                action=say(
                    N_("Repay {amount} yuan of the {period} bill; penalty interest runs every day until you do."),
                    amount=Fen(b.outstanding),
                    period=Period(b.period),
                ),
                lifts=say(N_("Purchases work again as soon as nothing is overdue.")),
            )
        )
    return out


def _limit_findings(a: AccountFacts) -> list[Finding]:
    out = []
    expired = a.temporary_limit_expired_on
    if expired is not None and a.used > a.base_limit and a.temporary_limit == 0:
        over = a.used - a.base_limit
        out.append(
            Finding(
                code="temporary_limit_overspent",
                kind="limit",
                blocks=(Capability.PURCHASE.value, Capability.LIMIT_RAISE.value),
                data={
                    "over_base_limit": Fen(over),
                    "base_limit": Fen(a.base_limit),
                    "used": Fen(a.used),
                    "temporary_limit_expired_on": expired,
                },
                says=say(
                    N_(
                        "Your temporary limit ended on {date}, but you still owe {amount} yuan more than your base limit of {base} yuan."
                    ),
                    date=expired,
                    amount=Fen(over),
                    base=Fen(a.base_limit),
                ),
                action=say(
                    N_("Repay at least {amount} yuan; until then there is no limit to spend and no raise."),
                    amount=Fen(over),
                ),
                lifts=say(N_("Spending works again once what you owe is back under your base limit.")),
            )
        )
    elif a.available == 0 and a.used > 0:
        out.append(
            Finding(
                code="limit_used_up",
                kind="limit",
                blocks=(Capability.PURCHASE.value,),
                data={"total_limit": Fen(a.total_limit), "used": Fen(a.used)},
                says=say(N_("Your whole limit of {total} yuan is in use."), total=Fen(a.total_limit)),
                action=say(N_("Repay any amount: every yuan repaid can be spent again.")),
                lifts=say(N_("You can spend again as soon as you repay.")),
            )
        )
    return out


#: Payment channels, in words (a maintenance window of one channel).
CHANNEL_NAMES: dict[str, str] = {"online": N_("online payments"), "offline": N_("in-store payments")}


def _maintenance_findings(a: AccountFacts) -> list[Finding]:
    out = []
    for w in a.maintenance:
        if a.now is None or w.starts_at > a.now:
            continue  # upcoming: a check, not a finding
        ends = local_time(w.ends_at, a.timezone)
        data = {"window_id": w.window_id, "starts_at": local_time(w.starts_at, a.timezone), "ends_at": ends}
        data |= {"scope": w.scope, "target": w.target}
        if w.scope == "channel" and w.target in CHANNEL_NAMES:
            says = say(
                N_("{channel} with Huabei are paused for system maintenance; other payments work."),
                channel=Term(CHANNEL_NAMES[w.target]),
            )
            blocks: tuple[str, ...] = ()
        else:
            says = say(N_("Huabei is paused for system maintenance."))
            blocks = (Capability.INSTALLMENT.value, Capability.PURCHASE.value)
        out.append(
            Finding(
                code="maintenance_window",
                kind="maintenance",
                blocks=blocks,
                data=data,
                says=says,
                action=say(N_("Nothing to do; viewing bills and repaying still work.")),
                lifts=say(N_("It resumes by itself at {time}."), time=ends),
            )
        )
    return out


def _closed_finding(a: AccountFacts) -> Finding:
    return Finding(
        code="account_closed",
        kind="account",
        blocks=tuple(sorted(c.value for c in Capability)),
        data={},
        says=say(N_("This Huabei line is closed.")),
        action=say(N_("Repay anything still owed; you can apply to open Huabei again later.")),
    )


def _severity(cause: str) -> int:
    return SEVERITY.index(cause) if cause in SEVERITY else len(SEVERITY)


# --- the diagnosis ------------------------------------------------------------------------


def state_of(a: AccountFacts, findings: list[Finding]) -> State:
    if a.closed:
        return State.CLOSED
    if is_frozen(a.block_code) or a.block_code == BLOCK_OVERDUE:
        return State.FROZEN
    if any(Capability.PURCHASE.value in f.blocks for f in findings if f.kind in ("restriction", "maintenance")):
        return State.FROZEN
    return State.USABLE_WITH_LIMITS if findings else State.USABLE


def _summary(a: AccountFacts, state: State, findings: list[Finding]) -> Sentence:
    if state is State.CLOSED:
        return say(N_("This Huabei line is closed."))
    if state is State.FROZEN:
        blocking = [x for x in findings if Capability.PURCHASE.value in x.blocks]
        if blocking and all(x.lifts_on is not None for x in blocking):
            until = max(x.lifts_on for x in blocking if x.lifts_on is not None)
            return say(N_("Huabei is frozen: you cannot pay with it until {date}. Here is why."), date=until)
        return say(N_("Huabei is frozen: you cannot pay with it now. Here is why and what to do."))
    if state is State.USABLE_WITH_LIMITS:
        return say(
            N_("You can use Huabei, with limits: {available} yuan of your {total} yuan limit is available."),
            available=Fen(a.available),
            total=Fen(a.total_limit),
        )
    return say(
        N_("Nothing blocks you: Huabei works normally, and {available} yuan of your {total} yuan limit is available."),
        available=Fen(a.available),
        total=Fen(a.total_limit),
    )


def diagnose(a: AccountFacts) -> Diagnosis:
    """The diagnosis of one line (see the module docstring)."""
    active = sorted(a.restrictions, key=lambda r: (_severity(r.cause), r.placed_on, r.restriction_id))
    findings: list[Finding] = [_closed_finding(a)] if a.closed else []
    findings += [explainer_for(r.cause)(r, a) for r in active]
    findings += _bill_findings(a, {r.cause for r in active})
    findings += _maintenance_findings(a)
    findings += _limit_findings(a)
    state = state_of(a, findings)
    return Diagnosis(
        account_id=a.account_id,
        user_id=a.user_id,
        as_of=a.today,
        state=state,
        summary=_summary(a, state, findings),
        findings=tuple(findings),
        checks=checks_of(a),
    )


#: The lifting rule of a cause, for the structured data (``None`` for an unknown cause).
def lift_rule(cause: str) -> LiftRule | None:
    c = CAUSES.get(cause)
    return c.lift_rule if c else None
