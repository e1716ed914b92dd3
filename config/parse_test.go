package config

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// parseErr parses src and returns its problems one per line, or "" when it
// loads.
func parseErr(t *testing.T, src string) string {
	t.Helper()
	return parseErrAt(t, "c.yml", src)
}

// parseErrAt is parseErr for a file named file.
func parseErrAt(t *testing.T, file, src string) string {
	t.Helper()
	_, err := Parse([]byte(src), file)
	if err == nil {
		return ""
	}
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("not a *config.Error: %v", err)
	}
	return err.Error()
}

// A quoted id is what tools that write YAML for ids above 2^53 produce (a
// JSON or Helm float would change the id), so it is read as the number.
func TestQuotedIDsAreNumbers(t *testing.T) {
	const src = `tasks:
  - enterprise_id: "7000002"
    task_id: "19"
  - {enterprise_id: '7000002', task_id: "9007199254740993"}
  - enterprise_id: 7000002
    task_id:   "9223372036854775807"   # int64's largest
discovery:
  - enterprise_id: "8000001"
    types: [1]
call_records:
  - enterprise_id: "9007199254740995"
accounts:
  - name: client-b
    enterprises: ["9007199254740997", 7000004]
    credentials: {access_key_id: id, access_key_secret: secret}
`
	cfg, err := Parse([]byte(src), "c.yml")
	if err != nil {
		t.Fatal(err)
	}
	want := []Task{{7000002, 19}, {7000002, 9007199254740993}, {7000002, 9223372036854775807}}
	if len(cfg.Tasks) != len(want) {
		t.Fatalf("tasks %v, want %v", cfg.Tasks, want)
	}
	for i := range want {
		if cfg.Tasks[i] != want[i] {
			t.Errorf("tasks[%d] = %+v, want %+v", i, cfg.Tasks[i], want[i])
		}
	}
	if len(cfg.Discovery) != 1 || cfg.Discovery[0].EnterpriseID != 8000001 {
		t.Errorf("discovery = %+v, want enterprise 8000001", cfg.Discovery)
	}
	if len(cfg.CallRecords) != 1 || cfg.CallRecords[0].EnterpriseID != 9007199254740995 {
		t.Errorf("call_records = %+v, want enterprise 9007199254740995", cfg.CallRecords)
	}
	if len(cfg.Accounts) != 1 || len(cfg.Accounts[0].Enterprises) != 2 || cfg.Accounts[0].Enterprises[0] != 9007199254740997 || cfg.Accounts[0].Enterprises[1] != 7000004 {
		t.Errorf("accounts = %+v, want enterprises [9007199254740997 7000004]", cfg.Accounts)
	}
}

