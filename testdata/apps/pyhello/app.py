"""Hello, World! over HTTP with Python's standard library."""
from http.server import BaseHTTPRequestHandler, HTTPServer

MESSAGE = "Hello from Berth!"


class Hello(BaseHTTPRequestHandler):
    def do_GET(self):
        body = (MESSAGE + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    print("listening on port 8000", flush=True)
    HTTPServer(("0.0.0.0", 8000), Hello).serve_forever()
