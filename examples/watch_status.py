#!/usr/bin/env python3
"""Print every status change of georep sessions (and, with --bricks, of bricks) as it happens.

A subscriber that is not ours: it binds a queue of its own to the georep.events topic exchange
with the routing keys georep.session.status.* (and georep.brick.status.*), reads the CloudEvents
1.0 envelopes (Schemas/messages/session-status-changed.schema.json, brick-status-changed...) and
prints one line per change. Ids are lower-case UUIDs, as in PostgreSQL and the API: join
data.session_id to gluster_georep_session.session_id and data.brick_id to
gluster_georep_session_details.master_brick_id without folding case.

    GEOREP_AMQP_URL=amqp://georep:georep@127.0.0.1:5672/georep \\
        python3 examples/watch_status.py [--bricks] [--json] [--count N] [--exchange georep.events]

The queue is exclusive and goes away with the connection (a durable queue of your own, bound
the same way, keeps changes while you are away). Exit status 0 after --count changes or Ctrl-C.
"""
import argparse
import json
import os
import signal
import sys

import pika


def line(event: dict) -> str:
    data = event.get("data", {})
    session = data.get("session", {})
    name = (f"{session.get('cluster')}/{session.get('primary_volume')} → "
            f"{session.get('secondary_user') or 'root'}@{session.get('secondary_host')}::{session.get('secondary_volume')}")
    what = f"brick {data.get('brick')}" if event.get("type") == "georep.brick.status_changed" else "session"
    ids = f"session_id={data.get('session_id')}" + (f" brick_id={data.get('brick_id')}" if data.get("brick_id") else "")
    return f"{event.get('time')} {name} {what}: {data.get('from') or '(new)'} → {data.get('to')}  {ids}"


def stop(_signum, _frame):
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bricks", action="store_true", help="also bind georep.brick.status.*")
    parser.add_argument("--json", action="store_true", help="print each event's envelope as one JSON line")
    parser.add_argument("--count", type=int, default=0, help="exit after this many changes (0: run until interrupted)")
    parser.add_argument("--exchange", default=os.environ.get("GEOREP_EVENTS_EXCHANGE", "georep.events"),
                        help="the events exchange (<GEOREP_TOPOLOGY_PREFIX>.events)")
    args = parser.parse_args()

    params = pika.URLParameters(os.environ.get("GEOREP_AMQP_URL", "amqp://georep:georep@127.0.0.1:5672/georep"))
    params.client_properties = {"connection_name": "georep example watch_status.py (pika)"}
    connection = pika.BlockingConnection(params)
    channel = connection.channel()
    queue = channel.queue_declare(queue="", exclusive=True, auto_delete=True).method.queue
    keys = ["georep.session.status.*"] + (["georep.brick.status.*"] if args.bricks else [])
    for key in keys:
        channel.queue_bind(queue=queue, exchange=args.exchange, routing_key=key)
    print(f"watching {args.exchange} for {', '.join(keys)}", file=sys.stderr, flush=True)

    # SIGTERM (systemd, a supervisor, a test) ends it like Ctrl-C. A process may inherit SIGTERM
    # blocked or ignored from its parent, and Python installs no handler of its own for it.
    signal.signal(signal.SIGTERM, stop)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    seen = 0
    try:
        for method, _properties, body in channel.consume(queue, auto_ack=True):
            event = json.loads(body)
            print(json.dumps(event, sort_keys=True) if args.json else line(event), flush=True)
            seen += 1
            if args.count and seen >= args.count:
                break
    except KeyboardInterrupt:
        pass
    channel.cancel()
    connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
