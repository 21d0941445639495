"""The plain proof system: one ezkl circuit over N public test samples given as public instances, with the
weights committed (polycommit or Poseidon) — the straightforward baseline."""
