"""`promosync serve` (R41, R42): an admin page and an HTTP API over the store, and message
templates for coupon-list codes.

Modules: app (the ASGI application), server (uvicorn, loopback by default), gateway (key, scope,
guard, body, Idempotency-Key, work, answer, for every API request), api (the endpoints, through
`Register` and `Distributor`), openapi, bodies, refusals (errors as JSON answers), keys (API
keys, stored hashed), idempotency, guard (against guessing), session (admin sign-in, signed
cookies, CSRF), admin and admin_views and pages and dashboard (the admin pages), plan (`sync
plan` for the page), messages and handout (templates, SMS lengths, the export), settings.

Importing this package loads nothing heavy: `promosync lists assign --template` uses
`messages` without the web server.
"""
