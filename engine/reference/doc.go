// Package reference parses image names the way docker does and converts
// between the canonical form Berth stores ("docker.io/library/nginx:latest")
// and the familiar form people type and docker prints ("nginx:latest").
package reference
