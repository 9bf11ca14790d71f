"""The sandbox service: one process that owns the engine for many users.

core.py holds the runs (the fair queue in front of a host-wide cap, ceilings, rate
limits, warm spares, history); http.py (its routes in runs.py and info.py), piston/ and
the web page are thin fronts over it. Nothing here imports Textual or the app's widgets: the service can run headless on
a server with no terminal at all.
"""
