package main

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

// instruction is one Dockerfile instruction with its continuation lines
// joined. No Docker daemon runs here, so the image's promises are checked
// on the Dockerfile's text.
type instruction struct {
	cmd  string
	args string
	line int
}

func parseDockerfile(text string) (stages [][]instruction, problems []string) {
	var cur strings.Builder
	start := 0
	flush := func() {
		s := strings.TrimSpace(cur.String())
		cur.Reset()
		if s == "" {
			return
		}
		cmd, args, _ := strings.Cut(s, " ")
		in := instruction{strings.ToUpper(cmd), strings.TrimSpace(args), start}
		if in.cmd == "FROM" {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			problems = append(problems, fmt.Sprintf("line %d: %s before the first FROM", start, in.cmd))
			return
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], in)
	}
	for i, l := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(l)
		if cur.Len() == 0 {
			if trimmed == "" || strings.HasPrefix(trimmed, "#") {
				continue
			}
			start = i + 1
		} else if strings.HasPrefix(trimmed, "#") {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		cur.WriteString(trimmed)
		flush()
	}
	flush()
	return stages, problems
}

func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range dockerfileProblems(string(data)) {
		t.Error(p)
	}
}

// dockerfileProblems lists every promise of the image the Dockerfile breaks.
func dockerfileProblems(text string) []string {
	stages, problems := parseDockerfile(text)
	errorf := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if len(stages) < 2 {
		errorf("want a multi-stage build, got %d stage(s)", len(stages))
		return problems
	}
	// Every base image fully qualified (registry/namespace/name): podman
	// and buildah refuse a short name unless a registry search list is
	// configured.
	names := map[string]bool{"scratch": true}
	for _, st := range stages {
		f := strings.Fields(st[0].args)
		var image string
		for _, w := range f {
			if !strings.HasPrefix(w, "--") {
				image = w
				break
			}
		}
		if !names[image] && !regexp.MustCompile(`^[a-z0-9.-]+\.[a-z]+(:[0-9]+)?/[^/]+/`).MatchString(image) {
			errorf("line %d: base image %q is not fully qualified (e.g. docker.io/library/golang:1.26)", st[0].line, image)
		}
		if len(f) >= 3 && strings.EqualFold(f[len(f)-2], "AS") {
			names[f[len(f)-1]] = true
		}
	}
	final := stages[len(stages)-1]
	var builds, exposes, users, copies, cmdLines []string
	for _, st := range stages[:len(stages)-1] {
		for _, in := range st {
			if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
				builds = append(builds, in.args)
			}
		}
	}
	for _, in := range final {
		switch in.cmd {
		case "EXPOSE":
			exposes = append(exposes, in.args)
		case "USER":
			users = append(users, in.args)
		case "COPY":
			copies = append(copies, in.args)
		case "CMD", "ENTRYPOINT":
			cmdLines = append(cmdLines, in.args)
		}
	}
	if len(builds) == 0 {
		errorf("no `go build` in a build stage")
	}
	for _, b := range builds {
		if !strings.Contains(b, "CGO_ENABLED=0") {
			errorf("go build without CGO_ENABLED=0 (binary would not be static): %s", b)
		}
	}
	if len(exposes) != 1 || strings.TrimSpace(exposes[0]) != "10681" {
		errorf("final stage EXPOSE = %q, want the default port 10681", exposes)
	}
	if len(users) == 0 {
		errorf("final stage has no USER: the exporter would run as root")
	} else if u := users[len(users)-1]; regexp.MustCompile(`^(root|0)(:|$)`).MatchString(u) {
		errorf("final stage runs as %q", u)
	}
	has := func(what, pattern string) {
		re := regexp.MustCompile(pattern)
		for _, c := range copies {
			if re.MatchString(c) {
				return
			}
		}
		errorf("final stage does not copy %s (no COPY matching %s)", what, pattern)
	}
	has("CA certificates", `ca-certificates`)
	has("the zone database", `zoneinfo`)
	has("the binary", `dyvms_exporter\b`)
	if !strings.Contains(strings.Join(cmdLines, " "), "--config.file=/etc/dyvms_exporter/config.yml") {
		errorf("CMD/ENTRYPOINT %q does not point at the documented config path /etc/dyvms_exporter/config.yml", cmdLines)
	}
	return problems
}

// The checker itself must fail on a Dockerfile that breaks the rules.
func TestDockerfileCheckerCatchesViolations(t *testing.T) {
	bad := "FROM golang AS b\nRUN go build -o /x .\nFROM debian\nCOPY --from=b /x /x\nEXPOSE 8080\nCMD [\"/x\"]\n"
	got := strings.Join(dockerfileProblems(bad), "\n")
	for _, want := range []string{"CGO_ENABLED=0", "no USER", "10681", "CA certificates", "zone database", "config path", `"golang" is not fully qualified`, `"debian" is not fully qualified`} {
		if !strings.Contains(got, want) {
			t.Errorf("checker did not report %q; it said:\n%s", want, got)
		}
	}
}
