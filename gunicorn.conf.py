"""The one serving setup. gunicorn reads this file from the working directory by itself, so
`make run`, production (`gunicorn --bind 0.0.0.0:8000 wsgi:app`) and the tests serve alike.

Why evented (gevent) workers: residents are on phones, and a phone on a weak signal sends a
request slowly. A sync worker waits for such a client with its only thread, so four slow
connections stop a four-worker server; threaded workers only move the limit to the number of
threads. A gevent worker keeps each connection in a greenlet: a slow or idle client costs a
socket and a little memory, never a worker. Slow headers and idle keep-alive connections are
cut after `keepalive` seconds; bodies may take their time (a 5 MB photo on 3G does).

No preload: gunicorn's gevent worker patches the standard library before it imports the
app, which psycopg needs to see at import to wait cooperatively. Patching the master instead
would put gevent under gunicorn's own signal handling; each worker compiling the routing
ruleset once is the smaller price.

Every setting can still be given on the command line (`--workers 2` wins over this file).
"""

import multiprocessing
import os

bind = os.environ.get("HOTLINE_BIND", "127.0.0.1:8000")
worker_class = "gevent"
# Two per core is plenty for an evented worker: concurrency comes from greenlets.
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count()))
worker_connections = 1000  # per worker; beyond this a worker stops accepting
# Seconds a client gets to send its request line and headers (and to start the next request
# on a kept-alive connection) before the connection is closed.
keepalive = 5
# A worker that stops answering its master (a request stuck in C code) is replaced.
timeout = 30
graceful_timeout = 20
# Ordinary requests carry short lines and few headers; larger ones are refused with 4xx.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
accesslog = os.environ.get("HOTLINE_ACCESS_LOG", "-")
# gunicorn 24+ opens a control socket under ~/.gunicorn; nothing here uses it, and several
# servers on one host (tests, benchmarks) would share its path.
control_socket_disable = True
