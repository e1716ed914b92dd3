package main

// The documentation as a whole: every relative link and anchor of every
// Markdown file resolves, and each Chinese page names the same keys, flags
// and metrics as its English page.

import (
	"encoding/json"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
	"github.com/dyvms-community/dyvms_exporter/config"
)

// markdownFiles lists every .md file of the repository, as slash paths from
// its top, leaving out version control and downloaded packages.
func markdownFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".md") {
			files = append(files, filepath.ToSlash(p))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 10 {
		t.Fatalf("only %d Markdown files found: %v", len(files), files)
	}
	return files
}

var (
	fence      = regexp.MustCompile("(?ms)^ {0,3}(```|~~~).*?^ {0,3}(```|~~~)[^\\n]*$")
	codeSpan   = regexp.MustCompile("`+[^`]*`+")
	inlineLink = regexp.MustCompile(`!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)`)
	refLink    = regexp.MustCompile(`(?m)^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)`)
	htmlLink   = regexp.MustCompile(`(?i)<(?:a|img)\s[^>]*?(?:href|src)="([^"]+)"`)
	htmlAnchor = regexp.MustCompile(`(?i)<a\s[^>]*?(?:id|name)="([^"]+)"`)
	scheme     = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
)

// withoutCode blanks fenced blocks and code spans, where brackets are not
// links.
func withoutCode(doc string) string {
	doc = fence.ReplaceAllStringFunc(doc, func(s string) string { return strings.Repeat("\n", strings.Count(s, "\n")) })
	return codeSpan.ReplaceAllString(doc, "code")
}

// headingText is what GitHub renders of a heading's Markdown: code spans
// keep their text, links their label, emphasis markers go.
func headingText(h string) string {
	h = strings.ReplaceAll(h, "`", "")
	h = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`).ReplaceAllString(h, "$1")
	h = strings.ReplaceAll(h, "**", "")
	h = strings.ReplaceAll(h, "*", "")
	return strings.TrimSpace(strings.TrimRight(strings.TrimSpace(h), "#"))
}

// githubSlug is GitHub's anchor for a heading's text: lower case, letters,
// digits, marks, "_" and "-" kept, spaces turned into "-", everything else
// (punctuation, symbols) dropped.
func githubSlug(text string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), unicode.IsMark(r), r == '_', r == '-':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

// anchors returns the anchors a Markdown document has: one per heading
// (repeated headings get -1, -2, ... as on GitHub) and the HTML ids.
func anchors(doc string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	plain := fence.ReplaceAllStringFunc(doc, func(s string) string { return strings.Repeat("\n", strings.Count(s, "\n")) })
	for _, line := range strings.Split(plain, "\n") {
		m := regexp.MustCompile(`^ {0,3}#{1,6}\s+(.*)$`).FindStringSubmatch(line)
		if m == nil {
			continue
		}
		slug := githubSlug(headingText(m[1]))
		if n := seen[slug]; n > 0 {
			out[slug+"-"+strconv.Itoa(n)] = true
		} else {
			out[slug] = true
		}
		seen[slug]++
	}
	for _, m := range htmlAnchor.FindAllStringSubmatch(plain, -1) {
		out[m[1]] = true
	}
	return out
}

func TestGitHubSlug(t *testing.T) {
	for in, want := range map[string]string{
		"Setup 2: N Prometheus servers share the tasks through `/sd` and `/probe`": "setup-2-n-prometheus-servers-share-the-tasks-through-sd-and-probe",
		"Kubernetes (Helm)":             "kubernetes-helm",
		"The alerts' job selector":      "the-alerts-job-selector",
		"Default port: 10681":           "default-port-10681",
		"ids 从哪里来：`enterprise_id`":      "ids-从哪里来enterprise_id",
		"[Linked](x.md) **bold** title": "linked-bold-title",
	} {
		if got := githubSlug(headingText(in)); got != want {
			t.Errorf("slug of %q = %q, want %q", in, got, want)
		}
	}
	got := anchors("# A\n\n## A\n\n```\n# not a heading\n```\n### A\n<a id=\"here\"></a>\n")
	want := map[string]bool{"a": true, "a-1": true, "a-2": true, "here": true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("anchors = %v, want %v", got, want)
	}
}

