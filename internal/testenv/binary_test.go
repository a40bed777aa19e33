package testenv

import (
	"strings"
	"testing"
)

func TestBinary(t *testing.T) {
	tests := []struct {
		name, program, require, outcome string
	}{
		{name: "installed", program: "sh", outcome: "run"},
		{name: "missing skips", program: "markwatch-no-such-program", outcome: "skip"},
		{name: "missing fails when required", program: "markwatch-no-such-program", require: "1", outcome: "fail"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvRequire, tt.require)
			f := &fakeTB{}
			got := Binary(f, tt.program, "apt-get install x")
			if f.outcome() != tt.outcome {
				t.Fatalf("outcome %s (%q), want %s", f.outcome(), f.msg, tt.outcome)
			}
			if (got != "") != (tt.outcome == "run") {
				t.Errorf("path %q for outcome %s", got, tt.outcome)
			}
			if tt.outcome != "run" && !strings.Contains(f.msg, "apt-get install x") {
				t.Errorf("message %q does not say how to install", f.msg)
			}
		})
	}
}
