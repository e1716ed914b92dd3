package release

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The image's runtime layout: the Dockerfile's final stage, which
// TestReleaseImageMatchesDockerfile holds this to.
const (
	ImageUser       = "65534:65534"
	ImageBinary     = "/bin/dyvms_exporter"
	ImageConfigFile = "/etc/dyvms_exporter/config.yml"
	ImagePort       = "10681"
	docDir          = "usr/share/doc/dyvms_exporter"
)

// ImageCmd is the image's default arguments.
var ImageCmd = []string{"--config.file=" + ImageConfigFile}

// Labels are the OCI annotations of the image config, each manifest and
// the index: where the source is, which version and commit, the licence.
func Labels(s Source) map[string]string {
	return map[string]string{
		"org.opencontainers.image.title":         Project,
		"org.opencontainers.image.description":   "Prometheus exporter for Alibaba Cloud Voice Messaging Service call-centre tasks",
		"org.opencontainers.image.source":        SourceURL,
		"org.opencontainers.image.url":           SourceURL,
		"org.opencontainers.image.documentation": SourceURL + "#readme",
		"org.opencontainers.image.version":       s.Version,
		"org.opencontainers.image.revision":      s.Revision,
		"org.opencontainers.image.licenses":      Licence,
		"org.opencontainers.image.created":       s.CommitTime.UTC().Format(time.RFC3339),
		"org.opencontainers.image.vendor":        "dyvms-community",
	}
}

// baseFiles are the files every platform's image shares: CA certificates
// (the API is reached over TLS), the zone database, the example
// configuration at the documented path, the licence and notices, and an
// empty /tmp writable by anyone (--simulator writes its configuration
// there).
func baseFiles(o Options) ([]file, error) {
	var files []file
	dirs := map[string]bool{}
	addDirs := func(p string) {
		for d := filepath.ToSlash(filepath.Dir(p)); d != "." && d != "/"; d = filepath.ToSlash(filepath.Dir(d)) {
			dirs[d] = true
		}
	}
	add := func(f file) {
		files = append(files, f)
		addDirs(f.name)
	}
	ca, err := os.ReadFile(o.CACerts)
	if err != nil {
		return nil, fmt.Errorf("the image needs CA certificates: %w", err)
	}
	add(file{name: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, data: ca})
	zi := filepath.Clean(o.ZoneInfo)
	err = filepath.WalkDir(zi, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(zi, p)
		target := "usr/share/zoneinfo"
		if rel != "." {
			target += "/" + filepath.ToSlash(rel)
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			add(file{name: target, link: link})
		case d.IsDir():
			dirs[target] = true
			addDirs(target)
		case d.Type().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			add(file{name: target, mode: 0o644, data: data})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("the image needs the zone database: %w", err)
	}
	for _, n := range []string{"config.yml", "LICENSE", "NOTICE"} {
		data, err := os.ReadFile(filepath.Join(o.Repo, n))
		if err != nil {
			return nil, err
		}
		target := docDir + "/" + n
		if n == "config.yml" {
			target = strings.TrimPrefix(ImageConfigFile, "/")
		}
		add(file{name: target, mode: 0o644, data: data})
	}
	for d := range dirs {
		files = append(files, file{name: d, isDir: true, mode: 0o755})
	}
	files = append(files, file{name: "tmp", isDir: true, mode: 0o777 | fs.ModeSticky})
	return files, nil
}

// layer makes a gzip-compressed OCI layer of files with fixed metadata.
func layer(files []file, mtime time.Time) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := writeTar(tw, files, mtime); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer), tarball.WithCompressedCaching)
}

