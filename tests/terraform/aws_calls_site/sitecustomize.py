"""Imported by Python at start-up when this folder is on PYTHONPATH (set only while a
recorded test module runs): records the process's AWS calls (tests/terraform/aws_calls.py)."""

import os
from pathlib import Path

if os.environ.get("PUSHFLOW_TEST_AWS_CALLS"):
    from tests.terraform.aws_calls import install

    install(Path(os.environ["PUSHFLOW_TEST_AWS_CALLS"]))
