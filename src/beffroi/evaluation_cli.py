"""``beffroi eval``: the project's quality measurements on labelled files."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
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
@click.option(
    "--label-column", default=None, help="Column holding the label (not needed with --benign)."
)
@click.option(
    "--positive",
    default=None,
    help="Label value(s) of the positive class, comma-separated; '!normal' means every "
    "label but 'normal' (not needed with --benign).",
)
@click.option(
    "--benign",
    is_flag=True,
    help="Every row is legitimate: report the share the default charter would hide or send "
    "to review (its thresholds and the decision engine's rules), and what triggered it.",
)
@click.option(
    "--where",
    "where_filters",
    multiple=True,
    metavar="COLUMN=VALUE",
    help="With --benign: measure only the rows whose COLUMN holds VALUE (repeatable).",
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
    "--group-column",
    default=None,
    metavar="COL[,COL]",
    help="Column(s) naming each row's group (HateCheck: templ_id,ref_templ_id). Rows are "
    "learned whole groups at a time, and a row sharing a group with a learned row is not "
    "measured: learning is measured on sentences of kinds never learned from.",
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
    "--backend",
    "backend_spec",
    default=None,
    metavar="SPEC",
    help="Also score with this heavier backend (a BEFFROI_MODERATION_BACKENDS specification, "
    "such as the one 'beffroi models install' prints).",
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
    label_column: str | None,
    positive: str | None,
    benign: bool,
    where_filters: tuple[str, ...],
    label_separator: str | None,
    train_from: Path | None,
    train_limit: int,
    train_order: str,
    seed: int,
    group_column: str | None,
    category: str,
    detectors: str,
    backend_spec: str | None,
    categories: str,
    representation: str,
    threshold: float,
    limit: int | None,
    as_json: bool,
) -> None:
    """Evaluate the out-of-the-box moderation detectors on a labelled CSV/TSV (binary), or,
    with --benign, what the default charter would do to rows that are all legitimate."""
    from beffroi.analysis.moderation.evaluate import (
        EvaluationError,
        LabelledRow,
        PositiveLabels,
        TextRow,
        draw_by_groups,
        evaluate,
        read_labelled_rows,
        read_texts,
        share_no_group,
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
    where: dict[str, str] = {}
    if benign:
        context = click.get_current_context()
        for name in ("categories", "threshold"):
            # The charter's categories and thresholds decide, not the binary evaluation's.
            if context.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT:
                raise click.BadParameter("not with --benign", param_hint=f"--{name}")
        for condition in where_filters:
            column, equals, value = condition.partition("=")
            if not equals or not column.strip():
                raise click.BadParameter(f"{condition!r} is not COLUMN=VALUE", param_hint="--where")
            where[column.strip()] = value
    elif where_filters:
        raise click.BadParameter("only with --benign", param_hint="--where")
    elif label_column is None or positive is None:
        raise click.UsageError("--label-column and --positive are needed (unless --benign)")
    if train_from is not None and (label_column is None or positive is None):
        raise click.UsageError("--train-from needs --label-column and --positive")
    group_columns = [c.strip() for c in (group_column or "").split(",") if c.strip()]
    if group_column is not None and (train_from is None or benign or not group_columns):
        raise click.BadParameter(
            "needs --train-from (and column names), not --benign", param_hint="--group-column"
        )
    rows: list[LabelledRow] = []
    texts: list[TextRow] = []
    training: list[LabelledRow] = []
    try:
        labels = PositiveLabels.parse(positive, label_separator) if positive is not None else None
        if benign:
            texts = read_texts(input_path, text_column, where)
        else:
            assert label_column is not None and labels is not None
            rows = read_labelled_rows(
                input_path, text_column, label_column, labels, group_columns=group_columns
            )
        if train_from is not None:
            assert label_column is not None and labels is not None
            training = read_labelled_rows(
                train_from,
                text_column,
                label_column,
                labels,
                limit=train_limit if train_order == "file" and not group_columns else None,
                group_columns=group_columns,
            )
    except EvaluationError as error:
        raise click.ClickException(str(error)) from error
    if group_columns and train_order == "shuffled":
        training = draw_by_groups(training, train_limit, random.Random(seed))
    elif group_columns:
        training = training[:train_limit]
    elif train_order == "shuffled":
        random.Random(seed).shuffle(training)
        training = training[:train_limit]
    if train_from is not None and train_from.resolve() == input_path.resolve():
        # The decisions learned from are not part of what is measured.
        learned = {row.line for row in training}
        rows = [row for row in rows if row.line not in learned]
        texts = [row for row in texts if row.line not in learned]
    left_out_by_group = 0
    if group_columns:
        rows, left_out_by_group = share_no_group(rows, training)
    if limit is not None:
        rows, texts = rows[:limit], texts[:limit]
    if not (texts if benign else rows):
        raise click.ClickException("no row is left to evaluate")

    classifier: Any = None
    rules: Any = None
    with console.status("Loading the detectors"):
        backend = _backend(backend_spec)
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

    if benign:
        _report_benign(
            input_path,
            texts,
            [d for d in (rules, classifier, backend) if d is not None],
            where,
            as_json,
        )
        return
    assert labels is not None  # required above unless --benign
    with progress_bar() as progress:
        task = progress.add_task("Scoring", total=len(rows))
        result = evaluate(
            rows,
            classifier,
            _with_backend(rules, backend),
            categories=flagging,
            threshold=threshold,
            progress=lambda done: progress.advance(task, done),
        )
    if backend is not None:
        result.detectors = {
            d.name: d.version for d in (classifier, rules, backend) if d is not None
        }
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
        "group_columns": group_columns or None,
        "left_out_sharing_a_group": left_out_by_group if group_columns else None,
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


def _report_benign(
    input_path: Path, texts: list[Any], detectors: list[Any], where: dict[str, str], as_json: bool
) -> None:
    """Judge legitimate rows by Beffroi's default charter, as the application judges items."""
    from beffroi.analysis.moderation.evaluate import charter_policy, evaluate_benign
    from beffroi.charter.yaml_io import load_default_charter

    policy = charter_policy(load_default_charter().categories)
    with progress_bar() as progress:
        task = progress.add_task("Judging", total=len(texts))
        result = evaluate_benign(
            texts, detectors, policy, progress=lambda done: progress.advance(task, done)
        )
    report: dict[str, Any] = {
        "input": str(input_path),
        "where": where,
        "charter": "default",
        **result.as_dict(),
        "items_per_second": round(result.items_per_second, 1),
        "seconds": round(result.seconds, 2),
        "detectors": result.detectors,
        "flagged": [row.as_dict() for row in result.flagged],
    }
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    click.echo(
        f"{report['n']} legitimate rows: {report['hidden']} hidden "
        f"({report['hide_rate']:.1%}), {report['reviewed']} sent to review "
        f"({report['review_rate']:.1%}), hidden or reviewed {report['hide_or_review_rate']:.1%}"
    )
    for title, key in (("categories", "top_categories"), ("triggers", "top_evidence")):
        if report[key]:
            click.echo(f"  {title}: " + ", ".join(f"{k} ({n})" for k, n in report[key]))


