#!/bin/sh
# As the official nats image's entrypoint: flags go to nats-server.
set -e
if [ "${1#-}" != "$1" ]; then set -- nats-server "$@"; fi
exec "$@"
