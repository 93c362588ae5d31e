-- The no-op ceiling: the same small JSON POST over and over.
wrk.method = "POST"
wrk.body = '{"name": "patrol_officer", "quantity": 4}'
wrk.headers["Content-Type"] = "application/json"
