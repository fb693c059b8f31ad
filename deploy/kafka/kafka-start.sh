#!/bin/sh
# One node of the docker-compose Kafka cluster, with SASL/SCRAM-SHA-512 and ACLs.
#
# Runs inside the official apache/kafka image instead of its own entrypoint. Every KAFKA_*
# environment variable becomes a server property, as in that image (KAFKA_FOO_BAR -> foo.bar,
# __ -> _, ___ -> -); the two passwords come from compose secrets, never from the environment,
# and land only in files of mode 0600 inside the container:
#   /run/secrets/kafka_broker_password  the brokers' own user, ketenhub-broker (a super user)
#   /run/secrets/kafka_admin_password   the operator's user, ketenhub-admin (a super user)
# Both SCRAM users are created when a node's storage is formatted (first start only).
# See SECURITY.md ("docker-compose") for how the secret files are made.
set -eu
umask 077
secrets=${KETENHUB_SECRETS:-/run/secrets}
kafka_bin=${KETENHUB_KAFKA_BIN:-/opt/kafka/bin}
conf=${KETENHUB_KAFKA_CONF:-/tmp/ketenhub-kafka}

read_secret() {
    value=$(tr -d ' \t\r\n' < "$secrets/$1")
    if [ -z "$value" ]; then
        echo "kafka-start: $secrets/$1 is empty" >&2
        exit 1
    fi
    printf '%s' "$value"
}

broker_password=$(read_secret kafka_broker_password)
admin_password=$(read_secret kafka_admin_password)
mkdir -p "$conf"
properties="$conf/server.properties"
scram=org.apache.kafka.common.security.scram.ScramLoginModule
plain=org.apache.kafka.common.security.plain.PlainLoginModule

env | grep '^KAFKA_' | grep -v -E '^KAFKA_(HEAP_OPTS|OPTS|JVM_PERFORMANCE_OPTS|LOG4J_OPTS|GC_LOG_OPTS|JMX_OPTS|HOME|VERSION)=' \
    | while IFS='=' read -r name value; do
        key=$(printf '%s' "${name#KAFKA_}" | tr 'A-Z' 'a-z' \
            | sed -e 's/___/-/g' -e 's/__/@/g' -e 's/_/./g' -e 's/@/_/g')
        printf '%s=%s\n' "$key" "$value"
    done > "$properties"

cat >> "$properties" <<PROPERTIES
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=$scram required username="ketenhub-broker" password="$broker_password";
listener.name.controller.plain.sasl.jaas.config=$plain required username="ketenhub-broker" password="$broker_password" user_ketenhub-broker="$broker_password";
PROPERTIES

# For the healthcheck: the broker's own login.
cat > "$conf/client.properties" <<PROPERTIES
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=$scram required username="ketenhub-broker" password="$broker_password";
PROPERTIES

"$kafka_bin/kafka-storage.sh" format --ignore-formatted -t "$CLUSTER_ID" -c "$properties" \
    --add-scram "SCRAM-SHA-512=[name=ketenhub-broker,password=$broker_password]" \
    --add-scram "SCRAM-SHA-512=[name=ketenhub-admin,password=$admin_password]"

exec "$kafka_bin/kafka-server-start.sh" "$properties"
