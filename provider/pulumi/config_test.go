package pulumi

import (
	"reflect"
	"testing"

	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/platform/builtin"
)

// TestPlatformSettingsMirrorDescriptors: every platform of the registry has a settings object
// in Config, and its fields are exactly the platform's settings, with matching types. A
// platform that gains a setting fails here until Pulumi users get it too.
func TestPlatformSettingsMirrorDescriptors(t *testing.T) {
	blocks := map[string]reflect.Type{}
	ct := reflect.TypeOf(Config{})
	for i := range ct.NumField() {
		if name, ok := blockField(ct.Field(i)); ok {
			blocks[name] = ct.Field(i).Type.Elem()
		}
	}
	for _, d := range builtin.Registry().Descriptors() {
		st, ok := blocks[d.Name]
		if !ok {
			t.Errorf("Config has no settings object for platform %s: add a %s field", d.Name, camel(d.Name))
			continue
		}
		fields := map[string]reflect.Type{}
		secret := map[string]bool{}
		for i := range st.NumField() {
			f := st.Field(i)
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			fields[snake(pulumiName(f))] = ft
			secret[snake(pulumiName(f))] = f.Tag.Get("provider") == "secret"
		}
		for _, s := range d.Settings {
			ft, ok := fields[s.Name]
			if !ok {
				t.Errorf("%s has no field for setting %s.%s (Pulumi name %s)", st.Name(), d.Name, s.Name, camel(s.Name))
				continue
			}
			want := map[platform.SettingType]reflect.Kind{platform.String: reflect.String, platform.Bool: reflect.Bool,
				platform.Int: reflect.Int, platform.StringList: reflect.Slice, platform.StringMap: reflect.Map}[s.Type]
			if s.Sensitive && !secret[s.Name] {
				t.Errorf("%s.%s must be tagged provider:\"secret\": the setting is sensitive", st.Name(), camel(s.Name))
			}
			if ft.Kind() != want {
				t.Errorf("%s.%s is a %s, the setting is a %s", st.Name(), camel(s.Name), ft.Kind(), s.Type)
			}
			delete(fields, s.Name)
		}
		for name := range fields {
			t.Errorf("%s has a field %s that platform %s does not know", st.Name(), camel(name), d.Name)
		}
	}
}
