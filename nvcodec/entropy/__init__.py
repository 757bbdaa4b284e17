"""Entropy coding of integer symbol arrays into self-describing byte strings (constriction ANS).

Knows nothing of models or containers: integers in, bytes out, and back.
"""

from nvcodec.entropy.coder import SpanError, decode_symbols, encode_symbols

__all__ = ["SpanError", "decode_symbols", "encode_symbols"]