@evaluation.command("demo-moderation")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def eval_demo_moderation(as_json: bool) -> None:
    """Judge the demo town's labelled comments with the default rules, the shipped classifier
    and the default charter: what a moderator would do against the charter's verdict."""
    from datetime import UTC, datetime

    from beffroi.analysis.moderation.classifier import default_classifier
    from beffroi.analysis.moderation.evaluate import charter_policy
    from beffroi.analysis.moderation.rules import RuleDetector, load_default_rules
    from beffroi.analysis.moderation.signals import Detector
    from beffroi.charter.yaml_io import load_default_charter
    from beffroi.demo.moderation_check import judge_demo_town

    with console.status("Loading the detectors"):
        detectors: list[Detector] = [RuleDetector(load_default_rules()), default_classifier()]
    policy = charter_policy(load_default_charter().categories)
    result = judge_demo_town(datetime.now(UTC), detectors, policy)
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
        return
    click.echo("| label | a moderator would | keep | review | hide |")
    click.echo("|---|---|---|---|---|")
    pairs = sorted({(label, expected) for label, expected, _ in result.table})
    for label, expected in pairs:
        counts = [result.table.get((label, expected, verdict), 0) for verdict in VERDICTS]
        click.echo(f"| {label} | {expected} | " + " | ".join(map(str, counts)) + " |")
    click.echo(f"{result.items} items, {len(result.wrong)} judged otherwise than a moderator would")


