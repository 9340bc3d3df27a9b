# skiff: a static binary on a distroless, non-root base.
#
#   docker build -t skiff .
#   docker run -d --name skiff -p 6379:6379 -p 8080:8080 -p 50051:50051 -v skiff-data:/var/lib/skiff skiff
#
# The image listens on every interface (SKIFF_*_ADDR below) except Raft,
# which stays on 127.0.0.1:16379 for a single node. A cluster member needs
# --raft-addr <an address its peers reach>:16379: skiff advertises the
# address it binds, so never 0.0.0.0 (see docs/operations.md, "Deployment").
# There is no shell in the image, so no HEALTHCHECK: probe GET /readyz
# (200 once a leader is known and the log is applied; 503 with the reason
# before) and GET /healthz (the process answers) on port 8080 from outside.

# The builder runs on the build machine's platform and cross-compiles
# (docker buildx build --platform linux/amd64,linux/arm64 ...).
FROM --platform=$BUILDPLATFORM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG TARGETOS TARGETARCH
RUN CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags="-s -w" -o /out/skiff ./cmd/skiff
# The data directory, owned by the runtime user (distroless "nonroot").
RUN mkdir -p /out/data && chown 65532:65532 /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/skiff /usr/local/bin/skiff
COPY --from=build --chown=65532:65532 /out/data /var/lib/skiff
USER 65532:65532
ENV SKIFF_DATA_DIR=/var/lib/skiff \
    SKIFF_REDIS_ADDR=0.0.0.0:6379 \
    SKIFF_GRPC_ADDR=0.0.0.0:50051 \
    SKIFF_HTTP_ADDR=0.0.0.0:8080
VOLUME /var/lib/skiff
# RESP, Raft (peers only), gRPC, REST.
EXPOSE 6379 16379 50051 8080
ENTRYPOINT ["/usr/local/bin/skiff"]
