"""The ``sem-kit`` command line (see ../shared/DESIGN.md, section CLI).

Exit codes: 0 success; 2 bad input (one message on stderr naming the file,
column, row and value, never a traceback); 1 an internal error.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sem_kit.errors import InputError
from sem_kit.literals import ESTIMATORS, LANGS, MISSING, SCREENS

if TYPE_CHECKING:  # pragma: no cover
    from sem_kit.io.ingest import Responses
    from sem_kit.io.screening import ScreeningResult
    from sem_kit.pipeline import Options
    from sem_kit.questionnaire import Questionnaire

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT = 0, 1, 2
SAMPLE_FILE = "sample_responses.csv"
DEMO_SEED = 20261123
DEMO_BOOTSTRAP = 5000


def _add_questionnaire(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-q",
        "--questionnaire",
        default=None,
        metavar="QUESTIONNAIRE",
        help="questionnaire YAML file or built-in name (default: customer-knowledge-sharing)",
    )


def _add_screen(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--screen",
        choices=SCREENS,
        default="default",
        help="screening rules: default, or none (blank and unanswered rows are still dropped)",
    )
    _add_layout(p)


def _add_layout(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sheet", default=None, metavar="NAME",
                   help="sheet of an Excel workbook (default: the sheet that holds the items)")
    p.add_argument("--header-row", type=_row_number, default=None, metavar="N",
                   help="the row holding the column names (default: found; row 1, or the "
                        "first full row below a title)")


def _row_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a row number, found {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a row number from 1, found {value}")
    return value


def _add_analysis_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--bootstrap", type=int, default=5000, metavar="N",
                   help="bootstrap resamples for the intervals (default 5000; 0 for none)")
    p.add_argument("--seed", type=int, default=None, metavar="S",
                   help="random seed (default: drawn at random and written to the report)")
    p.add_argument("--jobs", type=int, default=1, metavar="J",
                   help="worker processes for the bootstrap (-1: all cores)")
    p.add_argument("--lang", choices=LANGS, default="en", help="report language")
    p.add_argument("--missing", choices=MISSING, default="listwise", type=str.lower,
                   help="missing answers: listwise deletion (default) or fiml "
                        "(full-information ML on every screened row; with --estimator ML)")
    p.add_argument("--estimator", choices=ESTIMATORS, default="ML",
                   type=str.upper,
                   help="ML (default); MLM, MLR (robust SEs, scaled fit); WLSMV (items "
                        "as ordered categories; no bootstrap)")
    p.add_argument("--group", default=None, metavar="COLUMN",
                   help="multi-group analysis by this column")
    p.add_argument("--group-partial", action="append", default=[], metavar="PARAM",
                   help="with --group: a parameter left free across groups for partial "
                        "invariance, in lavaan's group.partial form (e.g. WIL=~WIL2, WIL2~1); "
                        "repeat for several")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``sem-kit`` with all its subcommands."""
    from sem_kit.version import __version__

    parser = argparse.ArgumentParser(
        prog="sem-kit",
        description="Survey responses + questionnaire -> reliability, validity, CFA, SEM report.",
    )
    parser.add_argument("--version", action="version", version=f"sem-kit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("analyze", help="the whole analysis: report.html, results.json, tables")
    p.add_argument("data", metavar="DATA", help="responses file (.csv, .xlsx, .sav)")
    _add_questionnaire(p)
    p.add_argument("-o", "--outdir", default=None, metavar="OUTDIR",
                   help="output folder (default: reports/<name of DATA>)")
    _add_analysis_options(p)
    _add_screen(p)
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser("demo", help="analyse the bundled sample data into reports/demo/")
    p.add_argument("-o", "--outdir", default="reports/demo", metavar="OUTDIR")
    p.add_argument("--bootstrap", type=int, default=DEMO_BOOTSTRAP, metavar="N")
    p.add_argument("--jobs", type=int, default=-1, metavar="J")
    p.add_argument("--lang", choices=LANGS, default="en")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("validate", help="read and screen a responses file; list excluded rows")
    p.add_argument("data", metavar="DATA", help="responses file (.csv, .xlsx, .sav)")
    _add_questionnaire(p)
    _add_screen(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("init", help="draft a questionnaire YAML from a responses file")
    p.add_argument("data", metavar="DATA", help="responses file (.csv, .xlsx, .sav)")
    p.add_argument("-o", "--output", default=None, metavar="QUESTIONNAIRE.yaml",
                   help="write the draft to this file (default: print it)")
    p.add_argument("--force", action="store_true", help="overwrite the -o file if it exists")
    _add_layout(p)
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("simulate", help="draw responses from a questionnaire's population model")
    _add_questionnaire(p)
    p.add_argument("-n", type=int, required=True, metavar="N", help="number of respondents")
    p.add_argument("--seed", type=int, default=None, metavar="S", help="random seed")
    p.add_argument(
        "--missing",
        type=float,
        default=None,
        metavar="P",
        help="share of answers deleted at random (default: the questionnaire's)",
    )
    p.add_argument(
        "--flawed",
        action="store_true",
        help="append rows that screening must exclude (duplicates, straight-liners, ...)",
    )
    p.add_argument(
        "--no-demographics",
        dest="demographics",
        action="store_false",
        help="items only: no id, duration or demographic columns",
    )
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="output .csv or .xlsx")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("questionnaire", help="list, show or export built-in questionnaires")
    qsub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    qp = qsub.add_parser("list", help="names of the built-in questionnaires")
    qp.set_defaults(func=cmd_questionnaire_list)
    qp = qsub.add_parser("show", help="constructs, items and hypotheses of a questionnaire")
    qp.add_argument("name", metavar="NAME", help="built-in name or YAML file")
    qp.add_argument("--lang", choices=LANGS, default="en")
    qp.set_defaults(func=cmd_questionnaire_show)
    qp = qsub.add_parser("export", help="write a built-in questionnaire's YAML to a file")
    qp.add_argument("name", metavar="NAME")
    qp.add_argument("file", metavar="FILE")
    qp.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    qp.set_defaults(func=cmd_questionnaire_export)

    return parser


def _progress_bar(label: str) -> Callable[[int, int], None] | None:
    """A one-line progress bar on stderr when it is a terminal, else ``None`` (quiet)."""
    if not sys.stderr.isatty():
        return None
    width = 30

    def show(done: int, total: int) -> None:
        filled = int(width * done / max(total, 1))
        end = "\n" if done >= total else ""
        print(f"\r{label} [{'#' * filled}{' ' * (width - filled)}] {done}/{total}", end=end,
              file=sys.stderr, flush=True)

    return show


def print_notices(notices: Sequence[str]) -> None:
    """What was found without being told (sheet, header row, column matches), on stderr."""
    for line in notices:
        print(line, file=sys.stderr)


def _say(text: str) -> None:
    if sys.stderr.isatty():
        print(text, file=sys.stderr, flush=True)


def run_analysis(
    data: str | Path, questionnaire: str | None, outdir: Path, options: Options
) -> int:
    """Analyse ``data`` and write OUTDIR; prints where the report is."""
    from sem_kit.pipeline import analyze

    _say(f"Analysing {data} ...")
    result = analyze(data, questionnaire, options=options,
                     progress=_progress_bar("Bootstrap"))
    print_notices(result.screening.responses.notices)
    written = result.save(outdir)
    print(f"Analysed {result.n_analyzed} of {result.screening.n_input} rows "
          f"({len(result.excluded)} excluded, each listed in the report).")
    if result.structural is not None:
        supported = int(result.structural.paths["supported"].sum())
        print(f"Hypotheses supported: {supported} of {len(result.structural.paths)}.")
    if result.warnings:
        print(f"{len(result.warnings)} warning(s): see the report's Warnings section.")
    print(f"Report: {written / 'report.html'}")
    return EXIT_OK


def cmd_analyze(args: argparse.Namespace) -> int:
    from sem_kit.pipeline import Options

    options = Options(bootstrap=args.bootstrap, seed=args.seed, jobs=args.jobs, lang=args.lang,
                      missing=args.missing, estimator=args.estimator, group=args.group,
                      group_partial=tuple(args.group_partial),
                      screen=args.screen, sheet=args.sheet, header_row=args.header_row)
    outdir = Path(args.outdir) if args.outdir else Path("reports") / Path(args.data).stem
    return run_analysis(args.data, args.questionnaire, outdir, options)


def cmd_demo(args: argparse.Namespace) -> int:
    from importlib import resources

    from sem_kit.pipeline import Options

    sample = resources.files("sem_kit.sample_data").joinpath(SAMPLE_FILE)
    options = Options(bootstrap=args.bootstrap, seed=DEMO_SEED, jobs=args.jobs, lang=args.lang)
    with resources.as_file(sample) as path:
        return run_analysis(path, None, Path(args.outdir), options)


def cmd_validate(args: argparse.Namespace) -> int:
    from sem_kit import load_questionnaire
    from sem_kit.io.ingest import read_responses
    from sem_kit.io.screening import screen

    q = load_questionnaire(args.questionnaire)
    responses = read_responses(args.data, q, sheet=args.sheet, header_row=args.header_row)
    print_notices(responses.notices)
    result = screen(responses, q, rules=args.screen)
    print(format_screening(args.data, q, responses, result))
    return EXIT_OK


def format_screening(
    data: str, q: Questionnaire, responses: Responses, result: ScreeningResult
) -> str:
    """A plain-text screening summary: counts per reason, then every excluded row."""
    complete = int(result.items.notna().all(axis=1).sum())
    lines = [
        f"File:          {data}",
        f"Questionnaire: {q.name} ({len(q.items)} items, "
        f"{len(q.first_order)} first-order constructs)",
        f"Rows read:     {result.n_input}",
        f"Rows kept:     {result.n_kept}",
        f"Rows excluded: {len(result.excluded)}",
    ]
    for reason, count in result.summary().items():
        lines.append(f"  {reason:<20} {count}")
    lines.append(
        f"Complete rows: {complete} (kept rows with every item answered; listwise deletion "
        f"would drop {result.n_kept - complete})"
    )
    if result.excluded:
        lines.append("")
        lines.append("Excluded rows (row numbers as in the file, header = row "
                     f"{responses.header_row}):")
        for ex in result.excluded:
            lines.append(f"  row {ex.row:>5}  {ex.reason:<18} {ex.detail}")
    warnings = list(q.warnings) + list(responses.warnings)
    if warnings:
        lines.append("")
        lines.append("Warnings:")
        lines += [f"  - {w}" for w in warnings]
    return "\n".join(lines)


def cmd_init(args: argparse.Namespace) -> int:
    import yaml

    from sem_kit.io.atomic import write_text
    from sem_kit.questionnaire import parse_questionnaire
    from sem_kit.questionnaire.draft import draft_questionnaire, read_for_draft

    target = Path(args.output) if args.output else None
    if target is not None and target.is_dir():
        raise InputError("is a folder; give -o the path of the YAML file to write", file=target)
    if target is not None and target.exists() and not args.force:
        raise InputError("exists; give --force to overwrite it", file=target)
    table = read_for_draft(args.data, args.sheet, args.header_row)
    print_notices(table.attrs.get("notices", []))
    for warning in table.attrs.get("warnings", []):
        print(f"sem-kit: warning: {warning}", file=sys.stderr)
    text = draft_questionnaire(table, source=str(args.data),
                               output=str(target) if target else None)
    try:
        parse_questionnaire(text, str(target or "<draft>"))
    except InputError as exc:
        print(f"sem-kit: warning: the draft does not pass this version's questionnaire "
              f"checks yet; edit it where the message says: {exc}", file=sys.stderr)
    if target is None:
        sys.stdout.write(text)
        return EXIT_OK
    write_text(target, text)
    drafted = yaml.safe_load(text)
    constructs = drafted["constructs"]
    n_items = sum(len(c["items"]) for c in constructs.values())
    print(f"Drafted {len(constructs)} construct(s) with {n_items} item(s) and "
          f"{len(drafted.get('demographics') or {})} demographic(s) from {args.data} "
          f"into {target}.\nCheck the guesses its comments explain, then run:\n"
          f"  sem-kit analyze {args.data} -q {target}", file=sys.stderr)
    return EXIT_OK


def cmd_simulate(args: argparse.Namespace) -> int:
    from sem_kit import load_questionnaire
    from sem_kit.io.simulate import simulate_responses, write_responses

    if args.n < 1:
        raise InputError(f"-n: expected a positive number of respondents, found {args.n}")
    q = load_questionnaire(args.questionnaire)
    df = simulate_responses(
        q,
        args.n,
        args.seed,
        missing=args.missing,
        demographics=args.demographics,
        flawed=args.flawed,
    )
    write_responses(df, args.output)
    print(f"Wrote {len(df)} rows x {df.shape[1]} columns to {args.output}", file=sys.stderr)
    return EXIT_OK


def cmd_questionnaire_list(args: argparse.Namespace) -> int:
    from sem_kit import load_questionnaire
    from sem_kit.questionnaire import builtin_names

    for name in builtin_names():
        q = load_questionnaire(name)
        title = q.model.title.get("en") if q.model.title else ""
        print(f"{name}\t{title}")
    return EXIT_OK


def cmd_questionnaire_show(args: argparse.Namespace) -> int:
    from sem_kit import load_questionnaire

    q = load_questionnaire(args.name)
    lang = args.lang
    title = q.model.title.get(lang) if q.model.title else q.name
    lines = [f"{q.name}: {title}", ""]
    scale = q.model.scale
    if scale is not None:
        lines.append(f"Scale: {scale.min:g}-{scale.max:g}")
    lines.append(f"Constructs ({len(q.constructs)}):")
    for cid, c in q.constructs.items():
        if c.dimensions:
            lines.append(
                f"  {cid:<6} {c.name.get(lang)}  (second-order over {', '.join(c.dimensions)})"
            )
            continue
        lines.append(f"  {cid:<6} {c.name.get(lang)}")
        for iid, item in c.items.items():
            mark = " (R)" if item.reverse else ""
            lines.append(f"    {iid:<7} {item.text.get(lang)}{mark}")
    if q.hypotheses:
        lines.append("")
        lines.append(f"Hypotheses ({len(q.hypotheses)}):")
        for hid, h in q.hypotheses.items():
            lines.append(f"  {hid:<4} {h.path}  ({h.sign})")
        chains = q.indirect_paths()
        if chains:
            lines.append("")
            lines.append("Indirect effects:")
            lines += ["  " + " -> ".join(c) for c in chains]
    if q.model.demographics:
        lines.append("")
        lines.append("Demographics: " + ", ".join(q.model.demographics))
    lines.append("")
    lines.append("lavaan syntax:")
    lines += ["  " + s for s in q.model_syntax().splitlines()]
    if q.warnings:
        lines.append("")
        lines += [f"Warning: {w}" for w in q.warnings]
    print("\n".join(lines))
    return EXIT_OK


def cmd_questionnaire_export(args: argparse.Namespace) -> int:
    from sem_kit.io.atomic import write_text
    from sem_kit.questionnaire import builtin_text

    target = Path(args.file)
    if target.exists() and not args.force:
        raise InputError("exists; give --force to overwrite it", file=target)
    write_text(target, builtin_text(args.name))
    print(f"Wrote {args.name} to {target}", file=sys.stderr)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``sem-kit``; returns the exit code (0, 1 or 2)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or EXIT_OK)
    except InputError as exc:
        print(f"sem-kit: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("sem-kit: interrupted; no output was left half-written", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception:  # noqa: BLE001 - the one place internal errors are reported
        print(
            "sem-kit: internal error (a bug in sem-kit; please report it with the text below)",
            file=sys.stderr,
        )
        traceback.print_exc()
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
