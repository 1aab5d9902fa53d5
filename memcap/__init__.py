"""memcap: measure how much a neural network can memorize.

The public entry points used by tests and notebooks:

- :func:`memcap.patterns.data.make_patterns` -- random sparse binary pattern pairs (X, Y)
- :func:`memcap.patterns.losses.bits_to_ignore` -- the report's #bti = int(N * s * 0.1)
- :func:`memcap.patterns.metrics.memorized` -- which patterns a network recalls
- :func:`memcap.patterns.models.build` -- a pattern network from its config
"""

__version__ = "0.1.0"
