"""The questionnaire format: every schema error names the file and key path."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from references import ROOT

from sem_kit import QuestionnaireError, load_questionnaire
from sem_kit.questionnaire import builtin_names, builtin_text, parse_questionnaire

MINIMAL = """
format: 1
name: mini
scale: {min: 1, max: 5}
constructs:
  A:
    name: Construct A
    items: {a1: "one", a2: "two", a3: {en: three, zh: 三, reverse: true}}
  B:
    name: {en: Construct B, zh: 乙}
    items: {b1: x, b2: y, b3: z}
  C:
    name: C
    items: {c1: x, c2: y, c3: z}
hypotheses:
  H1: {path: A -> B, sign: "+"}
  H2: {path: B -> C, sign: "-"}
"""


def _parse(text: str):
    return parse_questionnaire(textwrap.dedent(text), "q.yaml")


def _error(text: str) -> str:
    with pytest.raises(QuestionnaireError) as info:
        _parse(text)
    message = str(info.value)
    assert message.startswith("q.yaml: ")
    return message


def test_minimal_parses_with_reverse_item_and_texts() -> None:
    q = _parse(MINIMAL)
    assert q.first_order == ["A", "B", "C"]
    assert q.reverse_items == ["a3"]
    assert q.items["a3"].text.get("zh") == "三"
    assert q.constructs["B"].name.get("zh") == "乙"
    assert q.constructs["A"].name.get("zh") == "Construct A"  # falls back to English
    assert q.item_scale("a1").reverse(2) == 4
    assert q.indirect_paths() == [("A", "B", "C")]


def test_builtin_questionnaire_is_complete() -> None:
    q = load_questionnaire()
    assert q.name == "customer-knowledge-sharing"
    assert set(q.constructs) == {
        "WIL",
        "ABL",
        "CST",
        "EXB",
        "LOY",
        "TRU",
        "ECO",
        "SCA",
        "TIM",
        "CPX",
        "KCH",
        "TEC",
        "INC",
        "KSB",
    }
    assert q.second_order == ["KCH"]
    assert q.constructs["KCH"].dimensions == ["ECO", "SCA", "TIM", "CPX"]
    for cid in q.first_order:
        items = q.constructs[cid].items
        assert 3 <= len(items) <= 5, cid
        for item in items.values():
            assert item.en and item.zh
    assert len(q.reverse_items) >= 2
    assert q.model.scale.min == 1 and q.model.scale.max == 7
    signs = {h.path: h.sign for h in q.hypotheses.values()}
    for cause in ("WIL", "ABL", "EXB", "LOY", "TRU", "KCH", "TEC", "INC"):
        assert signs[f"{cause} -> KSB"] == "+"
    assert signs["CST -> KSB"] == "-"
    assert signs["CST -> WIL"] == "-" and signs["EXB -> WIL"] == "+"
    assert signs["LOY -> ABL"] == "+"
    assert set(q.model.demographics) == {"gender", "age", "education", "tenure", "platform"}
    assert ("CST", "WIL", "KSB") in q.indirect_paths()
    assert ("LOY", "ABL", "KSB") in q.indirect_paths()
    assert q.warnings == ()


def test_builtin_source_has_a_comment_naming_each_scale() -> None:
    text = builtin_text("customer-knowledge-sharing")
    lines = text.splitlines()
    for cid in ("WIL", "ABL", "CST", "EXB", "LOY", "TRU", "TEC", "INC", "KSB", "ECO"):
        idx = lines.index(f"  {cid}:")
        assert lines[idx - 1].lstrip().startswith("#"), cid


def test_builtin_found_by_name_and_path() -> None:
    assert "customer-knowledge-sharing" in builtin_names()
    by_name = load_questionnaire("customer-knowledge-sharing")
    path = ROOT / "questionnaires" / "customer_knowledge_sharing.yaml"
    by_path = load_questionnaire(path)
    assert by_name.model == by_path.model


def test_model_syntax_has_all_parts() -> None:
    text = MINIMAL + "covariances: [[a1, b1]]\n"
    q = _parse(text)
    syntax = q.model_syntax()
    assert "A =~ a1 + a2 + a3" in syntax
    assert "B ~ A" in syntax and "C ~ B" in syntax
    assert "a1 ~~ b1" in syntax
    assert not [line for line in q.measurement_syntax().splitlines() if " ~ " in line]


def test_second_order_syntax() -> None:
    q = load_questionnaire()
    assert "KCH =~ ECO + SCA + TIM + CPX" in q.measurement_syntax()
    assert "KSB ~ WIL + ABL + CST + EXB + LOY + TRU + KCH + TEC + INC" in q.model_syntax()


def test_two_items_warn() -> None:
    q = _parse(MINIMAL.replace("a3: {en: three, zh: 三, reverse: true}", ""))
    assert any("A has only 2 items" in w for w in q.warnings)


def test_one_item_is_a_single_item_construct() -> None:
    q = _parse(MINIMAL.replace('a2: "two", a3: {en: three, zh: 三, reverse: true}', ""))
    assert q.construct_items["A"] == ["a1"]
    assert "A =~ a1" in q.measurement_syntax().splitlines()
    (warning,) = [w for w in q.warnings if "construct A" in w]
    assert "single item (a1)" in warning and "alpha, CR and AVE are undefined" in warning
    assert "residual variance at 0" in warning


@pytest.mark.parametrize("items", ["{}", "", "null"])
def test_zero_items_are_refused_with_the_key_path(items: str) -> None:
    msg = _error(MINIMAL.replace('{a1: "one", a2: "two", a3: {en: three, zh: 三, reverse: true}}',
                                 items))
    assert "q.yaml: constructs.A.items: expected at least 1 item, found 0" in msg
    assert "one item is allowed" in msg and "dimensions" in msg


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("A -> B", "A -> Z"), "hypotheses.H1.path: unknown construct 'Z'"),
        (("b1: x", "a1: x"), "constructs.B.items.a1: item a1 is already an item of construct A"),
        (("B -> C", "B -> A"), "hypotheses: the paths form a cycle A -> B -> A"),
        (("H2:", "H1:"), "duplicate key 'H1'"),
        (("format: 1", "format: 2"), "format: Input should be 1"),
        (('sign: "-"', 'sign: "?"'), "hypotheses.H2.sign"),
        (("A -> B", "A to B"), "hypotheses.H1.path: expected 'A -> B'"),
        (("name: C\n", "name: C\n    colour: red\n"), "constructs.C.colour: unknown key"),
    ],
)
def test_schema_errors_name_the_key_path(change: tuple[str, str], expected: str) -> None:
    old, new = change
    assert old in MINIMAL
    assert expected in _error(MINIMAL.replace(old, new, 1))


def test_construct_with_neither_items_nor_dimensions() -> None:
    msg = _error(MINIMAL + "  D: {name: D}\n".replace("  D", "  D"))  # appended to hypotheses
    assert "hypotheses.D" in msg or "constructs.D" in msg
    text = MINIMAL.replace("hypotheses:", "  D:\n    name: D\nhypotheses:")
    msg = _error(text)
    assert "constructs.D: has neither items nor dimensions; expected at least 1 item" in msg


def test_duplicate_item_id_in_one_construct_is_a_duplicate_key() -> None:
    msg = _error(MINIMAL.replace('a2: "two"', 'a1: "two"'))
    assert "duplicate key 'a1'" in msg and "line" in msg


def test_item_id_equal_to_construct_id() -> None:
    msg = _error(MINIMAL.replace("b1: x", "A: x"))
    assert "constructs.B.items.A: id A is also a construct id" in msg


def test_yaml_syntax_error_names_line() -> None:
    msg = _error(MINIMAL.replace("name: Construct A", "name: [Construct A"))
    assert "YAML syntax error at line" in msg


def test_second_order_errors() -> None:
    second = MINIMAL.replace(
        "hypotheses:", "  S:\n    name: S\n    dimensions: [A, Q]\nhypotheses:"
    )
    assert "constructs.S.dimensions[1]: unknown construct 'Q'" in _error(second)
    both = MINIMAL.replace(
        "hypotheses:",
        "  S:\n    name: S\n    dimensions: [A, B]\n    items: {s1: x, s2: y}\nhypotheses:",
    )
    assert "constructs.S: has both items and dimensions" in _error(both)
    ok = _parse(
        MINIMAL.replace(
            'hypotheses:\n  H1: {path: A -> B, sign: "+"}\n  H2: {path: B -> C, sign: "-"}\n',
            "  S:\n    name: S\n    dimensions: [A, B]\n"
            'hypotheses:\n  H1: {path: S -> C, sign: "+"}\n',
        )
    )
    assert ok.second_order == ["S"] and ok.dimension_of == {"A": "S", "B": "S"}
    assert ok.structural_constructs == ["C", "S"]


def test_hypothesis_on_a_dimension_is_refused() -> None:
    text = MINIMAL.replace("hypotheses:", "  S:\n    name: S\n    dimensions: [A, B]\nhypotheses:")
    assert "A is a dimension of S" in _error(text)


def test_unknown_covariance_and_column_alias() -> None:
    assert "covariances[0]: unknown item or construct 'zz'" in _error(
        MINIMAL + "covariances: [[a1, zz]]\n"
    )
    assert "columns.zz: unknown item or demographic id" in _error(MINIMAL + "columns: {zz: Q1}\n")
    assert "indirect[0]: A -> C is not a hypothesised path" in _error(
        MINIMAL + "indirect: [A -> C -> B]\n"
    )


def test_reverse_item_without_scale() -> None:
    assert "reverse: true needs a scale" in _error(MINIMAL.replace("scale: {min: 1, max: 5}\n", ""))


def test_missing_file_and_not_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(QuestionnaireError, match="no such file or built-in questionnaire"):
        load_questionnaire(tmp_path / "nope.yaml")
    bad = tmp_path / "list.yaml"
    bad.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(QuestionnaireError, match=r"list.yaml: expected a mapping"):
        load_questionnaire(bad)


def test_builtin_ships_in_a_non_editable_install(tmp_path: Path) -> None:
    """A wheel carries the built-in questionnaires (they live outside the package tree)."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    import zipfile

    wheel = next(tmp_path.glob("sem_kit-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "sem_kit/builtin_questionnaires/customer_knowledge_sharing.yaml" in names


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ("population: {loadings: {a1: 1.2}}", "population.loadings.a1: expected a standardised"),
        ("population: {loadings: {A: 0.5}}", "population.loadings.A: expected an item id"),
        ("population: {paths: {B -> C: -1.5}}", "population.paths.B -> C: expected a standardised"),
        ("population: {paths: {A -> C: 0.2}}", "population.paths.A -> C: not a hypothesised path"),
        ("population: {correlations: {A ~~ B: 0.2}}", "B is not exogenous"),
        ("columns: {a1: a2}", "columns.a1: header 'a2' is the id of another item"),
    ],
)
def test_population_and_alias_errors(block: str, expected: str) -> None:
    assert expected in _error(MINIMAL + block + "\n")


