package detection

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/markwatch/markwatch/internal/domain"
)

func collect(in string, max int) (lines []int, data []string, errs []string) {
	for r := range Records(strings.NewReader(in), max) {
		lines = append(lines, r.Line)
		data = append(data, string(r.Data))
		if r.Err != nil {
			errs = append(errs, r.Err.Error())
		} else {
			errs = append(errs, "")
		}
	}
	return
}

func TestRecords(t *testing.T) {
	cases := []struct {
		name  string
		in    string
		lines []int
		data  []string
		errs  int
	}{
		{"jsonl", "{\"a\":1}\n\n# comment\n{\"b\":2}\n", []int{1, 4}, []string{`{"a":1}`, `{"b":2}`}, 0},
		{"no final newline", "{\"a\":1}\n{\"b\":2}", []int{1, 2}, []string{`{"a":1}`, `{"b":2}`}, 0},
		{"crlf and bom", "\xef\xbb\xbf{\"a\":1}\r\n{\"b\":2}\r\n", []int{1, 2}, []string{`{"a":1}`, `{"b":2}`}, 0},
		{"array", " [ {\"a\":1}, {\"b\":2} ]", []int{1, 2}, []string{`{"a":1}`, `{"b":2}`}, 0},
		{"broken array", "[{\"a\":1}, {\"b\":", []int{1, 2}, []string{`{"a":1}`, ""}, 1},
		{"long line", "{\"a\":1}\n" + strings.Repeat("x", 100) + "\n{\"c\":3}\n", []int{1, 2, 3}, []string{`{"a":1}`, "", `{"c":3}`}, 1},
		{"empty", "", nil, nil, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lines, data, errs := collect(tc.in, 50)
			if strings.Join(data, "|") != strings.Join(tc.data, "|") || len(lines) != len(tc.lines) {
				t.Fatalf("lines %v data %q errs %q", lines, data, errs)
			}
			for i := range lines {
				if lines[i] != tc.lines[i] {
					t.Errorf("record %d on line %d, want %d", i, lines[i], tc.lines[i])
				}
			}
			n := 0
			for _, e := range errs {
				if e != "" {
					n++
				}
			}
			if n != tc.errs {
				t.Errorf("%d errors, want %d: %q", n, tc.errs, errs)
			}
		})
	}
}

func TestReadMarksErrors(t *testing.T) {
	dir := t.TempDir()
	good := `{"schema_version":1,"mark_id":"m1","holder_id":"h","name":"Veltaro","registration":{"office":"EUIPO","number":"1"},"status":"active"}`
	cases := map[string]string{
		"duplicate": good + "\n" + good + "\n",
		"invalid":   good + "\n" + `{"schema_version":1,"mark_id":"m2"}` + "\n",
	}
	wants := map[string]string{"duplicate": ":2: mark_id \"m1\" already defined on line 1", "invalid": ":2: holder_id: required"}
	for name, content := range cases {
		p := filepath.Join(dir, name+".jsonl")
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadMarks(p, domain.Limits{}); err == nil || !strings.Contains(err.Error(), wants[name]) {
			t.Errorf("%s: err %v, want %q", name, err, wants[name])
		}
	}
	p := filepath.Join(dir, "good.jsonl")
	if err := os.WriteFile(p, []byte(good+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if ms, err := ReadMarks(p, domain.Limits{}); err != nil || len(ms) != 1 {
		t.Errorf("good: %v %v", ms, err)
	}
}

func FuzzRecords(f *testing.F) {
	f.Add([]byte("{\"a\":1}\n{\"b\":2}\n"))
	f.Add([]byte("[{\"a\":1},{\"b\":2}]"))
	f.Add([]byte("[{\"a\":"))
	f.Add([]byte("\xef\xbb\xbf\n\n#x\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		prev := 0
		for r := range Records(strings.NewReader(string(in)), 64) {
			if r.Line <= prev {
				t.Fatalf("line %d after %d", r.Line, prev)
			}
			prev = r.Line
			if len(r.Data) > 64 {
				t.Fatalf("record of %d bytes over the cap", len(r.Data))
			}
		}
	})
}
