package release

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// file is one entry of an archive or an image layer.
type file struct {
	name  string // slash-separated, relative
	mode  fs.FileMode
	data  []byte
	link  string // symbolic link target, for a link
	isDir bool
	uid   int
}

// ArchiveName is the Prometheus projects' name for a platform's archive,
// without the extension: dyvms_exporter-0.1.0.linux-amd64.
func ArchiveName(version, platform string) string {
	return Project + "-" + version + "." + strings.ReplaceAll(platform, "/", "-")
}

// archiveFiles are what an archive holds under its top directory: the
// binary, the licence, the notices and the example configuration.
func archiveFiles(repo, bin string) ([]file, error) {
	var files []file
	binData, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	files = append(files, file{name: filepath.Base(bin), mode: 0o755, data: binData})
	for _, name := range []string{"LICENSE", "NOTICE", "config.yml"} {
		data, err := os.ReadFile(filepath.Join(repo, name))
		if err != nil {
			return nil, fmt.Errorf("the archive needs %s: %w", name, err)
		}
		files = append(files, file{name: name, mode: 0o644, data: data})
	}
	return files, nil
}

// writeArchive writes the platform's .tar.gz (.zip for windows) and its
// SBOM beside it. Every entry has the commit's time, owner 0 and a fixed
// mode, so two runs on the same commit give the same bytes.
func writeArchive(repo, dist, platform, bin string, sbom []byte, s Source) (string, error) {
	files, err := archiveFiles(repo, bin)
	if err != nil {
		return "", err
	}
	top := ArchiveName(s.Version, platform)
	var buf bytes.Buffer
	ext := ".tar.gz"
	if strings.HasPrefix(platform, "windows/") {
		ext = ".zip"
		err = writeZip(&buf, top, files, s.CommitTime)
	} else {
		err = writeTarGz(&buf, top, files, s.CommitTime)
	}
	if err != nil {
		return "", err
	}
	path := filepath.Join(dist, top+ext)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dist, top+".spdx.json"), sbom, 0o644); err != nil {
		return "", err
	}
	return path, nil
}

func writeTarGz(w *bytes.Buffer, top string, files []file, mtime time.Time) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(zw)
	entries := append([]file{{name: top, isDir: true, mode: 0o755}}, prefixed(top, files)...)
	if err := writeTar(tw, entries, mtime); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}

func prefixed(top string, files []file) []file {
	out := make([]file, len(files))
	for i, f := range files {
		f.name = top + "/" + f.name
		out[i] = f
	}
	return out
}

// writeTar writes entries in name order with fixed metadata.
func writeTar(tw *tar.Writer, entries []file, mtime time.Time) error {
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	for _, f := range entries {
		hdr := &tar.Header{
			Name:    f.name,
			Mode:    int64(f.mode.Perm()),
			Uid:     f.uid,
			Gid:     f.uid,
			ModTime: mtime,
			Format:  tar.FormatPAX,
		}
		if f.mode&fs.ModeSticky != 0 {
			hdr.Mode = int64(f.mode.Perm()) | 0o1000
		}
		switch {
		case f.isDir:
			hdr.Typeflag = tar.TypeDir
			hdr.Name += "/"
		case f.link != "":
			hdr.Typeflag = tar.TypeSymlink
			hdr.Linkname = f.link
			hdr.Mode = 0o777
		default:
			hdr.Typeflag = tar.TypeReg
			hdr.Size = int64(len(f.data))
		}
		// PAX would record access and change times of its own; clear them.
		hdr.AccessTime, hdr.ChangeTime = time.Time{}, time.Time{}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if hdr.Typeflag == tar.TypeReg {
			if _, err := tw.Write(f.data); err != nil {
				return err
			}
		}
	}
	return nil
}

func writeZip(w *bytes.Buffer, top string, files []file, mtime time.Time) error {
	zw := zip.NewWriter(w)
	for _, f := range prefixed(top, files) {
		h := &zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: mtime}
		h.SetMode(f.mode)
		fw, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		if _, err := fw.Write(f.data); err != nil {
			return err
		}
	}
	return zw.Close()
}

// ChecksumsFile is the checksums file, in sha256sum's format.
const ChecksumsFile = "sha256sums.txt"

// writeChecksums lists the SHA-256 of every archive and SBOM, so that
// `sha256sum -c sha256sums.txt` checks a download.
func writeChecksums(dist string, s Source, archives []string) (string, error) {
	var names []string
	for _, a := range archives {
		names = append(names, filepath.Base(a))
		top := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(a), ".tar.gz"), ".zip")
		names = append(names, top+".spdx.json")
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(dist, n))
		if err != nil {
			return "", err
		}
		sum := sha256.Sum256(data)
		fmt.Fprintf(&b, "%s  %s\n", hex.EncodeToString(sum[:]), n)
	}
	path := filepath.Join(dist, ChecksumsFile)
	return path, os.WriteFile(path, []byte(b.String()), 0o644)
}
