"""The portfolio (资产组合) figures of the risk dashboard: whole-book, set-based reads."""
