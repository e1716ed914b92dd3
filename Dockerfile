# syntax=docker/dockerfile:1
# Multi-stage build: a static binary (CGO off) in an image with nothing else
# but CA certificates (to verify the API's TLS) and the zone database (the
# binary embeds one too, so times are read right even without it).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG REVISION=unknown
ARG BRANCH=unknown
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath \
      -ldflags "-s -w \
        -X github.com/prometheus/common/version.Version=${VERSION} \
        -X github.com/prometheus/common/version.Revision=${REVISION} \
        -X github.com/prometheus/common/version.Branch=${BRANCH}" \
      -o /out/dyvms_exporter . \
 && mkdir -p /out/etc/dyvms_exporter \
 && cp config.yml /out/etc/dyvms_exporter/config.yml

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /usr/share/zoneinfo /usr/share/zoneinfo
COPY --from=build /out/dyvms_exporter /bin/dyvms_exporter
COPY --from=build /out/etc/dyvms_exporter /etc/dyvms_exporter
# nobody:nogroup — the exporter needs no privilege; mount secrets readable by 65534.
USER 65534:65534
EXPOSE 10251
ENTRYPOINT ["/bin/dyvms_exporter"]
CMD ["--config.file=/etc/dyvms_exporter/config.yml"]
