"""`zkpot experiment`: the ZKPoT paper's evaluation reproduced in-process (FL, DP-SGD, PoFL, centralized,
Byzantine leaders, bytes per round) on the digits and MNIST tasks, written up as ``docs/evaluation.md``."""
