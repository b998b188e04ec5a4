"""The detector core is pure: importing it must not pull in I/O stacks."""

import subprocess
import sys


def test_importing_detector_loads_neither_kafka_nor_fastapi() -> None:
    code = ("import sys, detector, detector.bank, detector.damping; "
            "bad = [m for m in sys.modules if m.split('.')[0] in "
            "('kafka', 'fastapi', 'streams', 'api', 'uvicorn', 'starlette')]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
