"""Mutation testing with a fixed list of mutants: ``python -m mutation`` (or ``tox -e mutation``).

Each mutant in :mod:`mutation.mutants` is one plausible regression of ``store``, ``api``, ``routes``, ``auth``,
``handler`` (and ``ranges``, ``requestlog``): an exact piece of source and what it becomes. The harness copies the project
to a scratch directory, applies one mutant at a time, runs the tests that module's behaviour is pinned by, and
reports which mutants the suite kills. A mutant that survives is either a missing test or is listed with the reason
it cannot be told apart from the original (``equivalent=``).
"""
