"""The checked questionnaire and what it says about the model (lavaan syntax)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from sem_kit.questionnaire.schema import Construct, Hypothesis, Item, QuestionnaireModel, Scale


@dataclass(frozen=True)
class Questionnaire:
    """A questionnaire that passed every check of the format.

    Attributes
    ----------
    model:
        The parsed file (:class:`~sem_kit.questionnaire.schema.QuestionnaireModel`).
    origin:
        Where it came from: a path, or ``<built-in NAME>``.
    warnings:
        What is allowed but weak (e.g. a construct with two items).
    """

    model: QuestionnaireModel
    origin: str = "<string>"
    warnings: tuple[str, ...] = field(default=())

    # -- plain views ---------------------------------------------------------
    @property
    def name(self) -> str:
        return self.model.name

    @property
    def constructs(self) -> dict[str, Construct]:
        return self.model.constructs

    @property
    def hypotheses(self) -> dict[str, Hypothesis]:
        return self.model.hypotheses

    @cached_property
    def first_order(self) -> list[str]:
        """Constructs measured by items, in file order."""
        return [cid for cid, c in self.constructs.items() if c.items]

    @cached_property
    def second_order(self) -> list[str]:
        """Second-order constructs (with ``dimensions``), in file order."""
        return [cid for cid, c in self.constructs.items() if c.dimensions]

    @cached_property
    def items(self) -> dict[str, Item]:
        """Every item id -> item, in file order."""
        return {iid: item for c in self.constructs.values() for iid, item in c.items.items()}

    @cached_property
    def item_construct(self) -> dict[str, str]:
        """Item id -> id of the construct it measures."""
        return {iid: cid for cid, c in self.constructs.items() for iid in c.items}

    @cached_property
    def construct_items(self) -> dict[str, list[str]]:
        """First-order construct id -> its item ids."""
        return {cid: list(self.constructs[cid].items) for cid in self.first_order}

    @cached_property
    def reverse_items(self) -> list[str]:
        return [iid for iid, item in self.items.items() if item.reverse]

    def item_scale(self, item_id: str) -> Scale | None:
        """The item's own scale, else the questionnaire's, else ``None`` (continuous)."""
        return self.items[item_id].scale or self.model.scale

    @cached_property
    def dimension_of(self) -> dict[str, str]:
        """First-order dimension id -> its second-order construct id."""
        return {d: cid for cid in self.second_order for d in self.constructs[cid].dimensions}

    @cached_property
    def structural_constructs(self) -> list[str]:
        """Constructs that take part in the structural model (dimensions are inside theirs)."""
        return [cid for cid in self.constructs if cid not in self.dimension_of]

    @cached_property
    def endogenous(self) -> list[str]:
        """Constructs with at least one hypothesised cause, in file order."""
        targets = {h.target for h in self.hypotheses.values()}
        return [cid for cid in self.constructs if cid in targets]

    def column_for(self, key: str) -> str:
        """The data column header for an item or demographic id (its alias, or the id)."""
        return self.model.columns.get(key, key)

    # -- lavaan syntax -------------------------------------------------------
    def measurement_syntax(self) -> str:
        """lavaan syntax of the measurement model: ``=~`` lines, second-order, covariances.

        Latent covariances are left to the estimator's defaults (free among
        exogenous latents, as lavaan's ``cfa()``).
        """
        lines = [f"{cid} =~ " + " + ".join(self.constructs[cid].items) for cid in self.first_order]
        lines += [
            f"{cid} =~ " + " + ".join(self.constructs[cid].dimensions) for cid in self.second_order
        ]
        lines += self._covariance_lines()
        return "\n".join(lines) + "\n"

    def structural_lines(self) -> list[str]:
        """``B ~ A + C`` regression lines, one per endogenous construct."""
        causes: dict[str, list[str]] = {}
        for h in self.hypotheses.values():
            causes.setdefault(h.target, []).append(h.source)
        return [f"{t} ~ " + " + ".join(causes[t]) for t in self.endogenous]

    def model_syntax(self) -> str:
        """lavaan syntax of the full model: measurement + structural + covariances."""
        lines = [f"{cid} =~ " + " + ".join(self.constructs[cid].items) for cid in self.first_order]
        lines += [
            f"{cid} =~ " + " + ".join(self.constructs[cid].dimensions) for cid in self.second_order
        ]
        lines += self.structural_lines()
        lines += self._covariance_lines()
        return "\n".join(lines) + "\n"

    def _covariance_lines(self) -> list[str]:
        return [f"{a} ~~ {b}" for a, b in self.model.covariances]

    def indirect_paths(self) -> list[tuple[str, ...]]:
        """Every chain X -> M (-> M2 ...) -> Y of hypothesised paths, plus declared ones.

        Chains are found by depth-first search from every construct over the
        hypothesis graph (which is acyclic); a chain has at least one mediator.
        """
        out: dict[tuple[str, ...], None] = {}
        succ: dict[str, list[str]] = {}
        for h in self.hypotheses.values():
            succ.setdefault(h.source, []).append(h.target)

        def walk(chain: tuple[str, ...]) -> None:
            for nxt in succ.get(chain[-1], []):
                longer = chain + (nxt,)
                if len(longer) >= 3:
                    out[longer] = None
                walk(longer)

        for start in self.constructs:
            walk((start,))
        for declared in self.model.indirect:
            out[tuple(p.strip() for p in declared.split("->"))] = None
        return list(out)
