package jobs

import (
	"context"
	"os"
	"strings"
)

// ConfigRequest names a file on the machine that runs the job.
type ConfigRequest struct {
	Path string `json:"path"`
}

// ConfigLine is one non-empty line of the file.
type ConfigLine struct {
	Line string `json:"line"`
}

// ReadConfig reads a file only the VM has. The analysis finds the file read, so the job is not
// eligible for serverless: it is deployed nowhere and always runs on the VM, at native speed.
//
//blueprint:job
func ReadConfig(ctx context.Context, in ConfigRequest) ([]ConfigLine, error) {
	b, err := os.ReadFile(in.Path)
	if err != nil {
		return nil, err
	}
	var lines []ConfigLine
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, ConfigLine{Line: l})
		}
	}
	return lines, nil
}
