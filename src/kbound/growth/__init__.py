"""How a bound grows: growth curves with a power-law fit, space–time trade-offs, conditional bounds.

`curve` compresses nested samples of a corpus and fits C(n) = a·n^β (`fit`); `tradeoff` runs each
backend across its levels and marks the Pareto frontier; `conditional` estimates C(B | A) and
NCD(A, B). Each returns a frozen result that the renderers in `kbound.report` only read.
"""
