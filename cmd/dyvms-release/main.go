// Command dyvms-release builds a release of dyvms_exporter from a clean
// checkout whose tag matches VERSION (archives, checksums, SBOMs, a
// multi-architecture image, the packaged chart) and, with --push, pushes
// image and chart to an OCI registry. See docs/release.md.
//
// Run from the repository root:
//
//	go run ./cmd/dyvms-release --tag v0.1.0 --push
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/alecthomas/kingpin/v2"

	"github.com/dyvms-community/dyvms_exporter/internal/release"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	d := release.Defaults()
	app := kingpin.New("dyvms-release", "Build (and with --push publish) a release of dyvms_exporter.")
	app.UsageWriter(os.Stdout)
	app.HelpFlag.Short('h')
	o := d
	app.Flag("repo", "Git checkout to release.").Default(d.Repo).StringVar(&o.Repo)
	app.Flag("tag", "Release tag, v<VERSION>; default: the tag at HEAD ($GITHUB_REF_NAME on a tag workflow).").Envar("DYVMS_RELEASE_TAG").StringVar(&o.Tag)
	app.Flag("dist", "Output directory (archives, checksums, SBOMs, chart).").Default(d.Dist).StringVar(&o.Dist)
	platforms := app.Flag("platforms", "Archive platforms, GOOS/GOARCH, comma-separated.").Default(strings.Join(d.Platforms, ",")).String()
	imagePlatforms := app.Flag("image-platforms", "Image platforms, comma-separated (linux, among --platforms).").Default(strings.Join(d.ImagePlatforms, ",")).String()
	app.Flag("registry", "OCI registry host[:port] for image and chart.").Default(d.Registry).StringVar(&o.Registry)
	app.Flag("image", "Image repository in the registry.").Default(d.ImageRepo).StringVar(&o.ImageRepo)
	app.Flag("charts", "Chart namespace in the registry (oci://REGISTRY/CHARTS/<chart>).").Default(d.ChartRepo).StringVar(&o.ChartRepo)
	app.Flag("chart-dir", "The chart, relative to --repo.").Default(d.ChartDir).StringVar(&o.ChartDir)
	app.Flag("helm", "helm binary.").Default(d.Helm).Envar("DYVMS_HELM").StringVar(&o.Helm)
	app.Flag("plain-http", "Talk plain HTTP to the registry (a test registry on loopback).").BoolVar(&o.PlainHTTP)
	app.Flag("push", "Push image and chart (without it, only --dist is written).").BoolVar(&o.Push)
	app.Flag("archives-only", "Stop after the archives and checksums.").BoolVar(&o.ArchivesOnly)
	app.Flag("ca-certs", "CA bundle to put in the image.").Default(d.CACerts).StringVar(&o.CACerts)
	app.Flag("zoneinfo", "Zone database directory to put in the image.").Default(d.ZoneInfo).StringVar(&o.ZoneInfo)
	if _, err := app.Parse(args); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if o.Tag == "" && os.Getenv("GITHUB_REF_TYPE") == "tag" {
		o.Tag = os.Getenv("GITHUB_REF_NAME")
	}
	o.Platforms = split(*platforms)
	o.ImagePlatforms = split(*imagePlatforms)
	o.Log = os.Stderr
	res, err := release.Run(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dyvms-release:", err)
		return 1
	}
	for _, a := range res.Archives {
		fmt.Println(a)
	}
	fmt.Println(res.Checksums)
	if res.ImageRef != "" {
		fmt.Printf("image %s@%s\n", res.ImageRef, res.ImageDigest)
	}
	if res.Chart != "" {
		fmt.Printf("chart %s\n", res.Chart)
	}
	return 0
}

func split(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
