#!/usr/bin/env bash
# A throwaway Apache Kafka broker for the integration tests: one KRaft node that
# is both broker and controller, on loopback, resolved from Maven Central with
# mvn and started with java. No Kafka distribution or container is needed.
#
#   scripts/kafka.sh start    resolve the jars (cached), format storage, start
#                             the broker and wait until it answers; safe to run
#                             again while it runs
#   scripts/kafka.sh env      print the export line for MARKWATCH_KAFKA_BROKERS
#   scripts/kafka.sh status   say whether the broker answers
#   scripts/kafka.sh stop     stop it (SIGTERM, then SIGKILL) and delete its data
#   scripts/kafka.sh restart  stop the broker (if it runs) and start it again on
#                             the same data (for tests of a broker restart)
#
# Version: 4.4.0, the newest Kafka 4.x on Maven Central. Kafka 4 brokers need
# Java 17 (their classes are Java 17 bytecode; the machine's default java is
# 17), and segmentio/kafka-go v0.4.51 passes pipeline/kafkatest against it:
# kafka-go negotiates versions above the ones Kafka 4 removed (KIP-896).
#
# Environment:
#   MARKWATCH_KAFKA_PORT           client listener port (default 19092); the
#                                  controller listener uses the next port
#   MARKWATCH_KAFKA_VERSION        org.apache.kafka:kafka_2.13 version (4.4.0)
#   MARKWATCH_CACHE                jar cache root (~/.cache/markwatch); the jars
#                                  live in $MARKWATCH_CACHE/kafka-VERSION/libs
#   MARKWATCH_KAFKA_START_TIMEOUT  seconds to wait for the broker (default 90)
#   MARKWATCH_KAFKA_JVM_OPTS       extra JVM flags for the broker, after ours
#                                  (the last of a repeated flag wins)
#   JAVA_HOME                      the Java to use (17 or newer); else `java`
#
# The broker runs with -Xmx512m and with the C1 compiler only
# (-XX:TieredStopAtLevel=1): on a 2-core machine C2's compile threads double
# the start-up time (about 5-7 s against 12-13 s measured under load). For
# broker-bound benchmarks pass MARKWATCH_KAFKA_JVM_OPTS=-XX:TieredStopAtLevel=4.
#
# Topics are never created on first use (auto.create.topics.enable=false): the
# tests create theirs with explicit partition counts and configs, as production
# does, so code that leans on auto-creation fails here instead of in the field.
#
# State lives in var/kafka-PORT/ in the repository (ignored by git): broker.pid,
# broker.log, server.properties and a data.XXXXXX directory made fresh by every
# start, so each test run begins with an empty cluster.
set -euo pipefail

version="${MARKWATCH_KAFKA_VERSION:-4.4.0}"
port="${MARKWATCH_KAFKA_PORT:-19092}"
controller_port=$((port + 1))
repo="$(cd "$(dirname "$0")/.." && pwd)"
cache="${MARKWATCH_CACHE:-$HOME/.cache/markwatch}/kafka-$version"
run="$repo/var/kafka-$port"
pidfile="$run/broker.pid"
logfile="$run/broker.log"
props="$run/server.properties"
addr="127.0.0.1:$port"
start_timeout="${MARKWATCH_KAFKA_START_TIMEOUT:-90}"

die() { echo "kafka.sh: $*" >&2; exit 1; }
say() { echo "kafka.sh: $*" >&2; }

# find_java sets java to a Java 17+ binary: Kafka 4 brokers need Java 17.
find_java() {
	if [[ -n ${JAVA_HOME:-} && -x $JAVA_HOME/bin/java ]]; then
		java="$JAVA_HOME/bin/java"
	else
		java="$(command -v java)" || die "no java on PATH; install a JDK 17 or newer (apt-get install openjdk-17-jre-headless)"
	fi
	local major
	major="$("$java" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')"
	[[ ${major%%.*} =~ ^[0-9]+$ && ${major%%.*} -ge 17 ]] ||
		die "$java is Java ${major:-unknown}; Kafka $version needs Java 17 or newer (set JAVA_HOME)"
}