VERDICTS = ("keep", "review", "hide")


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


@evaluation.command("counter-speech")
@click.option(
    "--input", "input_path", required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@click.option("--hate-column", required=True, help="Column holding the hate speech.")
@click.option("--reply-column", required=True, help="Column holding the reply written for it.")
@click.option(
    "--target-column",
    default=None,
    help="Column holding the targeted group: the replies' targets feed the target boost, "
    "and same_target_r_at_1 is measured.",
)
@click.option("--language-column", default=None, help="Column holding the row's language.")
@click.option(
    "--language-from-id-column",
    default=None,
    help="Column holding CONAN ids (cn_id): language from the first two letters, T1 rows "
    "are English translations of the pair.",
)
@click.option("--query-language", default=None, help="Keep the hate speech in this language.")
@click.option("--reply-language", default=None, help="Keep the replies in this language.")
@click.option("--words-only", is_flag=True, help="TF-IDF cosine only (the baseline).")
@click.option(
    "--cross-validate",
    "folds",
    type=click.IntRange(min=2),
    default=None,
    help="Choose the weights by cross-validation over this many folds of hate-speech groups "
    "and report the metrics of the held-out folds (and each fold's choice).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def eval_counter_speech(
    input_path: Path,
    hate_column: str,
    reply_column: str,
    target_column: str | None,
    language_column: str | None,
    language_from_id_column: str | None,
    query_language: str | None,
    reply_language: str | None,
    words_only: bool,
    folds: int | None,
    as_json: bool,
) -> None:
    """Evaluate counter-speech retrieval on hate speech / reply pairs (CSV or TSV)."""
    import time

    from beffroi.analysis.counterspeech.evaluate import (
        EvaluationError,
        benchmark,
        evaluate_index,
        read_pairs,
    )
    from beffroi.analysis.counterspeech.retrieval import CounterSpeechIndex

    if language_column and language_from_id_column:
        raise click.UsageError("use --language-column or --language-from-id-column, not both")
    if (query_language or reply_language) and not (language_column or language_from_id_column):
        raise click.UsageError(
            "--query-language and --reply-language need --language-column or "
            "--language-from-id-column"
        )
    try:
        rows = read_pairs(
            input_path,
            hate_column,
            reply_column,
            target_column=target_column,
            language_column=language_column,
            language_from_id_column=language_from_id_column,
        )
        bench = benchmark(rows, query_language=query_language, reply_language=reply_language)
    except EvaluationError as error:
        raise click.ClickException(str(error)) from error
    started = time.perf_counter()
    with console.status(f"Indexing {len(bench.replies)} replies"):
        index = CounterSpeechIndex(bench.replies, use_meaning=not words_only)
    index_seconds = time.perf_counter() - started
    if folds is not None:
        if words_only:
            raise click.UsageError(
                "--cross-validate chooses the weights of the meaning: not with --words-only"
            )
        _cross_validate_counter_speech(index, bench, folds, input_path, as_json)
        return
    with progress_bar() as progress:
        task = progress.add_task("Ranking", total=len(bench.queries))
        try:
            result = evaluate_index(
                index, bench, progress=lambda done: progress.advance(task, done)
            )
        except EvaluationError as error:
            raise click.ClickException(str(error)) from error
    report: dict[str, Any] = {
        "input": str(input_path),
        **result.metrics.as_dict(),
        "query_language": query_language,
        "reply_language": reply_language,
        "queries_per_second": round(result.queries_per_second, 1),
        "index_seconds": round(index_seconds, 2),
        "meaning": not words_only,
    }
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    line = (
        f"{report['queries']} hate speeches over {report['replies']} replies: "
        f"R@1 {report['r_at_1']:.3f}, R@5 {report['r_at_5']:.3f}, MRR {report['mrr']:.3f}"
    )
    if report["same_target_r_at_1"] is not None:
        line += f", same-target R@1 {report['same_target_r_at_1']:.3f}"
    click.echo(line)


def _cross_validate_counter_speech(
    index: Any, bench: Any, folds: int, input_path: Path, as_json: bool
) -> None:
    from dataclasses import asdict

    from beffroi.analysis.counterspeech.tuning import GRID, cross_validate

    with progress_bar() as progress:
        task = progress.add_task("Weights tried", total=len(GRID))
        try:
            result = cross_validate(
                index, bench, folds=folds, progress=lambda done: progress.advance(task, done)
            )
        except ValueError as error:
            raise click.ClickException(str(error)) from error
    report: dict[str, Any] = {
        "input": str(input_path),
        **result.metrics.as_dict(),
        "held_out": True,
        "folds": folds,
        "groups": result.groups,
        "chosen_weights": [asdict(weights) for weights in result.chosen],
    }
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    click.echo(
        f"Held-out folds ({folds}, {result.groups} groups): R@1 {report['r_at_1']:.3f}, "
        f"R@5 {report['r_at_5']:.3f}, MRR {report['mrr']:.3f}"
        + (
            f", same-target R@1 {report['same_target_r_at_1']:.3f}"
            if report["same_target_r_at_1"] is not None
            else ""
        )
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


@evaluation.command("requests")
@click.option(
    "--input", "input_path", required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@click.option("--text-column", required=True, help="Column holding the text.")
@click.option("--label-column", required=True, help="Column saying request/complaint or not.")
@click.option(
    "--positive",
    required=True,
    help="Label value(s) of requests, comma-separated; '!x' means every label but 'x'.",
)
@click.option(
    "--category-column",
    default=None,
    help="Column holding the service/category: also measure routing on the positive rows.",
)
@click.option(
    "--train-from",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Learn routing first from this file's first routed rows (same columns), as from "
    "the community managers' corrections; the router learns this file's category names.",
)
@click.option("--train-limit", type=int, default=300, show_default=True)
@click.option(
    "--learn-detection",
    is_flag=True,
    help="Also retrain the detector on the corpus plus the first --train-limit labelled rows "
    "of --train-from.",
)
@click.option(
    "--threshold", type=float, default=None, help="Request probability threshold (default: "
    "the product's).",
)  # fmt: skip
@click.option("--limit", type=int, default=None, help="Evaluate the first N rows only.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def eval_requests(
    input_path: Path,
    text_column: str,
    label_column: str,
    positive: str,
    category_column: str | None,
    train_from: Path | None,
    train_limit: int,
    learn_detection: bool,
    threshold: float | None,
    limit: int | None,
    as_json: bool,
) -> None:
    """Evaluate request detection (and routing) on a labelled CSV/TSV."""
    from beffroi.analysis.requests.evaluate import (
        EvaluationError,
        PositiveLabels,
        evaluate_requests,
        learned_texts_left_out,
        read_request_rows,
    )

    if train_limit < 1:
        raise click.BadParameter("must be at least 1", param_hint="--train-limit")
    if threshold is not None and not 0.0 < threshold <= 1.0:
        raise click.BadParameter("must be in (0, 1]", param_hint="--threshold")
    try:
        labels = PositiveLabels.parse(positive)
        rows = read_request_rows(input_path, text_column, label_column, labels, category_column)
        training = (
            read_request_rows(train_from, text_column, label_column, labels, category_column)
            if train_from is not None
            else []
        )
    except EvaluationError as error:
        raise click.ClickException(str(error)) from error
    routed_training = [row for row in training if row.positive and row.category][:train_limit]
    detection_training = training[:train_limit] if learn_detection else []
    if train_from is not None and category_column and not routed_training:
        raise click.ClickException(f"{train_from}: no positive row with a category to learn")
    if routed_training and len({row.category for row in routed_training}) < 2:
        raise click.ClickException(
            f"{train_from}: the first {train_limit} routed rows have one category; "
            "routing needs examples of at least two"
        )
    learned = [*routed_training, *detection_training]
    before = len(rows)
    rows = learned_texts_left_out(rows, learned)
    left_out = before - len(rows)
    if limit is not None:
        rows = rows[:limit]
    if not rows:
        raise click.ClickException("no row is left to evaluate")

    from beffroi.analysis.requests.detect import (
        RequestExample,
        default_detector,
        train_detector,
    )
    from beffroi.analysis.requests.routing import (
        ServiceModel,
        default_service_model,
        train_service_model,
    )

    router: ServiceModel | None = None
    with console.status("Loading the request models"):
        detector = (
            train_detector([RequestExample(r.text, r.positive) for r in detection_training])
            if detection_training
            else default_detector()
        )
        if category_column:
            if routed_training:
                corrections = [RequestExample(r.text, True, r.category) for r in routed_training]
                router = train_service_model(corrections, base=[])
            else:
                router = default_service_model()
    routed_rows = sum(1 for row in rows if row.positive and row.category) if router else 0
    with progress_bar() as progress:
        task = progress.add_task("Scoring", total=len(rows) + routed_rows)
        result = evaluate_requests(
            rows,
            detector,
            router,
            threshold=threshold,
            progress=lambda done: progress.advance(task, done),
        )
    report: dict[str, Any] = {
        "input": str(input_path),
        "positive": labels.describe(),
        **result.detection.as_dict(),
        **(result.routing.as_dict() if result.routing is not None else {}),
        "items_per_second": round(result.items_per_second, 1),
        "seconds": round(result.seconds, 2),
        "detector": detector.version,
        "router": router.version if router is not None else None,
        "train_from": str(train_from) if train_from is not None else None,
        "learned_routing_examples": len(routed_training),
        "learned_detection_examples": len(detection_training),
        "left_out_as_learned": left_out,
    }
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    line = (
        f"{report['n']} rows, {report['positives']} requests: precision "
        f"{report['precision']:.3f}, recall {report['recall']:.3f}, F1 {report['f1']:.3f}"
    )
    if result.routing is not None:
        line += (
            f"; routing of {report['routing_n']} rows: accuracy "
            f"{report['routing_accuracy']:.3f}, macro-F1 {report['routing_macro_f1']:.3f}"
        )
        if routed_training:
            line += f" after learning from {len(routed_training)} routed examples"
    click.echo(line)


def _backend(spec: str | None) -> Any:
    """The detector ``--backend`` describes (None without one); a bad one is a one-line error."""
    if spec is None:
        return None
    from beffroi.analysis.moderation.backends import BackendError, backend_from_config

    try:
        return backend_from_config(spec)
    except BackendError as error:
        raise click.ClickException(str(error)) from error


class _SignalsTogether:
    """The rules and a backend as the one signal detector ``evaluate`` scores with: per text,
    both detectors' signals, of which ``combined_scores`` keeps the best wanted category."""

    def __init__(self, detectors: list[Any]) -> None:
        self.detectors = detectors
        self.name = "+".join(detector.name for detector in detectors)
        self.version = "+".join(detector.version for detector in detectors)

    def score(self, texts: Sequence[str]) -> list[list[Any]]:
        from beffroi.analysis.moderation.evaluate import detector_signals

        return detector_signals(self.detectors, texts)


def _with_backend(rules: Any, backend: Any) -> Any:
    if backend is None or rules is None:
        return rules if backend is None else backend
    return _SignalsTogether([rules, backend])


def register_commands(cli: click.Group) -> None:
    """Add ``beffroi eval`` (the :data:`beffroi.extensions.COMMANDS` hook)."""
    cli.add_command(evaluation)
