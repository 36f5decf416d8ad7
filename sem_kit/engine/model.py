"""Maximum-likelihood estimation of a structural equation model, as lavaan does it.

This is the one adapter around semopy. semopy (``semopy.Model``, objective
``"MLW"``) runs the first optimisation; everything that is reported is computed
here from a parameter table that follows lavaan's rules, so that estimates,
standard errors and standardised solutions agree with ``lavaan::cfa()`` /
``lavaan::sem()`` (lavaan 0.6, ``estimator = "ML"``, complete data):

- **Parameter table** (:func:`specify`). The lavaan syntax is parsed here (not by
  semopy, whose parser reads ``NA*x`` as a label) and completed with the
  defaults of ``cfa()``/``sem()``: the first loading of every latent variable
  fixed to 1 (``auto.fix.first``), free (residual) variances for every
  non-exogenous variable (``auto.var``), free covariances among exogenous
  latent variables (``auto.cov.lv.x``) and among the purely dependent
  variables -- latent or observed, neither indicators nor predictors
  (``auto.cov.y``; semopy leaves these out), a single indicator's residual
  variance fixed to 0 (``auto.fix.single``) and observed exogenous covariates
  fixed at their sample (co)variances (``fixed.x = TRUE``). Endogenous variables
  that also predict others get uncorrelated disturbances.
- **Objective.** lavaan's ML discrepancy with the N divisor (``likelihood =
  "normal"``), ``F = log|Σ| + tr(SΣ⁻¹) − log|S| − p``; semopy's "MLW" is the
  same function. semopy bounds variances at 0; lavaan does not, so the semopy
  solution is polished here by Fisher scoring without bounds, which also makes
  the convergence tight (max |∂F/∂θ| below 1e-8 in regular cases).
- **Standard errors** from the expected information with N (lavaan's
  ``information = "expected"``, ``se = "standard"``):
  ``I = ½ Δᵀ (Σ⁻¹ ⊗ Σ⁻¹) Δ`` with ``Δ = ∂vech(Σ)/∂θ``, ``vcov = (N I)⁻¹``.
- **Standardised solution** exactly as ``standardizedSolution(fit, type =
  "std.all")`` (lavaan's ``lav_standardize_all``): loadings and regressions
  scaled by model-implied standard deviations, variances divided by
  model-implied total variances, covariances turned into (residual)
  correlations with the variances' own estimates.

The model-implied covariance matrix is computed in RAM form: all variables
``v = (observed, latent)``, ``A[i, j]`` the effect of ``j`` on ``i`` (``=~`` and
``~``), ``P`` the (residual) covariances (``~~``), ``B = (I − A)⁻¹``,
``Σ = F B P Bᵀ Fᵀ`` with ``F`` selecting the observed variables (McArdle &
McDonald 1984).

For the bootstrap, :func:`refit` fits the same :class:`ModelSpec` to a
resample by Fisher scoring from the full-sample estimates (no semopy, about a
dozen milliseconds for the nine-factor model), recomputing the fixed.x
covariances from the resample as lavaan does.

Examples
--------
>>> from sem_kit.engine.model import fit_model            # doctest: +SKIP
>>> fit = fit_model("visual =~ x1 + x2 + x3\\n...", data)  # doctest: +SKIP
>>> fit.params                                             # doctest: +SKIP

In R: ``parameterEstimates(cfa(model, data), standardized = TRUE)``.
"""

from __future__ import annotations

import logging
import math
import re
import warnings as _pywarnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd
from scipy.stats import norm

from sem_kit.errors import InputError

__all__ = [
    "Fit",
    "ModelSpec",
    "fit_model",
    "implied_moments",
    "refit",
    "specify",
    "standardize",
]

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

#: Gradient norm (max |∂F/∂θ|, lavaan's F = ½ · discrepancy) below which a fit counts as converged.
GRADIENT_TOLERANCE = 1e-5

#: Smallest eigenvalue of the information matrix scaled to unit diagonal
#: (``D^-1/2 I D^-1/2``) below which the model counts as empirically
#: under-identified: some parameters are (nearly) linear combinations of others
#: in this sample, so their estimates are arbitrary and their standard errors
#: huge. Regular models (every lavaan reference fit of the tests, the built-in
#: model on its sample data) stay above 0.03; a two-item construct whose
#: latent correlations are all below about .05 falls under it.
UNDER_IDENTIFIED_EIGENVALUE = 1e-3


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


