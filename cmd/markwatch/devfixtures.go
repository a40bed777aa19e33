package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/markwatch/markwatch/fixtures"
)

// findFixtures picks the fixture folder `markwatch dev` uses when -fixtures
// is not given. fixtures.Dir() is found from the source file's path, which
// `make build` (-trimpath) turns into an import path, so the binary looks
// in order at: fixtures/data under the working directory (the repository
// root, where `make run` runs), fixtures/data next to the folder holding
// the binary (bin/markwatch of a checkout, run from anywhere), and the
// source path (go run, tests). The first folder holding the marks file
// wins; none is an error saying where it looked and what to pass.
func findFixtures(cwd, exe, src string) (string, error) {
	var candidates []string
	if cwd != "" {
		candidates = append(candidates, filepath.Join(cwd, "fixtures", "data"))
	}
	if exe != "" {
		if resolved, err := filepath.EvalSymlinks(exe); err == nil {
			exe = resolved
		}
		candidates = append(candidates, filepath.Join(filepath.Dir(filepath.Dir(exe)), "fixtures", "data"))
	}
	if filepath.IsAbs(src) {
		candidates = append(candidates, src)
	}
	for _, dir := range candidates {
		if _, err := os.Stat(filepath.Join(dir, fixtures.MarksFile)); err == nil {
			return dir, nil
		}
	}
	return "", fmt.Errorf("no fixture folder found (looked in %s): pass -fixtures DIR, the fixtures/data folder of a markwatch checkout, or run from the checkout's root",
		strings.Join(candidates, ", "))
}

// defaultFixtures is findFixtures for this process.
func defaultFixtures() (string, error) {
	cwd, _ := os.Getwd()
	exe, err := os.Executable()
	if err != nil {
		exe = ""
	}
	return findFixtures(cwd, exe, fixtures.Dir())
}
