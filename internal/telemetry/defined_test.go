package telemetry

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// definedMetrics returns the full names of the metrics the module's
// non-test Go code declares: the Namespace, Subsystem and Name of every
// prometheus.{Counter,Gauge,Histogram,Summary}Opts literal, and the first
// argument of every prometheus.NewDesc, with string constants resolved
// (those of the enclosing function first, then the package's, then another
// package's as pkg.Name).
func definedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	fset := token.NewFileSet()
	files := map[string][]*ast.File{} // by directory
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "var" || d.Name() == ".git" || d.Name() == "testdata" || path == "../../fixtures/data") {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		files[filepath.Dir(path)] = append(files[filepath.Dir(path)], f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r := resolver{pkgConsts: map[string]map[string]ast.Expr{}, byBase: map[string]string{}}
	for dir, fs := range files {
		r.pkgConsts[dir] = map[string]ast.Expr{}
		r.byBase[filepath.Base(dir)] = dir
		for _, f := range fs {
			for _, decl := range f.Decls {
				if g, ok := decl.(*ast.GenDecl); ok && g.Tok == token.CONST {
					addConsts(r.pkgConsts[dir], g)
				}
			}
		}
	}
	names := map[string]bool{}
	for dir, fs := range files {
		for _, f := range fs {
			var stack []ast.Node
			ast.Inspect(f, func(n ast.Node) bool {
				if n == nil {
					stack = stack[:len(stack)-1]
					return true
				}
				stack = append(stack, n)
				switch n := n.(type) {
				case *ast.CompositeLit:
					if sel, ok := n.Type.(*ast.SelectorExpr); ok && isPkg(sel.X, "prometheus") && strings.HasSuffix(sel.Sel.Name, "Opts") {
						parts := map[string]string{}
						for _, e := range n.Elts {
							if kv, ok := e.(*ast.KeyValueExpr); ok {
								if k, ok := kv.Key.(*ast.Ident); ok {
									parts[k.Name], _ = r.eval(dir, stack, kv.Value)
								}
							}
						}
						if parts["Name"] != "" {
							names[fqName(parts["Namespace"], parts["Subsystem"], parts["Name"])] = true
						}
					}
				case *ast.CallExpr:
					if sel, ok := n.Fun.(*ast.SelectorExpr); ok && isPkg(sel.X, "prometheus") && sel.Sel.Name == "NewDesc" && len(n.Args) > 0 {
						if v, ok := r.eval(dir, stack, n.Args[0]); ok {
							names[v] = true
						}
					}
				}
				return true
			})
		}
	}
	return names
}

func isPkg(x ast.Expr, name string) bool {
	id, ok := x.(*ast.Ident)
	return ok && id.Name == name
}

// fqName joins the parts as prometheus.BuildFQName does.
func fqName(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "_")
}

func addConsts(into map[string]ast.Expr, g *ast.GenDecl) {
	for _, s := range g.Specs {
		vs := s.(*ast.ValueSpec)
		for i, n := range vs.Names {
			if i < len(vs.Values) {
				into[n.Name] = vs.Values[i]
			}
		}
	}
}

// resolver evaluates constant string expressions of the module.
type resolver struct {
	pkgConsts map[string]map[string]ast.Expr // directory → name → value
	byBase    map[string]string              // package directory by its base name
}

func (r resolver) eval(dir string, stack []ast.Node, e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind == token.STRING {
			s, err := strconv.Unquote(e.Value)
			return s, err == nil
		}
	case *ast.Ident:
		// Constants of the enclosing functions, innermost first.
		for i := len(stack) - 1; i >= 0; i-- {
			var body *ast.BlockStmt
			switch fn := stack[i].(type) {
			case *ast.FuncLit:
				body = fn.Body
			case *ast.FuncDecl:
				body = fn.Body
			}
			if body == nil {
				continue
			}
			local := map[string]ast.Expr{}
			for _, st := range body.List {
				if ds, ok := st.(*ast.DeclStmt); ok {
					if g, ok := ds.Decl.(*ast.GenDecl); ok && g.Tok == token.CONST {
						addConsts(local, g)
					}
				}
			}
			if v, ok := local[e.Name]; ok {
				return r.eval(dir, stack[:i], v)
			}
		}
		if v, ok := r.pkgConsts[dir][e.Name]; ok {
			return r.eval(dir, nil, v)
		}
	case *ast.SelectorExpr:
		if pkg, ok := e.X.(*ast.Ident); ok {
			if d, ok := r.byBase[pkg.Name]; ok {
				if v, ok := r.pkgConsts[d][e.Sel.Name]; ok {
					return r.eval(d, nil, v)
				}
			}
		}
	case *ast.BinaryExpr:
		if e.Op == token.ADD {
			a, ok1 := r.eval(dir, stack, e.X)
			b, ok2 := r.eval(dir, stack, e.Y)
			return a + b, ok1 && ok2
		}
	}
	return "", false
}

func TestDefinedMetricsSeesEveryStyle(t *testing.T) {
	defined := definedMetrics(t)
	for _, name := range []string{
		"markwatch_consumer_lag",                 // promauto, function-local ns/sub constants
		"markwatch_listings_scored_total",        // Namespace + Subsystem + Name
		"markwatch_review_queue_depth",           // prometheus.NewDesc
		"markwatch_build_info",                   // telemetry.Namespace
		"markwatch_image_cache_lookups_total",    // inside telemetry.Build's closure
		"markwatch_review_decisions_total",       // review
		"markwatch_api_request_duration_seconds", // api
	} {
		if !defined[name] {
			t.Errorf("%s not found among the defined metrics", name)
		}
	}
	if defined["markwatch_review_publish_seconds"] || defined["markwatch_consumer_publish_seconds"] {
		t.Error("a function's subsystem leaked into another function's metrics")
	}
}
