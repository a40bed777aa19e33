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
# A 3-node cluster for fault tests (internal/e2e TestClusterFaults), apart from
# the single broker: its own ports and state directory, never 19092/29092.
#
#   scripts/kafka.sh cluster-start       format and start 3 nodes, wait until
#                                        each answers and lists all 3 brokers
#   scripts/kafka.sh cluster-env         print the export line for
#                                        MARKWATCH_KAFKA_CLUSTER
#   scripts/kafka.sh cluster-status      one line per node; fails if one is down
#   scripts/kafka.sh cluster-stop        SIGKILL every node and delete the data
#   scripts/kafka.sh cluster-kill ID     SIGKILL node ID (1-3), keeping its data
#   scripts/kafka.sh cluster-restart ID  start node ID again on its data (after
#                                        stopping it if it runs) and wait for it
#   scripts/kafka.sh cluster-controller  print the id of the active controller
#                                        (the KRaft quorum leader)
#   scripts/kafka.sh tool NAME ARGS...   run one of Kafka's own tools (NAME:
#                                        consumer-groups, leader-election,
#                                        metadata-quorum, topics, or a class)
#                                        with java, the tools jar resolved from
#                                        Maven Central like the broker
#   scripts/kafka.sh tools-classpath     print the tools' java -cp value
#
# Every node is a combined KRaft broker+controller (process.roles=broker,
# controller), so the cluster is 3 JVMs, not 6, on a 2-core machine: the
# active controller is also a broker, and killing it is a broker loss as well
# as a controller loss. Node ID listens for clients on BASE+2*(ID-1) and for
# the controller quorum on the port after it (BASE 39092: nodes on 39092,
# 39094, 39096; controllers on 39093, 39095, 39097). Replication factor 3
# and min.insync.replicas 2 are the defaults for every topic, internal ones
# included, so one node may be down with every partition writable.
# auto.leader.rebalance.enable is off: tests run the preferred-leader
# election themselves (`tool leader-election`), when they choose.
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
#   MARKWATCH_KAFKA_CLUSTER_PORT   the cluster's base port (default 39092)
#   MARKWATCH_KAFKA_CLUSTER_HEAP   each cluster node's -Xmx (default 320m)
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
# start, so each test run begins with an empty cluster. The cluster's state is
# in var/kafka-cluster-BASE/node-ID/, laid out the same way.
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
tools="${MARKWATCH_CACHE:-$HOME/.cache/markwatch}/kafka-$version/tools"
cluster_base="${MARKWATCH_KAFKA_CLUSTER_PORT:-39092}"
cluster_run="$repo/var/kafka-cluster-$cluster_base"
cluster_nodes=3
# min_brokers is how many live brokers the probe wants in a metadata answer.
min_brokers=1

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

