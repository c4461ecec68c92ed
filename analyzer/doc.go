// Package analyzer finds //blueprint:job functions in a Go package and labels each one (pure,
// deterministic, requires_state, network calls, eligible) with the reasons behind every label.
package analyzer
