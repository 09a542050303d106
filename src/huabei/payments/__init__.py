"""Money moving through a credit line: purchases (消费), refunds (退款) and repayments (还款).

Above the capabilities it orchestrates: the line (``lines``: the conditional debit), billing
(where money in goes), restrictions, the payment password (``passwords``).
"""
