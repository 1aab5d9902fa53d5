"""memcap: measure how much a neural network can memorize.

For notebooks: ``memcap.compose``, ``memcap.run``, ``memcap.load``, ``memcap.figure``, ``memcap.table``
(memcap.api). The building blocks used by tests:

- :func:`memcap.patterns.data.make_patterns` -- random sparse binary pattern pairs (X, Y)
- :func:`memcap.patterns.sizes.bits_to_ignore` -- the report's #bti = int(N * s * 0.1)
- :func:`memcap.patterns.metrics.memorized` -- which patterns a network recalls
- :func:`memcap.patterns.models.build` -- a pattern network from its config
"""

__version__ = "0.1.0"

_API = ("compose", "run", "load", "figure", "table")  # memcap.api, for notebooks (imported on first use)


def __getattr__(name: str):
    if name in _API:
        from memcap import api

        return getattr(api, name)
    raise AttributeError(f"module 'memcap' has no attribute {name!r}")
