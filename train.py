"""Entry point: `python train.py [overrides]`, or `python train.py -m N=50,100 ...` to sweep.

The same as the installed `memcap train ...`: Hydra composes conf/train.yaml with
the command line and memcap.lifecycle.main runs the job (memcap.cli.train).
"""

import sys

from memcap.cli import train

if __name__ == "__main__":
    sys.exit(train(sys.argv[1:]))
