"""Text memory: how many neurons an encoder needs to carry text in its last state.

The task's faces, and what both of its measures share:

- :mod:`memcap.text.config` -- the ``text``, model and search schemas, ``validate``
- :mod:`memcap.text.schema` -- result.json's config, metrics and points for this task (no torch)
- :mod:`memcap.text.job` -- the task's work inside :class:`memcap.lifecycle.Job`: dispatches to a measure
- :mod:`memcap.text.data` -- characters and codes: sources (random, stdlib, file), ``encode``/``decode``
- :mod:`memcap.text.models` -- the six encoders, the shared decoder, ``build_autoencoder``, ``num_parameters``
- :mod:`memcap.text.members` -- the Lightning base of networks trained side by side, their seeds

The two measures, each a package:

- :mod:`memcap.text.state` -- ``search=state`` / ``memorize`` (and pruning rounds on them): what the last
  state carries about fresh random strings, and how many strings a width stores
- :mod:`memcap.text.separability` -- ``search=neurons`` / ``fixed``: the smallest width at which the training
  sequences can be read back (separability, not memory)

docs/text.md explains what each measures.
"""
