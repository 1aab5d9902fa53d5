"""Text memory (issue 5): how many neurons an encoder needs to reconstruct text from its last state.

One concept per module, in the order a job uses them:

- :mod:`memcap.text.config` -- the ``text``, model and search schemas, ``validate_text``
- :mod:`memcap.text.data` -- sources (random, stdlib, file), ``make_text``, ``encode``/``decode``
- :mod:`memcap.text.models` -- the six encoders, the shared decoder, ``build_autoencoder``, ``num_parameters``
- :mod:`memcap.text.module` -- ``TextMemoryModule``, the LightningModule training networks side by side
- :mod:`memcap.text.job` -- ``run_text``: the neuron search, result.json, W&B, the summary line

``train.py data=text search=neurons ...`` runs it; docs/text.md explains what is measured.
"""
