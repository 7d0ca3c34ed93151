"""Beffroi's extension points, declared in one place.

A plugin is an installed Python package that names its contributions in its
``pyproject.toml`` under ``[project.entry-points."<group>"]``. Each constant below is one
such group; its docstring says what the entry point must name and what contract it follows.
Beffroi itself registers its built-in parts the same way it loads the plugins' ones, so a
plugin has exactly the powers of the core.
"""

from __future__ import annotations

CONNECTORS = "beffroi.connectors"
"""``name = "package.module:ConnectorClass"``: a platform connector.

The class subclasses :class:`beffroi.connectors.base.Connector` (options, validate_options,
fetch generator of batches with cursors, map_item, and the actions the platform allows).
The entry point's name is the platform stored on sources (``"mastodon"``, ``"telegram"``…);
a built-in connector of the same name wins. See :mod:`beffroi.connectors.registry`.
"""

TASKS = "beffroi.tasks"
"""``name = "package.module"``: a module imported by every worker before it runs jobs.

The module registers functions with :func:`beffroi.jobs.engine.task` (run on demand, payload
passed as keyword arguments, idempotent: a job may run again after a crash) and
:func:`beffroi.jobs.engine.periodic` (called by the sweeper at a fixed interval). The
environment variable ``BEFFROI_TASK_MODULES`` (comma-separated module names) does the same
without packaging, for deployments and tests. The ``tasks`` module of every installed Django
app, the built-in ones included, is imported the same way when Django starts
(:func:`beffroi.jobs.engine.load_tasks`, called by ``JobsConfig.ready``).
"""

COMMANDS = "beffroi.commands"
"""``name = "package.module:register_commands"``: a callable adding commands to ``beffroi``.

It receives the ``beffroi`` click group and adds its commands or groups to it
(``cli.add_command(group)`` or ``@cli.command()``), as Datasette's ``register_commands`` hook
does. The apps' own groups (``beffroi charter``, ``beffroi moderation``, ``beffroi user``…,
listed in ``beffroi.cli.BUILTIN_COMMANDS``) are registered the same way, first; a plugin
cannot replace a command that is already there. Commands take their helpers from
:mod:`beffroi.cli_support` (Django's start, the organization context, the consoles) and
change nothing themselves: they call a service.
"""

ALL_GROUPS = (CONNECTORS, TASKS, COMMANDS)
