"""Property-based tests: whatever table or questionnaire a user brings, sem-kit either
reads / analyses it or stops with exit code 2 and a one-line message -- never exit 1 (an
internal error) and never an uncaught exception.

Hypothesis draws random tables (headers with and without the right item ids, duplicates,
numbers off the scale, text, missing codes, blanks, control characters; CSV with three
delimiters and three encodings, or Excel) and random small questionnaires (1-4 constructs
of 1-4 items, random hypotheses, second-order constructs, reverse items, value labels and
column aliases, valid or with one subtle fault). The whole module runs in well under a
minute.
"""

from __future__ import annotations

import contextlib
import csv
import io
import tempfile
from pathlib import Path
from typing import Any

import openpyxl
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sem_kit.cli import main
from sem_kit.errors import InputError
from sem_kit.io.simulate import simulate_responses
from sem_kit.pipeline import analyze
from sem_kit.questionnaire import parse_questionnaire

SMALL_YAML = """\
format: 1
name: prop
scale: {min: 1, max: 7}
constructs:
  A:
    name: Alpha
    items: {A1: first, A2: second, A3: {en: third, reverse: true}}
  B:
    name: Beta
    items: {B1: fourth, B2: fifth, B3: sixth}
value_labels: {Agree: 6, 同意: 6, Disagree: 2}
demographics:
  gender: {name: Gender, values: {1: Male, 2: Female}}
screening: {id_column: id, duration_column: seconds, min_duration: 30}
"""
ITEMS = ["A1", "A2", "A3", "B1", "B2", "B3"]
OTHER_HEADERS = ["id", "seconds", "gender", "A1 ", "a1", "B_2", "序号", "所用时间", ""]

