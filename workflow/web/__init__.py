"""The HTTP API (`planflow web`): a JSON API under `/api/v1`, an adapter like the CLI.

It translates only: each endpoint authenticates the request (a session cookie or an API
token), fences what it reads by the organisations the principal may read, calls one service
with a `Context` that carries the principal, and renders the result as JSON. Every failure is
a JSON body `{"error": {"code", "message"}}` with the HTTP status of its error class
(`workflow.web.errors`), never a stack trace.

Adding a router is one module under `workflow/web/routers/` that defines `router` (an
`APIRouter`) and one line in `workflow.web.app.ROUTERS`.

Serving people on other machines: `planflow web` listens on loopback by default and speaks
plain HTTP; put a TLS reverse proxy (nginx, Caddy, a load balancer) in front of it, on the
same host or a trusted one, and tell `planflow web` which proxy to believe:

    planflow web --host 127.0.0.1 --port 8080 \\
        --base-url https://planflow.example.gov.vn --forwarded-allow-ips 127.0.0.1

    # nginx, in the server block that terminates TLS:
    location / {
        proxy_pass http://127.0.0.1:8080;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        client_max_body_size 1m;
    }

From the proxies named there (addresses or networks), X-Forwarded-Proto says whether the
client came over HTTPS (the session cookie is then Secure, and answers carry
Strict-Transport-Security) and X-Forwarded-For gives the client's address (what sign-in
throttling counts by). From anyone else both headers are ignored: a client cannot pass for
another address to escape throttling.
"""
