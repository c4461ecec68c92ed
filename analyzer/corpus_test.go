package analyzer_test

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/serverless-blueprint/blueprint/analyzer"
	"github.com/serverless-blueprint/blueprint/job"
)

// The labelled corpus (testdata/corpus, see its README) is the analyzer's ground truth: every
// job carries an "// expect:" line written from the definitions in DESIGN.md, not from what
// the analyzer happens to say. TestCorpus measures the analyzer's accuracy against it.

const (
	corpusRoot        = "testdata/corpus"
	corpusMinJobs     = 60   // the gate must not pass on a corpus that shrank
	corpusMinAccuracy = 0.95 // per property
	corpusTimeout     = 2 * time.Minute
	// corpusMaxFindings bounds the findings printed per mismatched job: effects deep in the
	// standard library can give dozens, and the first ones (nearest the job) explain the label.
	corpusMaxFindings = 12
	expectPrefix      = "// expect:"
	jobDirective      = "//blueprint:job"
)

// corpusProperties are the labels compared, in the order the table prints them.
var corpusProperties = []string{"pure", "deterministic", "requires_state", "eligible", "network_calls"}

// corpusExpectation is one parsed "// expect:" line.
type corpusExpectation struct {
	pkg      string // directory under testdata/corpus, e.g. "globals"
	function string
	position string // file:line of the expect line
	labels   map[string]string
}

// corpusResult is what one package's analysis gave, or why it gave nothing.
type corpusResult struct {
	analysis *job.PackageAnalysis
	err      error
}

func TestCorpus(t *testing.T) {
	dirs, err := corpusJobDirs(corpusRoot)
	if err != nil {
		t.Fatalf("listing the corpus: %v", err)
	}
	var expectations []corpusExpectation
	for _, dir := range dirs {
		exps, problems := parseCorpusExpectations(dir)
		for _, p := range problems {
			t.Error(p)
		}
		expectations = append(expectations, exps...)
	}
	if len(expectations) < corpusMinJobs {
		t.Errorf("the corpus has %d jobs with expect lines, want at least %d", len(expectations), corpusMinJobs)
	}

	var (
		mu      sync.Mutex
		results = map[string]corpusResult{}
	)
	// The group returns only when every parallel package subtest has finished.
	t.Run("analyze", func(t *testing.T) {
		for _, dir := range dirs {
			pkg := corpusPackageName(dir)
			t.Run(pkg, func(t *testing.T) {
				t.Parallel()
				ctx, cancel := context.WithTimeout(context.Background(), corpusTimeout)
				defer cancel()
				a := analyzer.New(analyzer.WithProfiling(false), analyzer.WithoutCache())
				analysis, err := a.Analyze(ctx, dir)
				if err != nil {
					t.Errorf("analyzing %s: %v", dir, err)
				}
				mu.Lock()
				results[pkg] = corpusResult{analysis: analysis, err: err}
				mu.Unlock()
			})
		}
	})

	correct := map[string]int{}
	var mismatches []string
	expected := map[string]bool{} // pkg.Function
	for _, exp := range expectations {
		key := exp.pkg + "." + exp.function
		expected[key] = true
		res := results[exp.pkg]
		got, found := corpusFindFunction(res.analysis, exp.function)
		if !found {
			if res.err == nil {
				t.Errorf("%s (%s): job has an expect line but is missing from the analysis", key, exp.position)
			}
			continue // counted as wrong on every property
		}
		actual := corpusLabels(got)
		var wrong []string
		for _, prop := range corpusProperties {
			if actual[prop] == exp.labels[prop] {
				correct[prop]++
				continue
			}
			wrong = append(wrong, fmt.Sprintf("%s: %s expected %s got %s", key, prop, showLabel(exp.labels[prop]), showLabel(actual[prop])))
		}
		if len(wrong) > 0 {
			mismatches = append(mismatches, strings.Join(wrong, "\n")+"\n"+formatFindings(got.Findings))
		}
	}
	for pkg, res := range results {
		if res.analysis == nil {
			continue
		}
		for _, j := range res.analysis.Jobs {
			if !expected[pkg+"."+j.Function] {
				t.Errorf("%s.%s: the analyzer found a job without an expect line", pkg, j.Function)
			}
		}
	}

	total := len(expectations)
	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "property\tcorrect\ttotal\taccuracy\n")
	var failing []string
	for _, prop := range corpusProperties {
		acc := 0.0
		if total > 0 {
			acc = float64(correct[prop]) / float64(total)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f%%\n", prop, correct[prop], total, 100*acc)
		if acc < corpusMinAccuracy {
			failing = append(failing, fmt.Sprintf("%s %.1f%%", prop, 100*acc))
		}
	}
	_ = tw.Flush()
	t.Logf("corpus: %d jobs in %d packages\n%s", total, len(dirs), table.String())
	if len(mismatches) > 0 {
		t.Logf("%d jobs with mismatches:\n%s", len(mismatches), strings.Join(mismatches, "\n"))
	}
	if len(failing) > 0 {
		t.Errorf("accuracy below %.0f%%: %s", 100*corpusMinAccuracy, strings.Join(failing, ", "))
	}
}

