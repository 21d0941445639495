"""Stand-in for prometheus-nats-exporter: serves /metrics from a NATS server's monitoring endpoint.

Flags as the real exporter's (those the chart passes): -port, -varz, -jsz=all, -prefix, -use_internal_server_name,
and the monitoring URL last. Metric names as the real one's: <prefix>_varz_<field> for numeric /varz fields,
<prefix>_stream_* and <prefix>_consumer_* (num_pending, num_ack_pending, ...) from /jsz?consumers=true.
"""

import http.server
import json
import sys
import urllib.request

args = {"port": "7777", "prefix": "gnatsd", "varz": False, "jsz": ""}
url = "http://localhost:8222/"
for a in sys.argv[1:]:
    if a.startswith("-"):
        k, _, v = a.lstrip("-").partition("=")
        args[k] = v if v else True
    else:
        url = a.rstrip("/") + "/"


def get(path):
    with urllib.request.urlopen(url + path, timeout=5) as r:
        return json.load(r)


def esc(v):
    return str(v).replace("\\", "\\\\").replace('"', '\\"')


def metrics():
    p = args["prefix"]
    out = []
    varz = get("varz")
    server = varz.get("server_name") or varz.get("server_id", "")
    sid = f'server_id="{esc(server)}"'
    if args["varz"]:
        for k, v in sorted(varz.items()):
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                out.append(f"{p}_varz_{k}{{{sid}}} {v}")
    if args["jsz"]:
        jsz = get("jsz?consumers=true&config=true")
        for acc in jsz.get("account_details") or []:
            for st in acc.get("stream_detail") or []:
                sl = f'{sid},account="{esc(acc.get("name", ""))}",stream_name="{esc(st["name"])}"'
                state = st.get("state", {})
                for k in ("messages", "bytes", "first_seq", "last_seq", "consumer_count"):
                    if k in state:
                        name = "total_messages" if k == "messages" else k
                        out.append(f"{p}_stream_{name}{{{sl}}} {state[k]}")
                for c in st.get("consumer_detail") or []:
                    cl = f'{sl},consumer_name="{esc(c["name"])}"'
                    for k in ("num_pending", "num_ack_pending", "num_redelivered", "num_waiting"):
                        if k in c:
                            out.append(f"{p}_consumer_{k}{{{cl}}} {c[k]}")
                    for k in ("stream_seq", "consumer_seq"):
                        if k in c.get("delivered", {}):
                            out.append(f"{p}_consumer_delivered_{k}{{{cl}}} {c['delivered'][k]}")
    out.append(f"{p}_up 1")
    return "\n".join(out) + "\n"


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        try:
            body, code = metrics().encode(), 200
        except Exception as exc:  # the server is down: say so, as the real exporter's scrape errors do
            body, code = f"# scrape failed: {exc}\n{args['prefix']}_up 0\n".encode(), 200
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


http.server.ThreadingHTTPServer(("0.0.0.0", int(args["port"])), Handler).serve_forever()
