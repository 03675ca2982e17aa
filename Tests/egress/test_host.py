"""An HTTP server for the egress tests, run inside a network namespace the test made.

Usage: test_host.py PORT
  GET  /hello            200, "hello from HOST" (the Host header the request carried)
  GET  /redirect?to=URL  302 to URL
  GET  /bytes?n=N        200 with N bytes
  GET  /ws               a WebSocket handshake (101); the first frame from the client is answered with a close
Every request is logged to stdout as "METHOD PATH HOST", so a test can check what arrived.
"""
import base64
import os
import hashlib
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        url = urlparse(self.path)
        query = parse_qs(url.query)
        print(f"GET {url.path} {self.headers.get('Host')}", flush=True)
        if url.path == "/hello":
            self.reply(200, f"hello from {self.headers.get('Host')}".encode())
        elif url.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", query["to"][0])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif url.path == "/ws" and self.headers.get("Upgrade", "").lower() == "websocket":
            key = self.headers["Sec-WebSocket-Key"] + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
            self.send_response(101)
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.send_header("Sec-WebSocket-Accept", base64.b64encode(hashlib.sha1(key.encode()).digest()).decode())
            self.end_headers()
            self.wfile.flush()
            # Whatever frame comes first (the client's close), answer with a close frame and hang up.
            self.rfile.read(2)
            self.wfile.write(b"\x88\x00")
            self.close_connection = True
        elif url.path == "/bytes":
            self.reply(200, b"x" * int(query["n"][0]))
        else:
            self.reply(404, b"not found")

    def reply(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    # Never outlive the test process: it holds our stdin open, and closes it by exiting, however it exits.
    threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
    ThreadingHTTPServer(("0.0.0.0", int(sys.argv[1])), Handler).serve_forever()
