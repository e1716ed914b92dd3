package main

import (
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestLegendName(t *testing.T) {
	labels := map[string]string{"__name__": "dyvms_task_channels", "task_id": "19", "enterprise_id": "7000002"}
	for format, want := range map[string]string{
		"{{task_id}} dialled":             "19 dialled",
		"{{ enterprise_id }}/{{task_id}}": "7000002/19",
		"{{cno}}":                         "",
		"":                                `dyvms_task_channels{enterprise_id="7000002", task_id="19"}`,
	} {
		if got := legendName(format, labels); got != want {
			t.Errorf("legendName(%q) = %q, want %q", format, got, want)
		}
	}
}

func TestStepFor(t *testing.T) {
	for d, want := range map[time.Duration]time.Duration{
		time.Minute:      2 * time.Second,
		12 * time.Minute: 3 * time.Second,
		4 * time.Hour:    time.Minute,
	} {
		if got := stepFor(d); got != want {
			t.Errorf("stepFor(%v) = %v, want %v", d, got, want)
		}
	}
}

// Up to 256 colours come through exactly; beyond, the rare ones take the
// nearest frequent colour.
func TestQuantize(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 300, 2))
	for x := 0; x < 300; x++ {
		img.Set(x, 0, color.RGBA{uint8(x % 256), 10, 20, 255})
		img.Set(x, 1, color.RGBA{200, 200, 200, 255})
	}
	p := quantize(img, 256)
	if len(p.Palette) != 256 {
		t.Fatalf("palette of %d colours", len(p.Palette))
	}
	if got := rgba(p.At(5, 1)); got != (color.RGBA{200, 200, 200, 255}) {
		t.Errorf("the most frequent colour became %v", got)
	}
	small := image.NewRGBA(image.Rect(0, 0, 3, 1))
	cs := []color.RGBA{{1, 2, 3, 255}, {250, 0, 0, 255}, {0, 0, 0, 0}}
	for x, c := range cs {
		small.Set(x, 0, c)
	}
	q := quantize(small, 256)
	for x, c := range cs {
		if got := rgba(q.At(x, 0)); got != c {
			t.Errorf("pixel %d: %v, want %v", x, got, c)
		}
	}
}

// The rule groups are evaluated at the scrape interval, and the
// configuration scrapes the exporter with both rule files.
func TestPrometheusConfig(t *testing.T) {
	dir := t.TempDir()
	p, err := prometheusConfig(dir, filepath.Join("..", ".."), "127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "127.0.0.1:1") || strings.Count(string(raw), ".yml") != 2 {
		t.Errorf("configuration:\n%s", raw)
	}
	rules, err := os.ReadFile(filepath.Join(dir, "dyvms.rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Groups []struct {
			Interval string `yaml:"interval"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(rules, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Groups) == 0 {
		t.Fatal("no groups")
	}
	for _, g := range doc.Groups {
		if g.Interval != scrape.String() {
			t.Errorf("group interval %q, want %s", g.Interval, scrape)
		}
	}
}
