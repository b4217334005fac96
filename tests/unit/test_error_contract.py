"""One error contract (issue 12): ``core.errors.DomainError``.

Four packages raise errors on purpose, each from its own root (``billing``, ``asr`` and ``tts``
import nothing of ``core``): every one of their errors satisfies the protocol by its shape, and the
worker, the API and the CLI decide "is this ours" by that protocol alone — an exception that merely
happens to carry ``code`` and ``message`` attributes is not a domain error.
"""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import pytest

from api.errors import error_response
from asr import errors as asr_errors
from billing import errors as billing_errors
from cli.main import error_line
from core import errors as core_errors
from core.audio.errors import AudioError
from core.errors import DomainError, RetryLater
from core.jobs.execute import is_permanent
from core.services.speech import SpeechOutOfMinutes
from tts import errors as tts_errors

MODULES: tuple[ModuleType, ...] = (core_errors, billing_errors, asr_errors, tts_errors)
ROOTS = (
    core_errors.NagovoriError,
    billing_errors.BillingError,
    asr_errors.AsrError,
    tts_errors.TtsError,
)
# Errors whose constructor takes its own arguments instead of (message, **details).
SPECIAL: dict[type[Exception], Any] = {
    billing_errors.InsufficientMinutes: lambda: billing_errors.InsufficientMinutes(60, 5),
    SpeechOutOfMinutes: lambda: SpeechOutOfMinutes(12.5, 30.0),
    AudioError: lambda: AudioError(reason="truncated"),
}


def _declared(module: ModuleType) -> list[type[Exception]]:
    return [v for v in vars(module).values() if isinstance(v, type) and issubclass(v, Exception)]


def _instance(cls: type[Exception]) -> Exception:
    make = SPECIAL.get(cls)
    return make() if make is not None else cls("Something specific happened.", field="x")


# Every error the four errors modules declare, and two of the core's that live beside their users.
ALL = [cls for module in MODULES for cls in _declared(module) if cls is not RetryLater] + [
    SpeechOutOfMinutes,
    AudioError,
]


class LooksLikeOne(Exception):
    """A foreign exception that happens to have a string ``code`` and ``message``."""

    code = "E42"
    message = "not one of ours"


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_every_error_a_package_declares_is_under_its_root(module: ModuleType) -> None:
    root = next(root for root in ROOTS if root.__module__ == module.__name__)
    assert [cls for cls in _declared(module) if not issubclass(cls, root)] == (
        [RetryLater] if module is core_errors else []
    )


@pytest.mark.parametrize("cls", ALL, ids=lambda c: f"{c.__module__}.{c.__name__}")
def test_every_error_of_every_root_satisfies_the_contract(cls: type[Exception]) -> None:
    exc = _instance(cls)

    assert isinstance(exc, DomainError)
    assert isinstance(exc.code, str) and exc.code
    assert isinstance(exc.message, str) and exc.message
    assert isinstance(exc.default_message, str) and exc.default_message
    assert exc.to_dict() == {"code": exc.code, "message": exc.message, **exc.details}


@pytest.mark.parametrize(
    "exc",
    [ValueError("bad"), OSError(2, "No such file"), RetryLater(seconds=3), LooksLikeOne()],
    ids=["ValueError", "OSError", "RetryLater", "code-and-message-attributes"],
)
def test_other_exceptions_are_not_domain_errors(exc: Exception) -> None:
    assert not isinstance(exc, DomainError)


@pytest.mark.parametrize("root", ROOTS, ids=lambda c: c.__name__)
def test_the_worker_fails_a_job_at_once_on_a_domain_error_of_any_root(root: type[Exception]) -> None:
    assert is_permanent(root("No."))


@pytest.mark.parametrize(
    "exc",
    [core_errors.ServiceUnavailable(), ConnectionError("reset"), LooksLikeOne()],
    ids=["ServiceUnavailable", "ConnectionError", "code-and-message-attributes"],
)
def test_the_worker_retries_anything_else(exc: Exception) -> None:
    assert not is_permanent(exc)


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (core_errors.NotFound(), 404),
        (billing_errors.InsufficientMinutes(60, 5), 402),
        (SpeechOutOfMinutes(12.5, 30.0), 402),
        (billing_errors.UnknownHold(), 400),
        (asr_errors.UnknownModel(), 400),
        (core_errors.UnknownModel("Unknown model 'x'."), 400),
        (tts_errors.EngineFailure(), 500),
        (LooksLikeOne(), 500),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v),
)
def test_the_api_renders_domain_errors_by_the_contract(exc: Exception, status: int) -> None:
    response = error_response(exc)

    assert response.status == status
    assert response.text is not None
    body = json.loads(response.text)["error"]
    if isinstance(exc, DomainError):
        assert body["code"] == exc.code
    else:
        assert body == {"code": "internal_error", "message": "Something went wrong on our side."}


def test_the_core_keeps_one_class_per_code_and_the_catalog_reexports_it() -> None:
    from core.services import catalog

    assert catalog.UnknownModel is core_errors.UnknownModel
    assert catalog.UnsupportedLanguage is core_errors.UnsupportedLanguage
    assert catalog.UnsupportedTask is core_errors.UnsupportedTask
    assert core_errors.UnknownModel.code == asr_errors.UnknownModel.code == "unknown_model"
    assert core_errors.UnsupportedLanguage.code == asr_errors.UnsupportedLanguage.code


@pytest.mark.parametrize("root", ROOTS, ids=lambda c: c.__name__)
def test_the_cli_says_a_domain_error_s_own_message(root: type[Exception]) -> None:
    assert error_line(root("Your balance is empty.")) == "Your balance is empty."


def test_the_cli_calls_anything_else_unexpected() -> None:
    assert error_line(LooksLikeOne("boom")) == (
        "unexpected LooksLikeOne: boom (run with --debug for details)"
    )
