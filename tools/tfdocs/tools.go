//go:build tools

// Package tfdocs pins tfplugindocs in its own module, so the documentation generator's
// dependencies stay out of the product's go.mod. tools/gen-tfdocs.sh builds it from here.
package tfdocs

import _ "github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs"
