#!/usr/bin/env bash
# Rebuilds every bundle and fails when dist/ differs from what is committed.
set -euo pipefail
if [ -n "$(git status --porcelain -- dist)" ]; then
  echo "::error::dist/ has uncommitted changes before the build; commit or discard them first." >&2
  git status --porcelain -- dist >&2
  exit 1
fi
npm run --silent bundle >/dev/null
if [ -n "$(git status --porcelain -- dist)" ]; then
  echo "::error::dist/ is stale. Run 'npm run bundle' and commit dist/." >&2
  git status --porcelain -- dist >&2
  git diff --stat --text -- dist >&2 || true
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    { echo '### dist/ drift'; git status --porcelain -- dist; } >> "$GITHUB_STEP_SUMMARY"
  fi
  exit 1
fi
echo "dist/ is up to date"
