"""How many bits about L uniform characters a decoder's output shows, two ways (no torch: the report reads them too).

- ``fano_bits``: Fano's lower bound from the character error rate alone;
- ``codelength_bits``: what the decoder's cross-entropy saves over the uniform code (Barber and Agakov's
  variational lower bound on the mutual information, estimated on the strings scored).

Both are at least 0; docs/text.md explains which table uses which.
"""

from __future__ import annotations

import math


def binary_entropy(p: float) -> float:
    return 0.0 if p <= 0 or p >= 1 else -(p * math.log2(p) + (1 - p) * math.log2(1 - p))


def fano_bits(char_accuracy: float, length: int, size: int) -> float:
    """Fano's lower bound on the information about L uniform characters that passes to a decoder
    erring on a fraction eps = 1 - accuracy of them: L (log2|A| - h(eps) - eps log2(|A| - 1)), at least 0."""
    eps = 1.0 - char_accuracy
    per_char = math.log2(size) - binary_entropy(eps) - eps * math.log2(size - 1)
    return max(0.0, length * per_char)


def codelength_bits(loss_bits: float, length: int, size: int) -> float:
    """The bits a decoder of cross-entropy ``loss_bits`` per character shows about L characters of an alphabet of
    ``size``: L (log2|A| - CE), at least 0 (a decoder worse than uniform shows nothing)."""
    return length * max(0.0, math.log2(size) - loss_bits)