# resolve fills $cache/libs with the broker's runtime jars once; later runs
# reuse them. The marker file is written last, so an interrupted download is
# redone rather than trusted.
resolve() {
	if [[ -f $cache/libs/.complete ]]; then
		return
	fi
	command -v mvn >/dev/null || die "no mvn on PATH; install Maven (apt-get install maven)"
	say "resolving org.apache.kafka:kafka_2.13:$version from Maven Central into $cache/libs"
	rm -rf "$cache/libs" "$cache/libs.tmp"
	mkdir -p "$cache"
	mvn -q -B -f "$repo/scripts/kafka/pom.xml" -Dkafka.version="$version" \
		dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$cache/libs.tmp" >"$cache/mvn.log" 2>&1 ||
		{ tail -n 30 "$cache/mvn.log" >&2; die "mvn could not resolve kafka_2.13:$version (log: $cache/mvn.log)"; }
	[[ -f $cache/libs.tmp/kafka_2.13-$version.jar ]] || die "mvn finished but kafka_2.13-$version.jar is missing"
	mv "$cache/libs.tmp" "$cache/libs"
	touch "$cache/libs/.complete"
}

# build_probe compiles scripts/kafka/probe into the state directory; Go's build
# cache makes every build after the first take a fraction of a second.
build_probe() {
	mkdir -p "$run"
	(cd "$repo" && CGO_ENABLED=0 go build -o "$run/probe" ./scripts/kafka/probe) || die "could not build scripts/kafka/probe"
}

# probe succeeds only when the broker answers ApiVersions and lists itself as a
# live broker in a Metadata answer: listening is not enough.
probe() {
	[[ -x $run/probe ]] || build_probe
	timeout 10 "$run/probe" -addr "$addr" -timeout 2s 2>"$run/probe.err"
}

# alive reports whether the pid file names a running broker: not a zombie
# waiting to be reaped, and not another program that got the pid after a
# reboot.
alive() {
	[[ -f $pidfile ]] || return 1
	local pid
	pid="$(cat "$pidfile")"
	kill -0 "$pid" 2>/dev/null || return 1
	! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka'
}

# port_taken reports whether something already accepts connections on port.
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# cluster_id prints a random Kafka Uuid: 16 random bytes in unpadded
# URL-safe base64, never starting with '-' (Kafka's own generator avoids that
# too, since such an id reads as a command-line flag).
cluster_id() {
	local id
	while :; do
		id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
		[[ $id != -* ]] && break
	done
	echo "$id"
}

write_properties() {
	cat >"$props" <<EOF
# Written by scripts/kafka.sh: one combined KRaft broker+controller for tests.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$1
# A single node: every internal topic has one replica and one in-sync replica.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
min.insync.replicas=1
default.replication.factor=1
num.partitions=1
# Tests create every topic they use, with explicit partitions and configs.
auto.create.topics.enable=false
# Groups form at once instead of after the default 3 s grace period.
group.initial.rebalance.delay.ms=0
# Lets compacted-topic tests that set a small segment.ms see compaction within
# seconds rather than after the default 15 s back-off.
log.cleaner.backoff.ms=1000
EOF
}

