"""Machine learning with no proofs in it: the task's data (public test set, members' shards) and the model
(architecture, weights and their encoding, training)."""
