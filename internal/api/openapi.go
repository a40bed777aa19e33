package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// OpenAPI returns the API's OpenAPI 3.1 document, generated from the route
// table and the request and response types, so that it cannot drift from
// what is served; a golden test pins it so that changes are reviewed.
func (a *API) OpenAPI() ([]byte, error) {
	g := &schemaGen{components: map[string]any{}, seen: map[string]reflect.Type{}}
	paths := map[string]map[string]any{}
	for _, rt := range a.routes {
		op := map[string]any{
			"summary":     rt.summary,
			"operationId": operationID(rt),
			"x-tenant":    rt.tenant.String(),
		}
		if rt.public {
			op["security"] = []any{}
		} else {
			op["security"] = []any{map[string]any{"bearerAuth": []string{}}}
			roles := make([]string, len(rt.allow))
			for i, r := range rt.allow {
				roles[i] = string(r)
			}
			op["x-roles"] = roles
		}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(rt.pattern, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		for _, q := range rt.query {
			schema := map[string]any{"type": "string"}
			if set, ok := enumSets[queryEnums[q]]; ok {
				schema["enum"] = set
			}
			param := map[string]any{"name": q, "in": "query", "schema": schema}
			if d := queryParamDocs[q]; d != "" {
				param["description"] = d
			}
			params = append(params, param)
		}
		if params != nil {
			op["parameters"] = params
		}
		if rt.in != nil {
			s, err := g.schema(reflect.TypeOf(rt.in), true)
			if err != nil {
				return nil, fmt.Errorf("api: openapi: %s %s: %w", rt.method, rt.pattern, err)
			}
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": s}}}
		}
		if len(rt.files) > 0 {
			props := map[string]any{}
			for _, f := range rt.files {
				props[f] = map[string]any{"type": "array", "items": map[string]any{"type": "string", "contentMediaType": "application/octet-stream"}}
			}
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{"multipart/form-data": map[string]any{"schema": map[string]any{"type": "object", "properties": props}}}}
		}
		ok := map[string]any{"description": http.StatusText(rt.status)}
		if rt.out != nil {
			s, err := g.schema(reflect.TypeOf(rt.out), false)
			if err != nil {
				return nil, fmt.Errorf("api: openapi: %s %s: %w", rt.method, rt.pattern, err)
			}
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": s}}
		}
		op["responses"] = map[string]any{
			strconv.Itoa(rt.status): ok,
			"default": map[string]any{"description": "An error, in the one envelope.", "content": map[string]any{
				"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Envelope"}},
			}},
		}
		if paths[rt.pattern] == nil {
			paths[rt.pattern] = map[string]any{}
		}
		paths[rt.pattern][strings.ToLower(rt.method)] = op
	}
	if _, err := g.schema(reflect.TypeFor[envelope](), false); err != nil {
		return nil, fmt.Errorf("api: openapi: %w", err)
	}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "markwatch review service",
			"version":     "1",
			"description": "Errors: {\"error\":{\"code\":\"...\",\"message\":\"...\"}}. A brand owner sees only its own holder's objects; another holder's object answers 404.",
		},
		"paths": paths,
		"components": map[string]any{
			"schemas":         g.components,
			"securitySchemes": map[string]any{"bearerAuth": map[string]any{"type": "http", "scheme": "bearer"}},
		},
	}
	// encoding/json sorts map keys, so the document is deterministic.
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("api: openapi: %w", err)
	}
	return append(out, '\n'), nil
}

func (a *API) openAPI(w http.ResponseWriter, _ *request) error {
	doc, err := a.OpenAPI()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(doc)
	return nil
}

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// operationID names an operation from its method and pattern:
// "POST /v1/complaints/{id}/decision" is "post_complaints_id_decision".
func operationID(rt route) string {
	parts := []string{strings.ToLower(rt.method)}
	for _, p := range strings.Split(strings.Trim(rt.pattern, "/"), "/") {
		p = strings.Trim(p, "{}")
		if p != "v1" && p != "" {
			parts = append(parts, strings.ReplaceAll(strings.ReplaceAll(p, "-", "_"), ".", "_"))
		}
	}
	return strings.Join(parts, "_")
}

// schemaGen turns Go types into JSON Schemas, named structs into shared
// components.
type schemaGen struct {
	components map[string]any
	seen       map[string]reflect.Type
}

var (
	timeType = reflect.TypeFor[time.Time]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

// schema returns the schema of t; strict (request) structs refuse unknown
// properties, as the decoder does.
func (g *schemaGen) schema(t reflect.Type, strict bool) (map[string]any, error) {
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}, nil
	case t == rawType:
		return map[string]any{}, nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		return g.schema(t.Elem(), strict)
	case reflect.String:
		return map[string]any{"type": "string"}, nil
	case reflect.Bool:
		return map[string]any{"type": "boolean"}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return map[string]any{"type": "integer"}, nil
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}, nil
	case reflect.Slice:
		items, err := g.schema(t.Elem(), strict)
		if err != nil {
			return nil, err
		}
		return map[string]any{"type": "array", "items": items}, nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return nil, fmt.Errorf("map key %s is not a string", t.Key())
		}
		if t.Elem().Kind() == reflect.Interface {
			return map[string]any{"type": "object"}, nil
		}
		v, err := g.schema(t.Elem(), strict)
		if err != nil {
			return nil, err
		}
		return map[string]any{"type": "object", "additionalProperties": v}, nil
	case reflect.Struct:
		return g.object(t, strict)
	}
	return nil, fmt.Errorf("no schema for type %s", t)
}

func (g *schemaGen) object(t reflect.Type, strict bool) (map[string]any, error) {
	name := exportedName(t.Name())
	if strict && !strings.HasSuffix(name, "Request") {
		name += "Request"
	}
	if prev, ok := g.seen[name]; ok {
		if prev != t {
			return nil, fmt.Errorf("types %s and %s share the schema name %s", prev, t, name)
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}, nil
	}
	g.seen[name] = t
	props := map[string]any{}
	var required []string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		jsonName, opts, _ := strings.Cut(tag, ",")
		if jsonName == "" {
			jsonName = f.Name
		}
		s, err := g.schema(f.Type, strict)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", t, f.Name, err)
		}
		// The closed sets are the ones checkEnums validates against.
		set := enumValues(f)
		if name := domainEnums[t][jsonName]; name != "" {
			set = enumSets[name]
		}
		if set != nil {
			s["enum"] = set
		}
		if d := f.Tag.Get("doc"); d != "" {
			s["description"] = d
		}
		optional := slices.Contains(strings.Split(opts, ","), "omitempty") || slices.Contains(strings.Split(opts, ","), "omitzero")
		if strict && requiredField(f) {
			// What checkRequired enforces: present, not null, and a
			// string not blank.
			required = append(required, jsonName)
			if f.Type.Kind() == reflect.String && set == nil {
				s["minLength"], s["pattern"] = 1, `\S`
			}
		} else if !strict && !optional {
			required = append(required, jsonName)
		}
		props[jsonName] = s
	}
	obj := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		obj["required"] = required
	}
	if strict {
		obj["additionalProperties"] = false
	}
	g.components[name] = obj
	return map[string]any{"$ref": "#/components/schemas/" + name}, nil
}

// exportedName capitalizes a type name for the document: holderResponse
// is HolderResponse.
func exportedName(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
