#!/usr/bin/env python3
"""The pika half of `georep-bench amqp`: publish N persistent messages with publisher confirms
(one confirm awaited per publish, as georep does), then consume them with a manual ack each.
Prints one JSON line: {"publish_per_s": ..., "consume_per_s": ...}.

Usage: pika_bench.py AMQP_URL QUEUE N SIZE
"""
import json
import sys
import time

import pika

url, queue, count, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
connection = pika.BlockingConnection(pika.URLParameters(url))
channel = connection.channel()
channel.confirm_delivery()
body = b"x" * size
props = pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent, content_type="application/octet-stream")

start = time.perf_counter()
for i in range(count):
    channel.basic_publish(exchange="", routing_key=queue, body=body, properties=props, mandatory=True)
publish_s = time.perf_counter() - start

channel.basic_qos(prefetch_count=100)
received = 0
start = time.perf_counter()


def on_message(ch, method, properties, payload):
    global received
    ch.basic_ack(method.delivery_tag)
    received += 1
    if received == count:
        ch.stop_consuming()


channel.basic_consume(queue=queue, on_message_callback=on_message)
channel.start_consuming()
consume_s = time.perf_counter() - start
connection.close()
print(json.dumps({"publish_per_s": count / publish_s, "consume_per_s": count / consume_s}))
