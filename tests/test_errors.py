"""errors.py holds every error class: each documented, each drawn in the module's tree."""

from __future__ import annotations

import inspect

from summarizer import errors


def _classes() -> list[type[BaseException]]:
    return [
        obj
        for _, obj in inspect.getmembers(errors, inspect.isclass)
        if issubclass(obj, BaseException) and obj.__module__ == errors.__name__
    ]


def test_every_error_has_a_docstring_and_a_place_in_the_tree() -> None:
    tree = errors.__doc__ or ""
    for cls in _classes():
        assert cls.__doc__ and cls.__doc__.strip(), f"{cls.__name__} has no docstring"
        line = next((ln for ln in tree.splitlines() if f"── {cls.__name__} " in ln), None)
        if cls is errors.SummarizerError:
            line = next(ln for ln in tree.splitlines() if f" {cls.__name__} " in ln)
        assert line is not None, f"{cls.__name__} is not drawn in errors.py's tree"
        if issubclass(cls, errors.SummarizerError):
            # The columns after the name: its exit code and its HTTP status.
            words = line.split(cls.__name__, 1)[1].split()
            said = f"{cls.__name__}: tree says {line.strip()!r}"
            assert words[0] == str(cls.exit_code), said
            http = "its" if cls is errors.ApiError else str(cls.http_status)
            assert words[1] == http, said


def test_tree_indentation_matches_the_class_hierarchy() -> None:
    """A class drawn under another in the tree is its subclass."""
    depth: dict[str, int] = {}
    parents: list[tuple[int, str]] = []
    names = {c.__name__: c for c in _classes()}
    for ln in (errors.__doc__ or "").splitlines():
        words = ln.replace("├──", " ").replace("└──", " ").replace("│", " ").split()
        if not words or (words[0] not in names and words[0] not in ("Exception", "ValueError")):
            continue
        indent = len(ln) - len(ln.lstrip(" │├└─"))
        while parents and parents[-1][0] >= indent:
            parents.pop()
        name = words[0]
        if parents and name in names and parents[-1][1] in names:
            assert issubclass(names[name], names[parents[-1][1]]), f"{name} under {parents[-1][1]}"
        parents.append((indent, name))
        depth[name] = indent
    assert set(names) <= set(depth)


def test_exit_codes_are_distinct_where_the_readme_says_so() -> None:
    codes = {c.__name__: c.exit_code for c in _classes() if hasattr(c, "exit_code")}
    assert codes["ConfigError"] == 3 and codes["InputError"] == 4
    assert codes["ReplayMissError"] == 5 and codes["ProviderError"] == 6
    assert codes["ModelOutputError"] == 7 and codes["GroundingError"] == 8
    assert codes["LockedError"] == 10 and codes["NothingBriefedError"] == 11
    assert errors.EXIT_PARTIAL == 9 and errors.EXIT_INTERRUPTED == 130


def test_http_status_is_stated_by_each_error_class() -> None:
    """The API's status for a failure comes from the error's class (issue 18.6), the same
    statuses the service's former isinstance chain gave."""
    from summarizer.serving.answers import status_for

    expected = {
        errors.InputError("x"): 422,
        errors.ReplayMissError("x", key="k"): 503,
        errors.RecordingUnreadable("x", key="k"): 503,
        errors.ConfigError("x"): 500,
        errors.KindError("x"): 500,
        errors.BatchUnsupported("x"): 500,
        errors.ProviderError("x", status=429): 502,
        errors.ProviderUnreachable("x"): 502,
        errors.ModeUnsupported("x", mode="tools"): 502,
        errors.ModelOutputError("x"): 502,
        errors.GroundingError("x"): 502,
        errors.StorageError("x"): 500,
        errors.LockedError("x"): 500,
        errors.NothingBriefedError("x"): 500,
        errors.SummarizerError("x"): 500,
        errors.ApiError(429, "RateLimited", "x"): 429,
        errors.ApiError(404, "NotFound", "x"): 404,
    }
    for exc, status in expected.items():
        assert status_for(exc) == status, type(exc).__name__
    # An upstream status is the provider's, never our answer's.
    assert errors.ProviderError("x", status=404).http_status == 502


def test_no_error_class_is_defined_outside_errors_py() -> None:
    """Every SummarizerError subclass the package defines lives in errors.py (and so in its
    tree): an adapter catching errors finds them all in one place."""
    import importlib
    import pkgutil

    import summarizer

    outside = []
    for info in pkgutil.walk_packages(summarizer.__path__, "summarizer."):
        if info.name.startswith("summarizer.testing") or info.name.endswith("__main__"):
            continue
        try:
            module = importlib.import_module(info.name)
        except ImportError:  # an optional dependency (procrastinate) not installed
            continue
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(obj, errors.SummarizerError)
                and obj.__module__ == info.name
                and info.name != errors.__name__
            ):
                outside.append(f"{info.name}.{obj.__name__}")
    assert outside == []


def test_signals_live_outside_the_error_tree() -> None:
    """A request held for a batch and an article past the budget are control flow inside a
    run (signals.py), not errors: an adapter or a step catching SummarizerError to report a
    failure never catches one (issue 18.6). Each is documented and drawn in signals.py."""
    from summarizer import signals

    tree = signals.__doc__ or ""
    for cls in (signals.Signal, signals.Deferred, signals.BudgetReached):
        assert not issubclass(cls, errors.SummarizerError), cls.__name__
        assert cls.__doc__ and f" {cls.__name__} " in tree, cls.__name__
        assert not hasattr(errors, cls.__name__), f"errors.{cls.__name__} still exists"
    held = signals.Deferred.merged([signals.Deferred({"a": None}), signals.Deferred({"a": {}})])
    assert held.requests == {"a": {}} and str(held) == "1 request(s) held for a batch"
    assert str(signals.BudgetReached()) == "skipped: the run's cost or token budget was reached"
