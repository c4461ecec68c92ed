package platform

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func testDescriptor(name string) Descriptor {
	return Descriptor{Name: name, Artifact: ArtifactWASM,
		Build:       func(context.Context, BuildRequest) (Artifact, error) { return Artifact{}, nil },
		NewDeployer: func(Settings) (Deployer, error) { return nil, errors.New("no") },
		NewInvoker:  func(Settings) (Invoker, error) { return nil, errors.New("no") },
		Settings:    []Setting{{Name: "token", Type: String, Required: true, EnvDefault: "TEST_TOKEN"}},
	}
}

func TestRegistry(t *testing.T) {
	r, err := NewRegistry(testDescriptor("zeta"), testDescriptor("alpha"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.Names(), ","); got != "alpha,zeta" {
		t.Fatalf("names = %s", got)
	}
	r2, err := r.With(testDescriptor("mid"))
	if err != nil || len(r.Names()) != 2 || len(r2.Names()) != 3 {
		t.Fatalf("With changed the original or failed: %v %v %v", r.Names(), r2.Names(), err)
	}
	if _, err := r.With(testDescriptor("alpha")); err == nil {
		t.Error("a platform registered twice")
	}
	bad := testDescriptor("Bad-Name")
	if _, err := NewRegistry(bad); err == nil {
		t.Error("invalid name accepted")
	}
	noBuild := testDescriptor("nobuild")
	noBuild.Build = nil
	if _, err := NewRegistry(noBuild); err == nil || !strings.Contains(err.Error(), "no Build") {
		t.Errorf("missing Build: %v", err)
	}
	if err := r.UnknownError("mars"); !strings.Contains(err.Error(), `"mars"`) || !strings.Contains(err.Error(), "alpha, zeta") {
		t.Errorf("unknown error: %v", err)
	}
}

func TestResolve(t *testing.T) {
	decl := testDescriptor("x").Settings
	env := map[string]string{"TEST_TOKEN": "from-env"}
	s, errs := Resolve(decl, Settings{}, func(k string) string { return env[k] })
	if len(errs) != 0 || s.String("token") != "from-env" {
		t.Fatalf("env default: %v %v", s, errs)
	}
	s, errs = Resolve(decl, Settings{"token": "set"}, func(k string) string { return env[k] })
	if len(errs) != 0 || s.String("token") != "set" {
		t.Fatalf("set value: %v %v", s, errs)
	}
	_, errs = Resolve(decl, nil, func(string) string { return "" })
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "TEST_TOKEN") {
		t.Fatalf("missing required: %v", errs)
	}
}

func TestParseSetting(t *testing.T) {
	m, err := ParseSetting(Setting{Name: "hosts", Type: StringMap}, "a=http://x,b=http://y")
	if err != nil || m.(map[string]string)["b"] != "http://y" {
		t.Fatalf("map: %v %v", m, err)
	}
	if _, err := ParseSetting(Setting{Name: "hosts", Type: StringMap}, "nokey"); err == nil {
		t.Error("map without = accepted")
	}
	if v, err := ParseSetting(Setting{Name: "n", Type: Int}, "42"); err != nil || v.(int64) != 42 {
		t.Errorf("int: %v %v", v, err)
	}
}

func TestRoundMemoryMB(t *testing.T) {
	l := Limits{MinMemoryMB: 128, MaxMemoryMB: 10240, MemoryStepMB: 64}
	for in, want := range map[int64]int64{0: 128, 1: 128, 128: 128, 129: 192, 10200: 10240, 10240: 10240} {
		if got, err := l.RoundMemoryMB(in); err != nil || got != want {
			t.Errorf("RoundMemoryMB(%d) = %d, %v; want %d", in, got, err, want)
		}
	}
	if _, err := l.RoundMemoryMB(10241); err == nil {
		t.Error("10241 MB accepted")
	}
}
