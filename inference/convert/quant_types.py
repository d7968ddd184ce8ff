"""What each llama.cpp quantization type weighs, and which ones need an importance matrix.

Bits per weight, averaged over a whole model (a type's mix keeps some tensors wider):
- the k-quant mixes are llama.cpp's measured figures for Llama 2 7B (tools/quantize/README.md,
  "Bits per Weight (BPW)" table: Q2_K 3.35, Q3_K_S 3.50, Q3_K_M 3.91, Q3_K_L 4.27, Q4_K_S
  4.58, Q4_K_M 4.84, Q5_K_S 5.52, Q5_K_M 5.68, Q6_K 6.56);
- the IQ and ternary types are the figures llama.cpp's quantizer prints beside each type
  (tools/quantize/quantize.cpp, QUANT_OPTIONS: "IQ2_XS 2.31 bpw", "IQ3_M 3.66 bpw mix", ...);
- the block types follow from their block layout (ggml-common.h): Q8_0 is 32 int8 + one f16
  scale = 34 bytes per 32 weights = 8.5 bpw; Q4_0 4.5, Q4_1 5.0, Q5_0 5.5, Q5_1 6.0,
  IQ4_NL 4.5, MXFP4 4.25 (32 4-bit + one 8-bit scale);
- Q2_K_S has no published bpw; QUANT_OPTIONS gives it the same size as Q2_K for Llama 3 8B
  (both "2.96G"), so Q2_K's 3.35.
"""

from __future__ import annotations

BITS_PER_WEIGHT: dict[str, float] = {
    "F32": 32.0, "F16": 16.0, "BF16": 16.0,
    "Q8_0": 8.5, "Q6_K": 6.56, "Q5_K_M": 5.68, "Q5_K_S": 5.52, "Q5_1": 6.0, "Q5_0": 5.5,
    "Q4_K_M": 4.84, "Q4_K_S": 4.58, "Q4_1": 5.0, "Q4_0": 4.5,
    "Q3_K_L": 4.27, "Q3_K_M": 3.91, "Q3_K_S": 3.50, "Q2_K": 3.35, "Q2_K_S": 3.35,
    "IQ4_NL": 4.5, "IQ4_XS": 4.25, "IQ3_M": 3.66, "IQ3_S": 3.44, "IQ3_XS": 3.3,
    "IQ3_XXS": 3.06, "IQ2_M": 2.7, "IQ2_S": 2.5, "IQ2_XS": 2.31, "IQ2_XXS": 2.06,
    "IQ1_M": 1.75, "IQ1_S": 1.56,
}

# llama.cpp refuses these without an importance matrix ("Missing importance matrix for
# tensor ... in a very low-bit quantization", src/llama-quant.cpp): their mixes put IQ1_S,
# IQ1_M, IQ2_XXS, IQ2_XS or IQ2_S tensors in the model (IQ2_M and IQ3_XXS use IQ2_S / IQ2_XS
# for some), or Q2_K under Q2_K_S.
NEEDS_IMATRIX = frozenset({"IQ1_S", "IQ1_M", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ2_M",
                           "IQ3_XXS", "Q2_K_S"})

# Types a llama.cpp build lists that Stillroom does not offer: the ternary TQ1_0/TQ2_0 suit
# only models trained ternary (BitNet), MXFP4_MOE only mixture-of-experts models, and the
# newest (Q1_0, Q2_0, NVFP4) have no published size yet. Everything offered has a size.
NOT_OFFERED = frozenset({"TQ1_0", "TQ2_0", "MXFP4_MOE", "Q1_0", "Q2_0", "NVFP4"})


def offered(available: set[str] | frozenset[str], *, with_imatrix: bool) -> list[str]:
    """The types of `available` a user may pick: known sizes only, and the ones that need an
    importance matrix only when one is given."""
    return sorted(name for name in available
                  if name in BITS_PER_WEIGHT and name not in NOT_OFFERED
                  and (with_imatrix or name not in NEEDS_IMATRIX))


def estimated_bytes(parameters: int, type_name: str) -> int | None:
    """The output file's approximate size; None for a type without a known bpw."""
    bits = BITS_PER_WEIGHT.get(type_name.upper())
    return None if bits is None or parameters <= 0 else int(parameters * bits / 8)
