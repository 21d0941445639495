"""Benchmarks of the proof systems (`zkpot bench prove|compare|sweep|levers`): what they cost, measured in worker
processes, with plots and tables. Imports `zkpot.zk`; nothing in the network imports this package."""
