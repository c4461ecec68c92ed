package realapp

import (
	"context"
	"os"
	"strings"
	"time"
)

// codec is a plugin interface; codecs is a table of plugins filled with constant keys.
type codec interface {
	encode(s string) string
}

type upperCodec struct{}

func (upperCodec) encode(s string) string { return strings.ToUpper(s) }

type stampCodec struct{}

func (stampCodec) encode(s string) string { return time.Now().Format(time.RFC3339) + " " + s }

var codecs = map[string]codec{"upper": upperCodec{}, "stamp": stampCodec{}}

// EncodeUpper picks the upper-case plugin by a constant key: the stamping plugin in the same
// table is never called.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func EncodeUpper(ctx context.Context, in In) (Out, error) {
	return Out{Text: codecs["upper"].encode(in.Name)}, nil
}

// EncodeByName picks the plugin by the input: either may run.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func EncodeByName(ctx context.Context, in In) (Out, error) {
	c, ok := codecs[in.ID]
	if !ok {
		return Out{Text: in.Name}, nil
	}
	return Out{Text: c.encode(in.Name)}, nil
}

// greeter is made by a factory from a table of constructors.
type greeter interface{ greet(name string) string }

type politeGreeter struct{}

func (politeGreeter) greet(name string) string { return "Good day, " + name }

type localGreeter struct{ greeting string }

func (g localGreeter) greet(name string) string { return g.greeting + ", " + name }

type greeterFactory func() greeter

var greeterFactories = map[string]greeterFactory{
	"polite": func() greeter { return politeGreeter{} },
	"local":  func() greeter { return localGreeter{greeting: os.Getenv("GREETING")} },
}

// GreetPolitely takes the polite factory by a constant key: the factory that reads the
// environment is never called.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func GreetPolitely(ctx context.Context, in In) (Out, error) {
	make, ok := greeterFactories["polite"]
	if !ok {
		return Out{}, nil
	}
	return Out{Text: make().greet(in.Name)}, nil
}

// GreetLocally takes the factory that reads the environment.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func GreetLocally(ctx context.Context, in In) (Out, error) {
	return Out{Text: greeterFactories["local"]().greet(in.Name)}, nil
}

var handlers = map[string]func(string) string{"trim": strings.TrimSpace}

func init() {
	handlers["env"] = func(s string) string { return s + os.Getenv("HANDLER_SUFFIX") }
}

// HandleTrim calls the handler a constant key names in a table that init extends with
// another constant key.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func HandleTrim(ctx context.Context, in In) (Out, error) {
	return Out{Text: handlers["trim"](in.Name)}, nil
}

// HandleEnv calls the handler init added.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func HandleEnv(ctx context.Context, in In) (Out, error) {
	return Out{Text: handlers["env"](in.Name)}, nil
}
