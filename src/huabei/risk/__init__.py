"""The risk engine (风控): freeze causes detected and lifted by policies written as data.

* :mod:`huabei.risk.catalog` — the named, versioned features a policy may read (pure);
* :mod:`huabei.risk.policy` — a policy file (YAML with CEL conditions): parsed, validated and
  compiled once per version (pure);
* ``tables`` / ``repository`` — the policy versions and their activations, the decisions, and
  each feature's one set-based SQL definition over history as of a date;
* ``service`` — validate, show and activate policies; evaluate them daily (end-of-day) and
  inline (inside the purchase transaction); place and lift restrictions with evidence.

See docs/risk.md.
"""
