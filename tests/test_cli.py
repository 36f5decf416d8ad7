"""The command line: subcommands, exit codes, messages without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from references import SAMPLE

from sem_kit.cli import main
from sem_kit.questionnaire import builtin_text


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the installed console script as a user would."""
    exe = Path(sys.executable).with_name("sem-kit")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, check=False)


def test_questionnaire_list_and_show(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["questionnaire", "list"]) == 0
    assert "customer-knowledge-sharing" in capsys.readouterr().out
    assert main(["questionnaire", "show", "customer-knowledge-sharing", "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    assert "顾客知识共享意愿" in out and "KSB ~ WIL" in out and "CST -> WIL -> KSB" in out


def test_questionnaire_export_round_trips(tmp_path: Path) -> None:
    target = tmp_path / "q.yaml"
    assert main(["questionnaire", "export", "customer-knowledge-sharing", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == builtin_text("customer-knowledge-sharing")
    loaded = yaml.safe_load(target.read_text(encoding="utf-8"))
    assert loaded["name"] == "customer-knowledge-sharing"
    before = target.read_bytes()
    proc = run("questionnaire", "export", "customer-knowledge-sharing", str(target))
    assert proc.returncode == 2
    assert "exists; give --force" in proc.stderr and "Traceback" not in proc.stderr
    assert target.read_bytes() == before


def test_unknown_questionnaire_exits_2_without_traceback(tmp_path: Path) -> None:
    proc = run("questionnaire", "show", "no-such-thing")
    assert proc.returncode == 2
    assert "no-such-thing: no such file or built-in questionnaire" in proc.stderr
    assert "Traceback" not in proc.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: 1\nname: bad\nconstructs:\n  A: {name: A, items: {}}\n",
                   encoding="utf-8")
    proc = run("questionnaire", "show", str(bad))
    assert proc.returncode == 2
    assert f"{bad}: constructs.A.items: expected at least 1 item, found 0" in proc.stderr


def test_usage_error_exits_2() -> None:
    proc = run("frobnicate")
    assert proc.returncode == 2 and "usage:" in proc.stderr


def test_analysis_result_repr_is_short(sample_run) -> None:
    text = repr(sample_run(bootstrap=0, seed=1))
    assert text.startswith("<AnalysisResult customer-knowledge-sharing: 363 of 409 rows")
    assert len(text.splitlines()) <= 5 and "hypotheses supported" in text


def test_group_partial_frees_parameters(sample_run, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    data = str(SAMPLE)
    assert main(["analyze", data, "--bootstrap", "0", "--seed", "1", "--group", "gender",
                 "-o", str(tmp_path / "part"), "--group-partial", "WIL2~1"]) == 0
    part = json.loads((tmp_path / "part" / "results.json").read_text(encoding="utf-8"))
    full = sample_run(group="gender", bootstrap=0, seed=1).to_dict()
    df = {r["step"]: r["df"] for r in full["groups"]["invariance"]}
    df_part = {r["step"]: r["df"] for r in part["groups"]["invariance"]}
    assert df_part["scalar"] == df["scalar"] - 1 and df_part["metric"] == df["metric"]
    assert part["groups"]["group_partial"] == ["WIL2~1"]
    assert main(["analyze", data, "--group-partial", "WIL2~1"]) == 2
    assert "--group-partial needs --group" in capsys.readouterr().err