def _unique(seq) -> list[str]:
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
    notes: list[str] = []
    lv = _unique(t.lhs for t in terms if t.op == "=~")
    v_ind = _unique(t.rhs for t in terms if t.op == "=~")
    eqs_y = _unique(t.lhs for t in terms if t.op == "~")
    eqs_x = _unique(t.rhs for t in terms if t.op == "~")
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
    observed = ov_ind + ov_y_all + ov_x_all
    in_cov = {v for t in terms if t.op == "~~" for v in (t.lhs, t.rhs)}
    x_vars = [v for v in ov_x_all if v not in in_cov]
    random_x = [v for v in ov_x_all if v in in_cov]
    if random_x:
        notes.append(
            "exogenous covariates with (co)variance formulas are treated as random: "
            + ", ".join(random_x)
        )
    ov_nox = [v for v in observed if v not in x_vars]
    lv_x = [v for v in lv if v not in v_ind and v not in eqs_y]
    lv_y = [v for v in lv if v in eqs_y and v not in v_ind and v not in eqs_x]
    ov_y = [v for v in observed if v in eqs_y and v not in v_ind and v not in eqs_x]

    rows: list[dict] = []
    for t in terms:
        rows.append(dict(lhs=t.lhs, op=t.op, rhs=t.rhs, user=1, free=1, exo=0,
                         label=t.label, ustart=np.nan, term=t))
    user_keys = {_key(r["lhs"], r["op"], r["rhs"]) for r in rows}
    defaults: list[tuple[str, str, str, int]] = []
    defaults += [(v, "~~", v, 0) for v in ov_nox + lv]
    defaults += [(a, "~~", b, 0) for a, b in combinations(lv_x, 2)]
    defaults += [(a, "~~", b, 0) for a, b in combinations(lv_y + ov_y, 2)]
    defaults += [(x_vars[j], "~~", x_vars[i], 1)
                 for j in range(len(x_vars)) for i in range(j, len(x_vars))]
    for lhs, op, rhs, exo in defaults:
        if _key(lhs, op, rhs) in user_keys:
            continue
        rows.append(dict(lhs=lhs, op=op, rhs=rhs, user=0, free=0 if exo else 1, exo=exo,
                         label="", ustart=np.nan, term=None))

    # auto.fix.first: the first loading of every latent variable is fixed to 1
    first_done: set[str] = set()
    for r in rows:
        if r["op"] == "=~" and r["lhs"] not in first_done:
            first_done.add(r["lhs"])
            r["free"], r["ustart"] = 0, 1.0
    # auto.fix.single: a single indicator's residual variance is fixed to 0
    n_ind = pd.Series([r["lhs"] for r in rows if r["op"] == "=~"]).value_counts()
    ind_count = pd.Series([r["rhs"] for r in rows if r["op"] == "=~"]).value_counts()
    for r in rows:
        if r["op"] == "=~" and n_ind.get(r["lhs"], 0) == 1 and ind_count[r["rhs"]] == 1:
            for s in rows:
                if s["op"] == "~~" and s["lhs"] == s["rhs"] == r["rhs"] and s["user"] == 0:
                    s["free"], s["ustart"] = 0, 0.0
    # user modifiers override the defaults
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

    # free-parameter indices, shared by rows with the same label
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
    npar = k

    partable = pd.DataFrame(
        {c: [r[c] for r in rows] for c in ("lhs", "op", "rhs", "user", "free", "exo", "label",
                                           "ustart")}
    )
    partable["free"] = partable["free"].astype(int)
    p, px = len(observed), len(x_vars)
    ndat = p * (p + 1) // 2 - px * (px + 1) // 2
    df = ndat - npar
    if df < 0:
        raise InputError(
            f"the model is not identified: it has {npar} free parameters but only {ndat} "
            f"sample (co)variances, so df = {df} < 0; fix some parameters or add indicators"
        )
    spec = ModelSpec(
        syntax=syntax, partable=partable, observed=tuple(observed), latent=tuple(lv),
        x_vars=tuple(x_vars), npar=npar, df=df, semopy_syntax="", notes=tuple(notes),
    )
    object.__setattr__(spec, "semopy_syntax", _semopy_syntax(spec))
    return spec


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


# --------------------------------------------------------------------------- RAM algebra


@dataclass(frozen=True, eq=False)
class _Ram:
    """Where each parameter-table row sits in the RAM matrices."""

    m: int
    p: int
    kind: np.ndarray  # 0: A (asymmetric path), 1: P (symmetric)
    row: np.ndarray  # matrix row index
    col: np.ndarray  # matrix column index

    def subset(self, mask: np.ndarray) -> _Ram:
        return _Ram(self.m, self.p, self.kind[mask], self.row[mask], self.col[mask])


def _ram(spec: ModelSpec, lhs=None, op=None, rhs=None) -> _Ram:
    pt = spec.partable
    lhs = pt.lhs if lhs is None else lhs
    op = pt.op if op is None else op
    rhs = pt.rhs if rhs is None else rhs
    pos = {v: i for i, v in enumerate(spec.variables)}
    kind, row, col = [], [], []
    for a, o, b in zip(lhs, op, rhs, strict=True):
        if o == "=~":  # a measured by b: path a -> b
            kind.append(0), row.append(pos[b]), col.append(pos[a])
        elif o == "~":  # a regressed on b: path b -> a
            kind.append(0), row.append(pos[a]), col.append(pos[b])
        else:
            kind.append(1), row.append(pos[a]), col.append(pos[b])
    return _Ram(len(spec.variables), len(spec.observed), np.array(kind, dtype=int),
                np.array(row, dtype=int), np.array(col, dtype=int))


@dataclass(frozen=True, eq=False)
class _Compiled:
    """Arrays for repeated evaluation of one model (built once per :class:`ModelSpec`)."""

    ram: _Ram
    free: np.ndarray  # free index per row (0 fixed)
    fixed_values: np.ndarray  # ustart per row (0 where free or fixed.x)
    exo_rows: np.ndarray  # rows of fixed.x (co)variances
    exo_cells: tuple[np.ndarray, np.ndarray]  # their cells in S
    free_ram: _Ram  # the free rows
    aggregate: np.ndarray  # (npar, free rows) 0/1: rows sharing a label add up


def _compile(spec: ModelSpec) -> _Compiled:
    cached = spec.__dict__.get("_compiled")
    if cached is not None:
        return cached
    pt = spec.partable
    ram = _ram(spec)
    free = pt["free"].to_numpy().astype(int)
    fixed = np.nan_to_num(np.where(free > 0, 0.0, pt["ustart"].to_numpy(dtype=float)))
    exo_rows = np.flatnonzero(pt["exo"].to_numpy() == 1)
    pos = {v: i for i, v in enumerate(spec.observed)}
    cells = (np.array([pos[v] for v in pt.lhs.iloc[exo_rows]], dtype=int),
             np.array([pos[v] for v in pt.rhs.iloc[exo_rows]], dtype=int))
    sel = free > 0
    agg = np.zeros((spec.npar, int(sel.sum())))
    agg[free[sel] - 1, np.arange(int(sel.sum()))] = 1.0
    compiled = _Compiled(ram, free, fixed, exo_rows, cells, ram.subset(sel), agg)
    object.__setattr__(spec, "_compiled", compiled)
    return compiled


