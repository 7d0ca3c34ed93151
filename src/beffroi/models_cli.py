"""``beffroi models``: the recommended heavier moderation models, installed in one command.

The catalogue and the installation are :mod:`beffroi.analysis.moderation.model_catalog`; the
models go to ``<BEFFROI_HOME>/models``. Every failure (unknown name, hub unreachable or
refusing, a file whose hash differs, the models extra missing) is one line, never a traceback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from beffroi.cli_support import console, progress_bar

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID


@click.group(name="models")
def models() -> None:
    """Recommended moderation models: list them, install one, remove one; prepare the
    built-in ones."""


@models.command("list")
def models_list() -> None:
    """The catalogue, with each model's licence, size, languages and whether it is here."""
    from beffroi.analysis.moderation import model_catalog as mc

    try:
        entries = mc.catalogue()
    except mc.ModelInstallError as error:
        raise click.ClickException(str(error)) from error
    here = {model.name: model for model in mc.installed(mc.models_directory())}
    listed = {entry.name for entry in entries}
    rows = [("NAME", "LICENCE", "SIZE", "LANGUAGES", "STATUS", "REPOSITORY")]
    for entry in entries:
        model = here.get(entry.name)
        if model is None:
            status = "not installed"
        elif model.revision != entry.revision:
            status = "installed (other revision)"
        else:
            status = "installed"
        rows.append(
            (
                entry.name,
                entry.licence,
                entry.size,
                ",".join(entry.languages),
                status,
                f"{entry.repo}@{entry.revision[:12]}",
            )
        )
    for model in here.values():
        if model.name not in listed:  # installed from a catalogue no longer configured
            rows.append(
                (
                    model.name,
                    model.licence,
                    "?",
                    "",
                    "installed (not in the catalogue)",
                    f"{model.repo}@{model.revision[:12]}",
                )
            )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width + 2) for cell, width in zip(row[:-1], widths, strict=True)]
        click.echo("".join(cells) + row[-1])


@models.command("install")
@click.argument("name")
@click.option(
    "--no-eval",
    is_flag=True,
    help="Do not run the installed model on the built-in check sentences afterwards.",
)
def models_install(name: str, no_eval: bool) -> None:
    """Download NAME from the hub (BEFFROI_HF_ENDPOINT), check every file's SHA-256, install
    it, and print the specification to add to BEFFROI_MODERATION_BACKENDS."""
    from beffroi.analysis.moderation import model_catalog as mc

    directory = mc.models_directory()
    try:
        mc.find(name)  # an unknown name is said before any progress bar shows
        with progress_bar() as progress:
            tasks: dict[str, TaskID] = {}

            def report(file_name: str, done: int, total: int | None) -> None:
                _show(progress, tasks, file_name, done, total)

            model = mc.install(name, directory, progress=report)
    except mc.ModelInstallError as error:
        raise click.ClickException(str(error)) from error
    console.print(
        f"{model.name} {'installed' if model.downloaded else 'already installed and verified'}"
        f" in {model.directory} ({model.repo}@{model.revision[:12]}, licence {model.licence}).",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    spec = mc.backend_spec(model)
    click.echo("Add to BEFFROI_MODERATION_BACKENDS:")
    click.echo(spec)
    if no_eval:
        return
    from beffroi.analysis.moderation.backends import BackendError, backend_from_config

    try:
        with console.status("Checking the model on the built-in sentences"):
            metrics = mc.smoke_check(backend_from_config(spec))
    except BackendError as error:
        raise click.ClickException(str(error)) from error
    click.echo(
        f"Check on {metrics.n} built-in sentences (fr, en, ar; half hateful or threatening): "
        f"precision {metrics.precision:.2f}, recall {metrics.recall:.2f}, F1 {metrics.f1:.2f} "
        f"at threshold {metrics.threshold:g}."
    )


def _show(
    progress: Progress, tasks: dict[str, TaskID], file_name: str, done: int, total: int | None
) -> None:
    """One bar per file, in bytes, shown from the file's first report."""
    if file_name not in tasks:
        tasks[file_name] = progress.add_task(file_name, total=total)
    progress.update(tasks[file_name], completed=done, total=total)


@models.command("remove")
@click.argument("name")
def models_remove(name: str) -> None:
    """Delete the installed model NAME (its directory under BEFFROI_HOME/models)."""
    from beffroi.analysis.moderation import model_catalog as mc

    directory = mc.models_directory()
    if not mc.remove(name, directory):
        raise click.ClickException(f"No model '{name}' is installed in {directory}.")
    click.echo(f"Removed {name} from {directory}.")


@models.command("prepare")
def models_prepare() -> None:
    """Train the built-in models now (moderation classifier, request detector, service
    routing), or read them from the cache: for an image build, or before the first judging."""
    import time

    from beffroi.analysis.moderation.classifier import default_classifier
    from beffroi.analysis.requests.detect import default_detector
    from beffroi.analysis.requests.routing import default_service_model
    from beffroi.config import cache_dir

    started = time.monotonic()
    with console.status("Training or reading the built-in models"):
        classifier = default_classifier()
        default_detector()
        default_service_model()
    click.echo(
        f"Built-in models ready in {cache_dir()} ({time.monotonic() - started:.0f} s; "
        f"moderation classifier {classifier.version})."
    )


def register_commands(cli: click.Group) -> None:
    """Add ``beffroi models`` (the :data:`beffroi.extensions.COMMANDS` hook)."""
    cli.add_command(models)
