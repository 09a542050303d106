"""huabei: an open-source consumer credit line (花呗) system."""

__version__ = "0.1.0"
