package httpapi

import (
	"bytes"
	_ "embed"
	"encoding/json"
)

// openAPISource is the OpenAPI 3.0 document of this package's routes,
// written by hand. TestOpenAPI_InSyncWithRoutes fails when a route is added,
// removed or renamed without it (and the other way round).
//
//go:embed openapi.json
var openAPISource []byte

// versionPlaceholder is info.version in openapi.json, replaced by the
// server's version when one is known.
const versionPlaceholder = `"version": "0.0.0-dev"`

// openAPIDocument returns the document to serve, with info.version set.
func openAPIDocument(version string) []byte {
	if version == "" {
		return openAPISource
	}
	v, err := json.Marshal(version)
	if err != nil {
		return openAPISource
	}
	return bytes.Replace(openAPISource, []byte(versionPlaceholder), append([]byte(`"version": `), v...), 1)
}