# resolve_tools fills $tools with kafka-tools and its runtime jars once, like
# resolve; a directory of its own, since the tools bring Jetty and Jersey
# (Connect) that the broker does without.
resolve_tools() {
	if [[ -f $tools/.complete ]]; then
		return
	fi
	command -v mvn >/dev/null || die "no mvn on PATH; install Maven (apt-get install maven)"
	say "resolving org.apache.kafka:kafka-tools:$version from Maven Central into $tools"
	rm -rf "$tools" "$tools.tmp"
	mkdir -p "$(dirname "$tools")"
	mvn -q -B -f "$repo/scripts/kafka/tools-pom.xml" -Dkafka.version="$version" \
		dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tools.tmp" >"$tools.mvn.log" 2>&1 ||
		{ tail -n 30 "$tools.mvn.log" >&2; die "mvn could not resolve kafka-tools:$version (log: $tools.mvn.log)"; }
	[[ -f $tools.tmp/kafka-tools-$version.jar ]] || die "mvn finished but kafka-tools-$version.jar is missing"
	mv "$tools.tmp" "$tools"
	touch "$tools/.complete"
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
	timeout 10 "$run/probe" -addr "$addr" -timeout 2s -min-brokers "$min_brokers" 2>"$run/probe.err"
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

# node_vars points the single-broker globals (run, pidfile, logfile, props,
# port, addr) at cluster node $1, so alive, probe and wait_ready serve both.
node_vars() {
	local id=$1
	[[ $id =~ ^[1-9]$ && $id -le $cluster_nodes ]] || die "node id $id: want 1 to $cluster_nodes"
	port=$((cluster_base + 2 * (id - 1)))
	controller_port=$((port + 1))
	addr="127.0.0.1:$port"
	run="$cluster_run/node-$id"
	pidfile="$run/broker.pid"
	logfile="$run/broker.log"
	props="$run/server.properties"
	min_brokers=$cluster_nodes
}

# gone reports whether process $1 has exited (or is a zombie). Not alive:
# an exiting process loses its command line before it closes its sockets,
# and the ports must be free when a node starts again.
gone() {
	! kill -0 "$1" 2>/dev/null || grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# cluster_addrs prints the nodes' client addresses, comma-separated.
cluster_addrs() {
	local id out=()
	for ((id = 1; id <= cluster_nodes; id++)); do
		out+=("127.0.0.1:$((cluster_base + 2 * (id - 1)))")
	done
	local IFS=,
	echo "${out[*]}"
}

write_cluster_properties() {
	local id=$1 data=$2 voters="" i
	for ((i = 1; i <= cluster_nodes; i++)); do
		voters+="${voters:+,}$i@127.0.0.1:$((cluster_base + 2 * (i - 1) + 1))"
	done
	cat >"$props" <<EOF
# Written by scripts/kafka.sh cluster-start: node $id of a $cluster_nodes-node KRaft
# cluster of combined broker+controller nodes, for fault tests.
process.roles=broker,controller
node.id=$id
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$data
# Production-like durability: three replicas, two in sync for a write.
default.replication.factor=3
min.insync.replicas=2
offsets.topic.replication.factor=3
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
num.partitions=1
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
# The tests elect preferred leaders themselves, at a moment they choose.
auto.leader.rebalance.enable=false
# Fewer threads than the defaults: three JVMs share two cores with other work.
num.network.threads=2
num.io.threads=4
background.threads=4
num.replica.fetchers=1
log.cleaner.threads=1
log.cleaner.backoff.ms=1000
EOF
}

# cluster_common finds java, resolves the broker's and the tools' jars and
# sets the JVM flags every node shares (node_vars first: the log dir).
cluster_common() {
	find_java
	resolve
	resolve_tools
	common=(-XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true
		-Dlog4j2.configurationFile="$repo/scripts/kafka/log4j2.properties" -Dkafka.logs.dir="$run")
}

# start_node starts node $1 (node_vars and cluster_common already called)
# on the data its properties name, without waiting for it to answer.
start_node() {
	local id=$1 jvm_opts
	read -r -a jvm_opts <<<"${MARKWATCH_KAFKA_JVM_OPTS:-}"
	say "starting node $id on $addr (controller 127.0.0.1:$controller_port), log in $logfile"
	# Serial GC: a small heap needs no parallel collector threads, and the
	# machine has none to spare.
	nohup "$java" -Xms64m -Xmx"${MARKWATCH_KAFKA_CLUSTER_HEAP:-320m}" -XX:+UseSerialGC "${common[@]}" "${jvm_opts[@]}" \
		-cp "$cache/libs/*" kafka.Kafka "$props" </dev/null >>"$logfile" 2>&1 &
	local pid=$! i
	echo "$pid" >"$pidfile"
	for ((i = 0; i < 100; i++)); do
		alive || ! kill -0 "$pid" 2>/dev/null && break
		sleep 0.05
	done
}

cluster_start() {
	local id running=0 t0=$SECONDS data cid
	for ((id = 1; id <= cluster_nodes; id++)); do
		node_vars "$id"
		alive && running=$((running + 1))
	done
	if ((running == cluster_nodes)); then
		for ((id = 1; id <= cluster_nodes; id++)); do
			node_vars "$id"
			build_probe
			wait_ready
		done
		say "cluster already running on $(cluster_addrs)"
		return
	fi
	((running == 0)) || die "only $running of $cluster_nodes nodes run; use cluster-restart ID, or cluster-stop first"
	for ((id = 1; id <= cluster_nodes; id++)); do
		node_vars "$id"
		if port_taken "$port" || port_taken "$controller_port"; then
			die "port $port or $controller_port is taken by another process; stop it or set MARKWATCH_KAFKA_CLUSTER_PORT"
		fi
	done
	node_vars 1
	cluster_common
	cid="$(cluster_id)"
	for ((id = 1; id <= cluster_nodes; id++)); do
		node_vars "$id"
		build_probe
		# Data from a previous run (killed without cluster-stop) is stale.
		rm -rf "$run"/data.*
		data="$(mktemp -d "$run/data.XXXXXX")"
		write_cluster_properties "$id" "$data"
		"$java" "${common[@]}" -XX:+UseSerialGC -Xmx256m -cp "$cache/libs/*" kafka.tools.StorageTool format \
			--config "$props" --cluster-id "$cid" --ignore-formatted >"$logfile" 2>&1 ||
			{ tail -n 30 "$logfile" >&2; die "node $id: kafka.tools.StorageTool format failed (log: $logfile)"; }
	done
	# All at once: a controller quorum elects a leader only once a majority
	# of its voters runs.
	for ((id = 1; id <= cluster_nodes; id++)); do
		node_vars "$id"
		start_node "$id"
	done
	for ((id = 1; id <= cluster_nodes; id++)); do
		node_vars "$id"
		wait_ready
	done
	say "cluster ready on $(cluster_addrs) after $((SECONDS - t0)) s"
}

# cluster_kill SIGKILLs node $1 and waits until it is gone; its data stays
# for cluster-restart.
cluster_kill() {
	node_vars "$1"
	alive || die "node $1 is not running"
	local pid i
	pid="$(cat "$pidfile")"
	kill -KILL "$pid"
	for ((i = 0; i < 250; i++)); do
		gone "$pid" && break
		sleep 0.02
	done
	gone "$pid" || die "node $1 (pid $pid) survived SIGKILL"
	rm -f "$pidfile"
	say "node $1 (pid $pid) killed"
}

# cluster_restart starts node $1 again on its data, after stopping it
# (SIGTERM) if it runs, and waits until it answers.
cluster_restart() {
	node_vars "$1"
	[[ -f $props ]] || die "node $1 has no data to restart on; use cluster-start"
	stop_broker
	cluster_common
	[[ -x $run/probe ]] || build_probe
	local t0=$SECONDS
	start_node "$1"
	wait_ready
	say "node $1 ready on $addr after $((SECONDS - t0)) s"
}

# cluster_stop SIGKILLs every node and deletes the data. Not SIGTERM: the
# data goes anyway, and the last broker standing would wait 30 s for a
# controlled shutdown that needs a controller quorum no longer there.
cluster_stop() {
	local id pid i
	for ((id = 1; id <= cluster_nodes; id++)); do
		node_vars "$id"
		if alive; then
			pid="$(cat "$pidfile")"
			kill -KILL "$pid" 2>/dev/null || true
			for ((i = 0; i < 250; i++)); do
				gone "$pid" && break
				sleep 0.02
			done
			say "stopped node $id (pid $pid)"
		fi
		rm -f "$pidfile" "$run/probe.err" "$props"
		rm -rf "$run"/data.*
	done
}

cluster_status() {
	local id bad=0
	for ((id = 1; id <= cluster_nodes; id++)); do
		node_vars "$id"
		if alive && probe; then
			echo "node $id: running on $addr (pid $(cat "$pidfile"))"
		elif alive; then
			echo "node $id: pid $(cat "$pidfile") is up but not answering on $addr: $(cat "$run/probe.err" 2>/dev/null)"
			bad=1
		else
			echo "node $id: not running"
			bad=1
		fi
	done
	return $bad
}

# cluster_controller prints the KRaft quorum leader: the leaderId of the
# newest epoch among the live nodes' quorum-state files, which every voter
# rewrites on each election. No JVM starts, so a test may ask often.
cluster_controller() {
	local id f best=-1 leader=-1 epoch l
	for ((id = 1; id <= cluster_nodes; id++)); do
		node_vars "$id"
		alive || continue
		for f in "$run"/data.*/__cluster_metadata-0/quorum-state; do
			[[ -f $f ]] || continue
			epoch="$(sed -n 's/.*"leaderEpoch":\([0-9-]*\).*/\1/p' "$f")"
			l="$(sed -n 's/.*"leaderId":\([0-9-]*\).*/\1/p' "$f")"
			if [[ -n $epoch && -n $l ]] && ((epoch > best && l >= 0)); then
				best=$epoch leader=$l
			fi
		done
	done
	((leader >= 0)) || die "no live node knows a quorum leader"
	echo "$leader"
}

# tool runs one of Kafka's command-line tools by short name or class name.
tool() {
	local name=${1:-} class
	[[ -n $name ]] || die "usage: $0 tool consumer-groups|leader-election|metadata-quorum|topics|CLASS ARGS..."
	shift
	case "$name" in
	consumer-groups) class=org.apache.kafka.tools.consumer.group.ConsumerGroupCommand ;;
	leader-election) class=org.apache.kafka.tools.LeaderElectionCommand ;;
	metadata-quorum) class=org.apache.kafka.tools.MetadataQuorumCommand ;;
	topics) class=org.apache.kafka.tools.TopicCommand ;;
	*.*) class=$name ;;
	*) die "tool $name: want consumer-groups, leader-election, metadata-quorum, topics or a class name" ;;
	esac
	find_java
	resolve_tools
	# A client JVM that lives a second or two: small heap, C1 only.
	exec "$java" -Xmx128m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.awt.headless=true \
		-cp "$tools/*" "$class" "$@"
}

case "${1:-}" in
start) start ;;
cluster-start) cluster_start ;;
cluster-stop) cluster_stop ;;
cluster-status) cluster_status ;;
cluster-kill) cluster_kill "${2:?node id}" ;;
cluster-restart) cluster_restart "${2:?node id}" ;;
cluster-controller) cluster_controller ;;
cluster-env) echo "export MARKWATCH_KAFKA_CLUSTER=$(cluster_addrs)" ;;
tool)
	shift
	tool "$@"
	;;
tools-classpath)
	resolve_tools
	echo "$tools/*"
	;;
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
*) die "usage: $0 start|stop|restart|status|env|cluster-start|cluster-stop|cluster-status|cluster-env|cluster-kill ID|cluster-restart ID|cluster-controller|tool NAME ARGS...|tools-classpath" ;;
esac
