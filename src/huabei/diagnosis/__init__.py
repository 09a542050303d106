"""诊断与提额建议: why a line cannot be used and how to raise its limit, from the account's own data.

``findings`` (pure) turns one snapshot of a line into findings and checks; ``render`` (pure)
writes them in zh_CN or en; ``service`` reads the snapshot and serves the views.
"""
