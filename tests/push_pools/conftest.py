from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.terraform import aws_calls


@pytest.fixture(scope="module", autouse=True)
def record_aws_calls(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The AWS calls pushflow makes here feed the IAM check (tests/terraform/aws_calls.py)."""
    with aws_calls.recording(request.module.__name__, lambda: tmp_path_factory.mktemp("aws-calls")):
        yield
