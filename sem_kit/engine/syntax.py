"""lavaan model syntax and the parameter table it stands for.

:func:`specify` parses the syntax (here, not by semopy, whose parser reads
``NA*x`` as a label) and completes it with the defaults of ``cfa()``/``sem()``:
the first loading of every latent variable fixed to 1 (``auto.fix.first``),
free (residual) variances for every non-exogenous variable (``auto.var``),
free covariances among exogenous latent variables (``auto.cov.lv.x``) and
among the purely dependent variables -- latent or observed, neither
indicators nor predictors (``auto.cov.y``; semopy leaves these out), a single
indicator's residual variance fixed to 0 (``auto.fix.single``) and observed
exogenous covariates fixed at their sample (co)variances (``fixed.x =
TRUE``). Endogenous variables that also predict others get uncorrelated
disturbances.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from sem_kit.errors import InputError

__all__ = ["ModelSpec", "specify", "unique"]

#: Operators lavaan knows that sem_kit does not estimate, with the reason.
_UNSUPPORTED_OPS = {
    ":=": "defined parameters (:=) are not supported; indirect effects are computed separately",
    "==": "equality constraints (==) are not supported; give the parameters one label instead",
    "<": "inequality constraints (<) are not supported",
    ">": "inequality constraints (>) are not supported",
    "|": "thresholds (|) are not supported; the ML estimator treats items as continuous",
    "<~": "formative (composite) latent variables (<~) are not supported",
    "~*~": "scaling factors (~*~) are not supported",
}
_OP_RE = re.compile(r"=~|~\*~|~~|<~|:=|==|~|<|>|\|")
_NAME_RE = re.compile(r"^(?!\d)[\w.]+$")
_NUMBER_RE = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
_CALL_RE = re.compile(r"^(start|label|equal)\((.*)\)$")


# --------------------------------------------------------------------------- parsing


@dataclass(frozen=True)
class _Term:
    lhs: str
    op: str
    rhs: str
    fixed: float | None = None
    free: bool = False  # NA* given: free even where a default would fix it
    label: str = ""
    start: float | None = None
    line: int = 0


def _statements(syntax: str) -> list[tuple[int, str]]:
    """Split model syntax into (line number, statement), joining continued lines."""
    out: list[tuple[int, str]] = []
    for number, raw in enumerate(syntax.splitlines(), start=1):
        text = re.split(r"[#!]", raw, maxsplit=1)[0]
        for piece in text.split(";"):
            piece = piece.strip()
            if not piece:
                continue
            continues = out and (
                re.search(r"(\+|\*|=~|~~|~)$", out[-1][1]) or piece[0] in "+*"
            )
            if continues:
                out[-1] = (out[-1][0], f"{out[-1][1]} {piece}")
            else:
                out.append((number, piece))
    return out


def _check_name(name: str, line: int, statement: str) -> str:
    if not _NAME_RE.match(name):
        raise InputError(
            f"model syntax line {line}: {name!r} is not a variable name in {statement!r}; "
            "expected letters, digits, '_' or '.', not starting with a digit"
        )
    return name


def _parse_term(lhs: str, op: str, text: str, line: int, statement: str) -> _Term:
    parts = [p.strip() for p in text.split("*")]
    if any(not p for p in parts):
        raise InputError(f"model syntax line {line}: empty term in {statement!r}")
    var = parts[-1]
    if var == "1" and op == "~":
        raise InputError(
            f"model syntax line {line}: intercepts ({lhs} ~ 1) are not supported; "
            "sem_kit fits covariance structures without a mean structure"
        )
    _check_name(var, line, statement)
    fixed: float | None = None
    free = False
    label = ""
    start: float | None = None
    for mod in parts[:-1]:
        call = _CALL_RE.match(mod)
        if _NUMBER_RE.match(mod):
            fixed = float(mod)
        elif mod == "NA":
            free = True
        elif call:
            arg = call.group(2).strip().strip("\"'")
            if call.group(1) == "start":
                if not _NUMBER_RE.match(arg):
                    raise InputError(
                        f"model syntax line {line}: start({arg}) needs a number in {statement!r}"
                    )
                start = float(arg)
            else:
                label = _check_name(arg, line, statement)
        elif _NAME_RE.match(mod):
            label = mod
        else:
            raise InputError(
                f"model syntax line {line}: cannot read modifier {mod!r} in {statement!r}; "
                "expected a number (fixed value), NA (free), a label or start(value)"
            )
    if fixed is not None and free:
        raise InputError(f"model syntax line {line}: {var} is both fixed and NA in {statement!r}")
    return _Term(lhs, op, var, fixed, free, label, start, line)


def _parse(syntax: str) -> list[_Term]:
    terms: list[_Term] = []
    for line, statement in _statements(syntax):
        match = _OP_RE.search(statement)
        if match is None:
            raise InputError(
                f"model syntax line {line}: no operator in {statement!r}; "
                "expected one of =~ (measured by), ~ (regressed on), ~~ (covaries with)"
            )
        op = match.group(0)
        if op in _UNSUPPORTED_OPS:
            raise InputError(f"model syntax line {line}: {_UNSUPPORTED_OPS[op]} ({statement!r})")
        left, right = statement[: match.start()].strip(), statement[match.end():].strip()
        if not left or not right:
            raise InputError(f"model syntax line {line}: incomplete formula {statement!r}")
        if op == "~" and right.replace(" ", "") in {"1", "0+1"}:
            raise InputError(
                f"model syntax line {line}: intercepts ({left} ~ 1) are not supported; "
                "sem_kit fits covariance structures without a mean structure"
            )
        for lhs in (x.strip() for x in left.split("+")):
            _check_name(lhs, line, statement)
            for piece in right.split("+"):
                terms.append(_parse_term(lhs, op, piece.strip(), line, statement))
    if not terms:
        raise InputError("model syntax is empty: expected at least one '=~' or '~' formula")
    return _merge_duplicates(terms)


def _key(lhs: str, op: str, rhs: str) -> tuple[str, str, str]:
    if op == "~~":
        a, b = sorted((lhs, rhs))
        return a, op, b
    return lhs, op, rhs


def _merge_duplicates(terms: list[_Term]) -> list[_Term]:
    seen: dict[tuple[str, str, str], int] = {}
    out: list[_Term] = []
    for term in terms:
        key = _key(term.lhs, term.op, term.rhs)
        if term.op == "=~" and term.lhs == term.rhs or term.op == "~" and term.lhs == term.rhs:
            raise InputError(
                f"model syntax line {term.line}: {term.lhs} {term.op} {term.rhs} "
                "relates a variable to itself"
            )
        if key not in seen:
            seen[key] = len(out)
            out.append(term)
            continue
        old = out[seen[key]]
        merged = _Term(
            old.lhs, old.op, old.rhs,
            fixed=old.fixed if term.fixed is None else term.fixed,
            free=old.free or term.free,
            label=old.label or term.label,
            start=old.start if term.start is None else term.start,
            line=old.line,
        )
        conflict = (
            (old.fixed is not None and term.fixed is not None and old.fixed != term.fixed)
            or (old.label and term.label and old.label != term.label)
            or (merged.fixed is not None and merged.free)
        )
        if conflict:
            raise InputError(
                f"model syntax lines {old.line} and {term.line}: "
                f"{term.lhs} {term.op} {term.rhs} is given twice with different modifiers"
            )
        out[seen[key]] = merged
    return out


# --------------------------------------------------------------------------- specification


@dataclass(frozen=True, eq=False)
class ModelSpec:
    """A model in lavaan's parameter-table form, before any data are seen.

    Attributes
    ----------
    syntax:
        The lavaan model syntax it was built from.
    partable:
        One row per parameter, in lavaan's order (user formulas first, then the
        defaults): ``lhs, op, rhs, user`` (1 written, 0 default), ``free``
        (1-based index of the free parameter, 0 if fixed; rows sharing a
        label share an index), ``exo`` (1 for fixed.x covariances of observed
        exogenous variables), ``label``, ``ustart`` (fixed value or start, NaN
        if none).
    observed:
        Observed variables in lavaan's order: indicators, then dependent, then
        exogenous observed variables.
    latent:
        Latent variables in order of first definition.
    x_vars:
        Observed exogenous covariates treated as fixed (``fixed.x = TRUE``).
    npar:
        Number of free parameters.
    df:
        Degrees of freedom, ``p(p+1)/2 − pₓ(pₓ+1)/2 − npar``.
    semopy_syntax:
        The same model spelled out for ``semopy.Model(..., cov_diag=True)``:
        every parameter explicit, free ones labelled ``_skK``.
    notes:
        What lavaan would also warn about while building the table.
    """

    syntax: str
    partable: pd.DataFrame
    observed: tuple[str, ...]
    latent: tuple[str, ...]
    x_vars: tuple[str, ...]
    npar: int
    df: int
    semopy_syntax: str
    notes: tuple[str, ...] = ()

    @property
    def variables(self) -> tuple[str, ...]:
        """RAM order: observed then latent."""
        return self.observed + self.latent

    @property
    def ndat(self) -> int:
        """Number of sample moments the model reproduces (lavaan's ``ndat``)."""
        p, px = len(self.observed), len(self.x_vars)
        return p * (p + 1) // 2 - px * (px + 1) // 2


def unique(seq: Iterable[str]) -> list[str]:
    """The distinct items of ``seq`` in order of first appearance."""
    return list(dict.fromkeys(seq))


def specify(syntax: str) -> ModelSpec:
    """Parse lavaan model syntax and complete it with the defaults of ``cfa()``/``sem()``.

    Parameters
    ----------
    syntax:
        lavaan model syntax with ``=~``, ``~`` and ``~~`` formulas; modifiers
        ``1*x`` (fixed), ``NA*x`` (free), ``a*x`` (label; equal labels are equal
        parameters) and ``start(0.5)*x``.

    Returns
    -------
    ModelSpec
        The parameter table, variable lists and degrees of freedom.

    Raises
    ------
    InputError
        Unreadable syntax, an unsupported operator, a variable that appears only
        in ``~~``, or negative degrees of freedom (more free parameters than
        sample moments: the model is not identified).

    Notes
    -----
    In R: ``lavaan::lavaanify(model, auto.fix.first = TRUE, auto.var = TRUE,
    auto.cov.lv.x = TRUE, auto.cov.y = TRUE, auto.fix.single = TRUE,
    fixed.x = TRUE)``, which is what ``cfa()`` and ``sem()`` call.
    """
    terms = _parse(syntax)
    var = _variables(terms)
    rows = _rows(terms, var)
    _fix_first_loadings(rows)
    _fix_single_indicators(rows)
    _apply_modifiers(rows)
    npar = _number_free(rows)
    partable = pd.DataFrame(
        {c: [r[c] for r in rows] for c in ("lhs", "op", "rhs", "user", "free", "exo", "label",
                                           "ustart")}
    )
    partable["free"] = partable["free"].astype(int)
    p, px = len(var.observed), len(var.x_vars)
    ndat = p * (p + 1) // 2 - px * (px + 1) // 2
    df = ndat - npar
    if df < 0:
        raise InputError(
            f"the model is not identified: it has {npar} free parameters but only {ndat} "
            f"sample (co)variances, so df = {df} < 0; fix some parameters or add indicators"
        )
    notes = []
    if var.random_x:
        notes.append(
            "exogenous covariates with (co)variance formulas are treated as random: "
            + ", ".join(var.random_x)
        )
    spec = ModelSpec(
        syntax=syntax, partable=partable, observed=tuple(var.observed), latent=tuple(var.lv),
        x_vars=tuple(var.x_vars), npar=npar, df=df, semopy_syntax="", notes=tuple(notes),
    )
    object.__setattr__(spec, "semopy_syntax", _semopy_syntax(spec))
    return spec


@dataclass(frozen=True)
class _Variables:
    """The variables of a model by role, as lavaan's ``lav_partable_vnames`` names them."""

    lv: list[str]  # latent variables
    v_ind: list[str]  # indicators (observed or latent)
    eqs_y: list[str]  # left of ~
    eqs_x: list[str]  # right of ~
    observed: list[str]  # indicators, then dependent, then exogenous observed
    x_vars: list[str]  # fixed.x covariates
    random_x: list[str]  # observed exogenous variables with a ~~ formula


def _variables(terms: list[_Term]) -> _Variables:
    lv = unique(t.lhs for t in terms if t.op == "=~")
    v_ind = unique(t.rhs for t in terms if t.op == "=~")
    eqs_y = unique(t.lhs for t in terms if t.op == "~")
    eqs_x = unique(t.rhs for t in terms if t.op == "~")
    ov_ind = [v for v in v_ind if v not in lv]
    ov_y_all = [v for v in eqs_y if v not in lv and v not in ov_ind]
    ov_x_all = [v for v in eqs_x if v not in lv and v not in ov_ind and v not in ov_y_all]
    structural = set(lv) | set(v_ind) | set(eqs_y) | set(eqs_x)
    for t in terms:
        if t.op == "~~":
            for v in (t.lhs, t.rhs):
                if v not in structural:
                    raise InputError(
                        f"model syntax line {t.line}: {v!r} appears only in a covariance "
                        f"({t.lhs} ~~ {t.rhs}); it must be an indicator (=~) or in a regression (~)"
                    )
    in_cov = {v for t in terms if t.op == "~~" for v in (t.lhs, t.rhs)}
    return _Variables(lv=lv, v_ind=v_ind, eqs_y=eqs_y, eqs_x=eqs_x,
                      observed=ov_ind + ov_y_all + ov_x_all,
                      x_vars=[v for v in ov_x_all if v not in in_cov],
                      random_x=[v for v in ov_x_all if v in in_cov])


def _rows(terms: list[_Term], var: _Variables) -> list[dict]:
    """The user's rows, then the defaults of ``cfa()``/``sem()`` they do not give.

    ``auto.var`` (every non-fixed.x variance), ``auto.cov.lv.x`` (exogenous
    latent covariances), ``auto.cov.y`` (among purely dependent variables) and
    the fixed.x (co)variances.
    """
    ov_nox = [v for v in var.observed if v not in var.x_vars]
    lv_x = [v for v in var.lv if v not in var.v_ind and v not in var.eqs_y]
    lv_y = [v for v in var.lv if v in var.eqs_y and v not in var.v_ind and v not in var.eqs_x]
    ov_y = [v for v in var.observed
            if v in var.eqs_y and v not in var.v_ind and v not in var.eqs_x]
    x_vars = var.x_vars
    rows: list[dict] = []
    for t in terms:
        rows.append(dict(lhs=t.lhs, op=t.op, rhs=t.rhs, user=1, free=1, exo=0,
                         label=t.label, ustart=np.nan, term=t))
    user_keys = {_key(r["lhs"], r["op"], r["rhs"]) for r in rows}
    defaults: list[tuple[str, str, str, int]] = []
    defaults += [(v, "~~", v, 0) for v in ov_nox + var.lv]
    defaults += [(a, "~~", b, 0) for a, b in combinations(lv_x, 2)]
    defaults += [(a, "~~", b, 0) for a, b in combinations(lv_y + ov_y, 2)]
    defaults += [(x_vars[j], "~~", x_vars[i], 1)
                 for j in range(len(x_vars)) for i in range(j, len(x_vars))]
    for lhs, op, rhs, exo in defaults:
        if _key(lhs, op, rhs) in user_keys:
            continue
        rows.append(dict(lhs=lhs, op=op, rhs=rhs, user=0, free=0 if exo else 1, exo=exo,
                         label="", ustart=np.nan, term=None))
    return rows


def _fix_first_loadings(rows: list[dict]) -> None:
    """``auto.fix.first``: the first loading of every latent variable is fixed to 1."""
    first_done: set[str] = set()
    for r in rows:
        if r["op"] == "=~" and r["lhs"] not in first_done:
            first_done.add(r["lhs"])
            r["free"], r["ustart"] = 0, 1.0


def _fix_single_indicators(rows: list[dict]) -> None:
    """``auto.fix.single``: a single indicator's residual variance is fixed to 0."""
    n_ind = pd.Series([r["lhs"] for r in rows if r["op"] == "=~"]).value_counts()
    ind_count = pd.Series([r["rhs"] for r in rows if r["op"] == "=~"]).value_counts()
    for r in rows:
        if r["op"] == "=~" and n_ind.get(r["lhs"], 0) == 1 and ind_count[r["rhs"]] == 1:
            for s in rows:
                if s["op"] == "~~" and s["lhs"] == s["rhs"] == r["rhs"] and s["user"] == 0:
                    s["free"], s["ustart"] = 0, 0.0


def _apply_modifiers(rows: list[dict]) -> None:
    """The user's modifiers (fixed value, ``NA``, ``start()``) override the defaults."""
    for r in rows:
        t: _Term | None = r["term"]
        if t is None:
            continue
        if t.fixed is not None:
            r["free"], r["ustart"] = 0, t.fixed
        elif t.free:
            r["free"], r["ustart"] = 1, np.nan
        if t.start is not None and r["free"]:
            r["ustart"] = t.start


def _number_free(rows: list[dict]) -> int:
    """Number the free rows 1, 2, ... (rows sharing a label share a number); returns npar."""
    index_of_label: dict[str, int] = {}
    k = 0
    for r in rows:
        if not r["free"]:
            r["free"] = 0
            continue
        if r["label"] and r["label"] in index_of_label:
            r["free"] = index_of_label[r["label"]]
            continue
        k += 1
        r["free"] = k
        if r["label"]:
            index_of_label[r["label"]] = k
    return k


def _fmt_value(value: float) -> str:
    return repr(float(value))


def _semopy_syntax(spec: ModelSpec) -> str:
    """The model with every parameter spelled out, for ``semopy.Model(..., cov_diag=True)``."""
    lines = []
    for r in spec.partable.itertuples(index=False):
        if r.exo:
            continue  # fixed.x: semopy fixes observed exogenous (co)variances at the sample values
        mult = f"_sk{r.free}" if r.free else _fmt_value(r.ustart)
        lines.append(f"{r.lhs} {r.op} {mult}*{r.rhs}")
    # semopy fixes the covariances of every pair of observed exogenous variables at the
    # sample values; where lavaan has no such parameter (a random covariate) it is 0.
    pt = spec.partable
    endogenous = set(pt.lhs[pt.op == "~"]) | set(pt.rhs[pt.op == "=~"])
    exo_obs = [v for v in spec.observed if v not in endogenous]
    present = {_key(a, o, b) for a, o, b in zip(pt.lhs, pt.op, pt.rhs, strict=True)}
    for a, b in combinations(exo_obs, 2):
        if _key(a, "~~", b) not in present:
            lines.append(f"{a} ~~ 0.0*{b}")
    return "\n".join(lines) + "\n"
