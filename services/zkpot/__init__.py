"""ZKPoT: blockchain-secured federated learning with Zero-Knowledge Proof of Training consensus."""

__version__ = "0.1.0"