// corpusJobDirs lists the corpus directories whose Go files contain a job directive, so a new
// package is measured without editing this test.
func corpusJobDirs(root string) ([]string, error) {
	var dirs []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		files, err := filepath.Glob(filepath.Join(path, "*.go"))
		if err != nil {
			return err
		}
		for _, f := range files {
			src, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			if strings.Contains(string(src), "\n"+jobDirective) {
				dirs = append(dirs, path)
				break
			}
		}
		return nil
	})
	sort.Strings(dirs)
	return dirs, err
}

// corpusPackageName is the corpus-relative directory: "globals", "lib/deep".
func corpusPackageName(dir string) string {
	rel, err := filepath.Rel(corpusRoot, dir)
	if err != nil {
		return dir
	}
	return filepath.ToSlash(rel)
}

// parseCorpusExpectations reads the expect lines of the jobs in dir. A job's expect line is
// the last non-empty comment line above its directive in the doc comment (gofmt puts a "//"
// line between them). Problems name the file and line to fix.
func parseCorpusExpectations(dir string) ([]corpusExpectation, []string) {
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, []string{err.Error()}
	}
	var (
		exps     []corpusExpectation
		problems []string
	)
	pkg := corpusPackageName(dir)
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			problems = append(problems, fmt.Sprintf("parsing %s: %v", path, err))
			continue
		}
		used := map[*ast.Comment]bool{}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Doc == nil {
				continue
			}
			directive := -1
			for i, c := range fn.Doc.List {
				if c.Text == jobDirective || strings.HasPrefix(c.Text, jobDirective+" ") {
					directive = i
				}
			}
			if directive < 0 {
				continue
			}
			pos := fset.Position(fn.Pos())
			var expect *ast.Comment
			for i := directive - 1; i >= 0; i-- {
				if text := strings.TrimSpace(fn.Doc.List[i].Text); text == "//" {
					continue
				}
				if strings.HasPrefix(fn.Doc.List[i].Text, expectPrefix) {
					expect = fn.Doc.List[i]
				}
				break
			}
			if expect == nil {
				problems = append(problems, fmt.Sprintf("%s:%d: job %s has no %q line directly above its directive", pos.Filename, pos.Line, fn.Name.Name, expectPrefix))
				continue
			}
			used[expect] = true
			epos := fset.Position(expect.Pos())
			labels, err := parseExpectLine(expect.Text)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s:%d: %v", epos.Filename, epos.Line, err))
				continue
			}
			exps = append(exps, corpusExpectation{
				pkg:      pkg,
				function: fn.Name.Name,
				position: fmt.Sprintf("%s:%d", epos.Filename, epos.Line),
				labels:   labels,
			})
		}
		for _, cg := range f.Comments {
			for _, c := range cg.List {
				if strings.HasPrefix(c.Text, expectPrefix) && !used[c] {
					p := fset.Position(c.Pos())
					problems = append(problems, fmt.Sprintf("%s:%d: expect line is not directly above a job directive", p.Filename, p.Line))
				}
			}
		}
	}
	return exps, problems
}

