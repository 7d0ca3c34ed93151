"""``beffroi eval``: the project's quality measurements on labelled files."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any, cast

import click

from beffroi.analysis.moderation.signals import CATEGORIES
from beffroi.cli_support import console, progress_bar


@click.group(name="eval")
def evaluation() -> None:
    """Measure the detectors on labelled data (precision, recall, F1, speed)."""


@evaluation.command("moderation")
@click.option(
    "--input", "input_path", required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@click.option("--text-column", required=True, help="Column holding the text.")
@click.option("--label-column", required=True, help="Column holding the label.")
@click.option(
    "--positive",
    required=True,
    help="Label value(s) of the positive class, comma-separated; '!normal' means every "
    "label but 'normal'.",
)
@click.option(
    "--label-separator",
    default=None,
    help="Labels within one cell are separated by this (MLMA: '_'); positive if one is.",
)
@click.option(
    "--train-from",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Learn first from this file's first labelled rows, as from the organization's "
    "decisions (same columns).",
)
@click.option("--train-limit", type=int, default=100, show_default=True)
@click.option(
    "--train-order",
    type=click.Choice(["file", "shuffled"]),
    default="file",
    show_default=True,
    help="Learn from the first rows in file order, or from rows drawn at random (for files "
    "sorted by label or test type, unlike decisions arriving over time).",
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed of --train-order shuffled."
)
@click.option(
    "--category",
    type=click.Choice(CATEGORIES),
    default="hate",
    show_default=True,
    help="The charter category a positive training row is decided as.",
)
@click.option(
    "--detectors",
    type=click.Choice(["all", "rules", "classifier"]),
    default="all",
    show_default=True,
)
@click.option(
    "--categories",
    default="",
    help="Charter categories whose scores count as flagging the positive class, "
    "comma-separated (default: all).",
)
@click.option(
    "--representation",
    type=click.Choice(["char+use", "char", "use"]),
    default="char+use",
    show_default=True,
    help="The classifier's representation (the product uses the default).",
)
@click.option("--threshold", type=float, default=0.5, show_default=True)
@click.option("--limit", type=int, default=None, help="Evaluate the first N rows only.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def eval_moderation(
    input_path: Path,
    text_column: str,
    label_column: str,
    positive: str,
    label_separator: str | None,
    train_from: Path | None,
    train_limit: int,
    train_order: str,
    seed: int,
    category: str,
    detectors: str,
    categories: str,
    representation: str,
    threshold: float,
    limit: int | None,
    as_json: bool,
) -> None:
    """Evaluate the out-of-the-box moderation detectors on a labelled CSV/TSV (binary)."""
    from beffroi.analysis.moderation.evaluate import (
        EvaluationError,
        PositiveLabels,
        evaluate,
        read_labelled_rows,
    )

    flagging = [c.strip() for c in categories.split(",") if c.strip()] or list(CATEGORIES)
    unknown = sorted(set(flagging) - set(CATEGORIES))
    if unknown:
        raise click.BadParameter(
            f"unknown {', '.join(unknown)}; known: {', '.join(CATEGORIES)}",
            param_hint="--categories",
        )
    if not 0.0 < threshold <= 1.0:
        raise click.BadParameter("must be in (0, 1]", param_hint="--threshold")
    if train_limit < 1:
        raise click.BadParameter("must be at least 1", param_hint="--train-limit")
    try:
        labels = PositiveLabels.parse(positive, label_separator)
        rows = read_labelled_rows(input_path, text_column, label_column, labels)
        training = (
            read_labelled_rows(
                train_from,
                text_column,
                label_column,
                labels,
                limit=train_limit if train_order == "file" else None,
            )
            if train_from is not None
            else []
        )
    except EvaluationError as error:
        raise click.ClickException(str(error)) from error
    if train_order == "shuffled":
        random.Random(seed).shuffle(training)
        training = training[:train_limit]
    if train_from is not None and train_from.resolve() == input_path.resolve():
        # The decisions learned from are not part of what is measured.
        learned = {row.line for row in training}
        rows = [row for row in rows if row.line not in learned]
    if limit is not None:
        rows = rows[:limit]
    if not rows:
        raise click.ClickException("no row is left to evaluate")

    classifier: Any = None
    rules: Any = None
    with console.status("Loading the detectors"):
        if detectors in ("all", "rules"):
            from beffroi.analysis.moderation.rules import RuleDetector, load_default_rules

            rules = RuleDetector(load_default_rules())
        if detectors in ("all", "classifier"):
            from beffroi.analysis.moderation.classifier import (
                LabelledText,
                Representation,
                default_classifier,
                train,
            )

            if training:
                decisions = [
                    LabelledText(row.text, category if row.positive else "none") for row in training
                ]
                classifier = train(decisions, representation=cast(Representation, representation))
            else:
                classifier = default_classifier(cast(Representation, representation))

    with progress_bar() as progress:
        task = progress.add_task("Scoring", total=len(rows))
        result = evaluate(
            rows,
            classifier,
            rules,
            categories=flagging,
            threshold=threshold,
            progress=lambda done: progress.advance(task, done),
        )
    report: dict[str, Any] = {
        "input": str(input_path),
        "positive": labels.describe(),
        **result.metrics.as_dict(),
        "items_per_second": round(result.items_per_second, 1),
        "seconds": round(result.seconds, 2),
        "detectors": result.detectors,
        "categories": flagging,
        "trained_on_decisions": len(training),
        "train_from": str(train_from) if train_from is not None else None,
        "train_order": train_order if training else None,
    }
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    click.echo(
        f"{report['n']} rows, {report['positives']} positive ({report['positive']}): "
        f"precision {report['precision']:.3f}, recall {report['recall']:.3f}, "
        f"F1 {report['f1']:.3f}; {report['items_per_second']} items/s"
        + (f"; after learning from {len(training)} decisions" if training else "")
    )


@evaluation.command("claims")
@click.option(
    "--claims", "claims_path", required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@click.option(
    "--queries", "queries_path", required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@click.option(
    "--qrels", "qrels_path", required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@click.option("--k", type=int, default=5, show_default=True, help="Depth of MAP and recall.")
@click.option(
    "--lexical-share",
    type=float,
    default=None,
    help="Weight of the word evidence against the meaning (default: the product's).",
)
@click.option("--words-only", is_flag=True, help="Word evidence only (no sentence encoder).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def eval_claims(
    claims_path: Path,
    queries_path: Path,
    qrels_path: Path,
    k: int,
    lexical_share: float | None,
    words_only: bool,
    as_json: bool,
) -> None:
    """Evaluate claim retrieval on CLEF CheckThat! 2020 task 2 files (TSV)."""
    import time

    from beffroi.analysis.claims.evaluate import (
        ClaimsEvaluationError,
        evaluate_index,
        read_claims,
        read_qrels,
        read_queries,
    )
    from beffroi.analysis.claims.retrieval import LEXICAL_SHARE, ClaimIndex

    if k < 1:
        raise click.BadParameter("must be at least 1", param_hint="--k")
    share = LEXICAL_SHARE if lexical_share is None else lexical_share
    if not 0.0 <= share <= 1.0:
        raise click.BadParameter("must be between 0 and 1", param_hint="--lexical-share")
    try:
        claims = read_claims(claims_path)
        queries = read_queries(queries_path)
        relevant = read_qrels(qrels_path)
    except ClaimsEvaluationError as error:
        raise click.ClickException(str(error)) from error
    started = time.perf_counter()
    with console.status(f"Indexing {len(claims)} claims"):
        index = ClaimIndex(claims, lexical_share=share, use_meaning=not words_only)
    index_seconds = time.perf_counter() - started
    with progress_bar() as progress:
        task = progress.add_task(
            "Searching", total=sum(1 for query in queries if query.id in relevant)
        )
        try:
            result = evaluate_index(
                index, queries, relevant, k=k, progress=lambda done: progress.advance(task, done)
            )
        except ClaimsEvaluationError as error:
            raise click.ClickException(str(error)) from error
    report: dict[str, Any] = {
        "claims": len(claims),
        **result.metrics.as_dict(),
        "queries_per_second": round(result.queries_per_second, 1),
        "index_seconds": round(index_seconds, 2),
        "queries_without_relevant_claim": result.missing_from_qrels,
        "lexical_share": index.lexical_share,
        "meaning": not words_only,
    }
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(
        f"{report['queries']} queries over {len(claims)} claims: MAP@{k} "
        f"{report[f'map_at_{k}']:.3f}, recall@{k} {report[f'recall_at_{k}']:.3f}, "
        f"MRR {report['mrr']:.3f}; {report['queries_per_second']} queries/s"
    )


@evaluation.command("claims-demo")
@click.option("--org", "org_slug", default="saint-aubin", show_default=True)
@click.option(
    "--rematch",
    is_flag=True,
    help="Forget the stored matches and match every item again first (as a scan does).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def eval_claims_demo(org_slug: str, rematch: bool, as_json: bool) -> None:
    """Recall and precision of claim matching on the demo town's labelled hoax and
    impersonation items (load it first with `beffroi demo`)."""
    from beffroi.cli_support import org_context, setup_django

    setup_django()
    from beffroi.demo import claims_eval

    organization = org_context(org_slug).organization
    if rematch:
        claims_eval.rematch(organization)
    report = claims_eval.measure(organization).as_dict()
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    for story, numbers in report["stories"].items():
        click.echo(
            f"{story}: {numbers['matched']} of {numbers['items']} items matched "
            f"(recall {numbers['recall']:.2f})"
        )
    click.echo(
        f"{report['matches']} matches: precision {report['precision']:.2f} (item of the "
        f"claim's story), {report['strict_precision']:.2f} (item spreading it); "
        f"recall {report['recall']:.2f}"
    )


def register_commands(cli: click.Group) -> None:
    """Add ``beffroi eval`` (the :data:`beffroi.extensions.COMMANDS` hook)."""
    cli.add_command(evaluation)
