"""What the API's request fields are called in words, for the Chinese side of a refusal.

A refusal names the field it is about (``due_day``, ``profile.occupation``, ``purchases.0.amount``).
The English message keeps the API's own name; the Chinese one says it in Chinese
(:func:`label`), so a Chinese message carries no English. tests/unit/test_field_names.py checks that
every field and parameter of the served OpenAPI document has its label here.
"""

from __future__ import annotations

from huabei.i18n import N_, normalise_locale, translate

#: a field or parameter name -> its label (an English msgid of the catalogs)
LABELS: dict[str, str] = {
    "account_id": N_("credit line"),
    "account_status": N_("account status"),
    "active_days_90d": N_("active days in the last 90 days"),
    "address": N_("address"),
    "amount": N_("amount"),
    "amount_overdue": N_("amount overdue"),
    "assets": N_("assets"),
    "balance": N_("balance"),
    "bank_card": N_("bank card"),
    "bank_card_bound": N_("bank card bound"),
    "base_limit": N_("base limit"),
    "bucket": N_("delinquency bucket"),
    "category": N_("category"),
    "cause": N_("cause"),
    "changes": N_("changes"),
    "channel": N_("channel"),
    "contact_details_complete": N_("contact details complete"),
    "contacts": N_("contacts"),
    "contacts_good_standing_ratio": N_("share of contacts in good standing"),
    "credit_authorised": N_("credit report authorised"),
    "credit_card_repayments_12m": N_("credit card repayments in the last 12 months"),
    "credit_history_months": N_("months of credit history"),
    "credit_limit": N_("credit limit"),
    "credit_services_12m": N_("credit services in the last 12 months"),
    "credit_tasks_12m": N_("credit tasks in the last 12 months"),
    "date": N_("date"),
    "days_past_due": N_("days past due"),
    "decision": N_("decision"),
    "device_id": N_("device"),
    "due_day": N_("repayment day"),
    "education": N_("education"),
    "effective_on": N_("effective date"),
    "email": N_("e-mail"),
    "employer": N_("employer"),
    "end": N_("end"),
    "events": N_("events"),
    "evidence": N_("evidence"),
    "expires_on": N_("expiry date"),
    "external_id": N_("external id"),
    "facts": N_("facts"),
    "funding_source": N_("funding source"),
    "id_document_expires_on": N_("identity document expiry date"),
    "id_document_valid": N_("identity document valid"),
    "idempotency_key": N_("idempotency key"),
    "income_verified": N_("income verified"),
    "kind": N_("kind"),
    "lifts_on": N_("lifting date"),
    "max_days_overdue_12m": N_("most days overdue in the last 12 months"),
    "merchant_category": N_("merchant category"),
    "merchant_id": N_("merchant"),
    "method": N_("method"),
    "monthly_income": N_("monthly income"),
    "name": N_("name"),
    "note": N_("note"),
    "occupation": N_("occupation"),
    "occurred_on": N_("date it happened"),
    "on_time_repayment_ratio": N_("share of bills repaid on time"),
    "outcome": N_("outcome"),
    "overdue_episodes_12m": N_("overdue episodes in the last 12 months"),
    "partner": N_("partner"),
    "password": N_("password"),
    "phone": N_("phone number"),
    "product": N_("product"),
    "profile": N_("profile"),
    "purchase_ids": N_("purchases"),
    "purchases": N_("purchases"),
    "real_name_verified": N_("real name verified"),
    "reason": N_("reason"),
    "requested_limit": N_("requested limit"),
    "restriction_id": N_("restriction"),
    "scope": N_("scope"),
    "start": N_("start"),
    "statement": N_("statement"),
    "term": N_("number of installments"),
    "until": N_("until"),
    "user_id": N_("user id"),
    "utility_payments_12m": N_("utility bills paid in the last 12 months"),
    "vehicle": N_("vehicle"),
    "verified": N_("verified"),
    "verified_contacts": N_("verified contacts"),
    "worst_bucket": N_("worst delinquency bucket"),
    "appeal_id": N_("appeal"),
    "code": N_("code"),
    "month": N_("month"),
    "period": N_("bill month"),
    "plan_id": N_("installment plan"),
    "purchase_id": N_("purchase"),
    "quarantine_id": N_("record set aside"),
    "run": N_("end-of-day run"),
    "window_id": N_("maintenance window"),
    "bins": N_("bins"),
    "from": N_("from"),
    "to": N_("to"),
    "lang": N_("language"),
    "limit": N_("page size"),
    "starting_after": N_("cursor"),
    "status": N_("status"),
    "Idempotency-Key": N_("Idempotency-Key header"),
    "Accept-Language": N_("Accept-Language header"),
    "body": N_("request body"),
    # facts the host posts (huabei.scoring.facts)
    "raise_applications_90d": N_("raise applications in the last 90 days"),
    "payments_90d": N_("payments in the last 90 days"),
    "offline_payment_share": N_("share of offline payments"),
    "merchant_categories_90d": N_("merchant categories in the last 90 days"),
    "utilisation_ratio": N_("share of the limit used"),
}
ITEM = N_("item {n}")


def label(path: str, locale: str) -> str:
    """``path`` (dotted, list positions as numbers) in ``locale``: in Chinese each part's label
    joined by "·" (个人资料·职业; a list position as 第1项); in English the path as the API names it.
    A name the API does not know (a client's own key) is shown as sent, in quotes."""
    if normalise_locale(locale) != "zh_CN":
        return path
    words = []
    for part in path.split("."):
        if part.isdigit():
            words.append(translate(ITEM, "zh_CN", n=int(part) + 1))
        elif part in LABELS:
            words.append(translate(LABELS[part], "zh_CN"))
        else:
            words.append(f"“{part}”")
    return "·".join(words)
