package release

import (
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// SBOM describes one platform's binary in SPDX 2.3 JSON: the exporter and
// every Go module linked into it, read back from the binary's own build
// information (what `go version -m` prints), so the list is what was
// built, not what go.mod allows. Deterministic: its times are the commit's.
func SBOM(bin string, s Source, platform string) ([]byte, error) {
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		return nil, fmt.Errorf("reading the build information of %s: %w", bin, err)
	}
	type extRef struct {
		Category string `json:"referenceCategory"`
		Type     string `json:"referenceType"`
		Locator  string `json:"referenceLocator"`
	}
	type pkg struct {
		Name             string   `json:"name"`
		SPDXID           string   `json:"SPDXID"`
		Version          string   `json:"versionInfo"`
		Supplier         string   `json:"supplier,omitempty"`
		DownloadLocation string   `json:"downloadLocation"`
		FilesAnalyzed    bool     `json:"filesAnalyzed"`
		LicenseConcluded string   `json:"licenseConcluded"`
		LicenseDeclared  string   `json:"licenseDeclared"`
		Copyright        string   `json:"copyrightText"`
		ExternalRefs     []extRef `json:"externalRefs,omitempty"`
	}
	type rel struct {
		Element string `json:"spdxElementId"`
		Type    string `json:"relationshipType"`
		Related string `json:"relatedSpdxElement"`
	}
	id := func(path string) string {
		return "SPDXRef-Package-" + regexp.MustCompile(`[^A-Za-z0-9.-]+`).ReplaceAllString(path, "-")
	}
	purl := func(path, version string) string { return "pkg:golang/" + path + "@" + version }
	root := pkg{
		Name: Project, SPDXID: id(modulePath), Version: s.Version,
		Supplier:         "Organization: dyvms-community",
		DownloadLocation: "git+" + SourceURL + "@" + s.Tag,
		LicenseConcluded: Licence, LicenseDeclared: Licence, Copyright: "NOASSERTION",
		ExternalRefs: []extRef{{"PACKAGE-MANAGER", "purl", purl(modulePath, s.Tag)}},
	}
	pkgs := []pkg{root}
	rels := []rel{{"SPDXRef-DOCUMENT", "DESCRIBES", root.SPDXID}}
	for _, d := range bi.Deps {
		m := d
		if d.Replace != nil {
			m = d.Replace
		}
		p := pkg{
			Name: m.Path, SPDXID: id(m.Path), Version: m.Version,
			DownloadLocation: "https://proxy.golang.org/" + strings.ToLower(m.Path) + "/@v/" + m.Version + ".zip",
			LicenseConcluded: "NOASSERTION", LicenseDeclared: "NOASSERTION", Copyright: "NOASSERTION",
			ExternalRefs: []extRef{{"PACKAGE-MANAGER", "purl", purl(m.Path, m.Version)}},
		}
		if h, ok := strings.CutPrefix(m.Sum, "h1:"); ok {
			// The go.sum hash (SHA-256 of the module's file list), which
			// SPDX has no algorithm name for: keep it as a comment-free
			// external reference rather than mislabel it.
			p.ExternalRefs = append(p.ExternalRefs, extRef{"OTHER", "go-module-sum", "h1:" + h})
		}
		pkgs = append(pkgs, p)
		rels = append(rels, rel{root.SPDXID, "DEPENDS_ON", p.SPDXID})
	}
	doc := map[string]any{
		"spdxVersion":       "SPDX-2.3",
		"dataLicense":       "CC0-1.0",
		"SPDXID":            "SPDXRef-DOCUMENT",
		"name":              ArchiveName(s.Version, platform),
		"documentNamespace": SourceURL + "/releases/" + s.Tag + "/" + ArchiveName(s.Version, platform) + ".spdx.json#" + s.Revision,
		"creationInfo": map[string]any{
			"created":  s.CommitTime.UTC().Format(time.RFC3339),
			"creators": []string{"Tool: dyvms-release", "Organization: dyvms-community"},
			"comment":  "Go " + bi.GoVersion + ", " + platform + ", built from " + s.Revision,
		},
		"packages":      pkgs,
		"relationships": rels,
	}
	return json.MarshalIndent(doc, "", "  ")
}
