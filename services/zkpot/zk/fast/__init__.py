"""The fast proof system: a cheaper accuracy graph, the test set fixed inside the circuit, and the samples split
into chunk proofs that all bind one weight commitment (docs/performance.md)."""
