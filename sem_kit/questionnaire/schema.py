"""The questionnaire format (version 1) as pydantic models.

``../shared/DESIGN.md`` fixes the format; this module checks each field's
shape, and :mod:`sem_kit.questionnaire.loader` checks what spans several
fields (unknown constructs, duplicate ids, cycles) so that every error can
name its key path.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_ID = r"^[A-Za-z][A-Za-z0-9_.]*$"
ARROW = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_.]*)\s*->\s*([A-Za-z][A-Za-z0-9_.]*)\s*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Strict):
    """A text in English and (optionally) Chinese; a plain string is English."""

    en: str
    zh: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_plain(cls, value: object) -> object:
        if isinstance(value, str):
            return {"en": value}
        if isinstance(value, dict) and "en" not in value and "zh" in value:
            return {"en": value["zh"], "zh": value["zh"]}
        return value

    def get(self, lang: str = "en") -> str:
        """The text in ``lang`` (``en`` or ``zh``), falling back to English."""
        if lang == "zh" and self.zh:
            return self.zh
        return self.en


class Scale(_Strict):
    """A response scale: answers are numbers from ``min`` to ``max``.

    ``integer`` (default true) says answers are whole numbers, as on a Likert scale.
    """

    min: float
    max: float
    integer: bool = True
    labels: dict[int, Text] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _ordered(self) -> Scale:
        if not self.min < self.max:
            raise ValueError(f"expected min < max, found min={self.min}, max={self.max}")
        return self

    def reverse(self, x: float) -> float:
        """``min + max - x``: the reverse-coded answer."""
        return self.min + self.max - x


class Item(_Strict):
    """One questionnaire item: its wording, reverse keying and (optional) own scale."""

    en: str
    zh: str | None = None
    reverse: bool = False
    scale: Scale | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_plain(cls, value: object) -> object:
        if isinstance(value, str):
            return {"en": value}
        return value

    @property
    def text(self) -> Text:
        return Text(en=self.en, zh=self.zh)


class Construct(_Strict):
    """A latent construct: measured by ``items`` (one or more), or second-order over
    ``dimensions``."""

    name: Text
    group: str | None = None
    items: dict[str, Item] = Field(default_factory=dict)
    dimensions: list[str] = Field(default_factory=list)

    @field_validator("items", mode="before")
    @classmethod
    def _no_items(cls, value: object) -> object:
        return {} if value is None else value  # `items:` with nothing under it

    @property
    def is_second_order(self) -> bool:
        return bool(self.dimensions)


class Hypothesis(_Strict):
    """A hypothesised structural path ``A -> B`` with its expected sign."""

    path: str
    sign: Literal["+", "-"]

    @field_validator("sign", mode="before")
    @classmethod
    def _sign(cls, value: object) -> object:
        if isinstance(value, int) and value in (1, -1):  # YAML reads +1 / -1 as numbers
            return "+" if value > 0 else "-"
        return value

    @field_validator("path")
    @classmethod
    def _arrow(cls, value: str) -> str:
        if not ARROW.match(value):
            raise ValueError(f"expected 'A -> B' (two construct ids and an arrow), found {value!r}")
        return value

    @property
    def source(self) -> str:
        return ARROW.match(self.path).group(1)  # type: ignore[union-attr]

    @property
    def target(self) -> str:
        return ARROW.match(self.path).group(2)  # type: ignore[union-attr]


Code = int | str
"""A demographic code as the data hold it: a whole number (``1``) or a text (``男``)."""

_WHOLE = re.compile(r"^[+-]?\d+$")


def demographic_code(key: object) -> Code:
    """A ``values:`` key as a code: whole numbers as ``int``, any other text as stripped text.

    A quoted whole number (``"1"``) is the number 1, the same code as ``1``: a data cell
    holds ``1`` whether the file stores it as a number or as text. YAML reads unquoted
    ``yes``/``no``/``on``/``off`` as booleans and ``1.5`` as a number; neither is a code.

    Raises
    ------
    ValueError
        A boolean, a number that is not whole, an empty text or another YAML type.
    """
    if isinstance(key, bool):
        raise ValueError(f"code {key!r} is a YAML boolean (yes/no/true/false/on/off read "
                         "unquoted); quote it, e.g. 'yes'")
    if isinstance(key, int):
        return key
    if isinstance(key, float):
        if key.is_integer():
            return int(key)
        raise ValueError(f"code {key!r} is not a whole number; give whole-number or text codes")
    if isinstance(key, str):
        text = key.strip()
        if not text:
            raise ValueError("a code is empty; give the code the data hold (1, 2 or a text)")
        return int(text) if _WHOLE.match(text) else text
    raise ValueError(f"code {key!r} ({type(key).__name__}) is neither a whole number nor a text; "
                     "quote it")


class Demographic(_Strict):
    """A categorical background variable with labelled codes.

    ``values`` is keyed by the codes the data hold: whole numbers (``{1: Male}``) or
    texts (``{Pasteur: Pasteur}``, ``{男: {en: Male, zh: 男}}``); see
    :func:`demographic_code`. ``value_labels`` maps other texts the data hold to
    those codes (``{M: 1, F: 2, 男性: 1}``).
    """

    name: Text
    values: dict[Code, Text] = Field(default_factory=dict)
    value_labels: dict[str, Code] = Field(default_factory=dict)

    def match(self, answer: str) -> Code | None:
        """The declared code a text answer names, else ``None``.

        The answer is compared without surrounding spaces and case-insensitively with
        ``value_labels`` first, then the text codes, then every code's labels (en and
        zh): ``"pasteur"`` names ``Pasteur``, ``"女"`` or ``"female"`` the code whose
        label they are.
        """
        folded = answer.strip().casefold()
        for text, code in self.value_labels.items():
            if text.strip().casefold() == folded:
                return code
        for code in self.values:
            if isinstance(code, str) and code.casefold() == folded:
                return code
        for code, text in self.values.items():
            if any(label and label.strip().casefold() == folded for label in (text.en, text.zh)):
                return code
        return None

    def label(self, code: object, lang: str = "en") -> str | None:
        """The label of ``code`` (a declared code, or a number equal to one) in ``lang``;
        ``None`` when it is not declared."""
        if isinstance(code, float) and code.is_integer():
            code = int(code)
        text = self.values.get(code) if isinstance(code, int | str) else None
        return text.get(lang) if text is not None else None

    @field_validator("values", mode="before")
    @classmethod
    def _codes(cls, value: object) -> object:
        if value is None:
            return {}
        if not isinstance(value, dict):
            return value
        out: dict[Code, object] = {}
        folded: dict[str, Code] = {}
        for key, text in value.items():
            code = demographic_code(key)
            if code in out:
                raise ValueError(f"code {code!r} is given twice (as {key!r} and an earlier key)")
            if isinstance(code, str):
                if code.casefold() in folded:
                    raise ValueError(f"codes {folded[code.casefold()]!r} and {code!r} differ only "
                                     "in case; the data are matched to codes case-insensitively")
                folded[code.casefold()] = code
            out[code] = text
        return out

    @field_validator("value_labels", mode="before")
    @classmethod
    def _label_codes(cls, value: object) -> object:
        if not isinstance(value, dict):
            return value
        return {str(k): demographic_code(v) for k, v in value.items()}

    @model_validator(mode="after")
    def _labels_name_codes(self) -> Demographic:
        unknown = [f"{k!r}: {v!r}" for k, v in self.value_labels.items()
                   if self.values and v not in self.values]
        if unknown:
            raise ValueError(f"value_labels {', '.join(unknown)} name no code of `values:` "
                             f"({', '.join(repr(c) for c in self.values)})")
        return self


class Screening(_Strict):
    """Screening settings (see :mod:`sem_kit.io.screening`).

    - ``id_column``: respondent id; repeated ids are duplicate respondents.
    - ``min_duration`` (seconds): rows answered faster are excluded. The time is read
      from ``duration_column`` when given; without it (or when the file has no such
      column), from the platform's own time column (``所用时间``, ``Duration (in
      seconds)``, ``interviewtime``, ...: :data:`sem_kit.io.ingest.DURATION_COLUMNS`),
      else as end minus start time (SurveyMonkey's ``Start Date`` / ``End Date``:
      :data:`sem_kit.io.ingest.START_END_COLUMNS`); with none of them the run warns
      that speeders could not be screened.
    - ``straightlining``: exclude rows giving the same answer to every item.
    - ``max_missing``: exclude rows missing more than this share of item answers.
    - ``duplicate_answers``: exclude rows whose answers repeat an earlier row exactly.
    """

    id_column: str | None = None
    duration_column: str | None = None
    min_duration: float | None = Field(default=None, ge=0)
    straightlining: bool = True
    max_missing: float = Field(default=0.2, ge=0, le=1)
    duplicate_answers: bool = True


class Population(_Strict):
    """Population values for ``sem-kit simulate`` (all on the standardised metric).

    - ``loading`` / ``loadings``: default and per-item standardised loadings (the item
      of a single-item construct defaults to 1: no measurement error, as ``cb`` models it).
    - ``dimension_loading``: loading of a second-order construct's dimensions.
    - ``path`` / ``paths``: default magnitude (its sign is the hypothesis') and per-path
      values keyed ``"A -> B"``.
    - ``correlation`` / ``correlations``: default and per-pair correlations of the
      exogenous constructs, keyed ``"A ~~ B"``.
    - ``missing``: share of item answers deleted at random.
    """

    loading: float = Field(default=0.75, gt=-1, lt=1)
    loadings: dict[str, float] = Field(default_factory=dict)
    dimension_loading: float = Field(default=0.8, gt=-1, lt=1)
    path: float = Field(default=0.2, ge=0, lt=1)
    paths: dict[str, float] = Field(default_factory=dict)
    correlation: float = Field(default=0.3, gt=-1, lt=1)
    correlations: dict[str, float] = Field(default_factory=dict)
    missing: float = Field(default=0.0, ge=0, lt=1)


class AlternativeModel(_Strict):
    """A nested alternative model for the model comparison: hypothesised paths fixed to 0."""

    description: Text | None = None
    drop: list[str] = Field(min_length=1)


class QuestionnaireModel(_Strict):
    """The whole file, as parsed; :class:`sem_kit.questionnaire.Questionnaire` wraps it."""

    format: Literal[1]
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: Text | None = None
    scale: Scale | None = None
    constructs: dict[str, Construct]
    hypotheses: dict[str, Hypothesis] = Field(default_factory=dict)
    indirect: list[str] = Field(default_factory=list)
    alternatives: dict[str, AlternativeModel] = Field(default_factory=dict)
    covariances: list[tuple[str, str]] = Field(default_factory=list)
    columns: dict[str, str] = Field(default_factory=dict)
    value_labels: dict[str, float] = Field(default_factory=dict)
    missing_codes: list[float] = Field(default_factory=list)
    demographics: dict[str, Demographic] = Field(default_factory=dict)
    screening: Screening = Field(default_factory=Screening)
    population: Population = Field(default_factory=Population)

    @field_validator("hypotheses", "constructs", mode="before")
    @classmethod
    def _none_is_empty(cls, value: object) -> object:
        return {} if value is None else value

    @field_validator("value_labels", mode="before")
    @classmethod
    def _label_keys(cls, value: object) -> object:
        if isinstance(value, dict):
            return {str(k): v for k, v in value.items()}
        return value


ID_PATTERN = re.compile(_ID)
