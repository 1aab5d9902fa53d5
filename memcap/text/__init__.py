"""Text memory: how many neurons an encoder needs to reconstruct text from its last state.

One concept per module, in the order a job uses them:

- :mod:`memcap.text.config` -- the ``text``, model and search schemas, ``validate``
- :mod:`memcap.text.data` -- sources (random, stdlib, file), ``make_text``, ``encode``/``decode``
- :mod:`memcap.text.models` -- the six encoders, the shared decoder, ``build_autoencoder``, ``num_parameters``
- :mod:`memcap.text.module` -- ``TextMemoryModule``, the LightningModule training networks side by side
- :mod:`memcap.text.schema` -- result.json's config, metrics and points for this task (no torch)
- :mod:`memcap.text.engine` -- ``train_widths``: (H, run) members -> one fit -> points
- :mod:`memcap.text.job` -- the task's work inside :class:`memcap.lifecycle.Job`: the neuron search, the summary line

``train.py data=text search=neurons ...`` runs it; docs/text.md explains what is measured.
"""
