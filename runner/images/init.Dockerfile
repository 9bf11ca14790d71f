# The sandbox's PID 1 (init.c), built once and copied into every language image.
ARG BASE=debian:bookworm-slim
FROM ${BASE}
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev && rm -rf /var/lib/apt/lists/*
COPY init.c /src/init.c
RUN gcc -O2 -Wall -static -o /sandbox-init /src/init.c