// Every relative link of every Markdown file names a file or directory of
// the repository, and every anchor a heading (or HTML id) of its target.
func TestMarkdownLinks(t *testing.T) {
	files := markdownFiles(t)
	docs := map[string]string{}
	for _, f := range files {
		docs[f] = readDoc(t, f)
	}
	checked := 0
	for _, f := range files {
		text := withoutCode(docs[f])
		var targets []string
		for _, re := range []*regexp.Regexp{inlineLink, refLink, htmlLink} {
			for _, m := range re.FindAllStringSubmatch(text, -1) {
				targets = append(targets, m[1])
			}
		}
		for _, target := range targets {
			if scheme.MatchString(target) || strings.HasPrefix(target, "//") {
				continue
			}
			checked++
			p, frag, _ := strings.Cut(target, "#")
			if unescaped, err := url.PathUnescape(p); err == nil {
				p = unescaped
			}
			dest := f
			if p != "" {
				if strings.HasPrefix(p, "/") {
					dest = path.Clean(strings.TrimPrefix(p, "/"))
				} else {
					dest = path.Clean(path.Join(path.Dir(f), p))
				}
				if _, err := os.Stat(filepath.FromSlash(dest)); err != nil {
					t.Errorf("%s: link %q: %s does not exist", f, target, dest)
					continue
				}
			}
			if frag == "" || !strings.HasSuffix(dest, ".md") {
				continue
			}
			doc, ok := docs[dest]
			if !ok {
				doc = readDoc(t, dest)
			}
			if !anchors(doc)[frag] {
				t.Errorf("%s: link %q: %s has no heading with anchor #%s", f, target, dest, frag)
			}
		}
	}
	if checked < 100 {
		t.Errorf("only %d relative links checked; is the link pattern broken?", checked)
	}
}

// codeTokens returns the text of a document's code (spans and fenced
// blocks), with the comments of fenced blocks left out: those are prose,
// translated with the page.
func codeTokens(doc string) string {
	var b strings.Builder
	for _, block := range fence.FindAllString(doc, -1) {
		for _, line := range strings.Split(block, "\n") {
			if i := strings.Index(line, "#"); i >= 0 && (i == 0 || line[i-1] == ' ') {
				line = line[:i]
			}
			b.WriteString(line + "\n")
		}
	}
	for _, span := range codeSpan.FindAllString(fence.ReplaceAllString(doc, ""), -1) {
		b.WriteString(span + "\n")
	}
	return b.String()
}

var (
	flagToken   = regexp.MustCompile(`(?:^|[\s"'(=\[,])(--[a-z][a-z0-9.-]*[a-z0-9])`)
	metricToken = regexp.MustCompile(`\bdyvms[_:][A-Za-z0-9_:]*[A-Za-z0-9]`)
	wordToken   = regexp.MustCompile(`[a-z][a-z0-9_]*`)
)

// namedInCode returns the configuration keys, flags and metric (and rule,
// and RAM action) names a document names in its code.
func namedInCode(doc string, keys map[string]bool) map[string]bool {
	code := codeTokens(doc)
	out := map[string]bool{}
	for _, m := range flagToken.FindAllStringSubmatch(code, -1) {
		out[m[1]] = true
	}
	for _, m := range metricToken.FindAllString(code, -1) {
		out[m] = true
	}
	for _, w := range wordToken.FindAllString(metricToken.ReplaceAllString(code, " "), -1) {
		if keys[w] {
			out[w] = true
		}
	}
	return out
}

