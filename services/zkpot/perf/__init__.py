"""The fast proof-of-accuracy pipeline: a cheaper accuracy circuit, the test set baked in as fixed inputs, and the
test set split into chunk proofs that all bind one weight commitment. Measured against plain ezkl in
docs/performance.md (`zkpot bench compare`)."""