FAST = settings(deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def run_cli(*args: str | Path) -> tuple[int, str, str]:
    """``sem-kit ARGS`` in-process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def assert_clean_outcome(code: int, out: str, err: str, path: Path | None = None) -> None:
    """Exit 0, or exit 2 with exactly one ``sem-kit: error: ...`` line; nothing else."""
    assert code in (0, 2), err
    assert "Traceback" not in err and "internal error" not in err
    if code == 2:
        assert err.startswith("sem-kit: error: ") and err.count("\n") == 1, err
        message = err.removeprefix("sem-kit: error: ")
        assert len(message.strip()) > 20
        if path is not None:
            assert str(path) in message


# --------------------------------------------------------------------------- random tables

cell_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=6)
cells = st.one_of(
    st.just(""),
    st.integers(-3, 10).map(str),
    st.sampled_from(["1", "4", "7", "4.0", "3.5", "1e1", "-0", " 5 ", "NA", "n/a", "#N/A", "-",
                     ".", "(跳过)", "Agree", "agree", "同意", "Disagree", "maybe", "inf", "nan",
                     "１", "5,0", "TRUE"]),
    cell_text,
)


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    items = draw(st.lists(st.sampled_from(ITEMS), max_size=8))
    if draw(st.booleans()):
        items = list(dict.fromkeys(ITEMS + items))  # usually every item, maybe more
    headers = items + draw(st.lists(st.one_of(st.sampled_from(OTHER_HEADERS), cell_text),
                                    max_size=3))
    order = draw(st.permutations(range(len(headers))))
    headers = [headers[i] for i in order]
    n_rows = draw(st.integers(0, 25))
    mostly_fine = draw(st.booleans())
    rows = []
    for _ in range(n_rows):
        if mostly_fine:
            row = [draw(st.one_of(st.integers(1, 7).map(str), st.just("")))
                   if h.strip() in ITEMS else draw(cells) for h in headers]
        else:
            row = [draw(cells) for _ in headers]
        rows.append(row)
    return headers, rows


def write_table(path_base: Path, headers: list[str], rows: list[list[str]], kind: str) -> Path:
    if kind == "xlsx":
        path = path_base.with_suffix(".xlsx")
        book = openpyxl.Workbook()
        ws = book.active
        for record in [headers, *rows]:
            ws.append([_excel_value(v) for v in record])
        book.save(path)
        return path
    delimiter, encoding = {"comma-utf8": (",", "utf-8"), "semicolon-gbk": (";", "gbk"),
                           "tab-utf16": ("\t", "utf-16")}[kind]
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows([headers, *rows])
    path = path_base.with_suffix(".csv")
    path.write_bytes(buffer.getvalue().encode(encoding, errors="replace"))
    return path


def _excel_value(value: str) -> Any:
    """Numbers as numbers (as Excel stores typed answers); text without control characters."""
    try:
        return int(value)
    except ValueError:
        pass
    return "".join(c for c in value if c.isprintable())


@settings(FAST, max_examples=300)
@given(table=tables(), kind=st.sampled_from(["comma-utf8", "semicolon-gbk", "tab-utf16",
                                              "xlsx"]),
       rules=st.sampled_from(["default", "none"]))
def test_random_tables_validate_or_exit_2(table, kind, rules):
    headers, rows = table
    with tempfile.TemporaryDirectory() as tmp:
        qfile = Path(tmp) / "prop.yaml"
        qfile.write_text(SMALL_YAML, encoding="utf-8")
        path = write_table(Path(tmp) / "data", headers, rows, kind)
        before = path.read_bytes()
        code, out, err = run_cli("validate", path, "-q", qfile, "--screen", rules)
        assert_clean_outcome(code, out, err, path)
        assert path.read_bytes() == before
        if code == 0:
            counts = {line.split(":")[0]: int(line.split(":")[1]) for line in out.splitlines()
                      if line.startswith(("Rows read:", "Rows kept:", "Rows excluded:"))}
            assert counts["Rows kept"] + counts["Rows excluded"] == counts["Rows read"]


@settings(FAST, max_examples=60)
@given(junk=st.binary(max_size=300), suffix=st.sampled_from([".csv", ".xlsx", ".sav", ".tsv",
                                                            ".txt"]))
def test_random_bytes_are_never_an_internal_error(junk, suffix):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"junk{suffix}"
        path.write_bytes(junk)
        qfile = Path(tmp) / "prop.yaml"
        qfile.write_text(SMALL_YAML, encoding="utf-8")
        code, out, err = run_cli("validate", path, "-q", qfile)
        assert_clean_outcome(code, out, err, path)
        assert path.read_bytes() == junk


# --------------------------------------------------------------------------- random questionnaires

MUTATIONS = [None, None, None, "format", "one_item", "unknown_path", "cycle", "sign",
             "duplicate_key", "tab", "truncate", "scale", "unknown_key", "bad_id",
             "reverse_no_scale", "dimension_path", "alias_clash", "covariance"]
#: Mutations that break every questionnaire they are put into (the others need a
#: hypothesis or a second-order construct to act on, or may leave valid YAML).
ALWAYS_INVALID = {"format", "one_item", "unknown_path", "duplicate_key", "tab", "scale",
                  "unknown_key", "bad_id", "reverse_no_scale", "alias_clash", "covariance"}


def _document(draw: st.DrawFn) -> tuple[dict[str, Any], list[str], list[tuple[str, str]]]:
    """A valid questionnaire document, its first-order construct ids and its hypotheses."""
    n_constructs = draw(st.integers(1, 4))
    ids = [f"F{k}" for k in range(n_constructs)]
    scale = draw(st.sampled_from([None, (1, 5), (1, 7), (0, 10)]))
    constructs: dict[str, Any] = {}
    for cid in ids:
        n_items = draw(st.integers(2, 4))
        items: dict[str, Any] = {}
        for j in range(1, n_items + 1):
            reverse = scale is not None and draw(st.integers(0, 4)) == 0
            items[f"{cid}i{j}"] = {"en": f"item {j}", "reverse": True} if reverse else f"x{j}"
        constructs[cid] = {"name": {"en": cid, "zh": f"构念{cid}"}, "items": items}
    doc: dict[str, Any] = {"format": 1, "name": "prop-q", "constructs": constructs}
    if scale is not None:
        doc["scale"] = {"min": scale[0], "max": scale[1]}
    if n_constructs >= 3 and draw(st.booleans()):
        doc["constructs"]["SO"] = {"name": "Second", "dimensions": ids[:2]}
    structural = [c for c in doc["constructs"] if c not in ids[:2] or "SO" not in doc["constructs"]]
    pairs = [(a, b) for i, a in enumerate(structural) for b in structural[i + 1:]]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=4)) if pairs else []
    if chosen:
        doc["hypotheses"] = {f"H{k + 1}": {"path": f"{a} -> {b}",
                                           "sign": draw(st.sampled_from(["+", "-"]))}
                             for k, (a, b) in enumerate(chosen)}
    if draw(st.booleans()):
        doc["value_labels"] = {"agree": 4, "同意": 4}
    if draw(st.booleans()):
        doc["columns"] = {f"{ids[0]}i1": f"1、{ids[0]}第一题"}
    return doc, ids, chosen


def _break_model(doc: dict[str, Any], ids: list[str], chosen: list[tuple[str, str]],
                 mutation: str) -> None:
    """The mutations of the format, the scale and the hypotheses, in place."""
    first_items = doc["constructs"][ids[0]]["items"]
    if mutation == "format":
        doc["format"] = 2
    elif mutation == "one_item":
        for key in list(first_items)[1:]:
            del first_items[key]
    elif mutation == "unknown_path":
        doc.setdefault("hypotheses", {})["HX"] = {"path": f"{ids[0]} -> NOPE", "sign": "+"}
    elif mutation == "cycle" and chosen:
        a, b = chosen[0]
        doc["hypotheses"]["HC"] = {"path": f"{b} -> {a}", "sign": "+"}
    elif mutation == "sign" and chosen:
        doc["hypotheses"]["H1"]["sign"] = "±"
    elif mutation == "scale":
        doc["scale"] = {"min": 5, "max": 1}
    elif mutation == "dimension_path" and "SO" in doc["constructs"]:
        doc.setdefault("hypotheses", {})["HD"] = {"path": f"{ids[0]} -> {ids[2]}", "sign": "+"}


def _break_items(doc: dict[str, Any], ids: list[str], mutation: str) -> None:
    """The mutations of the constructs' keys, items, columns and covariances, in place."""
    first_items = doc["constructs"][ids[0]]["items"]
    if mutation == "unknown_key":
        doc["constructs"][ids[0]]["itmes"] = {}
    elif mutation == "bad_id":
        first_items["1 bad"] = "x"
    elif mutation == "reverse_no_scale":
        doc.pop("scale", None)
        first_items[next(iter(first_items))] = {"en": "r", "reverse": True}
    elif mutation == "alias_clash":
        doc["columns"] = {f"{ids[0]}i1": f"{ids[0]}i2"}
    elif mutation == "covariance":
        doc["covariances"] = [[f"{ids[0]}i1", ids[0]]]


@st.composite
def questionnaires(draw: st.DrawFn) -> tuple[str, str | None]:
    """YAML text of a small questionnaire, and the subtle fault put into it (None: valid)."""
    doc, ids, chosen = _document(draw)
    mutation = draw(st.sampled_from(MUTATIONS))
    _break_model(doc, ids, chosen, mutation)
    _break_items(doc, ids, mutation)
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    if mutation == "duplicate_key":
        text += "format: 1\n"
    elif mutation == "tab":
        text = text.replace("  ", "\t", 1)
    elif mutation == "truncate":
        text = text[: draw(st.integers(0, max(len(text) - 1, 0)))]
    return text, mutation


@settings(FAST, max_examples=150)
@given(spec=questionnaires(), n=st.integers(1, 60), seed=st.integers(0, 2**16),
       corrupt=st.sampled_from([None, "drop_column", "bad_cell", "off_scale"]))
def test_random_questionnaires_and_their_data(spec, n, seed, corrupt):
    text, mutation = spec
    with tempfile.TemporaryDirectory() as tmp:
        qfile = Path(tmp) / "q.yaml"
        qfile.write_text(text, encoding="utf-8")
        code, out, err = run_cli("questionnaire", "show", qfile)
        assert_clean_outcome(code, out, err, qfile)
        if mutation in (None, "cycle", "sign", "dimension_path") and code == 2:
            # only faults that need the hypotheses can fail a questionnaire drawn valid
            assert mutation is not None, err
        if mutation in ALWAYS_INVALID:
            assert code == 2, (mutation, text)
        if code != 0:
            return
        data = Path(tmp) / "data.csv"
        code, out, err = run_cli("simulate", "-q", qfile, "-n", n, "--seed", seed, "-o", data)
        assert_clean_outcome(code, out, err)
        if code != 0:
            return
        if corrupt is not None:
            lines = data.read_text(encoding="utf-8").splitlines()
            header = lines[0].split(",")
            if corrupt == "drop_column":
                keep = [j for j in range(len(header)) if j != len(header) - 1]
                lines = [",".join(line.split(",")[j] for j in keep) for line in lines]
            else:
                cells = lines[-1].split(",")
                cells[-1] = "maybe" if corrupt == "bad_cell" else "99"
                lines[-1] = ",".join(cells)
            data.write_text("\n".join(lines) + "\n", encoding="utf-8")
        before = data.read_bytes()
        code, out, err = run_cli("validate", data, "-q", qfile)
        assert_clean_outcome(code, out, err, data)
        assert data.read_bytes() == before


@settings(FAST, max_examples=30)
@given(n_constructs=st.integers(1, 3), n_items=st.lists(st.integers(2, 4), min_size=3,
                                                         max_size=3),
       paths=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2), st.sampled_from("+-")),
                      max_size=3),
       n=st.sampled_from([5, 14, 60, 150, 300, 300]), seed=st.integers(0, 1000),
       missing=st.sampled_from([0.0, 0.01, 0.05, 0.3]))
