# Sourced by demo.sh and test.sh: make .venv (once) and install the project into it.
# Usage: . tools/venv.sh EXTRAS   e.g. ". tools/venv.sh dev", or ". tools/venv.sh ''" for none
# (always pass it: a script sourced without arguments sees its caller's arguments).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
fi
extras=${1-}
case $extras in
    *[!a-z0-9,_-]*) echo "venv.sh: '$extras' is not a list of extras (e.g. dev or dev,cuda)" >&2
        return 2 2>/dev/null || exit 2 ;;
esac
# .venv/.installed says "PYPROJECT_SHA256 EXTRAS" after an install: the same pyproject.toml
# with these extras already in needs no pip run (offline, and seconds faster).
stamp=.venv/.installed
want=$(.venv/bin/python -c 'import hashlib; print(hashlib.sha256(open("pyproject.toml", "rb").read()).hexdigest())')
{ read -r have_hash have_extras < "$stamp"; } 2>/dev/null || have_hash=
[ "$have_hash" = "$want" ] || have_extras=
missing=
for e in ${extras//,/ }; do
    [[ ",${have_extras-}," == *",$e,"* ]] || missing=1
done
if [ "$have_hash" != "$want" ] || [ -n "$missing" ]; then
    all=$(printf '%s\n' ${have_extras//,/ } ${extras//,/ } | sort -u | paste -sd, -)
    spec="."
    [ -n "$all" ] && spec=".[$all]"
    rm -f "$stamp"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec"
    echo "$want $all" > "$stamp"
fi
