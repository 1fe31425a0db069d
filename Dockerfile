# Dockerfile - greenlight as a container image: the binary on Debian 12
# slim, run as an unprivileged user.  Two stages: the first builds with
# Debian's -dev packages, the second has only the run-time libraries.
#
#   podman build --build-arg BASE=docker.io/library/debian:12-slim -t greenlight .
#   podman run --rm -v "$PWD:/work" -w /work greenlight check -g greenlight.json
#
# BASE is any Debian 12 image (tests/image/run.sh builds one with
# mmdebstrap, as no public registry is reachable there).
ARG BASE=docker.io/library/debian:12-slim

FROM ${BASE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      gcc cmake make pkg-config libc6-dev libcjson-dev libgit2-dev \
      libcurl4-openssl-dev libesmtp-dev libmicrohttpd-dev libsqlite3-dev libpq-dev \
      libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY src ./src
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGREENLIGHT_TESTS=OFF \
 && cmake --build /build -j "$(nproc)" \
 && strip /build/greenlight

FROM ${BASE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates libcjson1 libgit2-1.5 libcurl4 libesmtp6 \
      libmicrohttpd12 libsqlite3-0 libpq5 libssl3 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /work --no-create-home greenlight
COPY --from=build /build/greenlight /usr/bin/greenlight
USER greenlight
WORKDIR /work
ENTRYPOINT ["greenlight"]
CMD ["help"]
