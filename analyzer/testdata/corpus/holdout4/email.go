package holdout4

import (
	"context"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"net/smtp"
	"strings"
	"text/template"
	"time"
)

// templateFS holds the e-mail templates, compiled into the binary (reading: embed.FS reads
// are not local file reads; the files travel with the code to any platform).
//
//go:embed templates
var templateFS embed.FS

// welcome is parsed once in its initializer and only executed afterwards.
var welcome = template.Must(template.New("welcome").Funcs(template.FuncMap{
	"upper": strings.ToUpper,
}).Parse("Welcome {{upper .Name}}! You have {{len .Items}} items in your basket.\n"))

type emailData struct {
	Name  string
	Items []string
	Total string
	Due   string
}

// RenderWelcome exercises a text/template built in a var initializer with a FuncMap.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func RenderWelcome(ctx context.Context, in In) (Out, error) {
	var b strings.Builder
	if err := welcome.Execute(&b, emailData{Name: in.Key, Items: in.Items}); err != nil {
		return Out{}, err
	}
	return Out{Text: b.String()}, nil
}

// RenderReceiptHTML exercises html/template.ParseFS over the embedded templates.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func RenderReceiptHTML(ctx context.Context, in In) (Out, error) {
	t, err := htmltemplate.ParseFS(templateFS, "templates/receipt.html")
	if err != nil {
		return Out{}, err
	}
	var b strings.Builder
	if err := t.Execute(&b, emailData{Name: in.Key, Items: in.Items, Total: in.Text}); err != nil {
		return Out{}, err
	}
	return Out{Text: b.String()}, nil
}

// ListTemplates exercises fs.ReadDir of the embedded FS (names come back sorted).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func ListTemplates(ctx context.Context, in In) (Out, error) {
	entries, err := fs.ReadDir(templateFS, "templates")
	if err != nil {
		return Out{}, err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return Out{Lines: names, Count: len(names)}, nil
}

// RenderReminder exercises an embedded template executed with a due date from time.Now.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func RenderReminder(ctx context.Context, in In) (Out, error) {
	t, err := template.ParseFS(templateFS, "templates/reminder.txt")
	if err != nil {
		return Out{}, err
	}
	due := time.Now().Add(14 * 24 * time.Hour).Format("2 January 2006")
	var b strings.Builder
	if err := t.Execute(&b, emailData{Name: in.Key, Total: in.Text, Due: due}); err != nil {
		return Out{}, err
	}
	return Out{Text: b.String()}, nil
}

// SendWelcome exercises net/smtp.SendMail to a constant relay with a rendered body.
// expect: pure=false deterministic=false state=false eligible=true hosts=smtp.example.com
//
//blueprint:job
func SendWelcome(ctx context.Context, in In) (Out, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "To: %s\r\nSubject: Welcome\r\n\r\n", in.To)
	if err := welcome.Execute(&b, emailData{Name: in.Key, Items: in.Items}); err != nil {
		return Out{}, err
	}
	if err := smtp.SendMail("smtp.example.com:587", nil, "noreply@example.com", []string{in.To}, []byte(b.String())); err != nil {
		return Out{}, fmt.Errorf("send: %w", err)
	}
	return Out{OK: true}, nil
}
