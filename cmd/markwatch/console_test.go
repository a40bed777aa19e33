package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkDevConsole logs in to the console of a running `markwatch dev` with
// the demo reviewer's login from demo-logins.txt, opens the complaint id
// and its listing photo through the image proxy.
func checkDevConsole(t *testing.T, data, base, banner, id string) {
	t.Helper()
	if !strings.Contains(banner, "Console on "+base+"/") {
		t.Errorf("the banner does not show the console's address:\n%s", banner)
	}
	b, err := os.ReadFile(filepath.Join(data, "demo-logins.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var user, pass string
	roles := 0
	for line := range strings.Lines(string(b)) {
		f := strings.Split(strings.TrimSpace(line), "\t")
		if len(f) != 3 {
			t.Fatalf("demo-logins.txt line %q: want role, username, password", line)
		}
		roles++
		if f[0] == "reviewer" {
			user, pass = f[1], f[2]
		}
	}
	if roles != 4 || user == "" {
		t.Fatalf("demo-logins.txt has %d roles, reviewer %q", roles, user)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.PostForm(base+"/login", url.Values{"username": {user}, "password": {pass}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Review queue") {
		t.Fatalf("login as the demo reviewer: %d, not the queue", resp.StatusCode)
	}
	for _, path := range []string{"/complaints/" + id, "/img/complaints/" + id + "/0"} {
		resp, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s as the demo reviewer: %d", path, resp.StatusCode)
		}
	}
}
