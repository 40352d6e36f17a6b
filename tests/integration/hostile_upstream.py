#!/usr/bin/env python3
"""Hostile "API servers" for tests/integration/test_hostile_upstreams.c.

Each mode listens on its own loopback port and answers every request the
same hostile way:

  hang        accepts, reads the request, never answers
  trickle     200 headers, then one byte of JSON a second
  huge_cl     100 MB body with a Content-Length
  huge_chunk  100 MB body, chunked (no Content-Length)
  gzip_bomb   ~100 KB gzip body (Content-Encoding: gzip) that inflates to 100 MB
  malformed   truncated JSON
  deep        JSON nested 3000 levels
  redirect    302 to the capture server under another host name (localhost)
  capture     records every request line and header block, answers {}

Prints one JSON line {"mode": port, ...} on stdout once listening; the
capture server appends what it receives to the file given as argv[1].
Runs until stdin closes (the test holds the pipe).
"""
import json
import socket
import sys
import threading
import time
import zlib

BIG = 100 * 1024 * 1024
CHUNK = 64 * 1024


def read_head(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        got = conn.recv(65536)
        if not got:
            return None
        data += got
        if len(data) > 1 << 20:
            return None
    return data.split(b"\r\n\r\n", 1)[0]


def send_all(conn, data):
    try:
        conn.sendall(data)
        return True
    except OSError:
        return False


def bomb():
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b" " * (1 << 20)
    parts = [comp.compress(b'{"kind":"APIVersions","pad":"')]
    for _ in range(BIG // len(block)):
        parts.append(comp.compress(block))
    parts.append(comp.compress(b'"}'))
    parts.append(comp.flush())
    return b"".join(parts)


GZIP = bomb()
PORTS = {}
CAPTURE_FILE = sys.argv[1]
LOCK = threading.Lock()


def body_stream(conn, total):
    head = b'{"kind":"APIVersions","versions":["'
    if not send_all(conn, head):
        return
    sent = len(head)
    filler = b"v" * CHUNK
    while sent < total - 2:
        n = min(CHUNK, total - 2 - sent)
        if not send_all(conn, filler[:n]):
            return
        sent += n
    send_all(conn, b'"]')


def serve(mode, conn):
    try:
        head = read_head(conn)
        if head is None:
            return
        if mode == "capture":
            with LOCK, open(CAPTURE_FILE, "ab") as f:
                f.write(head + b"\r\n\r\n")
            send_all(conn, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                           b"Content-Length: 2\r\nConnection: close\r\n\r\n{}")
        elif mode == "hang":
            conn.settimeout(120)
            while conn.recv(4096):
                pass
        elif mode == "trickle":
            send_all(conn, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                           b"Content-Length: 100000\r\n\r\n")
            for b in b'{"kind":"APIVersions","versions":["' + b"v" * 99000:
                if not send_all(conn, bytes([b])):
                    return
                time.sleep(1)
        elif mode == "huge_cl":
            if send_all(conn, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                              b"Content-Length: %d\r\n\r\n" % BIG):
                body_stream(conn, BIG)
        elif mode == "huge_chunk":
            if not send_all(conn, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                  b"Transfer-Encoding: chunked\r\n\r\n"):
                return
            sent = 0
            piece = b"%x\r\n" % CHUNK + b"v" * CHUNK + b"\r\n"
            while sent < BIG:
                if not send_all(conn, piece):
                    return
                sent += CHUNK
            send_all(conn, b"0\r\n\r\n")
        elif mode == "gzip_bomb":
            send_all(conn, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                           b"Content-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(GZIP) + GZIP)
        elif mode == "malformed":
            body = b'{"kind":"APIVersions","versions":["v1",'
            send_all(conn, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                           b"Content-Length: %d\r\n\r\n" % len(body) + body)
        elif mode == "deep":
            body = b"[" * 3000 + b"]" * 3000
            send_all(conn, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                           b"Content-Length: %d\r\n\r\n" % len(body) + body)
        elif mode == "redirect":
            loc = b"http://localhost:%d/api?stolen=1" % PORTS["capture"]
            send_all(conn, b"HTTP/1.1 302 Found\r\nLocation: " + loc +
                           b"\r\nContent-Length: 0\r\n\r\n")
    except OSError:
        pass
    finally:
        try:
            conn.close()
        except OSError:
            pass


def listener(mode, sock):
    while True:
        try:
            conn, _ = sock.accept()
        except OSError:
            return
        threading.Thread(target=serve, args=(mode, conn), daemon=True).start()


def main():
    modes = ["hang", "trickle", "huge_cl", "huge_chunk", "gzip_bomb", "malformed", "deep",
             "redirect", "capture"]
    for mode in modes:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # The capture server listens on every loopback name (localhost too).
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        PORTS[mode] = s.getsockname()[1]
        threading.Thread(target=listener, args=(mode, s), daemon=True).start()
    print(json.dumps(PORTS), flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()