// buildIndex assembles the multi-architecture image: per platform the
// shared base layer and a layer with that platform's binary and SBOM.
func buildIndex(o Options, s Source, bins map[string]string, sboms map[string][]byte) (v1.ImageIndex, error) {
	base, err := baseFiles(o)
	if err != nil {
		return nil, err
	}
	baseLayer, err := layer(base, s.CommitTime)
	if err != nil {
		return nil, err
	}
	labels := Labels(s)
	created := v1.Time{Time: s.CommitTime}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, p := range o.ImagePlatforms {
		goos, goarch, _ := strings.Cut(p, "/")
		bin, err := os.ReadFile(bins[p])
		if err != nil {
			return nil, err
		}
		binLayer, err := layer([]file{
			{name: "bin", isDir: true, mode: 0o755},
			{name: strings.TrimPrefix(ImageBinary, "/"), mode: 0o755, data: bin},
			{name: "usr", isDir: true, mode: 0o755},
			{name: "usr/share", isDir: true, mode: 0o755},
			{name: "usr/share/doc", isDir: true, mode: 0o755},
			{name: docDir, isDir: true, mode: 0o755},
			{name: docDir + "/sbom.spdx.json", mode: 0o644, data: sboms[p]},
		}, s.CommitTime)
		if err != nil {
			return nil, err
		}
		img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
		img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
		img, err = mutate.ConfigFile(img, &v1.ConfigFile{
			Architecture: goarch,
			OS:           goos,
			Created:      created,
			Config: v1.Config{
				User:         ImageUser,
				ExposedPorts: map[string]struct{}{ImagePort + "/tcp": {}},
				Entrypoint:   []string{ImageBinary},
				Cmd:          ImageCmd,
				Labels:       labels,
			},
			RootFS: v1.RootFS{Type: "layers"},
		})
		if err != nil {
			return nil, err
		}
		img, err = mutate.Append(img,
			mutate.Addendum{Layer: baseLayer, History: v1.History{Created: created, CreatedBy: "dyvms-release: CA certificates, zone database, configuration, licence, /tmp"}},
			mutate.Addendum{Layer: binLayer, History: v1.History{Created: created, CreatedBy: "dyvms-release: " + ImageBinary + " (" + p + ") and its SBOM"}},
		)
		if err != nil {
			return nil, err
		}
		img = mutate.Annotations(img, labels).(v1.Image)
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: goos, Architecture: goarch}, Annotations: labels},
		})
	}
	return mutate.Annotations(idx, labels).(v1.ImageIndex), nil
}

// keychain: DYVMS_REGISTRY_USERNAME and DYVMS_REGISTRY_PASSWORD (the tag
// workflow passes the job's token) or else the usual docker/podman
// credential files.
func keychain() remote.Option {
	if u, p := os.Getenv("DYVMS_REGISTRY_USERNAME"), os.Getenv("DYVMS_REGISTRY_PASSWORD"); u != "" && p != "" {
		return remote.WithAuth(&authn.Basic{Username: u, Password: p})
	}
	return remote.WithAuthFromKeychain(authn.DefaultKeychain)
}

func nameOptions(o Options) []name.Option {
	if o.PlainHTTP {
		return []name.Option{name.Insecure, name.StrictValidation}
	}
	return []name.Option{name.StrictValidation}
}

func pushIndex(o Options, ref string, idx v1.ImageIndex) error {
	r, err := name.ParseReference(ref, nameOptions(o)...)
	if err != nil {
		return err
	}
	return remote.WriteIndex(r, idx, keychain())
}

// platformsOf lists an index's os/arch, sorted, for a check after a pull.
func platformsOf(idx v1.ImageIndex) ([]string, error) {
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range m.Manifests {
		if d.Platform != nil {
			out = append(out, d.Platform.OS+"/"+d.Platform.Architecture)
		}
	}
	sort.Strings(out)
	return out, nil
}

// RemotePlatforms fetches the index ref names and lists its platforms.
func RemotePlatforms(ref string, plainHTTP bool) ([]string, error) {
	opts := []name.Option{}
	if plainHTTP {
		opts = append(opts, name.Insecure)
	}
	r, err := name.ParseReference(ref, opts...)
	if err != nil {
		return nil, err
	}
	idx, err := remote.Index(r, keychain())
	if err != nil {
		return nil, err
	}
	return platformsOf(idx)
}
