"""Reason codes of the score's operations: raise campaigns, the score history, measuring a card on
the book and promoting a challenger (all of kind ``state``).

:mod:`huabei.reasons` registers them with every other code (this module only holds their text:
``(code, message, remedy)``); see that module.
"""

from __future__ import annotations

from huabei.i18n import N_

SCORING_REASONS: tuple[tuple[str, str, str | None], ...] = (
    ("campaign_not_found", N_("No raise campaign {campaign}."), None),
    ("campaign_not_open", N_("The raise campaign {campaign} is not open for enrolment today."), None),
    ("campaign_already_joined", N_("This credit line has already joined the raise campaign {campaign}."), None),
    (
        "campaign_score_too_low",
        N_("The raise campaign {campaign} needs a credit score of at least {min_score}."),
        N_("Raise your score first: repay on time, use the app regularly and complete your profile."),
    ),
    ("no_scores", N_("No credit scores were stored on or before {date}."), None),
    ("not_enough_outcomes", N_("The book cannot measure a card as of that date: {detail}."), None),
    (
        "challenger_not_better",
        N_(
            "The challenger card ranks the book worse than the card in force "
            "(AUC {challenger_auc} against {champion_auc}), so it was not promoted."
        ),
        N_("Fit a better card, or promote this one anyway with --force."),
    ),
)
