#!/usr/bin/env python3
"""A dashboard-like WebSocket client of `hftctl serve` for the demo (tools/demo.sh DEMO_CLIENTS=1).

Connects to ws://HOST:PORT/ws/hft?token=TOKEN (RFC 6455, standard library only), reads every
frame as a browser would and throws it away; on SIGTERM or when the server closes, prints
"ws_reader: N messages, B bytes" and exits 0 (1 when the handshake failed).

    tools/ws_reader.py 127.0.0.1 8090 TOKEN
"""
import base64
import os
import signal
import socket
import struct
import sys

stop = False


def on_term(_signum, _frame):
    global stop
    stop = True


def read_exact(sock, n):
    buf = b""
    while len(buf) < n and not stop:
        try:
            chunk = sock.recv(n - len(buf))
        except socket.timeout:
            continue
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    if len(buf) < n:
        raise ConnectionError("stopped")
    return buf


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    host, port, token = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    signal.signal(signal.SIGTERM, on_term)
    sock = socket.create_connection((host, port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /ws/hft?token={token} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                  f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                  "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            break
        head += chunk
    if not head.startswith(b"HTTP/1.1 101"):
        print("ws_reader: handshake refused: " + head.split(b"\r\n")[0].decode(errors="replace"), file=sys.stderr)
        return 1
    sock.settimeout(0.5)
    messages = nbytes = 0
    try:
        while not stop:
            b0, b1 = read_exact(sock, 2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", read_exact(sock, 2))[0]
            elif n == 127:
                n = struct.unpack(">Q", read_exact(sock, 8))[0]
            read_exact(sock, n)
            if b0 & 0x0F == 8:  # close
                break
            if b0 & 0x80:
                messages += 1
            nbytes += n
    except ConnectionError:
        pass
    print(f"ws_reader: {messages} messages, {nbytes} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