start() {
	build_probe
	if alive; then
		if probe; then
			say "already running on $addr (pid $(cat "$pidfile"))"
			return
		fi
		say "pid $(cat "$pidfile") is up but not answering yet; waiting"
		wait_ready
		return
	fi
	if port_taken "$port" || port_taken "$controller_port"; then
		die "port $port or $controller_port is taken by another process; stop it or set MARKWATCH_KAFKA_PORT"
	fi
	find_java
	local t0=$SECONDS
	resolve
	local cp="$cache/libs/*"
	local common=(-XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true
		-Dlog4j2.configurationFile="$repo/scripts/kafka/log4j2.properties" -Dkafka.logs.dir="$run")
	local data
	if [[ ${1:-} == keep-data && -f $props ]]; then
		data="$(sed -n 's/^log.dirs=//p' "$props")"
		say "restarting on the data in $data"
	else
		# Data from a previous run (killed without `stop`) is stale: start empty.
		rm -rf "$run"/data.*
		data="$(mktemp -d "$run/data.XXXXXX")"
		write_properties "$data"
		say "formatting storage in $data"
		"$java" "${common[@]}" -XX:+UseSerialGC -Xmx256m -cp "$cp" kafka.tools.StorageTool format \
			--config "$props" --cluster-id "$(cluster_id)" --ignore-formatted >"$logfile" 2>&1 ||
			{ tail -n 30 "$logfile" >&2; die "kafka.tools.StorageTool format failed (log: $logfile)"; }
	fi
	local jvm_opts
	read -r -a jvm_opts <<<"${MARKWATCH_KAFKA_JVM_OPTS:-}"
	say "starting Kafka $version on $addr (controller 127.0.0.1:$controller_port), log in $logfile"
	nohup "$java" -Xms128m -Xmx512m "${common[@]}" "${jvm_opts[@]}" -cp "$cp" kafka.Kafka "$props" </dev/null >>"$logfile" 2>&1 &
	local pid=$! i
	echo "$pid" >"$pidfile"
	# Until the child has exec'd java its command line is this script's, and
	# alive would take it for a stranger; wait for the exec first.
	for ((i = 0; i < 100; i++)); do
		alive || ! kill -0 "$pid" 2>/dev/null && break
		sleep 0.05
	done
	wait_ready
	say "ready on $addr after $((SECONDS - t0)) s"
}

# wait_ready polls the probe until the broker answers, the process dies or the
# timeout passes; the last two show the log tail and fail.
wait_ready() {
	local deadline=$((SECONDS + start_timeout)) next=$((SECONDS + 5))
	until probe; do
		if ! alive; then
			tail -n 40 "$logfile" >&2
			rm -f "$pidfile"
			die "the broker exited during start-up (log: $logfile)"
		fi
		if ((SECONDS >= deadline)); then
			tail -n 40 "$logfile" >&2
			say "last probe: $(cat "$run/probe.err" 2>/dev/null)"
			stop
			die "the broker did not answer on $addr within ${start_timeout}s (raise MARKWATCH_KAFKA_START_TIMEOUT?)"
		fi
		if ((SECONDS >= next)); then
			say "waiting for the broker on $addr ($((SECONDS - deadline + start_timeout)) s)"
			next=$((SECONDS + 5))
		fi
		sleep 0.25
	done
}

# stop_broker ends the broker process, leaving its data in place.
stop_broker() {
	if alive; then
		local pid i
		pid="$(cat "$pidfile")"
		# SIGTERM runs the broker's shutdown hook (controlled shutdown, logs
		# flushed); a broker stuck in it for 30 s is killed.
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 120; i++)); do
			alive || break
			sleep 0.25
		done
		if alive; then
			say "pid $pid ignored SIGTERM for 30 s; sending SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
			for ((i = 0; i < 40; i++)); do
				alive || break
				sleep 0.25
			done
		fi
		say "stopped pid $pid"
	fi
	rm -f "$pidfile" "$run/probe.err"
}

stop() {
	stop_broker
	rm -f "$props"
	rm -rf "$run"/data.*
}

# restart also revives a broker that died or was killed, as long as `stop`
# has not deleted its data.
restart() {
	[[ -f $props ]] || die "no broker data for $addr to restart on; use start"
	stop_broker
	start keep-data
}

case "${1:-}" in
start) start ;;
stop) stop ;;
restart) restart ;;
env) echo "export MARKWATCH_KAFKA_BROKERS=$addr" ;;
status)
	if alive && probe; then
		echo "running on $addr (pid $(cat "$pidfile"))"
	elif alive; then
		echo "pid $(cat "$pidfile") is up but not answering on $addr: $(cat "$run/probe.err" 2>/dev/null)"
		exit 1
	elif probe; then
		echo "a broker answers on $addr, but not one this script started"
	else
		echo "not running"
		exit 1
	fi
	;;
*) die "usage: $0 start|stop|restart|status|env" ;;
esac
