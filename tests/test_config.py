"""Configuration and discovery: `derive check FOLDER` and `[tool.derive]` in pyproject.toml."""

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from derive.cli import main

SPECS = Path(__file__).parent.parent / "specs"
WRONG = (SPECS / "mazur.yaml").read_text().split("checks:")[0] + \
    "checks:\n  - {wrt: b1, claim: delta_h1}\n"


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "hw" / "deep").mkdir(parents=True)
    shutil.copy(SPECS / "mazur.yaml", tmp_path / "hw" / "deep" / "a.derive.yaml")
    (tmp_path / "hw" / "b.derive.yaml").write_text(WRONG)
    (tmp_path / "hw" / "notes.yaml").write_text("not: a spec\n")  # matches no pattern
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "c.derive.yaml").write_text("inputs: [\n")  # never looked at
    return tmp_path


def check(*args):
    return CliRunner().invoke(main, ["check", *map(str, args), "--format", "json"])


def test_a_folder_is_every_derive_file_below_it(project):
    result = check(".")
    files = [c["file"] for c in json.loads(result.output)["checks"]]
    assert sorted(set(files)) == ["./hw/b.derive.yaml", "./hw/deep/a.derive.yaml"]
    assert result.exit_code == 1


def test_a_folder_with_nothing_to_check_says_so(project):
    (project / "empty").mkdir()
    result = CliRunner().invoke(main, ["check", "empty"])
    assert result.exit_code == 2
    assert result.output == "error: empty: no files matching *.derive.yaml, *.derive.yml " \
                            "under this folder\n"


def test_tool_derive_sets_patterns_budget_and_feedback(project):
    (project / "pyproject.toml").write_text('[tool.derive]\nfiles = ["b.derive.yaml"]\n'
                                            'budget = 0\nfeedback = "verdict"\n')
    [entry] = json.loads(check(".").output)["checks"]
    assert entry["file"] == "./hw/b.derive.yaml"
    assert entry["verdict"] == "incorrect" and entry["hint"] is None  # feedback: verdict
    assert entry["counterexample"] is None
    [entry] = json.loads(check(".", "--feedback", "truth").output)["checks"]  # the flag wins
    assert entry["hint"] == "the claim lacks the term delta_h2"
    [entry] = json.loads(check(SPECS / "mazur.yaml", "--wrt", "w5", "--claim",
                               "delta_o1*out_h1").output)["checks"]
    assert entry["shown_by"] == "numeric"  # budget 0: no proof is tried


def test_the_nearest_pyproject_from_below_is_used(project, monkeypatch):
    (project / "pyproject.toml").write_text('[tool.derive]\nbudget = 0\n')
    monkeypatch.chdir(project / "hw" / "deep")
    [entry, *_] = json.loads(check("a.derive.yaml").output)["checks"]
    assert entry["shown_by"] == "numeric"


@pytest.mark.parametrize("text, phrase", [
    ('[tool.derive]\nbudgte = 1\n', "[tool.derive] budgte: unknown key (did you mean "
     "'budget'?)"),
    ('[tool.derive]\nbudget = -1\n', "[tool.derive] budget: expected CPU seconds"),
    ('[tool.derive]\nfeedback = "all"\n', "[tool.derive] feedback: expected one of verdict"),
    ('[tool.derive]\nfiles = "*.yaml"\n', "[tool.derive] files: expected a list of glob"),
    ('[tool.derive\n', "invalid TOML"),
    ('[tool]\nderive = 3\n', "[tool.derive] must be a table"),
])
def test_a_bad_configuration_is_one_line_and_exit_2(project, text, phrase):
    (project / "pyproject.toml").write_text(text)
    result = CliRunner().invoke(main, ["check", "."])
    assert result.exit_code == 2
    [line] = result.output.splitlines()
    assert line.startswith(f"error: {project / 'pyproject.toml'}: ") and phrase in line, line
