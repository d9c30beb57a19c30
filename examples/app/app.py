"""The example application for foobar-infra: a WSGI app served by gunicorn.

/          a page naming the server that answered
/healthz   200 when the process is up and reaches the database (HAProxy's and apply's checks)
/db        a page that reads from the shared database (proves app -> database)
"""
import json
import os
import socket

SERVER = os.environ.get("APP_SERVER") or socket.gethostname()


def _connect():
    import pymysql  # Debian: python3-pymysql

    return pymysql.connect(
        host=os.environ["DB_HOST"],
        port=int(os.environ.get("DB_PORT", "3306")),
        user=os.environ["DB_USER"],
        password=os.environ["DB_PASSWORD"],
        database=os.environ["DB_NAME"],
        connect_timeout=2,
    )


def _db_ping():
    conn = _connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
    finally:
        conn.close()


def _db_rows():
    conn = _connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT id, message FROM greetings ORDER BY id")
            return [{"id": r[0], "message": r[1]} for r in cur.fetchall()]
    finally:
        conn.close()


def application(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    headers = [("X-App-Server", SERVER)]
    if path == "/healthz":
        try:
            _db_ping()
            body, status, ctype = b"ok\n", "200 OK", "text/plain"
        except Exception as exc:  # the app is of no use without its database
            body = f"database unreachable: {type(exc).__name__}\n".encode()
            status, ctype = "503 Service Unavailable", "text/plain"
    elif path == "/db":
        try:
            rows = _db_rows()
            body = json.dumps({"server": SERVER, "greetings": rows}).encode() + b"\n"
            status, ctype = "200 OK", "application/json"
        except Exception as exc:  # report, never leak credentials
            body = json.dumps({"server": SERVER, "error": type(exc).__name__}).encode() + b"\n"
            status, ctype = "503 Service Unavailable", "application/json"
    elif path == "/":
        body = f"<h1>www.foobar.com</h1><p>served by {SERVER}</p>\n".encode()
        status, ctype = "200 OK", "text/html; charset=utf-8"
    else:
        body, status, ctype = b"not found\n", "404 Not Found", "text/plain"
    start_response(status, headers + [("Content-Type", ctype), ("Content-Length", str(len(body)))])
    return [body]
