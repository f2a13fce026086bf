"""A payload server and a fetcher for containers in the cluster tests (python3 in the image)."""

# Serves `size` bytes made of `text` repeated, on port 80; stops on SIGTERM.
_SERVER = (
    "import http.server, signal, sys; signal.signal(signal.SIGTERM, lambda *_: sys.exit(0)); "
    "size = int(sys.argv[2]); body = (sys.argv[1].encode() * size)[:size]\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def do_GET(self):\n"
    "        self.send_response(200); self.end_headers(); self.wfile.write(body)\n"
    "http.server.ThreadingHTTPServer(('', 80), H).serve_forever()"
)
_FETCH = "import sys, urllib.request as u; print(u.urlopen(sys.argv[1], timeout=3).read().decode())"


def body(text: str, size: int) -> str:
    """What the server answers."""
    return (text * size)[:size]


def server(text: str, size: int) -> list[str]:
    """The command of a container serving `body(text, size)` over HTTP on port 80."""
    return ["python3", "-c", _SERVER, text, str(size)]


def fetch(host: str) -> list[str]:
    """The command that prints what http://host/ answers (exits non-zero after 3 s)."""
    return ["python3", "-c", _FETCH, f"http://{host}/"]
