#!/bin/sh
# Grade every submission: submissions/<student>/answers.derive.yaml, fetched as data (a
# student's repository is never run). Only this folder's configuration applies:
#   -c pytest.ini --rootdir .   no pytest.ini, tox.ini or pyproject.toml of a student's
#   --noconftest                no conftest.py of a student's runs
#   -p no:python -p no:doctest  no test_*.py or doctest of a student's is collected
#   the answers files by name   extra files in a submission add no tests
#   --assert=plain              derive's items need no assertion rewriting (which would
#                               recompile derive in every process where no bytecode is kept)
# The JUnit report names each test submissions/<student>/answers.derive.yaml::<exercise>.
set -eu
cd "$(dirname "$0")"
set -- submissions/*/answers.derive.yaml
[ -e "$1" ] || { echo "no submissions/*/answers.derive.yaml to grade" >&2; exit 2; }
exec pytest -c pytest.ini --rootdir . --noconftest -p no:python -p no:doctest \
    -p no:cacheprovider --assert=plain --junitxml=grades.xml -q "$@"
