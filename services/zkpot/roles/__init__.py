"""Round logic of each role, shared by the services and the in-process simulation (no network, no database)."""
