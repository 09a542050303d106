"""A card validated on the book's own outcomes (as of a date, outcomes read after it), champion
against challenger on the same lines, and a promotion that is explicit, refused when the
challenger ranks worse, and recorded — on both databases."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from tests.storage.test_behaviour_features import _book, _live
from typer.testing import CliRunner

from huabei.entrypoints.cli.scoring import score_app
from huabei.errors import HuabeiError
from huabei.scoring import validation
from huabei.scoring.collect import card_in_force
from huabei.scoring.scorecard import Scorecard

AS_OF = dt.date(2026, 12, 20)


def _worse(card: Scorecard, version: str) -> Scorecard:
    """The card with every feature's points turned upside down (ranks the wrong way round)."""
    data = card.to_dict()
    data["version"] = version
    for f in data["features"]:
        top = max(b["points"] for b in f["bins"])
        for b in f["bins"]:
            b["points"] = top - b["points"]
    return Scorecard.from_dict(data)


def _renamed(card: Scorecard, version: str) -> Scorecard:
    return Scorecard.from_dict({**card.to_dict(), "version": version})


@pytest.fixture
def book(system):
    lines, plan = _book(system)
    _live(system, dt.date(2027, 1, 20), plan)
    return lines


def test_the_card_in_force_is_validated_on_outcomes_after_the_date(system, book) -> None:
    with system.uow(readonly=True) as uow:
        out = validation.validate_card(uow, as_of=AS_OF, horizon=1, bad_dpd=1)
        with pytest.raises(HuabeiError) as e:
            validation.validate_card(uow, as_of=AS_OF, horizon=2)  # the horizon has not passed
        assert e.value.code == "invalid_request"
    assert (out["lines"], out["bad"]) == (4, 2)  # late in January and never repaid: bad after the date
    assert out["outcomes_until"] == "2027-01-19"
    assert 0.0 <= out["auc"] <= 1.0 and 0.0 <= out["ks"] <= 1.0
    assert sum(b["n"] for b in out["calibration"]) == 4 and sum(b["bad"] for b in out["calibration"]) == 2
    assert out["psi"] is not None and out["psi_interpretation"] in ("stable", "moderate", "shift")
    assert set(out["dimensions_auc"]) <= {"credit_history", "behaviour", "capacity", "identity", "connections"}


def test_the_held_out_part_is_the_one_training_held_out(system, book) -> None:
    with system.uow(readonly=True) as uow:
        out = validation.validate_card(uow, as_of=AS_OF, horizon=1, bad_dpd=1, held_out=(3, 0.5))
    assert (out["lines"], out["bad"]) == (2, 1) and out["held_out"] == {"seed": 3, "share": 0.5}


def test_champion_and_challenger_are_compared_and_promotion_is_explicit_and_recorded(system, book) -> None:
    with system.uow(readonly=True) as uow:
        champion = card_in_force(uow)
    worse = _worse(champion, "challenger-upside-down")
    with system.uow(readonly=True) as uow:
        cmp = validation.challenge(uow, worse, as_of=AS_OF, horizon=1, bad_dpd=1)
    assert cmp["champion"]["card"] == champion.version and cmp["challenger"]["card"] == worse.version
    assert cmp["challenger"]["auc"] < cmp["champion"]["auc"] and not cmp["better"]
    assert sum(sum(row.values()) for row in cmp["band_moves"].values()) == 4
    # comparing changed nothing; a worse challenger is refused without --force
    with pytest.raises(HuabeiError) as e:
        validation.promote(system, worse, actor="alice", as_of=AS_OF, horizon=1, bad_dpd=1)
    assert e.value.code == "challenger_not_better"
    assert validation.promotions(system) == []
    # an equal challenger is promoted, recorded with who, the figures, and what it replaced
    equal = _renamed(champion, "challenger-equal")
    out = validation.promote(system, equal, actor="alice", as_of=AS_OF, horizon=1, bad_dpd=1)
    assert out["promoted"] == "challenger-equal"
    with system.uow(readonly=True) as uow:
        assert card_in_force(uow).version == "challenger-equal"
    [row] = validation.promotions(system)
    assert (row["version"], row["previous"], row["actor"]) == ("challenger-equal", champion.version, "alice")
    assert row["evidence"]["champion"]["auc"] == row["evidence"]["challenger"]["auc"]
    # the rescoring now stores the promoted card's version
    from huabei.scoring import service as scoring

    with system.uow(readonly=True) as uow:
        owner = uow.accounts.get(book["full"]).user_id
    assert scoring.refresh_user(system, owner)["scorecard_version"] == "challenger-equal"


def test_the_commands(system, book, db_url, tmp_path) -> None:
    runner = CliRunner()
    db = ["--db", db_url]
    r = runner.invoke(
        score_app,
        ["validate", "--from-book", "--as-of", "2026-12-20", "--horizon", "1", "--bad-dpd", "1", *db],
    )
    assert r.exit_code == 0, r.output
    assert r.output.strip().splitlines()[-1].startswith("AUC=")
    assert "bad rate" in r.output
    r = runner.invoke(score_app, ["validate", "--from-book", "--as-of", "2026-12-20", "--json", *db])
    assert r.exit_code == 2, r.output  # the default horizon (3 months) has not passed
    with system.uow(readonly=True) as uow:
        champion = card_in_force(uow)
    card = tmp_path / "worse.json"
    card.write_text(json.dumps(_worse(champion, "upside-down").to_dict()))
    args = ["challenge", str(card), "--as-of", "2026-12-20", "--horizon", "1", "--bad-dpd", "1", *db]
    r = runner.invoke(score_app, [*args, "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["better"] is False
    r = runner.invoke(score_app, [*args, "--promote", "--actor", "bob"])
    assert r.exit_code == 3 and "challenger_not_better" in r.output, r.output
    r = runner.invoke(score_app, [*args, "--promote", "--actor", "bob", "--force"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(score_app, ["promotions", "--json", *db])
    [row] = json.loads(r.output)
    assert row["actor"] == "bob" and row["version"] == "upside-down" and row["evidence"]["forced"] is True
