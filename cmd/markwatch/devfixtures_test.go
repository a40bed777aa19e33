package main

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/markwatch/markwatch/fixtures"
	"github.com/markwatch/markwatch/internal/testenv"
)

// TestFindFixtures: a binary built with -trimpath (make build) knows its
// fixture folder only as an import path; it must still find the checkout's
// fixtures from the root or from its own location, and say what to pass
// when there are none.
func TestFindFixtures(t *testing.T) {
	checkout := t.TempDir()
	data := filepath.Join(checkout, "fixtures", "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, fixtures.MarksFile), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	elsewhere := t.TempDir()
	trimmed := "github.com/markwatch/markwatch/fixtures/data" // fixtures.Dir() under -trimpath
	bin := filepath.Join(checkout, "bin", "markwatch")
	link := filepath.Join(elsewhere, "markwatch") // a symlink on PATH
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(bin, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, cwd, exe, src string
		want                string // "" wants an error
	}{
		{"make run: the checkout's root", checkout, filepath.Join(elsewhere, "go-build", "markwatch"), trimmed, data},
		{"bin/markwatch from anywhere", elsewhere, bin, trimmed, data},
		{"a symlink to bin/markwatch", elsewhere, link, trimmed, data},
		{"go run: the source path", elsewhere, filepath.Join(elsewhere, "exe"), data, data},
		{"nowhere", elsewhere, filepath.Join(elsewhere, "exe"), trimmed, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := findFixtures(tc.cwd, tc.exe, tc.src)
			if tc.want == "" {
				if err == nil || !strings.Contains(err.Error(), "pass -fixtures") {
					t.Fatalf("got %q, %v; want an error saying to pass -fixtures", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestMakeRunPassesArgs: `make run ARGS="-rate 5"` hands the flags to
// scripts/run.sh, which hands them to `markwatch dev`.
func TestMakeRunPassesArgs(t *testing.T) {
	// make is a tool of the checkout, like go: missing, the test fails
	// under MARKWATCH_REQUIRE_INTEGRATION instead of passing as a skip.
	testenv.Binary(t, "make", "apt-get install make")
	out, err := exec.Command("make", "-C", "../..", "-n", "run", "ARGS=-rate 5 -status 0").CombinedOutput()
	if err != nil {
		t.Fatalf("make -n run: %v: %s", err, out)
	}
	if !strings.Contains(string(out), "scripts/run.sh -rate 5 -status 0") {
		t.Errorf("make run does not pass ARGS to scripts/run.sh:\n%s", out)
	}
	script, err := os.ReadFile("../../scripts/run.sh")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(script), `dev "$@"`) {
		t.Errorf("scripts/run.sh does not pass its arguments to markwatch dev")
	}
}

// TestDevPortTaken: a port in use is named with the flag that moves it.
func TestDevPortTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	taken := ln.Addr().String()
	for _, c := range []struct{ flag, other string }{{"-broker", "-listen"}, {"-listen", "-broker"}} {
		var out, errb bytes.Buffer
		code := run(t.Context(), []string{"dev", "-data", t.TempDir(), c.flag, taken, c.other, "127.0.0.1:0", "-rate", "0"}, &out, &errb)
		if code != 1 || !strings.Contains(errb.String(), "taken") || !strings.Contains(errb.String(), "pass "+c.flag) {
			t.Errorf("%s on a taken port: exit %d, %q", c.flag, code, errb.String())
		}
	}
}
