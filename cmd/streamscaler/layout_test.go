package main

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

const module = "github.com/streamscaler/streamscaler/"

// TestDependenciesPointOneWay checks the direct imports of every package against the
// layout rules: decisions stay pure, adapters never reach into the decision core.
func TestDependenciesPointOneWay(t *testing.T) {
	rules := []struct {
		dir       string
		forbidden []string
	}{
		{"adapters", []string{module + "autoscaler", module + "statemachine", module + "predictor"}},
		// autoscaler/controller is the one part that talks to the API server; its
		// integration tests wire real adapters in, as cmd does.
		{"autoscaler", []string{module + "adapters", "k8s.io/client-go", "sigs.k8s.io/controller-runtime", "github.com/prometheus", "net/http"}},
		{"autoscaler/controller", []string{module + "adapters"}},
		{"statemachine", []string{module, "k8s.io/", "sigs.k8s.io/", "github.com/prometheus", "gonum.org/"}},
		{"predictor", []string{module, "k8s.io/", "sigs.k8s.io/", "github.com/prometheus"}},
		{"api", []string{module + "autoscaler", module + "adapters", module + "statemachine", module + "predictor", "k8s.io/client-go"}},
	}
	root := filepath.Join("..", "..")
	checked := 0
	for _, r := range rules {
		err := filepath.WalkDir(filepath.Join(root, r.dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || !strings.HasSuffix(path, ".go") && !d.IsDir() {
				return err
			}
			if d.IsDir() {
				if r.dir == "autoscaler" && d.Name() == "controller" {
					return filepath.SkipDir
				}
				return nil
			}
			if r.dir == "autoscaler/controller" && strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
			if err != nil {
				return err
			}
			checked++
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				for _, bad := range r.forbidden {
					if imports(p, bad) {
						t.Errorf("%s imports %s, which %s/ must not", path, p, r.dir)
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if checked < 20 {
		t.Fatalf("only %d files checked; is the walk looking in the right place?", checked)
	}
}

// imports reports whether path is rule or below it; a rule ending in "/" is a prefix.
func imports(path, rule string) bool {
	if strings.HasSuffix(rule, "/") {
		return strings.HasPrefix(path, rule)
	}
	return path == rule || strings.HasPrefix(path, rule+"/")
}

// TestDecisionsNeverReadTheClock keeps time passed in: no time.Now, time.Since or
// time.Until in decision code. The controller's integration tests run on the wall
// clock against a real API server, and are the exception.
func TestDecisionsNeverReadTheClock(t *testing.T) {
	checked := 0
	for _, dir := range []string{"autoscaler", "statemachine", "predictor"} {
		err := filepath.WalkDir(filepath.Join("..", "..", dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
				return err
			}
			if strings.Contains(path, "autoscaler/controller/") && strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
			if err != nil {
				return err
			}
			checked++
			local := ""
			for _, imp := range f.Imports {
				if imp.Path.Value == `"time"` {
					local = "time"
					if imp.Name != nil {
						local = imp.Name.Name
					}
				}
			}
			if local == "" {
				return nil
			}
			ast.Inspect(f, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == local && (sel.Sel.Name == "Now" || sel.Sel.Name == "Since" || sel.Sel.Name == "Until") {
					t.Errorf("%s calls time.%s; pass the time in", path, sel.Sel.Name)
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if checked < 10 {
		t.Fatalf("only %d files checked", checked)
	}
}
