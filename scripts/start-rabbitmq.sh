#!/usr/bin/env bash
# Start the local RabbitMQ broker the Celery tests use (127.0.0.1:5672, guest/guest), if nothing listens there.
# Debian's rabbitmq-server (installed by `make system-deps`); started detached, without systemd.
set -euo pipefail
listening() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }
if listening; then
  exit 0
fi
if command -v rabbitmq-server >/dev/null 2>&1 || [ -x /usr/sbin/rabbitmq-server ]; then
  export RABBITMQ_NODE_IP_ADDRESS=${RABBITMQ_NODE_IP_ADDRESS:-127.0.0.1}
  export RABBITMQ_NODE_PORT=${RABBITMQ_NODE_PORT:-5672}
  export RABBITMQ_NODENAME=${RABBITMQ_NODENAME:-rabbit@localhost}
  if [ "$(id -u)" = 0 ] && id rabbitmq >/dev/null 2>&1; then
    # as the package's user, so that its files (/var/lib/rabbitmq) stay its own
    su -s /bin/sh rabbitmq -c "RABBITMQ_NODE_IP_ADDRESS=$RABBITMQ_NODE_IP_ADDRESS RABBITMQ_NODE_PORT=$RABBITMQ_NODE_PORT RABBITMQ_NODENAME=$RABBITMQ_NODENAME /usr/sbin/rabbitmq-server -detached" || true
  else
    /usr/sbin/rabbitmq-server -detached || true
  fi
fi
for _ in $(seq 1 60); do
  listening && exit 0
  sleep 1
done
echo "RabbitMQ is not reachable on 127.0.0.1:5672; the Celery tests will be skipped (they fail in CI)" >&2
