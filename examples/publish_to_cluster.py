#!/usr/bin/env python3
"""Publish georep commands with pika and publisher confirms to a RabbitMQ cluster, and keep going
when the node it is connected to dies.

GEOREP_AMQP_URL lists the cluster's nodes, comma-separated, as the services take it. The client
connects to the first node that answers; after a lost connection it starts with the next one. A message counts as sent only once the broker confirmed it; the one
whose confirm was lost with the connection is published again on the new one, with the same
message_id and command_id, so a node's death costs at most a duplicate, which the workers'
journal answers once (the command id is the key), never a lost command.

    GEOREP_AMQP_URL=$(ops/rabbit-cluster.sh urls) \\
        python3 examples/publish_to_cluster.py 2000 lab mvol vm svol

GEOREP_COMMANDS_EXCHANGE names another commands exchange (<GEOREP_TOPOLOGY_PREFIX>.commands);
GEOREP_PROGRESS_FILE, when set, gets "<port> <confirmed>" after every confirm (tests read it to
find the node to kill). Prints one line per reconnect and a last line
"confirmed N of N, R reconnects"; exit status 0 when every command was confirmed, 1 otherwise.
"""
import datetime
import json
import os
import sys
import time
import uuid

import pika
import pika.exceptions


def parameters(urls):
    params = []
    for url in urls:
        p = pika.URLParameters(url)
        p.client_properties = {"connection_name": "georep cluster example (pika)"}
        p.connection_attempts = 1
        p.socket_timeout = 5
        p.blocked_connection_timeout = 30
        params.append(p)
    return params


def connect(params, first):
    """The first node from `first` on that answers: (its index, the connection)."""
    for i in range(len(params)):
        k = (first + i) % len(params)
        try:
            return k, pika.BlockingConnection(params[k])
        except pika.exceptions.AMQPConnectionError as error:
            print(f"node {params[k].host}:{params[k].port} did not answer: {error!r}", flush=True)
    raise pika.exceptions.AMQPConnectionError("no node of the cluster answered")


def envelope(command_id, action, cluster, primary, host, secondary):
    session = {"cluster": cluster, "primary_volume": primary, "secondary_host": host, "secondary_volume": secondary}
    return {
        "specversion": "1.0",
        "id": command_id,
        "source": "examples/publish_to_cluster.py",
        "type": f"georep.command.{action}",
        "time": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "subject": f"{cluster}/{primary}/root@{host}::{secondary}",
        "datacontenttype": "application/json",
        "data": {"command_id": command_id, "action": action, "session": session, "sender": "pika-cluster-example"},
    }


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    cluster, primary, host, secondary = (sys.argv[2:6] + ["lab", "mvol", "vm", "svol"][len(sys.argv[2:6]):])
    urls = os.environ.get("GEOREP_AMQP_URL", "amqp://georep:georep@127.0.0.1:5672/georep").split(",")
    exchange = os.environ.get("GEOREP_COMMANDS_EXCHANGE", "georep.commands")
    progress = os.environ.get("GEOREP_PROGRESS_FILE")
    deadline = time.monotonic() + float(os.environ.get("GEOREP_WAIT", "300"))
    ids = [str(uuid.uuid4()) for _ in range(count)]
    params = parameters(urls)
    confirmed, reconnects, node = 0, 0, 0
    channel = connection = None
    while confirmed < count and time.monotonic() < deadline:
        try:
            if channel is None:
                node, connection = connect(params, node)
                channel = connection.channel()
                channel.confirm_delivery()
                port = params[node].port
                print(f"connected to port {port} ({confirmed} confirmed so far)", flush=True)
            command_id = ids[confirmed]
            channel.basic_publish(
                exchange=exchange,
                routing_key=f"cluster:{cluster}",
                body=json.dumps(envelope(command_id, "refresh", cluster, primary, host, secondary)).encode(),
                properties=pika.BasicProperties(
                    content_type="application/cloudevents+json",
                    delivery_mode=pika.DeliveryMode.Persistent,
                    message_id=command_id,
                ),
                mandatory=True,
            )
            confirmed += 1  # basic_publish returned: the broker confirmed it
            if progress:
                with open(progress + ".tmp", "w") as f:
                    f.write(f"{port} {confirmed}\n")
                os.replace(progress + ".tmp", progress)
        except (pika.exceptions.AMQPConnectionError, pika.exceptions.AMQPChannelError,
                pika.exceptions.StreamLostError, ConnectionError, OSError) as error:
            # The confirm of ids[confirmed] may be lost with the node: it goes again.
            reconnects += 1
            print(f"lost the connection ({type(error).__name__}: {error}); reconnecting to the next node", flush=True)
            channel = None
            try:
                if connection is not None and connection.is_open:
                    connection.close()
            except Exception as close_error:  # the node is gone; nothing more to say to it
                print(f"closing the old connection: {close_error}", flush=True)
            connection = None
            node = (node + 1) % len(params)
            time.sleep(0.5)
    if connection is not None and connection.is_open:
        connection.close()
    print(f"confirmed {confirmed} of {count}, {reconnects} reconnects", flush=True)
    return 0 if confirmed == count else 1


if __name__ == "__main__":
    sys.exit(main())
