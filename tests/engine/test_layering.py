import subprocess
import sys


def test_the_engine_imports_no_framework():
    code = (
        "import sys, neural.engine.pipeline, neural.engine.predictor, neural.engine.artifacts;"
        "import neural.engine.distributed, neural.engine.rank;"  # rank: each data-parallel training process
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'django','celery','channels','rest_framework'});"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
