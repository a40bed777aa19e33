package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/markwatch/markwatch/internal/api"
	"github.com/markwatch/markwatch/internal/config"
	"github.com/markwatch/markwatch/internal/detection"
	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/web"
	"github.com/markwatch/markwatch/matchers/logo"
)

// devReview is the review service inside `markwatch dev`: SQLite under the
// data folder, demo users, the API on the dev HTTP server under /v1/.
type devReview struct {
	store  *store.Store
	server *reviewServer
	api    *api.API
	tokens []devToken
	// console is the web console and logins its demo users' logins.
	console *web.Console
	logins  []devLogin
}

// devToken is one demo user's credentials.
type devToken struct{ Role, Name, Holder, Token string }

// devStoreFile is the SQLite file of the review store under the dev data
// folder.
const devStoreFile = "markwatch.db"

// devTokensFile keeps the demo users' tokens under the dev data folder.
const devTokensFile = "demo-tokens.txt"

// demoHolder is the fixture rights holder the demo brand owner acts for.
const demoHolder = "h-veltaro"

func newDevReview(ctx context.Context, cfg config.Config, dataDir string, log *slog.Logger, reg *prometheus.Registry) (*devReview, error) {
	st, err := openStore(ctx, "sqlite:"+filepath.Join(dataDir, devStoreFile))
	if err != nil {
		return nil, err
	}
	// The review service registers on the process's registry, beside the
	// detector: one /metrics for the whole process. Its consumer's series
	// carry consumer="review", the detector's consumer="detector".
	rs, err := newReviewServer(cfg, st, log, reg)
	if err != nil {
		st.Close()
		return nil, err
	}
	// One hasher: uploaded logos' features decode within its budget too.
	hasher := detection.HasherFrom(cfg.Detection)
	a, err := api.New(api.Options{
		Store: st, Review: rs.svc, Logger: log, Registerer: reg, NegativeBankTopic: cfg.Kafka.Topics.NegativeBanks,
		Marks: api.MarkOptions{Topic: cfg.Kafka.Topics.Marks, Hasher: hasher, Logos: detection.NewLumaFeatures(hasher, logo.ExtractorOptions{}), DecodeWait: cfg.Detection.Image.DecodeWait},
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	reg.MustRegister(rs.svc.QueueCollector(0))
	tokens, err := demoUsers(ctx, st, filepath.Join(dataDir, devTokensFile))
	if err != nil {
		st.Close()
		return nil, err
	}
	console, err := newConsole(cfg, st, rs.svc, a, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	logins, err := demoLogins(ctx, st, tokens, filepath.Join(dataDir, "demo-logins.txt"))
	if err != nil {
		st.Close()
		return nil, err
	}
	return &devReview{store: st, server: rs, api: a, tokens: tokens, console: console, logins: logins}, nil
}

// mount adds the API to the dev HTTP server.
func (r *devReview) mount(mux *http.ServeMux) {
	mux.Handle("/v1/", r.api.Handler())
	mux.Handle("/", r.console.Handler())
}

// demoUsers creates the demo users on the first start and keeps their
// tokens in path (dev only: a real deployment never stores tokens, only
// their hashes), so that every start can print them.
func demoUsers(ctx context.Context, st *store.Store, path string) ([]devToken, error) {
	if toks, err := readTokens(path); err == nil {
		return toks, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	want := []devToken{
		{Role: string(identity.RoleAdmin), Name: "demo admin"},
		{Role: string(identity.RoleReviewer), Name: "demo reviewer"},
		{Role: string(identity.RoleBrandOwner), Name: "demo brand owner (Veltaro)", Holder: demoHolder},
		{Role: string(identity.RoleMarketplace), Name: "demo marketplace"},
	}
	err := st.WithTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.GetHolder(ctx, demoHolder); errors.Is(err, store.ErrNotFound) {
			if _, err := tx.CreateHolder(ctx, store.Holder{ID: demoHolder, Name: "Veltaro S.p.A. (fixture)"}); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		for i := range want {
			token, hash, err := identity.NewToken()
			if err != nil {
				return err
			}
			if _, err := tx.CreateUser(ctx, store.User{Name: want[i].Name, Role: want[i].Role, HolderID: want[i].Holder}, hash); err != nil {
				return err
			}
			want[i].Token = token
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("demo users: %w", err)
	}
	var b strings.Builder
	for _, t := range want {
		fmt.Fprintf(&b, "%s\t%s\t%s\t%s\n", t.Role, t.Token, t.Holder, t.Name)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return nil, fmt.Errorf("demo users: %w", err)
	}
	return want, nil
}

func readTokens(path string) ([]devToken, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []devToken
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.SplitN(sc.Text(), "\t", 4)
		if len(p) != 4 {
			return nil, fmt.Errorf("%s: malformed line; delete the file and the database to recreate the demo users", path)
		}
		out = append(out, devToken{Role: p[0], Token: p[1], Holder: p[2], Name: p[3]})
	}
	return out, sc.Err()
}

// printTokens shows the demo users and how to call the API with them.
func printTokens(w io.Writer, httpAddr, dataDir string, toks []devToken) {
	fmt.Fprintf(w, "Review API on http://%s/v1/ (OpenAPI: /v1/openapi.json). Demo users:\n", httpAddr)
	for _, t := range toks {
		holder := ""
		if t.Holder != "" {
			holder = " for " + t.Holder
		}
		fmt.Fprintf(w, "  %-12s %s%s\n", t.Role, t.Token, holder)
	}
	if len(toks) > 1 {
		fmt.Fprintf(w, "  e.g. curl -H 'Authorization: Bearer %s' http://%s/v1/sellers/u-8609861\n", toks[1].Token, httpAddr)
	}
	db := "sqlite:" + filepath.Join(dataDir, devStoreFile)
	more := "markwatch users create -role reviewer -name NAME"
	if db != devStoreDSN {
		more += " -db " + db
	}
	fmt.Fprintf(w, "  tokens kept in %s; more users: %s\n\n", filepath.Join(dataDir, devTokensFile), more)
}
