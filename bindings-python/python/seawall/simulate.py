"""``python -m seawall.simulate SCENARIO.json``: the policy simulator's summary table. (The
function is ``seawall.simulate``; this module only runs it from the command line.)"""
import sys

from ._simulate import main

if __name__ == "__main__":
    sys.exit(main())
