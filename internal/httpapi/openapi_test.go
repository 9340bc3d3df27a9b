package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// openAPIDoc is the part of the document the tests read.
type openAPIDoc struct {
	OpenAPI string `json:"openapi"`
	Info    struct {
		Version string `json:"version"`
	} `json:"info"`
	Paths map[string]map[string]json.RawMessage `json:"paths"`
}

type openAPIOp struct {
	OperationID string                     `json:"operationId"`
	Parameters  []map[string]any           `json:"parameters"`
	Responses   map[string]json.RawMessage `json:"responses"`
}

var httpMethods = map[string]bool{"get": true, "put": true, "post": true, "delete": true, "patch": true, "head": true, "options": true}

// docPath turns a ServeMux pattern path into an OpenAPI path template.
func docPath(pattern string) string { return strings.ReplaceAll(pattern, "...}", "}") }

// TestOpenAPI_InSyncWithRoutes: every route is documented and every
// documented operation is routed; the document is OpenAPI 3.0 JSON whose
// references resolve and whose path parameters are declared.
func TestOpenAPI_InSyncWithRoutes(t *testing.T) {
	var doc openAPIDoc
	if err := json.Unmarshal(openAPISource, &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.0.") {
		t.Fatalf("openapi %q, want 3.0.x", doc.OpenAPI)
	}
	h := New(Options{})
	routed := map[string]bool{}
	for _, rt := range h.routes {
		routed[strings.ToLower(rt.method)+" "+docPath(rt.path)] = true
	}
	documented := map[string]bool{}
	opIDs := map[string]bool{}
	for path, item := range doc.Paths {
		var pathParams []map[string]any
		if raw, ok := item["parameters"]; ok {
			if err := json.Unmarshal(raw, &pathParams); err != nil {
				t.Fatal(err)
			}
		}
		for method, raw := range item {
			if method == "parameters" {
				continue
			}
			if !httpMethods[method] {
				t.Errorf("%s: unknown key %q", path, method)
				continue
			}
			documented[method+" "+path] = true
			var op openAPIOp
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			if op.OperationID == "" || opIDs[op.OperationID] {
				t.Errorf("%s %s: operationId %q missing or repeated", method, path, op.OperationID)
			}
			opIDs[op.OperationID] = true
			if len(op.Responses) == 0 {
				t.Errorf("%s %s: no responses", method, path)
			}
			// Each {param} of the path is declared as a path parameter.
			declared := map[string]bool{}
			for _, p := range append(append([]map[string]any{}, pathParams...), op.Parameters...) {
				if p["in"] == "path" {
					declared[p["name"].(string)] = true
				}
				if ref, ok := p["$ref"].(string); ok && ref == "#/components/parameters/Key" {
					declared["key"] = true
				}
			}
			for _, m := range regexp.MustCompile(`\{([^}]+)\}`).FindAllStringSubmatch(path, -1) {
				if !declared[m[1]] {
					t.Errorf("%s %s: path parameter %q not declared", method, path, m[1])
				}
			}
		}
	}
	for k := range routed {
		if !documented[k] {
			t.Errorf("route %q is not in openapi.json", k)
		}
	}
	for k := range documented {
		if !routed[k] {
			t.Errorf("openapi.json documents %q, which is not routed", k)
		}
	}

	// Every $ref resolves.
	var all map[string]any
	if err := json.Unmarshal(openAPISource, &all); err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				if k == "$ref" {
					ref, _ := c.(string)
					if !resolves(all, ref) {
						t.Errorf("$ref %q does not resolve", ref)
					}
				}
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(all)
}

func resolves(doc map[string]any, ref string) bool {
	if !strings.HasPrefix(ref, "#/") {
		return false
	}
	var cur any = doc
	for _, part := range strings.Split(ref[2:], "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[part]; !ok {
			return false
		}
	}
	return true
}

func TestOpenAPI_Served(t *testing.T) {
	if !strings.Contains(string(openAPISource), versionPlaceholder) {
		t.Fatalf("openapi.json lacks %s", versionPlaceholder)
	}
	e := newEnv(t, newFakeAPI(), Options{Version: `1.2.3 "rc"`})
	var doc openAPIDoc
	e.do("GET", "/v1/openapi.json", nil).json(t, &doc)
	if doc.Info.Version != `1.2.3 "rc"` || !strings.HasPrefix(doc.OpenAPI, "3.0.") || len(doc.Paths) == 0 {
		t.Fatalf("served document: %q %q %d paths", doc.Info.Version, doc.OpenAPI, len(doc.Paths))
	}
	doc = openAPIDoc{}
	newEnv(t, newFakeAPI(), Options{}).do("GET", "/v1/openapi.json", nil).json(t, &doc)
	if doc.Info.Version != "0.0.0-dev" {
		t.Errorf("version %q", doc.Info.Version)
	}
}

// TestOpenAPI_QueryParametersAccepted: every documented query parameter is
// accepted by its endpoint (none answers "unknown query parameter").
func TestOpenAPI_QueryParametersAccepted(t *testing.T) {
	var all struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Parameters map[string]map[string]any `json:"parameters"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPISource, &all); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, newFakeAPI(), Options{})
	fill := strings.NewReplacer("{key}", "k", "{queue}", "q", "{id}", "n1", "{name}", "x")
	var checked []string
	for path, item := range all.Paths {
		for method, raw := range item {
			if method == "parameters" {
				continue
			}
			var op openAPIOp
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatal(err)
			}
			for _, p := range op.Parameters {
				if ref, ok := p["$ref"].(string); ok {
					p = all.Components.Parameters[strings.TrimPrefix(ref, "#/components/parameters/")]
				}
				if p["in"] != "query" {
					continue
				}
				name := p["name"].(string)
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				req, _ := http.NewRequestWithContext(ctx, strings.ToUpper(method), e.ts.URL+fill.Replace(path)+"?"+name+"=1", nil)
				resp, err := e.c.Do(req)
				if err != nil {
					cancel()
					t.Fatal(err)
				}
				var ej errorJSON
				if resp.Header.Get("Content-Type") == "application/json" {
					_ = json.NewDecoder(resp.Body).Decode(&ej)
				}
				resp.Body.Close()
				cancel()
				if strings.Contains(ej.Error.Message, "unknown query parameter") {
					t.Errorf("%s %s: documented query parameter %q is refused: %s", method, path, name, ej.Error.Message)
				}
				checked = append(checked, method+" "+path+"?"+name)
			}
		}
	}
	sort.Strings(checked)
	if len(checked) < 20 {
		t.Errorf("only %d query parameters checked: %q", len(checked), checked)
	}
}
