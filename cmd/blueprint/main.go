// Command blueprint is the developer CLI: analyze job packages, build them, run a function
// host, and drive an agent with load.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/serverless-blueprint/blueprint/analyzer"
	"github.com/serverless-blueprint/blueprint/job"
)

// subcommand is one `blueprint <name>` verb. Each lives in its own file and registers itself.
type subcommand struct {
	summary string
	run     func(ctx context.Context, args []string) error
}

var subcommands = map[string]subcommand{}

func register(name, summary string, run func(ctx context.Context, args []string) error) {
	subcommands[name] = subcommand{summary: summary, run: run}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: blueprint <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(subcommands))
	for n := range subcommands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", n, subcommands[n].summary)
	}
}

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		usage()
		os.Exit(2)
	}
	cmd, ok := subcommands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "blueprint: unknown command %q\n\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := cmd.run(ctx, os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "blueprint %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

// errUsageShown reports that -h printed the usage: the command has nothing else to do.
var errUsageShown = errors.New("usage shown")

// analyzePackage analyzes the package in dir; problems to fix come back as one error that
// counts them, each on its own line with its position.
func analyzePackage(ctx context.Context, dir string, opts ...analyzer.Option) (*job.PackageAnalysis, error) {
	result, err := analyzer.New(opts...).Analyze(ctx, dir)
	var aerr *analyzer.Error
	if errors.As(err, &aerr) {
		return nil, fmt.Errorf("%d problem(s) to fix in %s:\n%w", len(aerr.Problems), dir, err)
	}
	return result, err
}

// parsePackageDir parses flags that may come before or after the one package directory
// (`blueprint analyze ./jobs -o json` reads naturally too) and returns the directory.
func parsePackageDir(fs *flag.FlagSet, args []string) (string, error) {
	var dirs []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return "", errUsageShown
			}
			return "", err
		}
		if fs.NArg() == 0 {
			break
		}
		dirs = append(dirs, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(dirs) != 1 {
		fs.Usage()
		return "", fmt.Errorf("want exactly one package directory, got %d", len(dirs))
	}
	return dirs[0], nil
}
