"""Tests of sem_kit.io.screening: each rule, their order, ``rules="none"`` and the bookkeeping."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sem_kit.errors import InputError
from sem_kit.io.ingest import Responses, read_responses
from sem_kit.io.screening import (
    MIN_STRAIGHTLINE_ITEMS,
    REASONS,
    Exclusion,
    ScreeningResult,
    screen,
)
from sem_kit.questionnaire import parse_questionnaire

YAML = """
format: 1
name: screen-test
scale: {min: 1, max: 5}
constructs:
  A:
    name: Alpha
    items: {A1: a, A2: b, A3: {en: c, reverse: true}}
  B:
    name: Beta
    items: {B1: d, B2: e, B3: f}
  C:
    name: Gamma
    items: {C1: g, C2: h, C3: i, C4: j}
screening:
  id_column: id
  duration_column: secs
  min_duration: 60
  max_missing: 0.2
"""

HEADER = "id,secs,A1,A2,A3,B1,B2,B3,C1,C2,C3,C4"


def questionnaire(extra: str = ""):
    text = YAML
    if extra:
        text = YAML.replace("  max_missing: 0.2\n", "  max_missing: 0.2\n" + extra)
    return parse_questionnaire(text, "screen-test.yaml")


def run(tmp_path: Path, rows: list[str], extra: str = "", rules: str = "default",
        header: str = HEADER) -> ScreeningResult:
    q = questionnaire(extra)
    path = tmp_path / "data.csv"
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    files_before = sorted(tmp_path.iterdir())
    result = screen(read_responses(path, q), q, rules=rules)
    assert sorted(tmp_path.iterdir()) == files_before  # pure: writes nothing
    assert result.n_kept + len(result.excluded) == result.n_input
    return result


def reasons(result: ScreeningResult) -> dict[int, str]:
    return {e.row: e.reason for e in result.excluded}

GOOD = [
    "p1,300,1,2,3,4,5,1,2,3,4,5",
    "p2,300,2,3,4,5,1,2,3,4,5,1",
    "p3,300,3,4,5,1,2,3,4,5,1,2",
]


def test_clean_data_keeps_everything(tmp_path):
    result = run(tmp_path, GOOD)
    assert result.excluded == ()
    assert result.n_input == result.n_kept == 3
    assert list(result.items.index) == [2, 3, 4]
    assert result.items.loc[2, "A3"] == 3  # 1 + 5 - 3
    assert result.raw_items.loc[3, "A3"] == 4
    assert result.summary() == dict.fromkeys(REASONS, 0)
    assert result.warnings == ()


def test_blank_row(tmp_path):
    result = run(tmp_path, [GOOD[0], ",,,,,,,,,,,", GOOD[1], "", GOOD[2]])
    assert reasons(result) == {3: "blank", 5: "blank"}
    assert result.n_input == 5 and result.n_kept == 3


def test_no_answers(tmp_path):
    result = run(tmp_path, [GOOD[0], "p9,300,,,,,,,NA,,,", GOOD[1]])
    assert reasons(result) == {3: "no_answers"}
    assert result.excluded[0].detail == "no item answered (0 of 10)"


def test_too_fast(tmp_path):
    result = run(tmp_path, [GOOD[0], "p2,35,2,3,4,5,1,2,3,4,5,1", "p3,60,3,4,5,1,2,3,4,5,1,2"])
    assert reasons(result) == {3: "too_fast"}
    assert result.excluded[0].detail == "duration 35 s < min 60 s"
    assert 4 in result.items.index  # exactly the minimum is kept


def test_missing_duration_is_kept(tmp_path):
    result = run(tmp_path, [GOOD[0], "p2,,2,3,4,5,1,2,3,4,5,1"])
    assert result.excluded == ()


def test_too_many_missing(tmp_path):
    rows = [
        "p1,300,1,2,,4,5,,2,3,4,5",    # 2 of 10 missing = 20%: kept
        "p2,300,2,,,5,1,,3,4,5,1",     # 3 of 10 = 30%: excluded
    ]
    result = run(tmp_path, rows)
    assert reasons(result) == {3: "too_many_missing"}
    assert result.excluded[0].detail == "3 of 10 answers missing (30%) > max share 20%"
    assert np.isnan(result.items.loc[2, "A3"])  # missing stays missing


def test_straight_lining_uses_raw_answers(tmp_path):
    rows = [
        "p1,300,4,4,4,4,4,4,4,4,4,4",  # same raw box everywhere, though A3 reverses to 2
        "p2,300,4,4,2,4,4,4,4,4,4,4",  # reverse-coded all 4, but raw answers differ: kept
        GOOD[0],
    ]
    result = run(tmp_path, rows)
    assert reasons(result) == {2: "straight_lining"}
    assert result.excluded[0].detail == "same answer 4 to all 10 answered items"
    assert result.items.loc[3].nunique() == 1


def test_straight_lining_counts_answered_items_only(tmp_path):
    rows = [
        "p1,300,5,5,5,5,,5,5,5,5,5",   # 9 answered, all 5: straight-lining
        GOOD[0],
    ]
    assert reasons(run(tmp_path, rows)) == {2: "straight_lining"}


def test_straight_lining_needs_enough_answered_items(tmp_path):
    assert MIN_STRAIGHTLINE_ITEMS == 5
    text = YAML.replace(
        "  B:\n    name: Beta\n    items: {B1: d, B2: e, B3: f}\n"
        "  C:\n    name: Gamma\n    items: {C1: g, C2: h, C3: i, C4: j}\n",
        "  B:\n    name: Beta\n    items: {B1: d, B2: e}\n",
    ).replace("max_missing: 0.2", "max_missing: 1")
    q = parse_questionnaire(text)
    path = tmp_path / "four.csv"
    path.write_text("id,A1,A2,A3,B1,B2\np1,3,3,3,3,3\np2,3,3,3,3,\n", encoding="utf-8")
    result = screen(read_responses(path, q), q)
    assert reasons(result) == {2: "straight_lining"}  # 5 answered; row 3 has only 4


def test_straight_lining_can_be_switched_off(tmp_path):
    result = run(tmp_path, ["p1,300,4,4,4,4,4,4,4,4,4,4"], extra="  straightlining: false\n")
    assert result.excluded == ()


def test_duplicate_id(tmp_path):
    rows = [GOOD[0], GOOD[1], "p1,300,3,4,5,1,2,3,4,5,1,2", ",300,5,4,3,2,1,5,4,3,2,1",
            ",300,4,3,2,1,5,4,3,2,1,5"]
    result = run(tmp_path, rows)
    assert reasons(result) == {4: "duplicate_id"}
    assert result.excluded[0].detail == "same respondent id 'p1' as row 2"
    assert result.n_kept == 4  # rows without an id are not duplicates of each other


def test_duplicate_id_keeps_valid_second_attempt(tmp_path):
    rows = ["p1,20,1,2,3,4,5,1,2,3,4,5", "p1,300,1,2,3,4,5,1,2,3,4,5"]
    result = run(tmp_path, rows)
    assert reasons(result) == {2: "too_fast"}
    assert list(result.items.index) == [3]


def test_duplicate_answers(tmp_path):
    rows = [GOOD[0], GOOD[1], "p7,300,1,2,3,4,5,1,2,3,4,5", "p8,300,1,2,,4,5,1,2,3,4,5"]
    result = run(tmp_path, rows)
    assert reasons(result) == {4: "duplicate_answers"}
    assert result.excluded[0].detail == "answers to all 10 items identical to row 2"
    assert result.warnings == ()  # 10 items: chance duplicates are unlikely


def test_duplicate_answers_can_be_switched_off(tmp_path):
    rows = [GOOD[0], "p7,300,1,2,3,4,5,1,2,3,4,5"]
    assert run(tmp_path, rows, extra="  duplicate_answers: false\n").excluded == ()


def test_duplicate_answers_warns_with_few_items(tmp_path):
    text = YAML.replace(
        "  C:\n    name: Gamma\n    items: {C1: g, C2: h, C3: i, C4: j}\n", ""
    )
    q = parse_questionnaire(text)
    path = tmp_path / "six.csv"
    path.write_text("id,A1,A2,A3,B1,B2,B3\np1,1,2,3,4,5,1\np2,1,2,3,4,5,1\n", encoding="utf-8")
    result = screen(read_responses(path, q), q)
    assert reasons(result) == {3: "duplicate_answers"}
    assert len(result.warnings) == 1 and "6 items" in result.warnings[0]


def test_first_rule_wins_in_documented_order(tmp_path):
    rows = [
        "p1,10,4,4,4,4,4,4,4,4,4,4",   # too fast and straight-lining -> too_fast
        "p2,300,4,4,4,4,4,4,4,,,",     # too many missing and straight-lining -> too_many_missing
        "p3,300,5,5,5,5,5,5,5,5,5,5",  # straight-lining
        "p6,300,1,2,3,4,5,1,2,3,4,5",
        "p1,300,1,2,3,4,5,1,2,3,4,5",  # same answers as row 5; id p1 first seen in row 2
        "p4,300,1,2,3,4,5,1,2,3,4,5",  # same answers as row 5
        ",,,,,,,,,,,",                 # blank
        "p5,300,,,,,,,,,,",            # no answers
    ]
    result = run(tmp_path, rows)
    assert reasons(result) == {
        2: "too_fast", 3: "too_many_missing", 4: "straight_lining",
        6: "duplicate_answers", 7: "duplicate_answers", 8: "blank", 9: "no_answers",
    }
    # row 6's id p1 was only seen in row 2, which was excluded: it is no duplicate id,
    # but its answers repeat row 5's.
    assert result.excluded[3].detail == "answers to all 10 items identical to row 5"
    assert [e.row for e in result.excluded] == sorted(e.row for e in result.excluded)
    assert result.summary() == {
        "blank": 1, "no_answers": 1, "too_fast": 1, "too_many_missing": 1,
        "straight_lining": 1, "duplicate_id": 0, "duplicate_answers": 2,
    }
    assert list(result.summary()) == list(REASONS)
    assert result.n_input == 8 and result.n_kept == 1


def test_rules_none_keeps_all_but_blank_and_empty(tmp_path):
    rows = [
        "p1,10,4,4,4,4,4,4,4,4,4,4",
        "p2,300,4,,,,,,,4,,",
        "p1,300,1,2,3,4,5,1,2,3,4,5",
        "p1,300,1,2,3,4,5,1,2,3,4,5",
        "",
        "p5,300,,,,,,,,,,",
    ]
    result = run(tmp_path, rows, rules="none")
    assert reasons(result) == {6: "blank", 7: "no_answers"}
    assert result.rules == "none"
    assert result.n_kept == 4
    assert np.isnan(result.items.loc[3, "A2"])


def test_screening_columns_absent_disables_their_rules(tmp_path):
    header = "A1,A2,A3,B1,B2,B3,C1,C2,C3,C4"
    rows = ["1,2,3,4,5,1,2,3,4,5", "5,4,3,2,1,5,4,3,2,1"]
    result = run(tmp_path, rows, header=header)
    assert result.excluded == ()
    assert len(result.responses.warnings) == 2


def test_frames_hold_kept_rows(tmp_path):
    header = HEADER + ",gender"
    rows = [GOOD[0] + ",1", "p2,5,2,3,4,5,1,2,3,4,5,1,2", GOOD[2] + ",2"]
    q = parse_questionnaire(
        YAML + "demographics:\n  gender: {name: Gender, values: {1: Male, 2: Female}}\n"
    )
    path = tmp_path / "d.csv"
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    result = screen(read_responses(path, q), q)
    for frame in (result.items, result.raw_items, result.demographics, result.meta):
        assert list(frame.index) == [2, 4]
        assert frame.index.name == "row"
    assert result.kept_rows == (2, 4)
    assert result.demographics["gender"].tolist() == [1.0, 2.0]
    assert result.meta["id"].tolist() == ["p1", "p3"]


def test_exclusion_record():
    e = Exclusion(7, "too_fast", "duration 35 s < min 60 s")
    assert e.as_dict() == {"row": 7, "reason": "too_fast", "detail": "duration 35 s < min 60 s"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.row = 8  # type: ignore[misc]


def test_result_is_frozen(tmp_path):
    result = run(tmp_path, GOOD)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.excluded = ()  # type: ignore[misc]


def test_unknown_rules(tmp_path):
    q = questionnaire()
    path = tmp_path / "d.csv"
    path.write_text(HEADER + "\n" + GOOD[0] + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="expected one of default, none, found 'strict'"):
        screen(read_responses(path, q), q, rules="strict")


def test_max_missing_setting(tmp_path):
    text = YAML.replace("max_missing: 0.2", "max_missing: 0")
    q = parse_questionnaire(text)
    path = tmp_path / "d.csv"
    path.write_text(HEADER + "\n" + GOOD[0] + "\np2,300,2,3,4,5,1,2,3,4,5,\n", encoding="utf-8")
    result = screen(read_responses(path, q), q)
    assert reasons(result) == {3: "too_many_missing"}
    assert result.excluded[0].detail == "1 of 10 answers missing (10%) > max share 0%"


# ---------------------------------------------------------------------------
# the array implementation against a plain row-by-row reading of the rules
# ---------------------------------------------------------------------------
def _shown_number(value: float) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:g}"


def _shown_share(share: float) -> str:
    return f"{round(share * 100, 1):g}%"


def _keep_first(rows, key_of, excluded, reason, detail):
    """Rows whose key (None: no key) no earlier row had; the others logged as ``reason``."""
    first_of, kept = {}, []
    for row in rows:
        key = key_of(row)
        if key is not None and key in first_of:
            excluded.append({"row": row, "reason": reason, "detail": detail(key, first_of[key])})
            continue
        if key is not None:
            first_of[key] = row
        kept.append(row)
    return kept


def reference_screen(raw, meta, blank, settings, rules):
    """The module docstring's rules, one row at a time: (exclusions, kept rows)."""
    n_items = raw.shape[1]
    excluded, candidates = [], []
    for row in raw.index:
        answers = [float(v) for v in raw.loc[row] if not np.isnan(v)]
        missing = n_items - len(answers)
        seconds = meta.at[row, "duration"] if "duration" in meta else np.nan
        hit = None
        if row in blank:
            hit = ("blank", "every cell is empty")
        elif not answers:
            hit = ("no_answers", f"no item answered (0 of {n_items})")
        elif rules != "default":
            pass
        elif (settings["min_duration"] is not None and "duration" in meta
              and not np.isnan(seconds) and seconds < settings["min_duration"]):
            hit = ("too_fast", f"duration {_shown_number(seconds)} s < min "
                               f"{_shown_number(settings['min_duration'])} s")
        elif missing / n_items > settings["max_missing"]:
            hit = ("too_many_missing",
                   f"{missing} of {n_items} answers missing ({_shown_share(missing / n_items)}) "
                   f"> max share {_shown_share(settings['max_missing'])}")
        elif (settings["straightlining"] and len(answers) >= MIN_STRAIGHTLINE_ITEMS
              and len(set(answers)) == 1):
            hit = ("straight_lining", f"same answer {_shown_number(answers[0])} to all "
                                      f"{len(answers)} answered items")
        if hit:
            excluded.append({"row": row, "reason": hit[0], "detail": hit[1]})
        else:
            candidates.append(row)
    if rules == "default" and "id" in meta:
        def respondent(row):
            rid = meta.at[row, "id"]
            return None if rid is None or (isinstance(rid, float) and np.isnan(rid)) else rid

        candidates = _keep_first(candidates, respondent, excluded, "duplicate_id",
                                 lambda rid, first: f"same respondent id {rid!r} as row {first}")
    if rules == "default" and settings["duplicate_answers"]:
        candidates = _keep_first(
            candidates, lambda row: tuple(None if np.isnan(v) else float(v) for v in raw.loc[row]),
            excluded, "duplicate_answers",
            lambda key, first: f"answers to all {n_items} items identical to row {first}")
    return sorted(excluded, key=lambda e: e["row"]), tuple(candidates)


