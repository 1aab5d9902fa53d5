"""The pattern task (the report): how many random sparse pattern pairs a network recalls.

The faces every task has, in the order a job uses them:

- :mod:`memcap.patterns.config` -- the model, loss, search and prune schemas, ``validate``
- :mod:`memcap.patterns.schema` -- result.json's config, metrics and points for this task (no torch)
- :mod:`memcap.patterns.sizes` -- k ones per pattern and the tolerated wrong bits, from N, s and the loss (no torch)
- :mod:`memcap.patterns.data` -- ``make_patterns``: distinct sparse binary rows, seeded
- :mod:`memcap.patterns.models` -- ``PatternEnsemble`` (simple and recurrent), activations, masks
- :mod:`memcap.patterns.losses`, :mod:`memcap.patterns.metrics` -- the losses, the memorization criterion
- :mod:`memcap.patterns.module` -- ``EnsembleModule``, the LightningModule
- :mod:`memcap.patterns.report` -- what a job reports at a DS: memorized counts and bits per parameter (no torch)
- :mod:`memcap.patterns.engine` -- ``train_members``: (DS, run) members -> ensembles -> points
- :mod:`memcap.patterns.oracle`, :mod:`memcap.patterns.prune` -- the LP oracle, pruning rounds
- :mod:`memcap.patterns.job` -- the task's work inside :class:`memcap.lifecycle.Job`: capacity search, fixed DS, pruning

Nothing here is imported by importing this package, so the aggregation can read
``memcap.patterns.schema``, ``sizes`` and ``report`` without torch.
"""
