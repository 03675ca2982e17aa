"""An HTTPS server for the bound-secret tests, run inside the test network's namespace.

Usage: tls_host.py PORT CERT KEY
  GET  /echo-authorization  200, the Authorization header it received (a host that echoes a credential back)
  any other GET or POST     200, "ok PATH"
Every request is logged to stdout as "METHOD PATH HOST AUTHORIZATION", so a test can check exactly which
credential reached the host (the proxy's substitution) and that refused requests never arrived.
"""
import os
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        print(f"{self.command} {self.path} {self.headers.get('Host')} {self.headers.get('Authorization')}", flush=True)
        body = f"ok {self.path}".encode()
        if self.path == "/echo-authorization":
            body = str(self.headers.get("Authorization")).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = answer
    do_POST = answer

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[2], sys.argv[3])
    server = ThreadingHTTPServer(("0.0.0.0", int(sys.argv[1])), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.serve_forever()
