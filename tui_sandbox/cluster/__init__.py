"""More than one host: `tui-sandbox worker` on each Docker host, one shared queue in Redis
(broker.py), and `serve --broker` fronts that hold no run state (front.py). Imported
only with --broker or by `worker`: redis-py is the cluster's extra."""