// A quoted id is still judged like any id: a repeated task is a repeated
// task whether one of them is quoted or not.
func TestQuotedIDDuplicate(t *testing.T) {
	got := parseErr(t, "tasks:\n  - {enterprise_id: 7, task_id: 19}\n  - {enterprise_id: 7, task_id: \"19\"}\n")
	want := "c.yml:3: tasks[1].task_id: duplicate task (enterprise_id 7, task_id 19), first listed at line 2"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// Anything else in an id field says what an id looks like.
func TestIDMessages(t *testing.T) {
	for _, c := range []struct{ name, value, want string }{
		{"word", `abc`, `c.yml:2: tasks[0].task_id: must be an id: decimal digits, such as 19 (quoted or not), got "abc"`},
		{"quoted word", `"abc"`, `c.yml:2: tasks[0].task_id: must be an id: decimal digits, such as 19 (quoted or not), got "abc"`},
		{"spaces", `" 19"`, `c.yml:2: tasks[0].task_id: must be an id: decimal digits, such as 19 (quoted or not), got " 19"`},
		{"leading zero quoted", `"019"`, `c.yml:2: tasks[0].task_id: must be an id: decimal digits without a leading 0, such as 19, got "019"`},
		{"octal looking", `017`, `c.yml:2: tasks[0].task_id: must be an id: decimal digits without a leading 0, such as 19 (017 would be read as 15), got 017`},
		{"hex", `0x13`, `c.yml:2: tasks[0].task_id: must be an id: decimal digits, such as 19 (0x13 would be read as 19), got 0x13`},
		{"underscore", `1_9`, `c.yml:2: tasks[0].task_id: must be an id: decimal digits, such as 19 (1_9 would be read as 19), got 1_9`},
		{"too big quoted", `"9223372036854775808"`, `c.yml:2: tasks[0].task_id: must be an id: decimal digits, such as 19, at most 9223372036854775807, got "9223372036854775808"`},
		{"float", `19.5`, `c.yml:2: tasks[0].task_id: must be an id: decimal digits, such as 19 (quoted or not), got 19.5`},
		{"negative quoted", `"-4"`, `c.yml:2: tasks[0].task_id: must be an id: decimal digits, such as 19 (quoted or not), got "-4"`},
		{"tagged", `!!str 19`, `c.yml:2: tasks[0].task_id: must be an id: write it as digits only, such as 19 or "19" (escapes, anchors and tags are not read as an id)`},
		{"anchored", `&a "19"`, `c.yml:2: tasks[0].task_id: must be an id: write it as digits only, such as 19 or "19" (escapes, anchors and tags are not read as an id)`},
		{"escaped", `"\x31\x39"`, `c.yml:2: tasks[0].task_id: must be an id: write it as digits only, such as 19 or "19" (escapes, anchors and tags are not read as an id)`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := parseErr(t, "tasks:\n  - task_id: "+c.value+"\n    enterprise_id: 7\n")
			if got != c.want {
				t.Errorf("got\n%s\nwant\n%s", got, c.want)
			}
		})
	}
}

// An id inside a quoted string in a comment or another field is left
// alone: only the id field's own scalar is read as a number.
func TestQuotedIDOnlyInIDFields(t *testing.T) {
	cfg, err := Parse([]byte("timezone: \"UTC\" # \"19\"\ntasks:\n  - {task_id: \"19\", enterprise_id: \"7\"}\n"), "c.yml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Timezone != "UTC" || cfg.Tasks[0] != (Task{7, 19}) {
		t.Errorf("got timezone %q, tasks %+v", cfg.Timezone, cfg.Tasks)
	}
	if !strings.Contains(parseErr(t, "timezone: 19\ntasks:\n  - {task_id: 19, enterprise_id: 7}\n"), "timezone") {
		t.Error("an unquoted number as timezone was not refused")
	}
}

// FuzzQuotedID: a quoted id is either read as exactly the number its
// digits spell or refused at its own line and field; never read as
// another number.
func FuzzQuotedID(f *testing.F) {
	for _, s := range []string{"19", "9007199254740993", "019", "1_9", "0x13", "-4", " 19", "19 ", "9223372036854775808", "", "１９"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, id string, double bool) {
		var quoted string
		if double {
			quoted = strconv.Quote(id)
		} else {
			quoted = "'" + strings.ReplaceAll(id, "'", "''") + "'"
		}
		src := "tasks:\n  - enterprise_id: 7\n    task_id: " + quoted + "\n"
		if strings.ContainsAny(quoted, "\n\r") {
			return
		}
		cfg, err := Parse([]byte(src), "c.yml")
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("not a config.Error: %v", err)
			}
			for _, p := range ce.Problems {
				if p.Field != "" && p.Field != "tasks[0].task_id" && p.Field != "tasks[0]" {
					t.Fatalf("%s: problem elsewhere: %v", src, p)
				}
			}
			return
		}
		if got := strconv.FormatInt(cfg.Tasks[0].TaskID, 10); got != id {
			t.Fatalf("%s read as task %s", src, got)
		}
	})
}

