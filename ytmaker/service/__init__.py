"""The live service: ``ytmaker serve``'s HTTP API, pushed progress (SSE, WebSocket), tokens, and the page.

    app.py          create_app(): routers, middleware, the hub and (embedded mode) the worker
    projects_api.py /api/v1/projects: create, list, read, cancel, retry, delete, files
    events.py       Server-Sent Events and the WebSocket
    hub.py          one progress subscription per process, fanned out to the streams
    auth.py         bearer token or cookie -> Caller; the session cookie's routes
    tokens.py       API tokens (hashes only): create, list, revoke, authenticate
    queries.py      the caller's projects, pages, recorded files
    health.py       /healthz, /readyz, /metrics
    middleware.py   body-size limit, security headers
    server.py       running it with uvicorn, and the loopback rule
"""