_SETTINGS = st.fixed_dictionaries({
    "min_duration": st.sampled_from([None, 30.0, 60.0]),
    "max_missing": st.sampled_from([0.0, 0.2, 0.5, 1.0]),
    "straightlining": st.booleans(),
    "duplicate_answers": st.booleans(),
})


@st.composite
def _screening_case(draw):
    n_items = draw(st.integers(1, 8))
    n = draw(st.integers(0, 25))
    # A small alphabet makes ties, straight lines and duplicates likely; -0.0 equals 0.0.
    answer = st.sampled_from([np.nan, np.nan, 1.0, 2.0, 3.0, 2.5, 0.0, -0.0])
    template = draw(st.lists(st.lists(answer, min_size=n_items, max_size=n_items),
                             min_size=1, max_size=4))
    answers = []
    for _ in range(n):
        kind = draw(st.sampled_from(["copy", "random", "straight"]))
        if kind == "copy":
            answers.append(list(draw(st.sampled_from(template))))
        elif kind == "random":
            answers.append(draw(st.lists(answer, min_size=n_items, max_size=n_items)))
        else:  # the same answer everywhere, perhaps with a gap or a signed zero
            same = draw(st.sampled_from([1.0, 3.0, 0.0]))
            row = [same] * n_items
            row[draw(st.integers(0, n_items - 1))] = draw(st.sampled_from([same, np.nan, -same]))
            answers.append(row)
    index = pd.Index(range(2, n + 2), name="row")
    raw = pd.DataFrame(answers, index=index, columns=[f"I{j}" for j in range(n_items)],
                       dtype=float)
    meta = pd.DataFrame(index=index)
    if draw(st.booleans()):
        meta["id"] = pd.Series(draw(st.lists(st.sampled_from([None, np.nan, "p1", "p2", "p3"]),
                                             min_size=n, max_size=n)), index=index, dtype=object)
    if draw(st.booleans()):
        meta["duration"] = draw(st.lists(st.sampled_from([np.nan, 10.0, 29.5, 30.0, 59.0, 60.0,
                                                          300.0]), min_size=n, max_size=n))
    empty = [row for row in index if raw.loc[row].isna().all()]
    blank = tuple(sorted(draw(st.sets(st.sampled_from(empty)))) if empty else ())
    return raw, meta, blank, draw(_SETTINGS), draw(st.sampled_from(["default", "none"]))


@settings(max_examples=300, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(_screening_case())
def test_screen_agrees_with_row_by_row_rules(case):
    raw, meta, blank, rule_settings, rules = case
    extra = "".join(f"  {key}: {'null' if value is None else str(value).lower()}\n"
                    for key, value in rule_settings.items() if key != "max_missing")
    q = parse_questionnaire(YAML.replace("  min_duration: 60\n", "").replace(
        "max_missing: 0.2", f"max_missing: {rule_settings['max_missing']}\n{extra}"), "p.yaml")
    responses = Responses(path="p.csv", sha256="", n_rows=len(raw), items=raw, raw_items=raw,
                          demographics=pd.DataFrame(index=raw.index), meta=meta,
                          blank_rows=blank)
    result = screen(responses, q, rules=rules)
    expected, kept = reference_screen(raw, meta, set(blank), rule_settings, rules)
    assert [e.as_dict() for e in result.excluded] == expected
    assert result.kept_rows == kept
    assert list(result.raw_items.index) == list(kept)
    hits = sum(e["reason"] == "duplicate_answers" for e in expected)
    assert len(result.warnings) == int(hits > 0 and raw.shape[1] < 10)