// parseExpectLine parses "// expect: pure=true deterministic=true state=false eligible=true
// hosts=a,b" into the property names of corpusProperties, normalised like corpusLabels.
func parseExpectLine(text string) (map[string]string, error) {
	keys := map[string]string{
		"pure": "pure", "deterministic": "deterministic", "state": "requires_state",
		"eligible": "eligible", "hosts": "network_calls",
	}
	labels := map[string]string{}
	for _, field := range strings.Fields(strings.TrimPrefix(text, expectPrefix)) {
		key, value, ok := strings.Cut(field, "=")
		prop, known := keys[key]
		if !ok || !known {
			return nil, fmt.Errorf("expect line: %q is not one of pure=, deterministic=, state=, eligible=, hosts=", field)
		}
		if _, dup := labels[prop]; dup {
			return nil, fmt.Errorf("expect line: %s given twice", key)
		}
		if prop == "network_calls" {
			labels[prop] = normaliseHosts(strings.Split(value, ","))
			continue
		}
		b, err := strconv.ParseBool(value)
		if err != nil {
			return nil, fmt.Errorf("expect line: %s=%q is not true or false", key, value)
		}
		labels[prop] = strconv.FormatBool(b)
	}
	for key, prop := range keys {
		if _, ok := labels[prop]; !ok {
			return nil, fmt.Errorf("expect line: %s= is missing", key)
		}
	}
	return labels, nil
}

// corpusLabels renders an analysis in the same form as parseExpectLine.
func corpusLabels(a job.Analysis) map[string]string {
	return map[string]string{
		"pure":           strconv.FormatBool(a.Pure),
		"deterministic":  strconv.FormatBool(a.Deterministic),
		"requires_state": strconv.FormatBool(a.RequiresState),
		"eligible":       strconv.FormatBool(a.Eligible),
		"network_calls":  normaliseHosts(a.NetworkCalls),
	}
}

// normaliseHosts makes network_calls comparable as a set: sorted, without duplicates or
// empty entries, joined with commas.
func normaliseHosts(hosts []string) string {
	var clean []string
	for _, h := range hosts {
		if h = strings.TrimSpace(h); h != "" {
			clean = append(clean, h)
		}
	}
	sort.Strings(clean)
	return strings.Join(slices.Compact(clean), ",")
}

func showLabel(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
}

func corpusFindFunction(p *job.PackageAnalysis, function string) (job.Analysis, bool) {
	if p == nil {
		return job.Analysis{}, false
	}
	for _, j := range p.Jobs {
		if j.Function == function {
			return j, true
		}
	}
	return job.Analysis{}, false
}

// formatFindings lists a job's findings so whoever fixes the analyzer sees its reasons.
func formatFindings(findings []job.Finding) string {
	if len(findings) == 0 {
		return "    (no findings)"
	}
	var b strings.Builder
	for i, f := range findings {
		if i == corpusMaxFindings {
			fmt.Fprintf(&b, "\n    … and %d more findings", len(findings)-i)
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "    %s %s: %s", f.Kind, f.Position, f.Message)
		if len(f.Chain) > 0 {
			fmt.Fprintf(&b, " [%s]", strings.Join(f.Chain, " -> "))
		}
	}
	return b.String()
}

// TestParseExpectLine keeps the corpus gate honest: a malformed label must be an error, not a
// silently missing or defaulted property.
func TestParseExpectLine(t *testing.T) {
	tests := []struct {
		line    string
		want    map[string]string
		wantErr string
	}{
		{
			line: "// expect: pure=true deterministic=false state=false eligible=true hosts=b.example.com,*,a.example.com",
			want: map[string]string{"pure": "true", "deterministic": "false", "requires_state": "false", "eligible": "true", "network_calls": "*,a.example.com,b.example.com"},
		},
		{
			line: "// expect: hosts= eligible=false state=true deterministic=true pure=false",
			want: map[string]string{"pure": "false", "deterministic": "true", "requires_state": "true", "eligible": "false", "network_calls": ""},
		},
		{line: "// expect: pure=true deterministic=true state=false eligible=true", wantErr: "hosts= is missing"},
		{line: "// expect: pure=yes deterministic=true state=false eligible=true hosts=", wantErr: `pure="yes" is not true or false`},
		{line: "// expect: pure=true deterministic=true state=false eligible=true hosts= network=x", wantErr: `"network=x" is not one of`},
		{line: "// expect: pure=true pure=false deterministic=true state=false eligible=true hosts=", wantErr: "pure given twice"},
		{line: "// expect: pure deterministic=true state=false eligible=true hosts=", wantErr: `"pure" is not one of`},
	}
	for _, tt := range tests {
		got, err := parseExpectLine(tt.line)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseExpectLine(%q) error = %v, want one containing %q", tt.line, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseExpectLine(%q): %v", tt.line, err)
			continue
		}
		for prop, want := range tt.want {
			if got[prop] != want {
				t.Errorf("parseExpectLine(%q)[%s] = %q, want %q", tt.line, prop, got[prop], want)
			}
		}
	}
}
