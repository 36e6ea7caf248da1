// Command mkbusybox writes a docker-save compatible busybox image archive,
// built offline from Debian's static busybox binary.
//
//	go run ./scripts/mkbusybox -o busybox.tar [-t name:tag ...] [-busybox /bin/busybox]
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/berth-project/berth/internal/fixture"
)

type tagList []string

func (t *tagList) String() string     { return strings.Join(*t, ",") }
func (t *tagList) Set(v string) error { *t = append(*t, v); return nil }

func main() {
	var (
		out   = flag.String("o", "", "write the archive to this file (default: standard output)")
		bin   = flag.String("busybox", fixture.DefaultBusyboxPath, "static busybox binary to package")
		label = flag.String("label", "", "comma-separated key=value config labels")
		tags  tagList
	)
	flag.Var(&tags, "t", "repository tag for the image (repeatable; default busybox:latest)")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "mkbusybox: unexpected arguments %q\n", flag.Args())
		os.Exit(2)
	}

	opts := fixture.Options{BusyboxPath: *bin, RepoTags: tags}
	if *label != "" {
		opts.Label = map[string]string{}
		for _, kv := range strings.Split(*label, ",") {
			k, v, _ := strings.Cut(kv, "=")
			opts.Label[k] = v
		}
	}
	img, err := fixture.Build(opts)
	if err != nil {
		fail(err)
	}
	if err := write(*out, img); err != nil {
		fail(err)
	}
	if *out != "" {
		fmt.Fprintf(os.Stderr, "wrote %s: %s (busybox %s)\n", *out, img.ID(), img.BusyboxVersion)
	}
}

// write streams the archive to path through a temporary file renamed into place,
// so a failed run never leaves a truncated tar behind.
func write(path string, img *fixture.Image) error {
	if path == "" || path == "-" {
		w := bufio.NewWriter(os.Stdout)
		if err := img.WriteArchive(w); err != nil {
			return err
		}
		return w.Flush()
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".mkbusybox-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := writeAndClose(f, img); err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

func writeAndClose(f *os.File, img *fixture.Image) error {
	w := bufio.NewWriter(f)
	var err error
	if err = img.WriteArchive(w); err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "mkbusybox:", err)
	os.Exit(1)
}