// An indentation mistake is reported at the line that has it. yaml.v3 names
// the line where the enclosing block starts (and counts it from 0), which
// in a list of thousands of tasks is no help at all.
func TestIndentationErrorLine(t *testing.T) {
	for _, c := range []struct{ name, src, want string }{
		{"item key under-indented", "tasks:\n  - enterprise_id: 7\n   task_id: 19\n",
			"c.yml:3: invalid YAML: did not find expected '-' indicator; check the indentation of this line against the lines above it"},
		{"item key at the dash", "tasks:\n  - enterprise_id: 7\n  task_id: 19\n",
			"c.yml:3: invalid YAML: did not find expected '-' indicator; check the indentation of this line against the lines above it"},
		{"later item", "tasks:\n  - enterprise_id: 7\n    task_id: 19\n  - enterprise_id: 7\n    task_id: 20\n   - enterprise_id: 8\n    task_id: 1\n",
			"c.yml:6: invalid YAML: did not find expected '-' indicator; check the indentation of this line against the lines above it"},
		{"mapping key", "api:\n  burst: 2\n concurrency: 3\ntasks:\n  - enterprise_id: 7\n    task_id: 19\n",
			"c.yml:3: invalid YAML: did not find expected key; check the indentation of this line against the lines above it"},
		{"over-indented key", "tasks:\n  - enterprise_id: 7\n     task_id: 19\n",
			"c.yml:3: invalid YAML: mapping values are not allowed in this context; check the indentation of this line against the lines above it"},
		{"tab", "credentials:\n  access_key_id: x\n\taccess_key_secret: y\ntasks:\n  - enterprise_id: 7\n    task_id: 19\n",
			"c.yml:3: invalid YAML: found a tab character that violates indentation; check the indentation of this line against the lines above it"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := parseErr(t, c.src); got != c.want {
				t.Errorf("got\n%s\nwant\n%s", got, c.want)
			}
		})
	}
}

// Far into a long file the line is still exact, and finding it stays cheap.
func TestIndentationErrorLineLongFile(t *testing.T) {
	var b strings.Builder
	b.WriteString("tasks:\n")
	for i := 1; i <= 5000; i++ {
		if i == 4000 {
			b.WriteString("  - enterprise_id: 7\n   task_id: " + strconv.Itoa(i) + "\n")
			continue
		}
		b.WriteString("  - enterprise_id: 7\n    task_id: " + strconv.Itoa(i) + "\n")
	}
	want := "c.yml:8001: invalid YAML: did not find expected '-' indicator; check the indentation of this line against the lines above it"
	if got := parseErr(t, b.String()); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// repeatedKey is a configuration writing "burst: 5" n times under api.
func repeatedKey(n int) []byte {
	var b strings.Builder
	b.WriteString("api:\n")
	for range n {
		b.WriteString("  burst: 5\n")
	}
	b.WriteString("tasks:\n  - {enterprise_id: 7, task_id: 19}\n")
	return []byte(b.String())
}

// A key written many times is reported once, with its count: yaml.v3
// reports every pair of equal keys (n²/2 messages: 8 million for 4,000
// repeats, tens of seconds and gigabytes to refuse a 50 KB file).
func TestRepeatedKeyOnce(t *testing.T) {
	got := parseErr(t, string(repeatedKey(4000)))
	want := "c.yml: keys are repeated (below); the rest of the file is checked once no key is repeated\n" +
		"c.yml:3: api.burst: duplicate key, first defined at line 2; written 4000 times in this mapping"
	if got != want {
		t.Errorf("got (%d bytes)\n%.2000s\nwant\n%s", len(got), got, want)
	}
	// Two keys each repeated: one line each, and the rest of the file is
	// still checked when that is cheap.
	got = parseErr(t, "api:\n  burst: 5\n  burst: 6\n  burst: 7\n  concurrency: 1\n  concurrency: 2\ntimezone: Nowhere/Else\ntasks:\n  - {enterprise_id: 7, task_id: 19}\n")
	want = "c.yml:3: api.burst: duplicate key, first defined at line 2; written 3 times in this mapping\n" +
		"c.yml:6: api.concurrency: duplicate key, first defined at line 5\n" +
		"c.yml:7: timezone: unknown time zone \"Nowhere/Else\"; use an IANA name such as Asia/Shanghai or UTC"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// However many problems a file has, the error keeps a bounded number of
// them and says how many more there are.
func TestProblemsCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString("tasks:\n")
	for i := range 5000 {
		fmt.Fprintf(&b, "  - {enterprise_id: 7, task_id: %d, tsak: 1}\n", i+1)
	}
	_, err := Parse([]byte(b.String()), "c.yml")
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("not a config.Error: %v", err)
	}
	if len(ce.Problems) != MaxProblems+1 {
		t.Fatalf("%d problems kept, want %d and a last line saying how many more", len(ce.Problems), MaxProblems+1)
	}
	if got, want := ce.Problems[MaxProblems].Error(), fmt.Sprintf("c.yml: %d more problems not listed; fix the ones above first", 5000-MaxProblems); got != want {
		t.Errorf("last line %q, want %q", got, want)
	}
	if first := ce.Problems[0]; first.Line != 2 || first.Field != "tasks[0].tsak" {
		t.Errorf("first problem %v, want tasks[0].tsak at line 2", first)
	}
}

