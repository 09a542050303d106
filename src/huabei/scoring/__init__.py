"""Fitting and validating credit scorecards (pandas / scikit-learn / optbinning live here, not in the domain).

The pure scorecard itself is :mod:`huabei.scoring.scorecard`; this package builds one
from labelled data (:func:`fit_scorecard`, :func:`train_from_table`) and measures it
(:func:`evaluate`, :func:`validate_on_german_credit`). Import the names from
:mod:`huabei.scoring.training`; importing this package alone does not load the heavy
libraries.
"""

__all__ = ["training"]