def test_random_small_models_analyse_or_fail_cleanly(n_constructs, n_items, paths, n, seed,
                                                      missing):
    """The whole analysis (``bootstrap=0``), structural model included when there are
    hypotheses: an AnalysisResult whose counts add up, or an InputError with a message --
    nothing else."""
    lines = ["format: 1", "name: prop-a", "scale: {min: 1, max: 5}", "constructs:"]
    for k in range(n_constructs):
        items = ", ".join(f"F{k}i{j}: x" for j in range(1, n_items[k] + 1))
        lines += [f"  F{k}:", f"    name: F{k}", f"    items: {{{items}}}"]
    arrows = {(a, b): sign for a, b, sign in paths if a < b < n_constructs}
    if arrows:
        lines.append("hypotheses:")
        lines += [f"  H{k + 1}: {{path: F{a} -> F{b}, sign: '{sign}'}}"
                  for k, ((a, b), sign) in enumerate(arrows.items())]
    q = parse_questionnaire("\n".join(lines) + "\n", "prop-a.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.csv"
        frame = simulate_responses(q, n, seed, missing=missing, demographics=False)
        frame.to_csv(path, index=False)
        try:
            result = analyze(path, q, bootstrap=0, seed=1)
        except InputError as exc:
            message = str(exc)
            assert message.startswith((str(path), "prop-a.yaml")) and len(message) > 40
            return
    # The analysed rows are complete answers to exactly the questionnaire's items, and
    # every one of its constructs and items is in the measurement model.
    assert list(result.data.columns) == list(q.items)
    assert not result.data.isna().to_numpy().any()
    assert list(result.reliability.index) == list(q.constructs)
    assert list(result.loadings["item"]) == list(q.items)
    # Blank lines after the last answered row are not rows of the table.
    answered = frame.notna().any(axis=1).to_numpy()
    rows = int(answered.nonzero()[0].max()) + 1
    assert result.screening.n_input == rows
    assert result.n_analyzed + len(result.excluded) == rows
    assert (result.structural is not None) == bool(arrows)
    assert result.to_dict()["meta"]["warnings"] == list(result.warnings)
