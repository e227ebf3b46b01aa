"""`make bench`: every benchmark, each printing `name: value` lines (not tests: nothing is asserted)."""
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
for script in ("bench_reports.py", "bench_dossiers.py"):
    print(f"# {script}", flush=True)
    subprocess.run([sys.executable, str(HERE / script), *sys.argv[1:]] if script == "bench_reports.py"
                   else [sys.executable, str(HERE / script)], check=False)
