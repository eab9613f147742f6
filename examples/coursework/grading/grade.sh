#!/bin/sh
# Grade every submission: submissions/<student>/, each student's repository fetched as
# data (nothing in it is run). derive grade reads only each folder's answers.derive.yaml,
# against this repository's course/network.yaml: no conftest.py, ini file, test file,
# workflow or network of a student's is used, a link to a file outside the folder is
# refused, and a bad answer or file costs only itself.
#   grades.csv   a row per student, a column per exercise, the total and any problem
#   grades.json  the same with each exercise's feedback, to send back to each student
set -eu
cd "$(dirname "$0")"
[ -d submissions ] || { echo "no submissions/ folder to grade" >&2; exit 2; }
derive grade submissions/*/ --network course/network.yaml --format csv > grades.csv
derive grade submissions/*/ --network course/network.yaml --format json > grades.json
echo "graded $(($(wc -l < grades.csv) - 1)) submissions: grades.csv, grades.json"