// BenchmarkRepeatedKey4000 is --config.check of a file repeating one key
// 4,000 times (issue 19, point 8: 55 s and 3.8 GB before).
func BenchmarkRepeatedKey4000(b *testing.B) {
	data := repeatedKey(4000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data, "c.yml"); err == nil {
			b.Fatal("accepted")
		}
	}
}

// A credential or path written as an environment variable is not expanded:
// the file loads (the value could in theory be meant), with a warning that
// names the variable and the default credential chain, so --config.check
// says what every scrape would otherwise find out as InvalidAccessKeyId.
func TestEnvironmentVariableWarning(t *testing.T) {
	dir := t.TempDir()
	writeFileT(t, dir+"/$SECRET_DIR", "x")
	src := `credentials:
  access_key_id: ${ALIBABA_CLOUD_ACCESS_KEY_ID}
  access_key_secret: $ALIBABA_CLOUD_ACCESS_KEY_SECRET
  security_token_file: "$SECRET_DIR"
tasks:
  - {enterprise_id: 7, task_id: 19}
`
	cfg, err := Parse([]byte(src), dir+"/c.yml")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range cfg.Warnings {
		got = append(got, strings.ReplaceAll(w.Error(), dir, "DIR"))
	}
	want := []string{
		`DIR/c.yml:2: credentials.access_key_id: is the text "${ALIBABA_CLOUD_ACCESS_KEY_ID}", not the value of ALIBABA_CLOUD_ACCESS_KEY_ID: this file does not expand environment variables; to take the access key from the environment, remove the credentials block and the default credential chain reads ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET and ALIBABA_CLOUD_SECURITY_TOKEN`,
		`DIR/c.yml:3: credentials.access_key_secret: is the text "$ALIBABA_CLOUD_ACCESS_KEY_SECRET", not the value of ALIBABA_CLOUD_ACCESS_KEY_SECRET: this file does not expand environment variables; to take the access key from the environment, remove the credentials block and the default credential chain reads ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET and ALIBABA_CLOUD_SECURITY_TOKEN`,
		`DIR/c.yml:4: credentials.security_token_file: the path has "$SECRET_DIR" in it, which is read as written: this file does not expand environment variables; write the path out (a relative path is taken from this file's directory)`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A real secret is never named, even one with a dollar sign inside.
	cfg, err = Parse([]byte("credentials:\n  access_key_id: LTAI5tTestKeyId0000000\n  access_key_secret: ab$cdEFGHIJ\ntasks:\n  - {enterprise_id: 7, task_id: 19}\n"), "c.yml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("warned about a secret: %v", cfg.Warnings)
	}
}

func writeFileT(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// A path with a variable in it is usually refused as missing; the refusal
// then says why.
func TestEnvironmentVariableInMissingPath(t *testing.T) {
	got := parseErr(t, "credentials:\n  access_key_id: LTAI5tTestKeyId0000000\n  access_key_secret_file: ${HOME}/secret\ntasks:\n  - {enterprise_id: 7, task_id: 19}\n")
	if !strings.Contains(got, `c.yml:3: credentials.access_key_secret_file: cannot read ${HOME}/secret: no such file or directory`) ||
		!strings.Contains(got, `c.yml:3: credentials.access_key_secret_file: the path has "${HOME}" in it, which is read as written`) {
		t.Errorf("got\n%s", got)
	}
}

// A credential file whose value has a line break inside (an id file with
// two lines) is refused by --config.check, naming the path, as it is at
// request time; a FIFO is refused without waiting for a writer.
func TestCredentialFileContent(t *testing.T) {
	dir := t.TempDir()
	writeFileT(t, dir+"/id", "LTAI5tTestKey\nId0000000\n")
	writeFileT(t, dir+"/secret", "NotARealSecretButTreatItAsOne\n")
	got := strings.ReplaceAll(parseErrAt(t, dir+"/c.yml", "credentials:\n  access_key_id_file: id\n  access_key_secret_file: secret\ntasks:\n  - {enterprise_id: 7, task_id: 19}\n"), dir, "DIR")
	want := "DIR/c.yml:2: credentials.access_key_id_file: DIR/id: white space or a control character inside the value (a credential file holds one line, without spaces)"
	if !strings.HasSuffix(got, want) {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// An account's enterprises are ids too: quoted ones are read as numbers.
func TestQuotedAccountEnterprises(t *testing.T) {
	src := "tasks: [{enterprise_id: \"9007199254740993\", task_id: 2}]\naccounts:\n  - name: a\n    enterprises: [\"9007199254740993\", 6]\n    credentials: {access_key_id: LTAIx, access_key_secret: NotARealSecretButTreatItAsOne}\n"
	cfg, err := Parse([]byte(src), "c.yml")
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Accounts[0].Enterprises; len(got) != 2 || got[0] != 9007199254740993 || got[1] != 6 {
		t.Errorf("enterprises %v", got)
	}
	if got := parseErr(t, strings.Replace(src, `"9007199254740993", 6`, `"7a"`, 1)); !strings.Contains(got, `c.yml:4: accounts[0].enterprises[0]: must be an id: decimal digits, such as 19 (quoted or not), got "7a"`) {
		t.Errorf("got %s", got)
	}
}

// BenchmarkSyntaxErrorLine is the cost of finding the line of a syntax
// error near the end of a file close to the size cap (some 40,000 tasks).
func BenchmarkSyntaxErrorLine(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("tasks:\n")
	for i := 1; sb.Len() < MaxFileSize-200; i++ {
		fmt.Fprintf(&sb, "  - enterprise_id: 7000002\n    task_id: %d\n", i)
	}
	sb.WriteString("  - enterprise_id: 7000002\n   task_id: 1\n")
	data := []byte(sb.String())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data, "c.yml"); err == nil || !strings.Contains(err.Error(), "expected '-' indicator") {
			b.Fatal(err)
		}
	}
}

// Warnings are bounded like errors: they are logged at every load.
func TestWarningsCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString("tasks: [{enterprise_id: 1, task_id: 1}]\naccounts:\n")
	for i := range 150 {
		fmt.Fprintf(&b, "  - name: a%d\n    enterprises: [%d]\n    credentials: {access_key_id: $ID_%d, access_key_secret: NotARealSecretButTreatItAsOne}\n", i, i+2, i)
	}
	cfg, err := Parse([]byte(b.String()), "c.yml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != MaxProblems+1 || cfg.Warnings[MaxProblems].Msg != "50 more warnings not listed" {
		t.Errorf("%d warnings, last %v", len(cfg.Warnings), cfg.Warnings[len(cfg.Warnings)-1])
	}
}
