#!/usr/bin/env python3
"""A batched persister in Python, the peer `georep-bench persister` measures ours against.

    python3 ops/bench/persister_peer.py --amqp-url URL --pg-url URL --queue Q --count N [--batch 500]

What a competent script would do: pika with prefetch, 500-message batches (or 20 ms), one
transaction per batch with psycopg2's `execute_values` upserts into the persister's own tables
under the same newest-stamp-wins rule (status changes, snapshots with their brick details and
options, commands), then one multiple-ack after the commit. It leaves out what the benchmark's
events do not need (tombstones, cluster inventories, availability, dead-lettering), which only
makes it faster. Prints one JSON line: events, seconds (first delivery to last ack), rate.
"""
import argparse
import json
import time

import pika
import psycopg2
from psycopg2.extras import execute_values


def newest(rows, key):
    """The row with the highest stamp for each key (the set-based updates need one per row)."""
    best = {}
    for row in rows:
        k = key(row)
        if k not in best or best[k]["observation"]["seq"] < row["observation"]["seq"]:
            best[k] = row
    return list(best.values())


def cause(o):
    c = o["observation"]["cause"]
    return ("command", c.get("command_id")) if c.get("kind") == "command" else ("monitor", None)


def apply(cur, events):
    sessions, bricks, snapshots, accepted, results = [], [], [], [], []
    for kind, data in events:
        if kind == "georep.session.status_changed":
            sessions.append(data)
        elif kind == "georep.brick.status_changed":
            bricks.append(data)
        elif kind == "georep.session.snapshot":
            snapshots.append(data)
        elif kind == "georep.command.accepted":
            accepted.append(data)
        elif kind.startswith("georep.command."):
            results.append(data)

    snapshots = sorted(newest(snapshots, lambda s: s["session_id"]), key=lambda s: s["observation"]["seq"])
    if snapshots:
        execute_values(cur, "INSERT INTO gluster_clusters (cluster_id) VALUES %s ON CONFLICT DO NOTHING",
                       [(c,) for c in {s["session"]["cluster"] for s in snapshots}])
        won = execute_values(cur, """
            INSERT INTO gluster_georep_session (session_id, session_key, slave_host_name, slave_volume_name, status, cluster_id,
                master_volume_name, user_name, observed_seq, observed_at, _update_date)
            VALUES %s
            ON CONFLICT (session_id) DO UPDATE SET session_key = EXCLUDED.session_key, slave_host_name = EXCLUDED.slave_host_name,
                slave_volume_name = EXCLUDED.slave_volume_name, status = EXCLUDED.status, user_name = EXCLUDED.user_name,
                observed_seq = EXCLUDED.observed_seq, observed_at = EXCLUDED.observed_at, _update_date = now()
            WHERE gluster_georep_session.observed_seq < EXCLUDED.observed_seq
            RETURNING session_id::text""", [
                (s["session_id"], s.get("session_key") or "", s["session"]["secondary_host"], s["session"]["secondary_volume"],
                 s["status"], s["session"]["cluster"], s["session"]["primary_volume"], s["session"].get("secondary_user"),
                 s["observation"]["seq"], s["observation"]["at"]) for s in snapshots],
            template="(%s::uuid, %s, %s, %s, %s, %s, %s, %s, %s, %s::timestamptz, now())", page_size=len(snapshots), fetch=True)
        won = {row[0] for row in won}
        fresh = [s for s in snapshots if s["session_id"].lower() in won]
        if fresh:
            cur.execute("DELETE FROM gluster_georep_session_details WHERE session_id = ANY(%s::uuid[])", ([s["session_id"] for s in fresh],))
            rows = [(s["session_id"], b["brick_id"], b.get("secondary_node") or b.get("secondary_host") or s["session"]["secondary_host"],
                     b["status"], b.get("crawl_status"), b.get("data"), b.get("failures"), b.get("meta"), b.get("entry"),
                     b["primary_node"], b["primary_brick"], s["observation"]["seq"], s["observation"]["at"])
                    for s in fresh for b in s["bricks"] if b.get("brick_id")]
            if rows:
                execute_values(cur, """
                    INSERT INTO gluster_georep_session_details (session_id, master_brick_id, slave_host_name, status, crawl_status,
                        files_pending, files_skipped, data_pending, failures, meta_pending, entry_pending, master_node, master_brick_dir,
                        observed_seq, observed_at, _update_date)
                    SELECT v.sid::uuid, v.bid::uuid, v.h, v.st, v.cs, v.d, v.f, v.d, v.f, v.m, v.e, v.n, v.dir, v.seq, v.at::timestamptz, now()
                    FROM (VALUES %s) AS v(sid, bid, h, st, cs, d, f, m, e, n, dir, seq, at)
                    ON CONFLICT (session_id, master_brick_id) DO NOTHING""", rows,
                    template="(%s, %s, %s, %s, %s, %s::bigint, %s::bigint, %s::bigint, %s::bigint, %s, %s, %s::bigint, %s)", page_size=len(rows))
            with_options = [s for s in fresh if s.get("options") is not None]
            if with_options:
                cur.execute("DELETE FROM gluster_georep_config WHERE session_id = ANY(%s::uuid[])", ([s["session_id"] for s in with_options],))
                rows = [(s["session_id"], k[:64], v) for s in with_options for k, v in sorted(s["options"].items())]
                if rows:
                    execute_values(cur, "INSERT INTO gluster_georep_config (session_id, config_key, config_value, _update_date) VALUES %s",
                                   rows, template="(%s::uuid, %s, %s, now())", page_size=len(rows))

    history = [(e["session_id"], None, None, e.get("from"), e["to"], e["observation"]["seq"], e["observation"]["at"], *cause(e))
               for e in sessions]
    history += [(e["session_id"], e.get("brick_id"), e["brick"], e.get("from"), e["to"], e["observation"]["seq"], e["observation"]["at"], *cause(e))
                for e in bricks]
    if history:
        execute_values(cur, """
            INSERT INTO georep_status_history (session_id, master_brick_id, brick_name, from_status, to_status, observed_seq, observed_at,
                cause, cause_command_id) VALUES %s ON CONFLICT DO NOTHING""", history,
            template="(%s::uuid, %s::uuid, %s, %s, %s, %s, %s::timestamptz, %s, %s::uuid)", page_size=len(history))
    latest = newest(sessions, lambda e: e["session_id"])
    if latest:
        execute_values(cur, """
            UPDATE gluster_georep_session s SET status = v.st, observed_seq = v.seq, observed_at = v.at::timestamptz, _update_date = now()
            FROM (VALUES %s) AS v(id, st, seq, at) WHERE s.session_id = v.id::uuid AND s.observed_seq < v.seq""",
            [(e["session_id"], e["to"], e["observation"]["seq"], e["observation"]["at"]) for e in latest],
            template="(%s, %s, %s::bigint, %s)", page_size=len(latest))
    latest = newest([e for e in bricks if e.get("brick_id")], lambda e: (e["session_id"], e["brick_id"]))
    if latest:
        execute_values(cur, """
            UPDATE gluster_georep_session_details d SET status = v.st, observed_seq = v.seq, observed_at = v.at::timestamptz, _update_date = now()
            FROM (VALUES %s) AS v(sid, bid, st, seq, at)
            WHERE d.session_id = v.sid::uuid AND d.master_brick_id = v.bid::uuid AND d.observed_seq < v.seq""",
            [(e["session_id"], e["brick_id"], e["to"], e["observation"]["seq"], e["observation"]["at"]) for e in latest],
            template="(%s, %s, %s, %s::bigint, %s)", page_size=len(latest))
    if accepted:
        execute_values(cur, """
            INSERT INTO georep_commands (command_id, action, session_id, session_ref, outcome, message, sender, accepted_at)
            VALUES %s ON CONFLICT (command_id) DO NOTHING""",
            [(a["command_id"], a["action"][:32], a["session_id"], None, "pending", "accepted; waiting for a worker", a["sender"][:128],
              a["accepted_at"]) for a in accepted],
            template="(%s::uuid, %s, %s::uuid, %s, %s, %s, %s, %s::timestamptz)", page_size=len(accepted))
    results = list({r["command_id"]: r for r in results if r.get("command_id")}.values())
    if results:
        execute_values(cur, """
            INSERT INTO georep_commands (command_id, action, session_id, outcome, message, error_code, finished_at) VALUES %s
            ON CONFLICT (command_id) DO UPDATE SET outcome = EXCLUDED.outcome, message = EXCLUDED.message,
                error_code = EXCLUDED.error_code, finished_at = EXCLUDED.finished_at, recorded_at = now()
            WHERE georep_commands.outcome = 'pending'""",
            [(r["command_id"], r["action"][:32], r.get("session_id"), r["outcome"], r["message"], (r.get("error") or {}).get("code"),
              r["finished_at"]) for r in results],
            template="(%s::uuid, %s, %s::uuid, %s, %s, %s, %s::timestamptz)", page_size=len(results))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--amqp-url", required=True)
    p.add_argument("--pg-url", required=True)
    p.add_argument("--queue", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--batch", type=int, default=500)
    p.add_argument("--batch-delay", type=float, default=0.02)
    a = p.parse_args()

    # A cluster's list (as GEOREP_AMQP_URL takes it): pika tries the nodes in order.
    connection = pika.BlockingConnection([pika.URLParameters(url) for url in a.amqp_url.split(",")])
    channel = connection.channel()
    channel.basic_qos(prefetch_count=a.batch * 2)
    db = psycopg2.connect(a.pg_url)
    cur = db.cursor()

    done, started, pending, last_tag, opened = 0, None, [], None, None
    for method, _props, body in channel.consume(a.queue, inactivity_timeout=a.batch_delay):
        if method is not None:
            if started is None:
                started = time.monotonic()
            envelope = json.loads(body)
            pending.append((envelope["type"], envelope["data"]))
            last_tag = method.delivery_tag
            opened = opened or time.monotonic()
        full = len(pending) >= a.batch
        late = pending and (method is None or time.monotonic() - opened >= a.batch_delay)
        if full or late:
            apply(cur, pending)
            db.commit()
            channel.basic_ack(delivery_tag=last_tag, multiple=True)
            done += len(pending)
            pending, opened = [], None
            if done >= a.count:
                break
    seconds = time.monotonic() - started
    channel.cancel()
    connection.close()
    db.close()
    print(json.dumps({"events": done, "seconds": seconds, "rate": done / seconds}))


if __name__ == "__main__":
    main()
