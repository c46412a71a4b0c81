package runbook

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"flightdeck/internal/yamlpos"
)

//go:embed builtin/*.yaml
var builtinFS embed.FS

// Bounds on what a file may hold: runbooks come from directories anyone
// with access to the bastion's config may write.
const (
	maxFileSize = 256 << 10
	maxSteps    = 100
	maxTitle    = 200
	maxText     = 8000
	maxList     = 50
)

// Builtin returns the runbooks shipped with flightdeck (runbook/builtin).
func Builtin() ([]*Runbook, error) {
	names, err := fs.Glob(builtinFS, "builtin/*.yaml")
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	var out []*Runbook
	var errs Errors
	for _, n := range names {
		data, err := builtinFS.ReadFile(n)
		if err != nil {
			return nil, err
		}
		b, err := Load(n, data)
		if err != nil {
			errs = appendErr(errs, err)
			continue
		}
		b.Shipped = true
		out = append(out, b)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// LoadAll loads the built-in runbooks and then every *.yaml and *.yml file
// of dirs (a leading ~ is the home directory), in order. A runbook in a
// directory replaces a built-in of the same name; two files in the
// directories with the same name are an error. Every problem of every file
// is reported, each as file:line: step: field: problem.
func LoadAll(dirs []string) (*Set, error) {
	books, err := Builtin()
	if err != nil {
		return nil, err
	}
	set := NewSet(books...)
	var errs Errors
	from := map[string]*Runbook{}
	for _, dir := range dirs {
		if strings.TrimSpace(dir) == "" {
			errs = append(errs, &Error{File: "runbooks", Msg: "empty directory name"})
			continue
		}
		bs, err := LoadDir(expandHome(dir))
		errs = appendErr(errs, err)
		for _, b := range bs {
			if prev, ok := from[b.Name]; ok {
				errs = append(errs, &Error{File: b.File, Line: b.nameLine, Field: "name",
					Msg: fmt.Sprintf("runbook %q is also defined in %s:%d", b.Name, prev.File, prev.nameLine)})
				continue
			}
			from[b.Name] = b
			set.byName[b.Name] = b
		}
	}
	if len(errs) > 0 {
		return nil, errs.sorted()
	}
	return set, nil
}

// LoadDir loads every *.yaml and *.yml file of dir (not its
// subdirectories; dot files are ignored).
func LoadDir(dir string) ([]*Runbook, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &Error{File: dir, Msg: "runbook directory does not exist"}
		}
		return nil, &Error{File: dir, Msg: err.Error()}
	}
	var out []*Runbook
	var errs Errors
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || strings.HasPrefix(n, ".") || !(strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml")) {
			continue
		}
		b, err := LoadFile(filepath.Join(dir, n))
		if err != nil {
			errs = appendErr(errs, err)
			continue
		}
		out = append(out, b)
	}
	if len(errs) > 0 {
		return out, errs
	}
	return out, nil
}

// LoadFile loads one runbook file.
func LoadFile(path string) (*Runbook, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Msg: err.Error()}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, &Error{File: path, Msg: err.Error()}
	}
	return Load(path, data)
}

// Load parses, validates and compiles one runbook; name is the file name
// used in errors.
func Load(name string, data []byte) (*Runbook, error) {
	if len(data) > maxFileSize {
		// The line where the file crosses the limit.
		line := 1 + bytes.Count(data[:maxFileSize], []byte{'\n'})
		return nil, &Error{File: name, Line: line, Msg: fmt.Sprintf("file larger than %d KiB", maxFileSize>>10)}
	}
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: name, Line: 1, Msg: "empty file: a runbook needs name, title and steps"}
		}
		return nil, syntaxError(name, err)
	}
	p := &fileParser{file: name}
	b := p.runbook(doc.Content[0])
	if len(p.errs) > 0 {
		return nil, p.errs.sorted()
	}
	b.File = name
	return b, nil
}

func appendErr(errs Errors, err error) Errors {
	var es Errors
	var e *Error
	switch {
	case err == nil:
	case errors.As(err, &es):
		errs = append(errs, es...)
	case errors.As(err, &e):
		errs = append(errs, e)
	default:
		errs = append(errs, &Error{Msg: err.Error()})
	}
	return errs
}

func syntaxError(name string, err error) error {
	line, msg := yamlpos.Syntax(err)
	return &Error{File: name, Line: line, Msg: msg}
}

func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[1:])
		}
	}
	return p
}
