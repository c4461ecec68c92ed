package platform

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// SettingType is the type of a platform setting's value.
type SettingType int

// The types a setting may have; engines map them to their own (Terraform attribute types,
// Pulumi inputs, agent flags).
const (
	String     SettingType = iota // Settings value: string
	StringMap                     // map[string]string
	StringList                    // []string
	Bool                          // bool
	Int                           // int64
)

func (t SettingType) String() string {
	switch t {
	case String:
		return "string"
	case StringMap:
		return "map of strings"
	case StringList:
		return "list of strings"
	case Bool:
		return "bool"
	case Int:
		return "number"
	}
	return "setting type " + strconv.Itoa(int(t))
}

// Setting describes one attribute of a platform's configuration, once for every engine.
type Setting struct {
	Name        string // lower snake case
	Type        SettingType
	Description string // Markdown
	Required    bool   // after EnvDefault is applied
	Sensitive   bool   // secrets: engines hide them in plans and logs
	// EnvDefault names an environment variable read when the setting is unset.
	EnvDefault string
}

// Settings are a platform's configured values by setting name. An unset setting is absent;
// values have the Go type their SettingType names.
type Settings map[string]any

// String returns a string setting, "" when unset.
func (s Settings) String(name string) string { v, _ := s[name].(string); return v }

// StringMap returns a map setting, nil when unset.
func (s Settings) StringMap(name string) map[string]string {
	v, _ := s[name].(map[string]string)
	return v
}

// StringList returns a list setting, nil when unset.
func (s Settings) StringList(name string) []string { v, _ := s[name].([]string); return v }

// Bool returns a bool setting, false when unset.
func (s Settings) Bool(name string) bool { v, _ := s[name].(bool); return v }

// Int returns a number setting, 0 when unset.
func (s Settings) Int(name string) int64 { v, _ := s[name].(int64); return v }

// SettingError is a problem with one setting, or with one key of a map setting.
type SettingError struct {
	Setting string
	MapKey  string // "" when the problem is with the setting as a whole
	Message string // what is wrong and what to do
}

func (e *SettingError) Error() string {
	if e.MapKey != "" {
		return fmt.Sprintf("%s[%q]: %s", e.Setting, e.MapKey, e.Message)
	}
	return e.Setting + ": " + e.Message
}

// Resolve fills unset settings from their EnvDefault (getenv nil = os.Getenv) and reports
// required ones still missing. It returns a copy; s is not changed.
func Resolve(decl []Setting, s Settings, getenv func(string) string) (Settings, []*SettingError) {
	if getenv == nil {
		getenv = os.Getenv
	}
	out := Settings{}
	for k, v := range s {
		out[k] = v
	}
	var errs []*SettingError
	for _, d := range decl {
		if _, set := out[d.Name]; !set && d.EnvDefault != "" && d.Type == String {
			if v := getenv(d.EnvDefault); v != "" {
				out[d.Name] = v
			}
		}
		if _, set := out[d.Name]; d.Required && !set {
			msg := "is required"
			if d.EnvDefault != "" {
				msg += " (or set the environment variable " + d.EnvDefault + ")"
			}
			errs = append(errs, &SettingError{Setting: d.Name, Message: msg})
		}
	}
	return out, errs
}

// ParseSetting converts a command-line value ("a=b,c=d" for maps, "a,b" for lists) to the
// setting's type, for engines that take settings as text (the agent's flags).
func ParseSetting(d Setting, text string) (any, error) {
	switch d.Type {
	case String:
		return text, nil
	case Bool:
		return strconv.ParseBool(text)
	case Int:
		return strconv.ParseInt(text, 10, 64)
	case StringList:
		return strings.Split(text, ","), nil
	case StringMap:
		m := map[string]string{}
		for _, kv := range strings.Split(text, ",") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return nil, fmt.Errorf("%q is not KEY=VALUE", kv)
			}
			m[k] = v
		}
		return m, nil
	}
	return nil, fmt.Errorf("setting %s has an unknown type %v", d.Name, d.Type)
}

// FindSetting returns the declaration of name in decl.
func FindSetting(decl []Setting, name string) (Setting, bool) {
	i := slices.IndexFunc(decl, func(s Setting) bool { return s.Name == name })
	if i < 0 {
		return Setting{}, false
	}
	return decl[i], true
}

// SettingNames lists the names in decl, for messages.
func SettingNames(decl []Setting) []string {
	out := make([]string, len(decl))
	for i, s := range decl {
		out[i] = s.Name
	}
	return out
}
