"""The example application for foobar-infra: a WSGI app served by gunicorn.

/          a page naming the server that answered
/healthz   200 when the process is up and reaches the database (HAProxy's and apply's checks)
/db        a page that reads from the shared database (proves app -> database)
/greetings GET: how many greetings the database holds; POST: adds one (the body, at most 200
           bytes, is its message) and answers with its id (the site's write path)
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


def _greetings_count():
    conn = _connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*), COALESCE(MAX(id), 0) FROM greetings")
            count, last = cur.fetchone()
            return {"count": count, "last": last}
    finally:
        conn.close()


def _greetings_add(message):
    conn = _connect()
    try:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO greetings (message) VALUES (%s)", (message,))
            new_id = cur.lastrowid
        conn.commit()
        return {"id": new_id}
    finally:
        conn.close()


def _greetings(environ):
    if environ.get("REQUEST_METHOD") == "POST":
        try:
            length = min(int(environ.get("CONTENT_LENGTH") or 0), 200)
        except ValueError:
            length = 0
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        message = body.decode("utf-8", "replace").strip() or "hello"
        return _greetings_add(message), "201 Created"
    return _greetings_count(), "200 OK"


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
    elif path == "/greetings":
        try:
            result, status = _greetings(environ)
            body = json.dumps({"server": SERVER, **result}).encode() + b"\n"
            ctype = "application/json"
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
