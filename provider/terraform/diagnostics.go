package terraform

import (
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/serverless-blueprint/blueprint/analyzer"
	"github.com/serverless-blueprint/blueprint/resources"
)

// addErrorDiagnostics turns a lifecycle error into diagnostics on the attribute the user has
// to fix: analysis problems land on package (one per problem, with its position), bad
// input on its own attribute, platform failures on the resource as a whole.
func addErrorDiagnostics(diags *diag.Diagnostics, summary string, err error) {
	var ae *analyzer.Error
	if errors.As(err, &ae) && len(ae.Problems) > 0 {
		for _, p := range ae.Problems {
			detail := p.Message
			if p.Position != "" {
				detail = p.Position + ": " + p.Message
			}
			diags.AddAttributeError(path.Root("package"), "Job analysis failed", detail+"\n\nFix the job package and plan again.")
		}
		return
	}
	if se, ok := resources.IsSpecError(err); ok && se.Field != "" {
		diags.AddAttributeError(path.Root(se.Field), summary, se.Error())
		return
	}
	var pe *resources.PartialError
	if errors.As(err, &pe) {
		diags.AddError(summary, fmt.Sprintf("%s\n\nWhat succeeded is recorded in the state; fix the failing regions (host running, URL and token right) and run apply again.", err))
		return
	}
	diags.AddError(summary, err.Error())
}