def _ram_matrices(ram: _Ram, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = np.zeros((ram.m, ram.m))
    pm = np.zeros((ram.m, ram.m))
    is_a = ram.kind == 0
    a[ram.row[is_a], ram.col[is_a]] = values[is_a]
    pm[ram.row[~is_a], ram.col[~is_a]] = values[~is_a]
    pm[ram.col[~is_a], ram.row[~is_a]] = values[~is_a]
    return a, pm


def implied_moments(spec: ModelSpec, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Model-implied covariance of all variables (RAM order) and the total-effect matrix.

    Parameters
    ----------
    spec:
        The model.
    values:
        One value per parameter-table row.

    Returns
    -------
    tuple of numpy.ndarray
        ``C = B P Bᵀ`` (``(m, m)``, observed then latent; its observed block is
        Σ) and ``B = (I − A)⁻¹``.
    """
    return _moments(_compile(spec).ram, np.asarray(values, dtype=float))


def _moments(ram: _Ram, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, pm = _ram_matrices(ram, values)
    b = np.linalg.inv(np.eye(ram.m) - a)
    return b @ pm @ b.T, b


def _row_factors(ram: _Ram, b: np.ndarray,
                 c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """∂Σ/∂(row value) = w (u vᵀ + v uᵀ): returns ``U, V`` (rows × p) and ``w``.

    For a path ``A[i, j]``: ``u = F B eᵢ``, ``v = F C eⱼ``; for a covariance
    ``P[i, j]``: ``u = F B eᵢ``, ``v = F B eⱼ``, with ``w = ½`` on the diagonal.
    """
    p = ram.p
    is_a = ram.kind == 0
    u = b[:p, ram.row].T
    v = np.where(is_a[:, None], c[:p, ram.col].T, b[:p, ram.col].T)
    w = np.where((~is_a) & (ram.row == ram.col), 0.5, 1.0)
    return u, v, w


def _row_jacobians(ram: _Ram, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """∂Σ/∂(value of each row), ``(rows, p, p)``."""
    u, v, w = _row_factors(ram, b, c)
    d = np.einsum("ri,rj->rij", u, v)
    return (d + d.transpose(0, 2, 1)) * w[:, None, None]


def _param_jacobian(comp: _Compiled, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """∂Σ/∂θ for the free parameters, ``(npar, p, p)`` (rows sharing a label are summed)."""
    d = _row_jacobians(comp.free_ram, b, c)
    return np.tensordot(comp.aggregate, d, axes=1)


def _zero_x_block(jac: np.ndarray, x_idx: np.ndarray) -> np.ndarray:
    if x_idx.size == 0:
        return jac
    jac = jac.copy()
    jac[:, x_idx[:, None], x_idx[None, :]] = 0.0
    return jac


def expected_information(jac: np.ndarray, sigma_inv: np.ndarray,
                         x_idx: np.ndarray | None = None) -> np.ndarray:
    """Unit expected information of the ML discrepancy, ``I = ½ Δᵀ (Σ⁻¹⊗Σ⁻¹) Δ``.

    Parameters
    ----------
    jac:
        ``∂Σ/∂θ_k`` stacked, ``(k, p, p)``.
    sigma_inv:
        Σ⁻¹ at the estimates.
    x_idx:
        Positions of fixed.x covariates; their (co)variance block gets zero
        weight, as in lavaan's ``lav_mvnorm_information_expected(x.idx = ...)``.

    Returns
    -------
    numpy.ndarray
        ``(k, k)``; ``I_kl = ½ tr(Σ⁻¹ ∂Σ/∂θ_k Σ⁻¹ ∂Σ/∂θ_l)``. Multiply by N for
        the information of the sample (lavaan: ``lavTech(fit,
        "information.expected")`` is this unit version).
    """
    if x_idx is not None:
        jac = _zero_x_block(jac, x_idx)
    k = jac.shape[0]
    g = sigma_inv @ jac @ sigma_inv
    info = 0.5 * (g.reshape(k, -1) @ jac.reshape(k, -1).T)
    return (info + info.T) / 2.0


def _information_and_gradient(comp: _Compiled, b: np.ndarray, c: np.ndarray,
                              sigma_inv: np.ndarray,
                              s: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Unit expected information and ∂F/∂θ from the rank-2 form of ∂Σ/∂θ.

    With ``∂Σ/∂x_r = w_r (u_r v_rᵀ + v_r u_rᵀ)``:
    ``½ tr(Σ⁻¹ ∂Σ_r Σ⁻¹ ∂Σ_t) = w_r w_t ((u_rᵀΣ⁻¹u_t)(v_rᵀΣ⁻¹v_t) + (u_rᵀΣ⁻¹v_t)(u_tᵀΣ⁻¹v_r))``
    and ``½ tr(Ω ∂Σ_r) = w_r u_rᵀ Ω v_r`` with ``Ω = Σ⁻¹(Σ − S)Σ⁻¹``.
    """
    p = comp.ram.p
    u, v, w = _row_factors(comp.free_ram, b, c)
    su = u @ sigma_inv
    sv = v @ sigma_inv
    uu, vv, uv = su @ u.T, sv @ v.T, su @ v.T
    rows = np.outer(w, w) * (uu * vv + uv * uv.T)
    info = comp.aggregate @ rows @ comp.aggregate.T
    info = (info + info.T) / 2.0
    if s is None:
        return info, np.zeros(info.shape[0])
    omega = sigma_inv @ (c[:p, :p] - s) @ sigma_inv
    grad = comp.aggregate @ (w * np.einsum("ri,ri->r", u @ omega, v))
    return info, grad


def _discrepancy(sigma: np.ndarray, s: np.ndarray) -> float:
    """log|Σ| + tr(SΣ⁻¹) without the constant; +inf if Σ is not positive definite."""
    try:
        chol = np.linalg.cholesky(sigma)
    except np.linalg.LinAlgError:
        return math.inf
    inv_chol = np.linalg.inv(chol)
    return float(2.0 * np.log(np.diag(chol)).sum() + np.einsum("ij,ij->", s,
                                                                  inv_chol.T @ inv_chol))


# --------------------------------------------------------------------------- optimisation


def _values(comp: _Compiled, theta: np.ndarray, s: np.ndarray) -> np.ndarray:
    """One value per parameter-table row: free from θ, fixed from ustart, fixed.x from S."""
    vals = comp.fixed_values.copy()
    sel = comp.free > 0
    vals[sel] = theta[comp.free[sel] - 1]
    if comp.exo_rows.size:
        vals[comp.exo_rows] = s[comp.exo_cells]
    return vals


@dataclass(frozen=True)
class _Optimum:
    theta: np.ndarray
    iterations: int
    converged: bool
    gradient: float
    message: str


def _fisher_scoring(comp: _Compiled, s: np.ndarray, theta0: np.ndarray,
                    max_iter: int = 200, tol: float = 1e-9) -> _Optimum:
    """Fisher scoring on lavaan's F with step halving; no bounds on variances."""
    p = comp.ram.p
    theta = theta0.astype(float).copy()
    c, b = _moments(comp.ram, _values(comp, theta, s))
    f = _discrepancy(c[:p, :p], s)
    if not math.isfinite(f):
        return _Optimum(theta, 0, False, math.inf, "start values give a non-positive-definite Σ")
    gmax = math.inf
    for it in range(1, max_iter + 1):
        sigma_inv = np.linalg.inv(c[:p, :p])
        info, grad = _information_and_gradient(comp, b, c, sigma_inv, s)
        gmax = float(np.abs(grad).max()) if grad.size else 0.0
        if gmax < tol:
            return _Optimum(theta, it - 1, True, gmax, "converged")
        try:
            step = -np.linalg.solve(info, grad)
        except np.linalg.LinAlgError:
            step = -np.linalg.lstsq(info, grad, rcond=None)[0]
        t = 1.0
        while t > 1e-10:
            cand = theta + t * step
            c_new, b_new = _moments(comp.ram, _values(comp, cand, s))
            f_new = _discrepancy(c_new[:p, :p], s)
            if f_new <= f + 1e-12 * abs(f):
                break
            t *= 0.5
        else:
            converged = gmax < GRADIENT_TOLERANCE
            return _Optimum(theta, it, converged, gmax,
                            "converged" if converged else "line search failed")
        theta, c, b, f = cand, c_new, b_new, f_new
    converged = gmax < GRADIENT_TOLERANCE
    return _Optimum(theta, max_iter, converged, gmax,
                    "converged" if converged else f"no convergence in {max_iter} iterations")


def _simple_start(spec: ModelSpec, s: np.ndarray) -> np.ndarray:
    """lavaan's ``start = "simple"``: loadings 1, regressions and covariances 0, residual
    variances half the observed variance, latent variances 0.05 (user ``start()`` kept)."""
    pt = spec.partable
    var = dict(zip(spec.observed, np.diag(s), strict=True))
    theta = np.zeros(spec.npar)
    for r in pt[pt.free > 0].itertuples():
        if not math.isnan(r.ustart):
            value = r.ustart
        elif r.op == "=~":
            value = 1.0
        elif r.op == "~~" and r.lhs == r.rhs:
            value = var[r.lhs] / 2.0 if r.lhs in var else 0.05
        else:
            value = 0.0
        theta[r.free - 1] = value
    return theta


def _semopy_start(spec: ModelSpec, data: pd.DataFrame,
                  s: np.ndarray) -> tuple[np.ndarray, str, int]:
    """First optimisation with semopy (SLSQP on "MLW"); returns θ in spec order.

    semopy's own start values regress each indicator on its latent variable's
    fixed-loading indicator (following second-order markers down to an item);
    where that chain ends without an item (``NA*`` with a fixed variance)
    semopy would loop forever, so those loadings start at 1 and the
    regressions on such a latent at 0.
    """
    import semopy

    pt = spec.partable
    marker: dict[str, str] = {}
    for r in pt.itertuples():
        if r.op == "=~" and not r.free:
            marker.setdefault(r.lhs, r.rhs)

    def resolves(var: str) -> bool:
        seen = set()
        while var in spec.latent:
            if var in seen or var not in marker:
                return False
            seen.add(var)
            var = marker[var]
        return True

    no_marker = {v for v in spec.latent if not resolves(v)}
    cov = pd.DataFrame(s, index=list(spec.observed), columns=list(spec.observed))
    loggers = [logging.getLogger(), logging.getLogger("semopy")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with _pywarnings.catch_warnings():
            _pywarnings.simplefilter("ignore")
            model = semopy.Model(spec.semopy_syntax, cov_diag=True)
            active = [name for name, par in model.parameters.items() if par.active]
            expected = {f"_sk{k}" for k in range(1, spec.npar + 1)}
            if set(active) != expected:
                raise RuntimeError(
                    "semopy built a different set of free parameters than the lavaan table: "
                    f"{sorted(set(active) ^ expected)}"
                )
            for r in pt.itertuples():
                if not r.free:
                    continue
                par = model.parameters[f"_sk{r.free}"]
                if not math.isnan(r.ustart):
                    par.start = float(r.ustart)
                elif r.op == "=~" and r.lhs in no_marker:
                    par.start = 1.0
                elif r.op == "~" and r.rhs in no_marker:
                    par.start = 0.0
            res = model.fit(data=data[list(spec.observed)], cov=cov, obj="MLW", solver="SLSQP")
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)
    values = dict(zip(active, np.asarray(res.x, dtype=float), strict=True))
    theta = np.array([values[f"_sk{k}"] for k in range(1, spec.npar + 1)])
    n_it = int(res.n_it) if res.n_it == res.n_it else 0
    return theta, str(res.message), n_it


# --------------------------------------------------------------------------- result


class SpecViews:
    """What every fitted-model result (:class:`Fit`, ``EstimatorFit``) says of its model.

    Subclasses hold ``spec`` (:class:`ModelSpec`) and ``params`` (the parameter table).
    """

    @property
    def observed(self) -> tuple[str, ...]:
        """Observed variables, in the order of :attr:`sample_cov`."""
        return self.spec.observed

    @property
    def latent(self) -> tuple[str, ...]:
        """Latent variables."""
        return self.spec.latent

    @property
    def x_vars(self) -> tuple[str, ...]:
        """Observed exogenous covariates fixed at their sample (co)variances."""
        return self.spec.x_vars

    def estimates(self, op: str | None = None) -> pd.DataFrame:
        """Rows of :attr:`params`, optionally of one operator (``"=~"``, ``"~"``, ``"~~"``)."""
        if op is None:
            return self.params
        return self.params[self.params.op == op].reset_index(drop=True)


@dataclass(frozen=True, eq=False)
class Fit(SpecViews):
    """A fitted model: lavaan's numbers, computed from the ML solution.

    Attributes
    ----------
    spec:
        The model (:class:`ModelSpec`).
    params:
        lavaan's ``parameterEstimates(fit, standardized = TRUE)`` without the
        intervals: ``lhs, op, rhs, label, free, exo, est, se, z, pvalue,
        std_lv, std_all`` (``se``, ``z``, ``pvalue`` NaN for fixed rows).
        Operators as lavaan prints them: ``f =~ x`` (loading), ``y ~ x``
        (regression), ``a ~~ b`` ((residual) (co)variance).
    sample_cov:
        S with the N divisor over :attr:`observed` (lavaan's
        ``lavInspect(fit, "sampstat")$cov``).
    implied_cov:
        Σ(θ̂) (``lavInspect(fit, "implied")$cov``).
    n:
        Sample size N.
    npar:
        Number of free parameters.
    df:
        Degrees of freedom.
    fmin:
        lavaan's minimum of F = ½(log|Σ| + tr(SΣ⁻¹) − log|S| − p).
    chisq:
        Likelihood-ratio statistic 2·N·fmin.
    logl, unrestricted_logl:
        Log-likelihood of the model and of the saturated model
        (``fitMeasures(fit, c("logl", "unrestricted.logl"))``), normal
        likelihood with the N divisor; with fixed.x covariates, conditional on
        them (the covariates' own log-likelihood is subtracted, as lavaan does).
    theta:
        Free parameter values, in the order of ``params.free``.
    vcov:
        Covariance matrix of θ̂, ``(N I)⁻¹`` (``vcov(fit)``), indexed 1..npar.
    information:
        Unit expected information at θ̂ (``lavTech(fit, "information.expected")``).
    r2:
        R² of every indicator and dependent variable (``lavInspect(fit, "r2")``).
    converged:
        True when the gradient vanished (max |∂F/∂θ| < 1e-5).
    message:
        What the optimisers said.
    iterations:
        semopy's iterations plus Fisher-scoring steps.
    warnings:
        Numerical trouble: non-convergence, negative variances (Heywood
        cases), standardised loadings above 1, a non-positive-definite Σ or
        latent covariance matrix, empirical under-identification (a nearly
        singular information matrix); when any of these makes the solution
        improper, a last warning says that its fit measures do not show good fit.
    admissible:
        True when the solution is a proper maximum-likelihood solution: it
        converged, every variance is non-negative, no standardised loading
        exceeds 1, Σ and the latent covariance matrix are positive definite and
        the information matrix is not nearly singular. Fit measures of an
        inadmissible solution must not be reported as good fit.
    """

    spec: ModelSpec
    params: pd.DataFrame
    sample_cov: pd.DataFrame
    implied_cov: pd.DataFrame
    n: int
    npar: int
    df: int
    fmin: float
    chisq: float
    logl: float
    unrestricted_logl: float
    theta: np.ndarray
    vcov: pd.DataFrame
    information: np.ndarray
    r2: pd.Series
    converged: bool
    message: str
    iterations: int
    warnings: tuple[str, ...] = field(default=())
    admissible: bool = True



# --------------------------------------------------------------------------- standardisation


def standardize(lhs: Sequence[str], op: Sequence[str], rhs: Sequence[str],
                est: Sequence[float], latent: Sequence[str], observed: Sequence[str],
                lv_var: Sequence[float],
                ov_var: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """lavaan's ``std.lv`` and ``std.all`` for parameter-table rows.

    Parameters
    ----------
    lhs, op, rhs:
        Row definitions.
    est:
        Unstandardised values (the variances among them give the residual
        standard deviations used for covariances).
    latent, observed:
        Variable names.
    lv_var, ov_var:
        Model-implied total variances of the latent and observed variables.

    Returns
    -------
    tuple of numpy.ndarray
        ``(std_lv, std_all)``. With ``η`` the model-implied SD of a latent,
        ``σ`` of an observed variable and ``r`` the square root of the
        absolute value of a variable's own (residual) variance estimate:
        ``f =~ x``: λ·η_f/σ_x; ``f =~ g``: λ·η_f/η_g; ``y ~ x``: β·sd_x/sd_y;
        ``v ~~ v``: ψ/total variance; ``a ~~ b``: ψ/(r_a r_b).

    Notes
    -----
    Source: lavaan 0.6-14 ``lav_standardize_lv`` and ``lav_standardize_all``
    (``cov.std = TRUE``). In R: ``standardizedSolution(fit, type = "std.all")``.
    """
    lhs = np.asarray(lhs, dtype=object)
    op = np.asarray(op, dtype=object)
    rhs = np.asarray(rhs, dtype=object)
    est = np.asarray(est, dtype=float)
    lv_set, ov_set = set(latent), set(observed)
    with np.errstate(invalid="ignore"):
        eta = {v: (math.sqrt(x) if x >= 0 else math.nan) for v, x in zip(latent, lv_var,
                                                                          strict=True)}
        ov2 = {v: (x if abs(x) >= np.finfo(float).eps else math.nan)
               for v, x in zip(observed, ov_var, strict=True)}
        ov_sd = {v: (math.sqrt(x) if x >= 0 else math.nan) for v, x in ov2.items()}
    nan = math.nan
    is_var = (op == "~~") & (lhs == rhs)
    rv_lv = {lhs[i]: math.sqrt(abs(est[i])) for i in np.flatnonzero(is_var) if rhs[i] in lv_set}
    rv_ov = {lhs[i]: math.sqrt(abs(est[i])) for i in np.flatnonzero(is_var)
             if lhs[i] not in lv_set}
    out = est.copy()
    for i in range(len(est)):
        a, o, b = lhs[i], op[i], rhs[i]
        if o == "=~":
            out[i] *= eta.get(a, nan)
            if b in lv_set:
                out[i] /= eta.get(b, nan)
        elif o == "~":
            if a in lv_set:
                out[i] /= eta.get(a, nan)
            if b in lv_set:
                out[i] *= eta.get(b, nan)
        elif o == "~~":
            if a == b and b in lv_set:
                out[i] /= eta.get(a, nan) * eta.get(b, nan)
            elif a != b:
                if a in lv_set:
                    out[i] /= rv_lv.get(a, nan)
                if b in lv_set:
                    out[i] /= rv_lv.get(b, nan)
    std_lv = out.copy()
    for i in range(len(est)):
        a, o, b = lhs[i], op[i], rhs[i]
        if o == "=~" and b not in lv_set:
            out[i] /= ov_sd.get(b, nan)
        elif o == "~":
            if a in ov_set:
                out[i] /= ov_sd.get(a, nan)
            if b in ov_set:
                out[i] *= ov_sd.get(b, nan)
        elif o == "~~":
            if a == b and a not in lv_set:
                out[i] /= ov2.get(a, nan)
            elif a != b:
                if a not in lv_set:
                    out[i] /= rv_ov.get(a, nan)
                if b not in lv_set:
                    out[i] /= rv_ov.get(b, nan)
    return std_lv, out


def _r2(params: pd.DataFrame) -> pd.Series:
    """``lavInspect(fit, "r2")``: 1 − std.all of the (residual) variance of every indicator
    and dependent variable; NaN where that exceeds 1."""
    y_names = _unique(list(params.rhs[params.op == "=~"]) + list(params.lhs[params.op == "~"]))
    sel = (params.op == "~~") & (params.lhs == params.rhs) & params.lhs.isin(y_names)
    r2 = 1.0 - params.loc[sel, "std_all"].to_numpy()
    r2 = np.where(r2 > 1, np.nan, r2)
    return pd.Series(r2, index=params.loc[sel, "lhs"].to_list(), name="r2", dtype=float)


# --------------------------------------------------------------------------- fitting


def _sample_cov(spec: ModelSpec, data: pd.DataFrame) -> np.ndarray:
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    missing = [v for v in spec.observed if v not in data.columns]
    if missing:
        raise InputError(
            "the data have no column for observed variable(s) " + ", ".join(missing)
            + "; columns are " + ", ".join(map(str, data.columns[:30]))
            + (" ..." if len(data.columns) > 30 else "")
        )
    frame = data[list(spec.observed)]
    bad = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise InputError("non-numeric data in column(s) " + ", ".join(bad)
                         + "; expected numbers")
    x = frame.to_numpy(dtype=float)
    if np.isnan(x).any():
        cols = [c for c, has in zip(frame.columns, np.isnan(x).any(axis=0), strict=True) if has]
        raise InputError("missing values in column(s) " + ", ".join(cols)
                         + "; estimation needs complete data (listwise deletion comes first)")
    if x.shape[0] < 2:
        raise InputError(f"{x.shape[0]} complete rows: at least 2 are needed")
    xc = x - x.mean(axis=0)
    return xc.T @ xc / x.shape[0]


def fit_model(model: str | ModelSpec, data: pd.DataFrame, *,
              start: np.ndarray | None = None) -> Fit:
    """Fit a model by maximum likelihood, as ``lavaan::sem(model, data)``.

    Parameters
    ----------
    model:
        lavaan model syntax or a :class:`ModelSpec` from :func:`specify`.
    data:
        Complete observations, one column per observed variable (others are
        ignored).
    start:
        Free-parameter values to start from (e.g. the full-sample estimates
        when refitting a resample); semopy is then skipped unless Fisher
        scoring from there fails.

    Returns
    -------
    Fit
        Estimates, standard errors, standardised solution, S, Σ, likelihoods,
        χ², R² and diagnostics.

    Raises
    ------
    InputError
        Bad syntax, missing or non-numeric columns, missing values, a sample
        covariance matrix that is not positive definite (a constant column,
        linearly dependent columns or too few rows: lavaan stops there too),
        negative degrees of freedom, or a singular information matrix (the
        model is not identified).

    Notes
    -----
    ``cfa()`` and ``sem()`` differ in lavaan only in defaults sem_kit does not
    use (both free exogenous latent covariances), so one function serves both.
    In R: ``sem(model, data, estimator = "ML")``.
    """
    spec = model if isinstance(model, ModelSpec) else specify(model)
    s = _sample_cov(spec, data)
    n = int(len(data))
    s_trouble = _sample_cov_trouble(s, spec.observed, n)
    if s_trouble:
        raise InputError(f"{s_trouble}; maximum likelihood cannot be computed")
    comp = _compile(spec)
    messages = []
    iterations = 0
    opt = None
    if start is not None:
        opt = _fisher_scoring(comp, s, np.asarray(start, dtype=float))
        messages.append(f"Fisher scoring from given start: {opt.message}")
        iterations += opt.iterations
        if not opt.converged:
            opt = None
    if opt is None:
        try:
            theta0, msg, n_it = _semopy_start(spec, data, s)
        except (ArithmeticError, ValueError, np.linalg.LinAlgError) as exc:
            theta0, msg, n_it = None, f"failed ({exc})", 0
        messages.append(f"semopy SLSQP: {msg}")
        iterations += n_it
        if theta0 is not None:
            opt = _fisher_scoring(comp, s, theta0)
            messages.append(f"Fisher scoring: {opt.message} after {opt.iterations} steps "
                            f"(max |gradient| {opt.gradient:.1e})")
            iterations += opt.iterations
        if opt is None or not opt.converged:
            simple = _fisher_scoring(comp, s, _simple_start(spec, s))
            messages.append(f"Fisher scoring from simple start values: {simple.message} "
                            f"after {simple.iterations} steps")
            iterations += simple.iterations
            if opt is None or simple.converged or simple.gradient < opt.gradient:
                opt = simple
    return _assemble(spec, comp, s, n, opt, iterations, "; ".join(messages))


def refit(fit: Fit, data: pd.DataFrame) -> Fit:
    """Fit the same model to new data (e.g. a bootstrap resample), starting from ``fit``.

    Parameters
    ----------
    fit:
        A previous fit of the model.
    data:
        The new observations.

    Returns
    -------
    Fit
        As :func:`fit_model`; Fisher scoring starts from ``fit.theta`` and
        semopy runs only if that fails.

    Raises
    ------
    InputError
        As :func:`fit_model`, e.g. when a resample makes the model empirically
        unidentified or S singular.
    """
    return fit_model(fit.spec, data, start=fit.theta)


def _sample_cov_trouble(s: np.ndarray, names: tuple[str, ...], n: int) -> str:
    """A message if S is not positive definite, naming the linearly dependent columns."""
    sd = np.sqrt(np.diag(s))
    if (sd <= 0).any():
        const = [v for v, x in zip(names, sd, strict=True) if x <= 0]
        return ("the sample covariance matrix is not positive definite: column(s) "
                + ", ".join(const) + " have no variance")
    eig, vec = np.linalg.eigh(s / np.outer(sd, sd))
    if eig[0] > 1e-10:
        return ""
    weights = np.abs(vec[:, 0])
    dependent = [names[i] for i in np.argsort(-weights) if weights[i] > 0.1][:8]
    reason = (f"only {n} rows for {len(names)} variables" if n <= len(names)
              else "columns " + ", ".join(dependent) + " are linearly dependent (one is a "
              "copy, a multiple or a sum of the others)")
    return ("the sample covariance matrix is not positive definite "
            f"(smallest eigenvalue of the correlation matrix {eig[0]:.3g}): {reason}")


def _assemble(spec: ModelSpec, comp: _Compiled, s: np.ndarray, n: int, opt: _Optimum,
              iterations: int, message: str) -> Fit:
    pt = spec.partable
    free = comp.free
    theta = opt.theta
    values = _values(comp, theta, s)
    c, b = _moments(comp.ram, values)
    p = comp.ram.p
    sigma = c[:p, :p]
    notes: list[str] = list(spec.notes)
    improper: list[str] = []
    if not opt.converged:
        improper.append(f"the optimiser did not converge ({opt.message}); "
                        "estimates are not a maximum-likelihood solution")
    sig_eig = np.linalg.eigvalsh(sigma)
    sigma_pd = sig_eig.min() > 0
    if not sigma_pd:
        improper.append("the model-implied covariance matrix is not positive definite "
                        f"(smallest eigenvalue {sig_eig.min():.3g})")
    lv = list(spec.latent)
    if lv:
        lv_eig = np.linalg.eigvalsh(c[p:, p:])
        if lv_eig.min() < -1e-12:
            improper.append("the covariance matrix of the latent variables is not positive "
                            f"definite (smallest eigenvalue {lv_eig.min():.3g})")

    sigma_inv = np.linalg.inv(sigma) if sigma_pd else np.linalg.pinv(sigma)
    x_idx = np.array([spec.observed.index(v) for v in spec.x_vars], dtype=int)
    info, _ = _information_and_gradient(comp, b, c, sigma_inv)
    eig = np.linalg.eigvalsh(info) if spec.npar and sigma_pd else np.zeros(0)
    singular = bool(eig.size) and eig.min() <= eig.max() * 1e-12
    if spec.npar and (not sigma_pd or (singular and not opt.converged)):
        # Without a positive-definite Σ the information matrix means nothing; and a
        # diverging optimiser (estimates running off to infinity) ends where it is
        # singular, which is non-convergence (reported above), not a model that cannot
        # be identified. Either way there are no standard errors, as in lavaan.
        if sigma_pd:
            improper.append("the information matrix is singular at the last iterate, so "
                            "there are no standard errors")
        vcov = np.full((spec.npar, spec.npar), np.nan)
        se_theta = np.full(spec.npar, np.nan)
    elif spec.npar:
        if singular:
            names, hint = _weak_parameters(spec, info)
            raise InputError(
                "the model is not identified: the information matrix is singular "
                f"(smallest eigenvalue {eig.min():.3g}); parameters involved: "
                + "; ".join(names)
                + (f". {hint}" if hint else ". Check that every latent variable has a fixed "
                   "loading or variance and at least two (better three) indicators")
            )
        scale = 1.0 / np.sqrt(np.clip(np.diag(info), 1e-300, None))
        scaled_min = float(np.linalg.eigvalsh(info * np.outer(scale, scale)).min())
        if scaled_min < UNDER_IDENTIFIED_EIGENVALUE:
            names, hint = _weak_parameters(spec, info * np.outer(scale, scale))
            improper.append(
                "the model is empirically under-identified: the information matrix is nearly "
                f"singular (smallest eigenvalue {scaled_min:.3g} after scaling), so these "
                "parameters are not determined by the data and their estimates and standard "
                "errors are unreliable: " + "; ".join(names) + (f". {hint}" if hint else "")
            )
        vcov = np.linalg.inv(n * info)
        se_theta = np.sqrt(np.clip(np.diag(vcov), 0, None))
    else:
        vcov = np.zeros((0, 0))
        se_theta = np.zeros(0)

    se = np.full(len(pt), np.nan)
    se[free > 0] = se_theta[free[free > 0] - 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = values / se
    pvalue = 2.0 * norm.sf(np.abs(z))
    total_var = np.diag(c)
    std_lv, std_all = standardize(pt.lhs, pt.op, pt.rhs, values, spec.latent, spec.observed,
                                  total_var[p:], total_var[:p])
    params = pd.DataFrame({
        "lhs": pt.lhs, "op": pt.op, "rhs": pt.rhs, "label": pt.label, "free": pt["free"],
        "exo": pt["exo"], "est": values, "se": se, "z": z, "pvalue": pvalue,
        "std_lv": std_lv, "std_all": std_all,
    })
    params.loc[params.free == 0, ["se", "z", "pvalue"]] = np.nan
    if spec.x_vars:
        # lavaan reports fixed.x (co)variances with est, no SE
        params.loc[params.exo == 1, ["se", "z", "pvalue"]] = np.nan

    var_rows = params[(params.op == "~~") & (params.lhs == params.rhs) & (params.exo == 0)]
    for r in var_rows[var_rows.est < 0].itertuples():
        kind = "latent variable" if r.lhs in spec.latent else "residual"
        improper.append(
            f"negative {kind} variance (Heywood case): {r.lhs} ~~ {r.lhs} = {r.est:.4g}")
    load = params[params.op == "=~"]
    for r in load[np.abs(load.std_all) > 1].itertuples():
        improper.append(f"standardised loading above 1: {r.lhs} =~ {r.rhs} = {r.std_all:.4g}")
    notes += improper
    if improper:
        notes.append("the solution is improper (see the warnings above), so its fit measures "
                     "(chi-square, CFI, TLI, RMSEA, SRMR) do not show good fit however good "
                     "they look; fix the model or the data first")

    f_sigma = _discrepancy(sigma, s) if sigma_pd else math.inf
    sign_s, logdet_s = np.linalg.slogdet(s)
    logdet_s = logdet_s if sign_s > 0 else -math.inf
    fmin = max(0.5 * (f_sigma - logdet_s - p), 0.0)  # F >= 0; rounding gives -1e-13
    logl = -0.5 * n * (p * math.log(2 * math.pi) + f_sigma)
    unrestricted = -0.5 * n * (p * math.log(2 * math.pi) + logdet_s + p)
    if x_idx.size:
        # fixed.x: lavaan's likelihoods are conditional on the covariates, i.e. the joint
        # likelihood minus that of the covariates' own (saturated) distribution
        px = x_idx.size
        logdet_x = np.linalg.slogdet(s[np.ix_(x_idx, x_idx)])[1]
        logl_x = -0.5 * n * (px * math.log(2 * math.pi) + logdet_x + px)
        logl -= logl_x
        unrestricted -= logl_x
    idx = pd.RangeIndex(1, spec.npar + 1, name="free")
    obs = list(spec.observed)
    return Fit(
        spec=spec,
        params=params,
        sample_cov=pd.DataFrame(s, index=obs, columns=obs),
        implied_cov=pd.DataFrame(sigma, index=obs, columns=obs),
        n=n,
        npar=spec.npar,
        df=spec.df,
        fmin=float(fmin),
        chisq=float(2 * n * fmin),
        logl=float(logl),
        unrestricted_logl=float(unrestricted),
        theta=theta.copy(),
        vcov=pd.DataFrame(vcov, index=idx, columns=idx),
        information=info,
        r2=_r2(params),
        converged=bool(opt.converged),
        message=message,
        iterations=int(iterations),
        warnings=tuple(notes),
        admissible=not improper,
    )


def _weak_parameters(spec: ModelSpec, info: np.ndarray) -> tuple[list[str], str]:
    """The free parameters along the information matrix's weakest direction, and a hint.

    Returns
    -------
    tuple of (list of str, str)
        Up to four parameters as ``lhs op rhs``, largest weight first, and a
        sentence naming the latent variables involved that have only two
        indicators (empty when there are none): a two-indicator construct is
        identified only through its covariances with other constructs, so it
        is not when those are (nearly) zero.
    """
    pt = spec.partable
    vec = np.linalg.eigh(info)[1][:, 0]
    worst = np.argsort(-np.abs(vec))[:4]
    names: list[str] = []
    involved: set[str] = set()
    for k in worst:
        r = pt[pt["free"] == k + 1].iloc[0]
        names.append(f"{r.lhs} {r.op} {r.rhs}")
        involved.update((r.lhs, r.rhs))
    indicators = pt[pt.op == "=~"].groupby("lhs")["rhs"].count()
    two = [v for v in spec.latent if v in involved and indicators.get(v, 0) == 2]
    hint = ""
    if two:
        hint = (", ".join(two) + (" has" if len(two) == 1 else " have") + " only two "
                "indicators and (nearly) zero covariance with the other latent variables, so "
                "the data cannot identify " + ("it" if len(two) == 1 else "them")
                + ": add a third item, or check its items and answers")
    return names, hint


# --------------------------------------------------------------------------- model matrices


@dataclass(frozen=True, eq=False)
class ModelMatrices:
    """lavaan's LISREL matrices of a fitted latent-variable model (``lavInspect(fit, "est")``).

    Attributes
    ----------
    lambda_:
        Observed x latent loadings (``=~`` rows whose indicator is observed).
    beta:
        Latent x latent effects: ``beta[i, j]`` is the effect of ``j`` on ``i``,
        from regressions (``i ~ j``) and higher-order loadings (``j =~ i``).
    psi:
        Latent (residual) variances and covariances.
    theta:
        Observed residual variances and covariances.
    cov_lv:
        Model-implied latent covariance matrix (``lavInspect(fit, "cov.lv")``).
    cor_lv:
        Model-implied latent correlations (``lavInspect(fit, "cor.lv")``).
    """

    lambda_: pd.DataFrame
    beta: pd.DataFrame
    psi: pd.DataFrame
    theta: pd.DataFrame
    cov_lv: pd.DataFrame
    cor_lv: pd.DataFrame


def model_matrices(fit: Fit) -> ModelMatrices:
    """The unstandardised LISREL matrices and the implied latent (co)variances of ``fit``.

    In R: ``lavInspect(fit, "est")`` and ``lavInspect(fit, "cov.lv")``.
    """
    obs, lat = list(fit.observed), list(fit.latent)
    lam = pd.DataFrame(0.0, index=obs, columns=lat)
    beta = pd.DataFrame(0.0, index=lat, columns=lat)
    psi = pd.DataFrame(0.0, index=lat, columns=lat)
    theta = pd.DataFrame(0.0, index=obs, columns=obs)
    for r in fit.params.itertuples():
        if r.op == "=~":
            if r.rhs in lam.index:
                lam.loc[r.rhs, r.lhs] = r.est
            else:
                beta.loc[r.rhs, r.lhs] = r.est
        elif r.op == "~" and r.lhs in beta.index and r.rhs in beta.columns:
            beta.loc[r.lhs, r.rhs] = r.est
        elif r.op == "~~":
            target = psi if r.lhs in psi.index else theta
            if r.lhs in target.index and r.rhs in target.columns:
                target.loc[r.lhs, r.rhs] = r.est
                target.loc[r.rhs, r.lhs] = r.est
    inv = np.linalg.inv(np.eye(len(lat)) - beta.to_numpy())
    cov = inv @ psi.to_numpy() @ inv.T
    sd = np.sqrt(np.clip(np.diag(cov), 0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        cor = cov / np.outer(sd, sd)
    return ModelMatrices(
        lambda_=lam, beta=beta, psi=psi, theta=theta,
        cov_lv=pd.DataFrame(cov, index=lat, columns=lat),
        cor_lv=pd.DataFrame(cor, index=lat, columns=lat),
    )