def test_declared_alternatives() -> None:
    q = _parse(MINIMAL + "alternatives:\n  no_ab: {description: without A on B, drop: [A -> B]}\n")
    assert q.model.alternatives["no_ab"].drop == ["A -> B"]
    from sem_kit.postestimation.comparison import nested_alternatives

    declared = [a for a in nested_alternatives(q) if a.name == "no_ab"]
    assert declared and declared[0].dropped == (("A", "B"),)
    msg = _error(MINIMAL + "alternatives:\n  bad: {drop: [A -> C]}\n")
    assert "alternatives.bad.drop[0]: 'A -> C' is not a hypothesised path" in msg
    assert "alternatives.empty.drop" in _error(MINIMAL + "alternatives:\n  empty: {drop: []}\n")


DEMOGRAPHICS = MINIMAL + "demographics:\n  school: {name: School, values: VALUES}\n"


@pytest.mark.parametrize(("values", "codes"), [
    ("{Pasteur: Pasteur, Grant-White: Grant-White}", ["Pasteur", "Grant-White"]),
    ("{男: {en: Male, zh: 男}, 女: {en: Female, zh: 女}}", ["男", "女"]),
    ("{1: Male, 2: Female}", [1, 2]),
    ("{'1': Male, ' 2 ': Female}", [1, 2]),  # a quoted whole number is that number
    ("{1: Male, other: Other}", [1, "other"]),
])
def test_demographic_codes_are_numbers_or_text(values: str, codes: list) -> None:
    q = _parse(DEMOGRAPHICS.replace("VALUES", values))
    got = list(q.model.demographics["school"].values)
    assert got == codes
    assert [type(c) for c in got] == [type(c) for c in codes]


@pytest.mark.parametrize(("values", "expected"), [
    ("{1: Male, '1': Female}", "code 1 is given twice"),
    ("{Male: a, male: b}", "differ only in case"),
    ("{yes: Y, no: N}", "YAML boolean"),
    ("{1.5: half}", "not a whole number"),
])
def test_bad_demographic_codes_name_the_key_path(values: str, expected: str) -> None:
    msg = _error(DEMOGRAPHICS.replace("VALUES", values))
    assert "demographics.school.values: " in msg and expected in msg


def test_demographic_match_and_label() -> None:
    q = _parse(DEMOGRAPHICS.replace(
        "VALUES", "{Pasteur: {en: Pasteur, zh: 巴斯德}, 2: {en: Female, zh: 女}}"))
    demo = q.model.demographics["school"]
    assert demo.match(" PASTEUR ") == "Pasteur" and demo.match("巴斯德") == "Pasteur"
    assert demo.match("female") == 2 and demo.match("Harvard") is None
    assert demo.label("Pasteur", "zh") == "巴斯德" and demo.label(2.0) == "Female"
    assert demo.label(3) is None
