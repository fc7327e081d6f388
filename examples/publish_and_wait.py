#!/usr/bin/env python3
"""Publish one georep command with pika and wait for its result event.

A client that is not ours: it speaks the documented wire format (a CloudEvents 1.0 envelope in
structured JSON mode, Schemas/messages/command.schema.json) and the topology (the georep.commands
exchange, routing key = cluster:<cluster id>, so that every command for one cluster goes
through one shard and one worker: see Schemas/README.md). It asks for a direct reply with reply_to / correlation_id.

    GEOREP_AMQP_URL=amqp://georep:georep@127.0.0.1:5672/georep \\
        python3 examples/publish_and_wait.py start lab mvol vm svol

GEOREP_COMMANDS_EXCHANGE names another commands exchange (<GEOREP_TOPOLOGY_PREFIX>.commands).

Exit status: 0 when the command succeeded, 2 when it failed or was rejected, 1 on no answer.
"""
import datetime
import json
import os
import sys
import time
import uuid

import pika


def main() -> int:
    action, cluster, primary, host, secondary = (sys.argv[1:6] + ["refresh", "lab", "mvol", "vm", "svol"][len(sys.argv[1:6]):])
    timeout = float(os.environ.get("GEOREP_WAIT", "120"))
    params = pika.URLParameters(os.environ.get("GEOREP_AMQP_URL", "amqp://georep:georep@127.0.0.1:5672/georep"))
    params.client_properties = {"connection_name": "georep example (pika)"}
    connection = pika.BlockingConnection(params)
    channel = connection.channel()
    channel.confirm_delivery()  # basic_publish now raises unless the broker confirms

    reply_queue = channel.queue_declare(queue="", exclusive=True, auto_delete=True).method.queue
    command_id = str(uuid.uuid4())
    session = {"cluster": cluster, "primary_volume": primary, "secondary_host": host, "secondary_volume": secondary}
    session_key = f"{cluster}/{primary}/root@{host}::{secondary}"
    envelope = {
        "specversion": "1.0",
        "id": command_id,
        "source": "examples/publish_and_wait.py",
        "type": f"georep.command.{action}",
        "time": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "subject": session_key,
        "datacontenttype": "application/json",
        "data": {"command_id": command_id, "action": action, "session": session, "sender": "pika-example"},
    }
    channel.basic_publish(
        exchange=os.environ.get("GEOREP_COMMANDS_EXCHANGE", "georep.commands"),
        routing_key=f"cluster:{cluster}",
        body=json.dumps(envelope).encode(),
        properties=pika.BasicProperties(
            content_type="application/cloudevents+json",
            delivery_mode=pika.DeliveryMode.Persistent,
            message_id=command_id,
            correlation_id=command_id,
            reply_to=reply_queue,
        ),
        mandatory=True,
    )
    print(f"sent {action} for {session_key} as {command_id}", flush=True)

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        method, properties, body = channel.basic_get(reply_queue, auto_ack=True)
        if method is None:
            connection.sleep(0.1)
            continue
        if properties.correlation_id != command_id:
            continue
        result = json.loads(body)
        data = result["data"]
        # The result names the session by id (lower case, as in PostgreSQL and the API).
        print(json.dumps({"type": result["type"], "outcome": data["outcome"], "message": data["message"],
                          "session_id": data.get("session_id")}))
        connection.close()
        return 0 if data["outcome"] == "succeeded" else 2
    print(f"no result within {timeout:.0f} s", file=sys.stderr)
    connection.close()
    return 1


if __name__ == "__main__":
    sys.exit(main())
