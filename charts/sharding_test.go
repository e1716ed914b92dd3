package charts

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"
	"gopkg.in/yaml.v3"
)

// operatorShardRelabel is what the Prometheus Operator appends to every
// ServiceMonitor and ScrapeConfig job of a Prometheus resource with shards
// (the $(SHARD) of each shard's pod filled in): __tmp_hash defaults to the
// address, is hashed modulo the number of shards, and each shard keeps its
// own (see the operator's Prometheus.spec.shards documentation: "Users can
// define their own sharding implementation by setting the __tmp_hash
// label").
func operatorShardRelabel(shards, shard int) []*relabel.Config {
	return []*relabel.Config{
		{SourceLabels: model.LabelNames{"__address__", "__tmp_hash"}, TargetLabel: "__tmp_hash",
			Regex: relabel.MustNewRegexp("(.+);"), Replacement: "$1", Separator: ";", Action: relabel.Replace},
		{SourceLabels: model.LabelNames{"__tmp_hash"}, TargetLabel: "__tmp_hash", Modulus: uint64(shards),
			Separator: ";", Action: relabel.HashMod},
		{SourceLabels: model.LabelNames{"__tmp_hash", "__tmp_disable_sharding"},
			Regex: relabel.MustNewRegexp(strconv.Itoa(shard) + ";|.+;.+"), Separator: ";", Action: relabel.Keep},
	}
}

// fromOperator converts the ScrapeConfig's relabelings the way the
// operator writes them into Prometheus' configuration.
func fromOperator(t *testing.T, rcs []monitoringv1.RelabelConfig) []*relabel.Config {
	t.Helper()
	var out []*relabel.Config
	for _, rc := range rcs {
		c := relabel.DefaultRelabelConfig
		for _, l := range rc.SourceLabels {
			c.SourceLabels = append(c.SourceLabels, model.LabelName(l))
		}
		if rc.Separator != nil {
			c.Separator = *rc.Separator
		}
		c.TargetLabel = rc.TargetLabel
		if rc.Regex != "" {
			c.Regex = relabel.MustNewRegexp(rc.Regex)
		}
		c.Modulus = uint64(rc.Modulus)
		if rc.Replacement != nil {
			c.Replacement = *rc.Replacement
		}
		if rc.Action != "" {
			c.Action = relabel.Action(strings.ToLower(rc.Action))
		}
		if err := c.Validate(model.UTF8Validation); err != nil {
			t.Fatalf("relabeling %+v: %v", rc, err)
		}
		out = append(out, &c)
	}
	return out
}

// readmeSetup2 returns the relabel_configs of the README's Setup 2 (the
// sharded setup without the operator), for the given shard: the first yaml
// block with a hashmod rule in README.md, or in docs/sharding.md should the
// setup move there.
func readmeSetup2(t *testing.T, shards, shard int) []*relabel.Config {
	t.Helper()
	var block string
	for _, f := range []string{"README.md", filepath.Join("docs", "sharding.md")} {
		b, err := os.ReadFile(filepath.Join("..", f))
		if err != nil {
			continue
		}
		for _, part := range strings.Split(string(b), "```yaml\n")[1:] {
			if code, _, ok := strings.Cut(part, "```"); ok && strings.Contains(code, "action: hashmod") {
				block = code
				break
			}
		}
		if block != "" {
			break
		}
	}
	if block == "" {
		t.Fatal("neither README.md nor docs/sharding.md has a yaml block with a hashmod rule (Setup 2)")
	}
	var doc struct {
		ScrapeConfigs []struct {
			RelabelConfigs []*relabel.Config `yaml:"relabel_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal([]byte(block), &doc); err != nil || len(doc.ScrapeConfigs) != 1 {
		t.Fatalf("README.md Setup 2: %v (%d scrape configs)", err, len(doc.ScrapeConfigs))
	}
	rcs := doc.ScrapeConfigs[0].RelabelConfigs
	var hashmods, keeps int
	for _, rc := range rcs {
		switch rc.Action {
		case relabel.HashMod:
			rc.Modulus = uint64(shards)
			hashmods++
		case relabel.Keep:
			rc.Regex = relabel.MustNewRegexp(strconv.Itoa(shard))
			keeps++
		}
		if err := rc.Validate(model.UTF8Validation); err != nil {
			t.Fatal(err)
		}
	}
	if hashmods != 1 || keeps != 1 {
		t.Fatalf("README.md Setup 2: %d hashmod and %d keep rules, want one each", hashmods, keeps)
	}
	return rcs
}

// checkSharding proves that the ScrapeConfig under an operator-sharded
// Prometheus splits the tasks exactly as the README's Setup 2 does: each
// task on the same shard, every task on one shard, for several shard
// counts. The targets are what /sd lists: one address, one task each.
func checkSharding(t *testing.T, rcs []monitoringv1.RelabelConfig) {
	t.Helper()
	chart := fromOperator(t, rcs)
	var targets []labels.Labels
	for ent := 7000001; ent <= 7000003; ent++ {
		for task := 1; task <= 40; task++ {
			e, k := strconv.Itoa(ent), strconv.Itoa(task)
			targets = append(targets, labels.FromStrings("__address__", "dyvms.monitoring.svc:10681",
				"__metrics_path__", "/probe", "__param_enterprise_id", e, "__param_task_id", k,
				"enterprise_id", e, "task_id", k))
		}
	}
	keeps := func(t *testing.T, lbls labels.Labels, cfgs []*relabel.Config) bool {
		t.Helper()
		b := labels.NewBuilder(lbls)
		return relabel.ProcessBuilder(b, cfgs...)
	}
	for _, shards := range []int{1, 2, 3, 5} {
		owner := map[string]int{}
		for shard := range shards {
			readme := readmeSetup2(t, shards, shard)
			operator := slices.Concat(chart, operatorShardRelabel(shards, shard))
			for _, tg := range targets {
				id := tg.Get("enterprise_id") + "/" + tg.Get("task_id")
				inReadme, inChart := keeps(t, tg, readme), keeps(t, tg, operator)
				if inReadme != inChart {
					t.Fatalf("%d shards, shard %d: task %s kept by the README's setup %v, by the chart under the operator %v", shards, shard, id, inReadme, inChart)
				}
				if inChart {
					if prev, dup := owner[id]; dup {
						t.Fatalf("%d shards: task %s on shards %d and %d", shards, id, prev, shard)
					}
					owner[id] = shard
				}
			}
		}
		if len(owner) != len(targets) {
			t.Errorf("%d shards: %d of %d tasks scraped", shards, len(owner), len(targets))
		}
		per := make([]int, shards)
		for _, s := range owner {
			per[s]++
		}
		t.Logf("%d shards: tasks per shard %v", shards, fmt.Sprint(per))
	}
}
