"""The settings of the demo and the tests: fangkong.settings in demo mode (FANGKONG_DEMO=1), which starts
with the published demo key, localhost and DEBUG if asked for. For the tools that can only name a settings
module (pytest-django, mypy's django plugin); `make demo` and the benchmarks set FANGKONG_DEMO=1 instead.
Never a deployment's settings module."""

import os

os.environ.setdefault("FANGKONG_DEMO", "1")

from fangkong.settings import *  # noqa: E402, F403
