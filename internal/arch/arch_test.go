package arch

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/skiffdb/skiff/"

// allowed lists, for each internal package, the internal packages it may
// import. A package missing here fails the test: add it with its rule.
var allowed = map[string][]string{
	"internal/arch":          {},
	"internal/glob":          {},
	"internal/resp":          {},
	"internal/op":            {},
	"internal/config":        {},
	"internal/telemetry":     {},
	"internal/store":         {"internal/op", "internal/glob"},
	"internal/engine":        {"internal/store", "internal/op", "internal/replication", "internal/resp"},
	"internal/replication":   {"internal/store", "internal/op"},
	"internal/command":       {"internal/engine", "internal/store", "internal/op", "internal/resp", "internal/glob", "internal/telemetry"},
	"internal/respserver":    {"internal/command", "internal/resp"},
	"internal/grpcapi":       {"internal/command", "internal/engine", "internal/store", "internal/telemetry", "gen/skiff/v1", "gen/data"},
	"internal/httpapi":       {"internal/command", "internal/engine", "internal/store", "internal/telemetry"},
	"internal/node":          {"*"},
	"internal/node/nodetest": {"internal/node", "internal/config"},
	"internal/testcluster":   {"internal/node", "internal/config"},
	"cmd/skiff":              {"internal/config", "internal/node", "internal/telemetry", "internal/resp"},
	"cmd/skiff-bench":        {"internal/resp", "gen/skiff/v1"},
}

// forbiddenStd lists standard packages the deterministic core must not use:
// apply never reads the clock, a random source or the network.
var forbiddenStd = map[string][]string{
	"internal/store": {"time", "math/rand", "math/rand/v2", "crypto/rand", "net", "os"},
	"internal/op":    {"time", "math/rand", "math/rand/v2", "crypto/rand", "net", "os"},
}

func imports(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{}
	fset := token.NewFileSet()
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			set[p] = true
		}
	}
	var out []string
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func TestDependencyDirection(t *testing.T) {
	root := filepath.Join("..", "..")
	seen := 0
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if strings.Contains(rel, "testdata") || strings.HasPrefix(rel, ".") && rel != "." {
			return filepath.SkipDir
		}
		if !strings.HasPrefix(rel, "internal/") && !strings.HasPrefix(rel, "cmd/") {
			return nil
		}
		imps := imports(t, path)
		hasGo := false
		if entries, _ := os.ReadDir(path); len(entries) > 0 {
			for _, e := range entries {
				if strings.HasSuffix(e.Name(), ".go") {
					hasGo = true
				}
			}
		}
		if !hasGo {
			return nil
		}
		seen++
		rules, ok := allowed[rel]
		if !ok {
			t.Errorf("%s: no layering rule; add it to allowed in internal/arch", rel)
			return nil
		}
		for _, imp := range imps {
			if strings.HasPrefix(imp, module) {
				dep := strings.TrimPrefix(imp, module)
				if !contains(rules, dep) && !contains(rules, "*") {
					t.Errorf("%s imports %s, which docs/architecture.md does not allow", rel, dep)
				}
				continue
			}
			if contains(forbiddenStd[rel], imp) {
				t.Errorf("%s imports %s: the deterministic core must not", rel, imp)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen < 10 {
		t.Fatalf("only %d packages checked: is the walk rooted right?", seen)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