// Each Chinese page (README.zh-CN.md, docs/zh-CN/...) names, in its code,
// exactly the configuration keys, flags and metric names its English page
// names, so that the two cannot drift apart silently; the pages an on-call
// engineer needs exist in Chinese.
func TestChinesePagesMatchEnglish(t *testing.T) {
	all := map[string]bool{}
	configKeys(reflect.TypeOf(config.Config{}), "", all)
	keys := map[string]bool{}
	for k := range all {
		for _, part := range strings.FieldsFunc(k, func(r rune) bool { return r == '.' || r == '[' || r == ']' }) {
			keys[part] = true
		}
	}
	pairs := map[string]string{}
	for _, f := range markdownFiles(t) {
		if rest, ok := strings.CutPrefix(f, "docs/zh-CN/"); ok {
			pairs[f] = "docs/" + rest
		} else if f == "README.zh-CN.md" {
			pairs[f] = "README.md"
		}
	}
	required := []string{"README.zh-CN.md", "docs/zh-CN/install.md", "docs/zh-CN/quickstart.md", "docs/zh-CN/essential-configuration.md", "docs/zh-CN/ram-policy.md"}
	runbooks, err := filepath.Glob(filepath.Join("docs", "runbooks", "*.md"))
	if err != nil || len(runbooks) == 0 {
		t.Fatalf("no runbooks in docs/runbooks (%v)", err)
	}
	for _, r := range runbooks {
		required = append(required, "docs/zh-CN/runbooks/"+filepath.Base(r))
	}
	for _, f := range required {
		if _, ok := pairs[f]; !ok {
			t.Errorf("%s is missing: the Chinese page of %s", f, strings.Replace(f, "zh-CN/", "", 1))
		}
	}
	for zh, en := range pairs {
		enDoc, err := os.ReadFile(filepath.FromSlash(en))
		if err != nil {
			t.Errorf("%s has no English page %s: %v", zh, en, err)
			continue
		}
		want, got := namedInCode(string(enDoc), keys), namedInCode(readDoc(t, zh), keys)
		var missing, extra []string
		for n := range want {
			if !got[n] {
				missing = append(missing, n)
			}
		}
		for n := range got {
			if !want[n] {
				extra = append(extra, n)
			}
		}
		sort.Strings(missing)
		sort.Strings(extra)
		if len(missing) > 0 {
			t.Errorf("%s does not name, in code, what %s names: %v", zh, en, missing)
		}
		if len(extra) > 0 {
			t.Errorf("%s names, in code, what %s does not: %v", zh, en, extra)
		}
	}
}

// The RAM policy of docs/ram-policy.md allows exactly the operations the
// client calls, each as dyvms:<Operation>, and its table says what each is
// for: an operation added to the client without a line in the policy would
// fail with Forbidden.RAM for everyone who copied it.
func TestRAMPolicyAllowsEveryOperation(t *testing.T) {
	const page = "docs/ram-policy.md"
	doc := readDoc(t, page)
	_, rest, ok := strings.Cut(doc, "```json\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatalf("%s has no JSON block", page)
	}
	var policy struct {
		Version   string
		Statement []struct {
			Effect   string
			Action   []string
			Resource string
		}
	}
	if err := json.Unmarshal([]byte(block), &policy); err != nil {
		t.Fatalf("%s: the policy is not JSON: %v", page, err)
	}
	if policy.Version != "1" || len(policy.Statement) != 1 || policy.Statement[0].Effect != "Allow" {
		t.Fatalf("%s: want one Allow statement of version 1, got %+v", page, policy)
	}
	var want []string
	for _, op := range apiclient.Operations() {
		want = append(want, "dyvms:"+op)
	}
	got := append([]string(nil), policy.Statement[0].Action...)
	sort.Strings(want)
	sort.Strings(got)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s allows %v; the client calls %v", page, got, want)
	}
	for _, a := range want {
		if !strings.Contains(doc, "| `"+a+"` |") {
			t.Errorf("%s: the table has no row for %s", page, a)
		}
	}
}

// The documentation never names a path of the machine it was written on
// (a home or work directory): readers have their own.
func TestDocsNameNoMachinePaths(t *testing.T) {
	machine := regexp.MustCompile(`(^|[\s("'=])/(work|root|home/[a-z_][a-z0-9_-]*)/`)
	for _, f := range markdownFiles(t) {
		for i, line := range strings.Split(readDoc(t, f), "\n") {
			if machine.MatchString(line) {
				t.Errorf("%s:%d names a path of the build machine: %s", f, i+1, line)
			}
		}
	}
}

// The layout table of docs/development.md names every package, so that a
// new package cannot land without saying what it owns.
func TestLayoutNamesEveryPackage(t *testing.T) {
	raw, err := os.ReadFile("docs/development.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	start := strings.Index(doc, "## Layout\n")
	if start < 0 {
		t.Fatal("docs/development.md has no ## Layout section")
	}
	section := doc[start:]
	if end := strings.Index(section[len("## Layout\n"):], "\n## "); end >= 0 {
		section = section[:len("## Layout\n")+end]
	}
	out, err := exec.Command("go", "list", "-f", "{{.Dir}}", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range strings.Fields(string(out)) {
		rel, err := filepath.Rel(root, dir)
		if err != nil || rel == "." {
			continue
		}
		if name := "`" + filepath.ToSlash(rel) + "/`"; !strings.Contains(section, name) {
			t.Errorf("the layout of docs/development.md does not name %s", name)
		}
	}
}
