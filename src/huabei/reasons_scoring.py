"""Reason codes of the credit score: what held a score down and what to do (``SCORE_REASONS``, of
kind ``score``), and the score's operations: raise campaigns, the score history, measuring a card on
the book and promoting a challenger (``SCORING_REASONS``, of kind ``state``).

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

#: What held a score down (the scorecard's reason codes) and what the user can do about it.
SCORE_REASONS: tuple[tuple[str, str, str | None], ...] = (
    (
        "late_repayments",
        N_("Some amounts due in the last 12 months were not repaid in full by their due date."),
        N_("Repay every bill in full by its due date; a record of on-time repayments raises the score."),
    ),
    (
        "recent_overdue",
        N_("You had an overdue repayment in the last 12 months."),
        N_(
            "Clear any overdue amount now and keep every repayment on time; overdue records weigh on the score for 12 months."
        ),
    ),
    (
        "no_repayment_record",
        N_("No bill has fallen due yet, so there is no repayment record to score."),
        N_("Use your credit line and repay each bill on time; every bill repaid on time builds your record."),
    ),
    (
        "short_credit_history",
        N_("Your credit history is short."),
        N_(
            "Your credit history is still short; keep using your credit line and repaying on time, and the score rises as the history grows."
        ),
    ),
    (
        "too_many_raise_applications",
        N_("You applied for limit raises several times in the last 90 days."),
        N_(
            "Avoid applying for limit raises repeatedly; frequent applications lower the score. Wait for the periodic review instead."
        ),
    ),
    (
        "low_activity",
        N_("You used the app for payments only a few times recently."),
        N_("Use the app more regularly for everyday payments, online and in stores."),
    ),
    (
        "single_payment_channel",
        N_("Your payments were made only online or only in stores."),
        N_("Pay both online and in stores; using only one channel gives a narrower picture of your spending."),
    ),
    (
        "few_scenarios",
        N_("Your payments cover few kinds of everyday scenarios."),
        N_("Use the app in more kinds of everyday scenarios, such as shopping, dining, travel and utilities."),
    ),
    (
        "few_bill_payments",
        N_("Few utility bills or credit-card bills were paid through the app."),
        N_("Pay your utility bills and repay your credit cards through the app."),
    ),
    (
        "no_credit_services",
        N_("You have not used credit services such as deposit-free rental or stays recently."),
        N_("Use credit services such as deposit-free rental or stay-now-pay-later, and return or pay on time."),
    ),
    (
        "no_credit_tasks",
        N_("You have not completed credit tasks or raise challenges recently."),
        N_("Take part in credit tasks and raise challenges offered in the app."),
    ),
    (
        "low_income",
        N_("Your monthly income is not declared or is low."),
        N_("Add your monthly income to your profile; a stable, verified income improves your repayment capacity."),
    ),
    (
        "income_not_verified",
        N_("Your declared income is not verified."),
        N_("Have your declared income verified (payroll, tax or bank statement)."),
    ),
    (
        "low_assets",
        N_("You hold few savings or fund balances in the app."),
        N_("Keep savings or fund balances in the app; assets show you can repay."),
    ),
    (
        "high_utilisation",
        N_("You use a large share of your credit limit."),
        N_("Use less of your credit limit; keeping the used share low and not overspending raises the score."),
    ),
    (
        "no_statement_yet",
        N_("You have no statement yet, so the share of your limit you use is not known."),
        N_("Keep the share of your limit you use low once your first statement is issued."),
    ),
    ("identity_not_verified", N_("Real-name verification is not complete."), N_("Complete real-name verification.")),
    (
        "id_document_expired",
        N_("Your identity document is missing or has expired."),
        N_("Update your identity document; it is missing or has expired."),
    ),
    (
        "incomplete_profile",
        N_("Your profile is incomplete."),
        N_("Complete your profile: add your education, occupation and contact details and bind a bank card."),
    ),
    (
        "few_connections",
        N_("You have few verified contacts in the app."),
        N_("Add contacts you know in the app and have them verified."),
    ),
    (
        "contacts_in_poor_standing",
        N_("Few of your contacts are in good credit standing."),
        N_("Few of your contacts are in good credit standing; connections in good standing support the score."),
    ),
)
