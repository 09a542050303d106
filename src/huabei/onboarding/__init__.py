"""Opening a credit line (开通): the decision (automatic, by the limit policy over a fresh score,
or an operator's limit) and the line it opens, in one transaction. It sits above the lines, the
score and the limit policy it brings together."""
