"""``extends: NAME-or-PATH``: a questionnaire built on another one (DESIGN.md).

The extending file takes every top-level key of its base and replaces the keys it
sets itself; chains are allowed, cycles and missing bases refused, the merged result
checked whole, and each error names the file (and which file of the chain) and the
key path.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from sem_kit import QuestionnaireError, load_questionnaire
from sem_kit.questionnaire import parse_questionnaire

BASE = """
format: 1
name: base-study
scale: {min: 1, max: 5}
constructs:
  A: {name: A, items: {a1: one, a2: two, a3: three}}
  B: {name: B, items: {b1: one, b2: two, b3: three}}
hypotheses:
  H1: {path: A -> B, sign: "+"}
screening: {id_column: rid, duration_column: secs, min_duration: 60}
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def error(source: Path | str) -> str:
    with pytest.raises(QuestionnaireError) as info:
        load_questionnaire(source)
    return str(info.value)


def test_chain_of_relative_paths_overrides_top_level_keys(tmp_path: Path) -> None:
    write(tmp_path / "base.yaml", BASE)
    write(tmp_path / "site" / "mapping.yaml", """
        extends: ../base.yaml
        columns: {a1: "1. The first statement"}
        value_labels: {Agree: 4}
    """)
    child = write(tmp_path / "site" / "study.yaml", """
        extends: mapping.yaml
        hypotheses: {}
        missing_codes: [99]
    """)
    q = load_questionnaire(child)
    assert q.origin == str(child)
    assert q.name == "base-study"  # no name of its own: the base's
    assert q.first_order == ["A", "B"] and q.model.scale.max == 5
    assert q.model.columns == {"a1": "1. The first statement"}
    assert q.model.value_labels == {"Agree": 4}
    assert q.model.missing_codes == [99]
    assert q.hypotheses == {}
    assert load_questionnaire(tmp_path / "base.yaml").hypotheses  # the base is unchanged


def test_own_name_and_whole_keys_replaced(tmp_path: Path) -> None:
    write(tmp_path / "base.yaml", BASE)
    child = write(tmp_path / "child.yaml", """
        extends: base.yaml
        name: my-study
        screening: {min_duration: 0, duration_column: time}
    """)
    q = load_questionnaire(child)
    assert q.name == "my-study"
    # a top-level key is replaced whole, not merged: the base's id_column is gone
    assert q.model.screening.id_column is None
    assert q.model.screening.duration_column == "time"


def test_builtin_base_by_name(tmp_path: Path) -> None:
    child = write(tmp_path / "mine.yaml", """
        extends: customer-knowledge-sharing
        columns: {WIL1: "12、我愿意把使用产品的经验分享给企业"}
        hypotheses: {}
        alternatives: {}
        population: {}
    """)
    q = load_questionnaire(child)
    builtin = load_questionnaire()
    assert q.name == builtin.name and q.origin == str(child)
    assert q.construct_items == builtin.construct_items
    assert q.second_order == ["KCH"] and q.hypotheses == {}
    assert q.column_for("WIL1") == "12、我愿意把使用产品的经验分享给企业"
    assert q.model.demographics == builtin.model.demographics
    text = parse_questionnaire("extends: customer-knowledge-sharing\nname: renamed\n", "<app>")
    assert text.name == "renamed" and text.origin == "<app>"


def test_a_file_beside_wins_over_a_builtin_name(tmp_path: Path) -> None:
    write(tmp_path / "customer-knowledge-sharing", BASE)
    child = write(tmp_path / "child.yaml", "extends: customer-knowledge-sharing\n")
    assert load_questionnaire(child).name == "base-study"


def test_cycle_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "one.yaml", "extends: two.yaml\n")
    write(tmp_path / "two.yaml", "extends: one.yaml\nname: two\n")
    msg = error(tmp_path / "one.yaml")
    assert msg.startswith(f"{tmp_path / 'two.yaml'} (extended by {tmp_path / 'one.yaml'}): ")
    assert "extends: the files extend each other in a cycle: " in msg
    assert msg.endswith(f"{tmp_path / 'one.yaml'} -> {tmp_path / 'two.yaml'} -> "
                        f"{tmp_path / 'one.yaml'}")
    write(tmp_path / "self.yaml", "extends: self.yaml\n")
    assert "cycle" in error(tmp_path / "self.yaml")


def test_missing_base_is_refused(tmp_path: Path) -> None:
    child = write(tmp_path / "child.yaml", "extends: nowhere.yaml\nhypotheses: {}\n")
    msg = error(child)
    assert msg.startswith(f"{child}: extends: 'nowhere.yaml' is neither a file")
    assert f"looked for {tmp_path / 'nowhere.yaml'}" in msg
    assert "customer-knowledge-sharing" in msg  # the built-in names it could have been
    write(tmp_path / "empty.yaml", "extends: ''\n")
    assert "extends: expected the name of a built-in" in error(tmp_path / "empty.yaml")
    write(tmp_path / "list.yaml", "extends: [a.yaml, b.yaml]\n")
    assert "extends: expected the name of a built-in" in error(tmp_path / "list.yaml")


def test_error_in_a_base_names_the_base_and_the_chain(tmp_path: Path) -> None:
    write(tmp_path / "base.yaml", BASE.replace("a2: two, a3: three", "a2: [two"))
    write(tmp_path / "mid.yaml", "extends: base.yaml\n")
    top = write(tmp_path / "top.yaml", "extends: mid.yaml\n")
    msg = error(top)
    assert msg.startswith(f"{tmp_path / 'base.yaml'} (extended by {tmp_path / 'mid.yaml'}, "
                          f"extended by {top}): YAML syntax error at line")


def test_merged_result_is_checked_whole(tmp_path: Path) -> None:
    write(tmp_path / "base.yaml", BASE.replace("{a1: one, a2: two, a3: three}", "{}"))
    write(tmp_path / "mid.yaml", "extends: base.yaml\nmissing_codes: [99]\n")
    top = write(tmp_path / "top.yaml", "extends: mid.yaml\nhypotheses: {}\n")
    # a key the base gave: the message names the extending file, the key path and the base
    msg = error(top)
    assert msg == (f"{top}: constructs.A.items: expected at least 1 item, found 0; a "
                   "construct is measured by its items (one item is allowed: a single-item "
                   "construct, taken as free of measurement error) or is second-order over a "
                   "list of dimensions "
                   f"(`constructs` is taken from {tmp_path / 'base.yaml'}, which "
                   f"{tmp_path / 'mid.yaml'} extends, which {top} extends)")
    write(tmp_path / "base.yaml", BASE)
    # a key of the file itself, checked against the base's constructs
    bad = write(tmp_path / "bad.yaml",
                "extends: base.yaml\nhypotheses: {H1: {path: A -> C, sign: '+'}}\n")
    assert error(bad) == f"{bad}: hypotheses.H1.path: unknown construct 'C'; constructs: A, B"
    typo = write(tmp_path / "typo.yaml", "extends: base.yaml\ncolumn: {a1: x}\n")
    assert error(typo) == (f"{typo}: column: unknown key (check its spelling against the "
                           "questionnaire format)")
    schema = write(tmp_path / "schema.yaml", "extends: base.yaml\nmissing_codes: seven\n")
    assert error(schema).startswith(f"{schema}: missing_codes: ")
    write(tmp_path / "v2.yaml", BASE.replace("format: 1", "format: 2"))
    old = write(tmp_path / "old.yaml", "extends: v2.yaml\n")
    assert error(old).startswith(f"{old}: format: Input should be 1 (`format` is taken from ")
