"""Entry point: `python train.py [overrides]`, or `python train.py -m N=50,100 ...` to sweep.

Hydra composes conf/train.yaml with the command line; memcap.job.main runs the job.
"""

import hydra

from memcap.job import main
from memcap.tasks import register_configs

register_configs()


@hydra.main(config_path="conf", config_name="train", version_base="1.3")
def train(cfg) -> None:
    main(cfg)


if __name__ == "__main__":
    train()
