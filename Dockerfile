# syntax=docker/dockerfile:1
# Multi-stage build: a static binary (CGO off) in an image with nothing else
# but CA certificates (to verify the API's TLS), the zone database (the
# binary embeds one too, so times are read right even without it) and an
# empty /tmp (where --simulator writes its generated configuration).
# Base images are fully qualified, so podman and buildah need no registry
# search list.
#
# Releases are not built from this file: cmd/dyvms-release assembles the
# published multi-architecture image with the same runtime layout
# (TestRelease holds the two to the same user, port, entrypoint and
# arguments); this file is for building an image yourself.
#
# The runtime stage takes everything from the stage named "build", so
# `--build-context build=DIR` can stand in for it (the container smoke test
# in container_test.go feeds it a binary it built itself).
FROM docker.io/library/golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=
ARG REVISION=
ARG BRANCH=unknown
# Empty VERSION/REVISION: the binary says <VERSION file>-devel and takes the
# revision from .git when the build context has it (-buildvcs=auto).
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -buildvcs=auto \
      -ldflags "-s -w \
        -X github.com/prometheus/common/version.Version=${VERSION} \
        -X github.com/prometheus/common/version.Revision=${REVISION} \
        -X github.com/prometheus/common/version.Branch=${BRANCH}" \
      -o /out/dyvms_exporter . \
 && mkdir -p /out/etc/dyvms_exporter /out/doc \
 && cp config.yml /out/etc/dyvms_exporter/config.yml \
 && cp LICENSE NOTICE /out/doc/ \
 && mkdir -p /out/writable && mkdir -m 1777 /out/writable/tmp

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /usr/share/zoneinfo /usr/share/zoneinfo
COPY --from=build /out/dyvms_exporter /bin/dyvms_exporter
COPY --from=build /out/etc/dyvms_exporter /etc/dyvms_exporter
COPY --from=build /out/doc /usr/share/doc/dyvms_exporter
# A directory's contents are copied, not its mode: /tmp comes as the content
# of /out/writable so that it keeps 1777.
COPY --from=build /out/writable/ /
ARG VERSION=
ARG REVISION=
LABEL org.opencontainers.image.title="dyvms_exporter" \
      org.opencontainers.image.source="https://github.com/dyvms-community/dyvms_exporter" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
# nobody:nogroup — the exporter needs no privilege; mount secrets readable by 65534.
USER 65534:65534
EXPOSE 10681
ENTRYPOINT ["/bin/dyvms_exporter"]
CMD ["--config.file=/etc/dyvms_exporter/config.yml"]
