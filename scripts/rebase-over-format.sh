#!/usr/bin/env bash
# Rebase the current branch over main's one-time `ruff format` commit without conflicts that are
# only formatting. Run inside your worktree with everything committed; then rebase on main as usual.
#
#   1. rebase onto the commit just before the format commit (real conflicts are resolved here);
#   2. format every commit of the branch with that commit's ruff configuration (git filter-branch);
#   3. rebase onto the format commit, where any remaining difference is formatting: yours wins.
set -euo pipefail
ruff="$(pwd)/.venv/bin/ruff"
[ -x "$ruff" ] || { echo "no $ruff: run 'make install' first"; exit 2; }
[ -z "$(git status --porcelain)" ] || { echo "commit or stash your changes first"; exit 2; }
fmt=$(git log main --format=%H -n1 --grep='^ruff format: the whole tree once')
[ -n "$fmt" ] || { echo "main has no format commit"; exit 2; }
if git merge-base --is-ancestor "$fmt" HEAD; then echo "already on top of the format commit"; exit 0; fi
before="$fmt^"
git rebase "$before" || { echo "resolve the conflicts (git rebase --continue), then run this script again"; exit 1; }
"$ruff" --version >/dev/null
FILTER_BRANCH_SQUELCH_WARNING=1 git filter-branch -f --tree-filter \
  "'$ruff' check --no-cache --fix-only -q src tests bench >/dev/null 2>&1 || true; '$ruff' format --no-cache -q src tests bench >/dev/null 2>&1 || true" \
  "$before..HEAD"
git rebase -X theirs "$fmt"
echo "now on top of the format commit; next: git rebase main"
