"""Developer tasks: ``nox -s tests``, ``nox -s docs``, ``nox -s lint``, ``nox -s typecheck``."""

from __future__ import annotations

import nox

nox.options.sessions = ["docs", "tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite (unit and integration over real sockets)."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """The documentation site (MkDocs) from docs/ into site/, strict: a broken link, a
    missing page or an API reference that does not resolve fails the build."""
    session.install("-e", ".[docs]")
    session.run("mkdocs", "build", "--strict", env={"NO_MKDOCS_2_WARNING": "1"})


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", "gameserver", "clients")


@nox.session
def typecheck(session: nox.Session) -> None:
    session.install("-e", ".[typecheck]")
    session.run("mypy")


@nox.session
def bench(session: nox.Session) -> None:
    """The standard benchmark set (about 5 minutes); arguments after -- replace the defaults.

    For example ``nox -s bench -- --scenario players-500 --window 60`` (tick stability
    over a minute) or ``-- --repeat 3 --window 20 --out results.json``.
    """
    session.install("-e", ".[bench,test]")  # the matchmaking benchmark reuses test helpers
    args = session.posargs or ["--window", "10", "--settle", "2", "--repeat", "2"]
    session.run("python", "-m", "benchmarks.run", *args)


@nox.session
def serve(session: nox.Session) -> None:
    """Run a server on 127.0.0.1:8000 (pass other options after --)."""
    session.install("-e", ".")
    session.run("gameserver", "serve", *(session.posargs or ["--port", "8000"]))
