package terraform

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

func TestAccJobsDataSource_basic(t *testing.T) {
	e := newAccEnv(t)
	dir := e.writeModule("count", countSource)
	const addr = "data.blueprint_jobs.all"

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{{
			Config: e.providerConfig(nil) + fmt.Sprintf("\ndata \"blueprint_jobs\" \"all\" {\n  package = %q\n}\n", dir),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("package_name"), knownvalue.StringExact("example.com/count")),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("jobs"), knownvalue.ListExact([]knownvalue.Check{
					knownvalue.ObjectPartial(map[string]knownvalue.Check{
						"name": knownvalue.StringExact("count_words"), "function": knownvalue.StringExact("CountWords"),
						"pure": knownvalue.Bool(true), "eligible": knownvalue.Bool(true),
					}),
					knownvalue.ObjectPartial(map[string]knownvalue.Check{
						"name": knownvalue.StringExact("count_bytes"), "function": knownvalue.StringExact("CountBytes"),
						"memory_mb": knownvalue.Int64Exact(256),
					}),
				})),
			},
		}},
	})
}
