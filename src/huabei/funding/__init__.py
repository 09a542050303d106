"""Brand isolation and 信用购 (品牌隔离): moving a funding partner's balances off 花呗 lines onto a
separate 信用购 line of the same user (``huabei funding migrate``, docs/flows.md)."""
