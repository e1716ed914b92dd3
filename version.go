package main

import (
	_ "embed"

	"github.com/dyvms-community/dyvms_exporter/internal/buildversion"
)

// versionFile is the repository's VERSION file, the one source of the
// release version: a build that the release tooling did not stamp says
// "<VERSION>-devel" unless Go recorded a released module version.
//
//go:embed VERSION
var versionFile string

// init runs before run() reads the version for --version, the startup log,
// the User-Agent and dyvms_exporter_build_info.
func init() { buildversion.Fill(versionFile) }
