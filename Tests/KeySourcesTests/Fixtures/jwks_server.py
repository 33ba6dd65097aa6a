#!/usr/bin/env python3
"""A JWKS and OpenID discovery server on 127.0.0.1 for jwtsift's tests (Python's http.server, stdlib only).

Usage: jwks_server.py DIR [CERT KEY]  -- prints the port it listens on, then serves until killed; with a
certificate and its key, over TLS (a self-signed certificate, which a verifying client must refuse).

  /jwks                                DIR/jwks.json, with an ETag (its SHA-256); If-None-Match -> 304;
                                       Cache-Control from DIR/cache-control when that file exists
  /.well-known/openid-configuration    {"issuer": <this server>, "jwks_uri": <this server>/jwks}
  /wrong-issuer/.well-known/openid-configuration   a discovery document naming another issuer
  /redirect                            302 to /jwks
  /loop                                302 to /loop, forever
  /to-plain                            302 to http://jwtsift.invalid/jwks (not loopback)
  /500                                 HTTP 500
  /slow                                answers after 5 s
  /big                                 a 2 MiB JSON document
  /malformed                           a JWKS cut in the middle
Every request is appended to DIR/requests.log (method, path, If-None-Match).
"""
import hashlib
import http.server
import os
import signal
import sys
import time

# A parent that blocks SIGTERM (a test thread) passes its mask on: unblock it so the server can be stopped.
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})

DIR = sys.argv[1]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, body=b"", headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def do_GET(self):
        with open(os.path.join(DIR, "requests.log"), "a") as log:
            log.write(f"GET {self.path} {self.headers.get('If-None-Match', '-')}\n")
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        path = self.path
        if path == "/jwks":
            with open(os.path.join(DIR, "jwks.json"), "rb") as f:
                body = f.read()
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            headers = {"ETag": etag, "Content-Type": "application/json"}
            cc = os.path.join(DIR, "cache-control")
            if os.path.exists(cc):
                headers["Cache-Control"] = open(cc).read().strip()
            if self.headers.get("If-None-Match") == etag:
                del headers["Content-Type"]
                return self.send(304, b"", headers)
            return self.send(200, body, headers)
        if path == "/.well-known/openid-configuration":
            body = ('{"issuer":"%s","jwks_uri":"%s/jwks"}' % (base, base)).encode()
            return self.send(200, body, {"Content-Type": "application/json"})
        if path == "/wrong-issuer/.well-known/openid-configuration":
            body = ('{"issuer":"https://elsewhere.example","jwks_uri":"%s/jwks"}' % base).encode()
            return self.send(200, body, {"Content-Type": "application/json"})
        if path == "/redirect":
            return self.send(302, b"", {"Location": base + "/jwks"})
        if path == "/loop":
            return self.send(302, b"", {"Location": base + "/loop"})
        if path == "/to-plain":
            return self.send(302, b"", {"Location": "http://jwtsift.invalid/jwks"})
        if path == "/500":
            return self.send(500, b"internal error")
        if path == "/slow":
            time.sleep(5)
            return self.send(200, b'{"keys":[]}')
        if path == "/big":
            return self.send(200, b'{"keys":[],"pad":"' + b"a" * (2 << 20) + b'"}')
        if path == "/malformed":
            return self.send(200, b'{"keys":[{"kty":"RSA","n":"')
        return self.send(404, b"not found")


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
if len(sys.argv) > 3:
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[2], sys.argv[3])
    server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
